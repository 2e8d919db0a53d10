//! Value quantizers: raw f32, b-bit uniform, QSGD, TernGrad and sign.

use crate::Error;
use crate::compressed::{MAX_QSGD_LEVELS, Values};
use dwcp_core::rng::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The per-coordinate draws come from ChaCha8 keyed by 256 bits of the
/// caller's ChaCha20 generator: as reproducible, 4× cheaper per draw, and
/// ample for rounding decisions.
fn local(rng: &mut Rng) -> ChaCha8Rng {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    ChaCha8Rng::from_seed(seed)
}

/// How the carried values are represented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantizer {
    /// Raw `f32`, 32 bits per value, exact.
    F32,
    /// `bits`-bit uniform codes over the `[min, max]` of the values.
    /// `stochastic: true` rounds up with probability equal to the fractional
    /// part (unbiased); `false` rounds to nearest (lower error, biased).
    Uniform {
        /// Bits per value, `1..=16`.
        bits: u8,
        /// Stochastic (unbiased) instead of nearest rounding.
        stochastic: bool,
    },
    /// QSGD (Alistarh et al. 2017): `s = levels`, stochastic rounding of
    /// `|v|/‖v‖₂ · s`, sign kept; unbiased.
    Qsgd {
        /// Number of levels `s`, `1..=32767`.
        levels: u16,
    },
    /// TernGrad (Wen et al. 2017): `sign(v) · max|v|` with probability
    /// `|v| / max|v|`, else 0; unbiased.
    Ternary,
    /// signSGD with a mean-absolute-value scale: `sign(v) · mean|v|`; biased
    /// (pair it with [`crate::ErrorFeedback`]).
    Sign,
}

impl Quantizer {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Quantizer::Uniform { bits, .. } if !(1..=16).contains(&bits) => {
                Err(Error::Config("uniform bits must be in 1..=16"))
            }
            Quantizer::Qsgd { levels } if levels == 0 || levels > MAX_QSGD_LEVELS => {
                Err(Error::Config("qsgd levels must be in 1..=32767"))
            }
            _ => Ok(()),
        }
    }

    /// Wire bits per value, not counting per-message scale fields
    /// (ternary packs 5 values into 8 bits: 1.6).
    pub fn bits_per_value(&self) -> f64 {
        match *self {
            Quantizer::F32 => 32.0,
            Quantizer::Uniform { bits, .. } => f64::from(bits),
            Quantizer::Qsgd { levels } => f64::from(qsgd_width(levels)),
            Quantizer::Ternary => 1.6,
            Quantizer::Sign => 1.0,
        }
    }

    /// Quantizes `v` (random draws from `rng` for the stochastic schemes).
    /// Non-finite inputs do not panic; they produce non-finite scales that
    /// the wire encoding's receivers reject.
    pub fn quantize(&self, v: &[f32], rng: &mut Rng) -> Values {
        match *self {
            Quantizer::F32 => Values::F32(v.to_vec()),
            Quantizer::Uniform { bits, stochastic } => uniform(v, bits, stochastic, rng),
            Quantizer::Qsgd { levels } => qsgd(v, levels, rng),
            Quantizer::Ternary => ternary(v, rng),
            Quantizer::Sign => {
                let sum: f64 = v.iter().map(|x| f64::from(x.abs())).sum();
                let scale = if v.is_empty() {
                    0.0
                } else {
                    (sum / v.len() as f64) as f32
                };
                Values::Sign {
                    scale,
                    negative: v.iter().map(|&x| x < 0.0).collect(),
                }
            }
        }
    }
}

/// Bits of one QSGD code (`code + levels ∈ 0..=2·levels`).
pub(crate) fn qsgd_width(levels: u16) -> u32 {
    32 - (2 * u32::from(levels)).leading_zeros()
}

/// `f(x, u)` for every `x` in `v`, with `u` uniform in `[0, 1)` (24 bits of
/// resolution; the draws are generated in blocks, little-endian, so the
/// result is the same on every platform).
fn map_with_draws<T>(v: &[f32], rng: &mut Rng, f: impl Fn(f32, f32) -> T) -> Vec<T> {
    const BLOCK: usize = 256;
    let mut fast = local(rng);
    let mut buf = [0u8; 4 * BLOCK];
    let mut out = Vec::with_capacity(v.len());
    for chunk in v.chunks(BLOCK) {
        let bytes = &mut buf[..4 * chunk.len()];
        fast.fill_bytes(bytes);
        out.extend(chunk.iter().zip(bytes.chunks_exact(4)).map(|(&x, b)| {
            let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            f(x, (w >> 8) as f32 * (1.0 / (1u32 << 24) as f32))
        }));
    }
    out
}

/// `Σ x²` in f64, eight independent accumulators (so it vectorises).
fn sum_sq(v: &[f32]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f64::from(x) * f64::from(x);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Smallest and largest value (NaN ignored), in a form that vectorises.
fn min_max(v: &[f32]) -> (f32, f32) {
    v.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
            (if x < lo { x } else { lo }, if x > hi { x } else { hi })
        })
}

