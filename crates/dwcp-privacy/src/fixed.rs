//! Fixed-point encoding of `f32` vectors into the ring Z_{2^k}, and compact
//! packing of ring vectors for the wire.
//!
//! A value `x` is clipped to `[-clip, clip]` (NaN counts as 0) and mapped to
//! the level `q = round((x + clip) · scale)` in `0..=max_level()`, where
//! `max_level() = round(2 · clip · scale)`. Decoding `q / scale − clip`
//! returns the clipped value within `1 / (2 · scale)` (the *round-trip
//! bound*, [`FixedPoint::max_error`]); a weighted mean of decoded values is
//! within the same bound of the weighted mean of the clipped inputs, because
//! the error of each term is.

use serde::{Deserialize, Serialize};

/// The fixed-point code: clipping range and scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// Values are clipped to `[-clip, clip]`.
    pub clip: f32,
    /// Levels per unit.
    pub scale: f64,
}

impl FixedPoint {
    /// A code; `None` unless `clip` and `scale` are finite and positive and
    /// `2 · clip · scale` fits in 62 bits.
    pub fn new(clip: f32, scale: f64) -> Option<FixedPoint> {
        let ok = clip.is_finite()
            && clip > 0.0
            && scale.is_finite()
            && scale > 0.0
            && 2.0 * f64::from(clip) * scale < (1u64 << 62) as f64
            && (2.0 * f64::from(clip) * scale).round() >= 1.0;
        ok.then_some(FixedPoint { clip, scale })
    }

    /// The largest level, `round(2 · clip · scale)`.
    pub fn max_level(&self) -> u64 {
        (2.0 * f64::from(self.clip) * self.scale).round() as u64
    }

    /// The worst-case distance between a clipped value and its decoding:
    /// `1 / (2 · scale)`.
    pub fn max_error(&self) -> f64 {
        0.5 / self.scale
    }

    /// The level of one value (clipped; NaN encodes as 0).
    pub fn quantize(&self, x: f32) -> u64 {
        let c = f64::from(self.clip);
        let v = if x.is_nan() {
            0.0
        } else {
            f64::from(x).clamp(-c, c)
        };
        let q = ((v + c) * self.scale).round();
        (q.max(0.0) as u64).min(self.max_level())
    }

    /// The levels of a vector.
    pub fn encode(&self, xs: &[f32]) -> Vec<u64> {
        xs.iter().map(|&x| self.quantize(x)).collect()
    }

    /// The value of one level.
    pub fn dequantize(&self, q: u64) -> f64 {
        q as f64 / self.scale - f64::from(self.clip)
    }

    /// Decodes a sum of weighted levels `Σ w_u · q_u` into `Σ w_u · x_u`,
    /// given the weight sum `Σ w_u`.
    pub fn decode_weighted_sum(&self, level_sum: u64, weight_sum: u64) -> f64 {
        level_sum as f64 / self.scale - f64::from(self.clip) * weight_sum as f64
    }
}

/// Bytes per ring element on the wire: `ceil(bits / 8)`.
pub fn bytes_per_element(bits: u32) -> usize {
    (bits as usize).div_ceil(8)
}

/// The mask of the ring Z_{2^bits} (`bits` in 1..=64).
pub fn ring_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Packs ring elements (already reduced) little-endian, `ceil(bits/8)`
/// bytes each.
pub fn pack(values: &[u64], bits: u32) -> Vec<u8> {
    let w = bytes_per_element(bits);
    let mut out = Vec::with_capacity(values.len() * w);
    for v in values {
        out.extend_from_slice(v.to_le_bytes().get(..w).unwrap_or(&[]));
    }
    out
}

/// Unpacks `len` ring elements; `None` if the byte count is wrong or an
/// element is not reduced modulo 2^bits.
pub fn unpack(bytes: &[u8], bits: u32, len: usize) -> Option<Vec<u64>> {
    let w = bytes_per_element(bits);
    if w == 0 || w > 8 || bytes.len() != len.checked_mul(w)? {
        return None;
    }
    let mask = ring_mask(bits);
    bytes
        .chunks_exact(w)
        .map(|c| {
            let mut b = [0u8; 8];
            b.get_mut(..w)?.copy_from_slice(c);
            let v = u64::from_le_bytes(b);
            (v & !mask == 0).then_some(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip_is_within_half_a_step(
            x in -100.0f32..100.0, clip in 0.01f32..50.0, scale_log in 0u32..40
        ) {
            let scale = f64::from(1u32 << (scale_log % 31)) * 1.5;
            let Some(fp) = FixedPoint::new(clip, scale) else { return Ok(()); };
            let q = fp.quantize(x);
            prop_assert!(q <= fp.max_level());
            let clipped = f64::from(x.clamp(-clip, clip));
            let err = (fp.dequantize(q) - clipped).abs();
            // Half a step, plus f64 rounding of the affine map.
            prop_assert!(err <= fp.max_error() + 1e-12 * (1.0 + f64::from(clip)), "err {}", err);
        }

        #[test]
        fn pack_round_trips(values in proptest::collection::vec(any::<u64>(), 0..50), bits in 1u32..=64) {
            let reduced: Vec<u64> = values.iter().map(|v| v & ring_mask(bits)).collect();
            let bytes = pack(&reduced, bits);
            prop_assert_eq!(bytes.len(), reduced.len() * bytes_per_element(bits));
            prop_assert_eq!(unpack(&bytes, bits, reduced.len()), Some(reduced));
        }
    }

    #[test]
    fn special_values_and_rejections() {
        let fp = FixedPoint::new(1.0, 1000.0).unwrap();
        assert_eq!(fp.max_level(), 2000);
        assert_eq!(fp.quantize(f32::NAN), 1000);
        assert_eq!(fp.quantize(f32::INFINITY), 2000);
        assert_eq!(fp.quantize(f32::NEG_INFINITY), 0);
        assert_eq!(fp.decode_weighted_sum(3 * 1000 + 2 * 2000, 5), 2.0);
        assert!(FixedPoint::new(0.0, 1.0).is_none());
        assert!(FixedPoint::new(1.0, f64::NAN).is_none());
        assert!(FixedPoint::new(1.0, 1e30).is_none());
        // A 12-bit ring packs in 2 bytes; an unreduced element is refused.
        assert_eq!(unpack(&[0xff, 0x0f], 12, 1), Some(vec![0x0fff]));
        assert_eq!(unpack(&[0xff, 0x1f], 12, 1), None);
        assert_eq!(unpack(&[0xff], 12, 1), None);
    }
}