fn uniform(v: &[f32], bits: u8, stochastic: bool, rng: &mut Rng) -> Values {
    let bits = bits.clamp(1, 16);
    let (mut min, mut max) = min_max(v);
    if v.is_empty() || min > max {
        (min, max) = (0.0, 0.0);
    }
    let top_u = (1u32 << bits) - 1;
    let top = top_u as f32;
    let range = max - min;
    let codes = if range > 0.0 && range.is_finite() {
        let inv = top / range;
        // Float-to-int casts saturate (negatives and NaN give 0) and
        // truncate, which is floor for t >= 0: no libm calls in the loop.
        if stochastic {
            map_with_draws(v, rng, |x, u| {
                let t = ((x - min) * inv).clamp(0.0, top);
                let fl = t as i32; // floor, 0 <= t <= 65535
                let up = i32::from(u < t - fl as f32);
                (fl + up).min(top_u as i32) as u16
            })
        } else {
            v.iter()
                .map(|&x| {
                    ((((x - min) * inv).clamp(0.0, top) + 0.5) as i32).min(top_u as i32) as u16
                })
                .collect()
        }
    } else {
        vec![0; v.len()]
    };
    Values::Uniform {
        bits,
        min,
        max,
        codes,
    }
}

fn qsgd(v: &[f32], levels: u16, rng: &mut Rng) -> Values {
    let levels = levels.clamp(1, MAX_QSGD_LEVELS);
    let norm = sum_sq(v).sqrt() as f32;
    let s = f32::from(levels);
    let codes = if norm > 0.0 && norm.is_finite() {
        let k = s / norm;
        map_with_draws(v, rng, |x, u| {
            let r = (x.abs() * k).clamp(0.0, s);
            let fl = r as i32; // floor, 0 <= r <= 32767
            let up = i32::from(u < r - fl as f32);
            let l = (fl + up).min(i32::from(levels)) as i16;
            if x < 0.0 { -l } else { l }
        })
    } else {
        vec![0; v.len()]
    };
    Values::Qsgd {
        levels,
        norm,
        codes,
    }
}

fn ternary(v: &[f32], rng: &mut Rng) -> Values {
    let scale = v
        .iter()
        .fold(0.0f32, |m, x| if x.abs() > m { x.abs() } else { m });
    let codes = if scale > 0.0 && scale.is_finite() {
        let inv = 1.0 / scale;
        map_with_draws(v, rng, |x, u| {
            let keep = i8::from(u < x.abs() * inv);
            if x < 0.0 { -keep } else { keep }
        })
    } else {
        vec![0; v.len()]
    };
    Values::Ternary { scale, codes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng::seeded;

    #[test]
    fn widths_and_validation() {
        assert_eq!(qsgd_width(1), 2);
        assert_eq!(qsgd_width(2), 3);
        assert_eq!(qsgd_width(127), 8);
        assert_eq!(qsgd_width(32767), 16);
        assert!(
            Quantizer::Uniform {
                bits: 0,
                stochastic: false
            }
            .validate()
            .is_err()
        );
        assert!(
            Quantizer::Uniform {
                bits: 17,
                stochastic: false
            }
            .validate()
            .is_err()
        );
        assert!(Quantizer::Qsgd { levels: 0 }.validate().is_err());
        assert!(Quantizer::Qsgd { levels: 40000 }.validate().is_err());
        assert!(Quantizer::Ternary.validate().is_ok());
    }

    #[test]
    fn nearest_uniform_error_is_half_a_step() {
        let v: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let q = Quantizer::Uniform {
            bits: 6,
            stochastic: false,
        }
        .quantize(&v, &mut seeded(1));
        let step = 2.0 / 63.0;
        q.for_each(|j, y| assert!((y - v[j]).abs() <= step / 2.0 + 1e-6, "{j}"));
    }

    #[test]
    fn degenerate_inputs() {
        let mut r = seeded(3);
        for q in [
            Quantizer::F32,
            Quantizer::Uniform {
                bits: 3,
                stochastic: true,
            },
            Quantizer::Qsgd { levels: 4 },
            Quantizer::Ternary,
            Quantizer::Sign,
        ] {
            assert!(q.quantize(&[], &mut r).is_empty());
            let z = q.quantize(&[0.0; 4], &mut r);
            z.for_each(|_, y| assert_eq!(y, 0.0));
            let _ = q.quantize(&[f32::NAN, f32::INFINITY, 1.0], &mut r);
            // A subnormal range makes the scale factor infinite.
            let tiny = q.quantize(&[0.0, 1e-45, -1e-45], &mut r);
            tiny.for_each(|_, y| assert!(y.abs() <= 1e-44, "{q:?}: {y}"));
        }
    }
}
