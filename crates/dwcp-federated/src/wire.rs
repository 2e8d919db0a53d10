//! The compact update encoding, with exact byte accounting.
//!
//! Layout (all integers little-endian; `varint` is unsigned LEB128):
//!
//! | tag | body |
//! |---|---|
//! | `0` dense | `varint dim`, then `dim` × f32 |
//! | `1` sparse | `varint dim`, `varint k`, `u8 bits`, `f32 scale`, `u8 w`, then `k` index gaps of `w` bits (gap = index − previous index − 1, the first relative to −1), then `k` value codes of `bits` bits |
//! | `2` masked | `varint dim`, `varint k`, `u8 bits`, `f32 scale`, `u64 mask_seed`, `varint round`, then `k` value codes (the indices are the shared mask, recomputed) |
//!
//! Value codes: `bits = 32` raw f32 bits; `bits = 1` sign (`1` → `+scale`,
//! `0` → `−scale`); otherwise `(code − L)·scale` with `L = 2^(bits−1) − 1` and
//! `code ≤ 2L`. The decoder ([`decode`]) takes the expected dimension and
//! rejects anything else: wrong tag or dimension, `k > dim`, unsorted or
//! out-of-range indices, invalid widths or codes, non-finite values, short
//! input and trailing bytes. It never panics and allocates at most `O(dim)`.

use crate::bits::{BitReader, BitWriter, get_varint, packed_len, put_varint, width_of};
use crate::compress::{shared_mask, valid_bits};
use std::fmt;

/// A compressed update before encoding (or after decoding).
#[derive(Clone, Debug, PartialEq)]
pub enum Packed {
    /// All values.
    Dense(Vec<f32>),
    /// Explicit sorted indices with quantised values.
    Sparse {
        /// Full dimension.
        dim: u32,
        /// Strictly increasing indices `< dim`.
        indices: Vec<u32>,
        /// Value bits (1, 2..=16, 32).
        bits: u8,
        /// Quantisation scale.
        scale: f32,
        /// One code per index.
        codes: Vec<u32>,
    },
    /// Values at the shared random-k mask of `(mask_seed, round)`.
    Masked {
        /// Full dimension.
        dim: u32,
        /// Seed of the shared mask.
        mask_seed: u64,
        /// Round the mask belongs to.
        round: u64,
        /// Value bits.
        bits: u8,
        /// Quantisation scale.
        scale: f32,
        /// One code per mask entry (their count is `k`).
        codes: Vec<u32>,
    },
}

/// Why update bytes were rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// More bytes than the configured limit.
    TooLarge(usize),
    /// The dimension differs from the model's.
    WrongDimension {
        /// The model's dimension.
        expected: usize,
        /// The encoded dimension.
        got: u64,
    },
    /// Anything else malformed; the string names it.
    Malformed(&'static str),
    /// A decoded value is NaN or infinite.
    NonFinite,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge(n) => write!(f, "update of {n} bytes is over the limit"),
            WireError::WrongDimension { expected, got } => {
                write!(f, "update has dimension {got}, the model {expected}")
            }
            WireError::Malformed(s) => write!(f, "malformed update: {s}"),
            WireError::NonFinite => write!(f, "update contains NaN or infinite values"),
        }
    }
}

impl std::error::Error for WireError {}

fn dequant(code: u32, bits: u8, scale: f32) -> f32 {
    match bits {
        32 => f32::from_bits(code),
        1 => {
            if code == 1 {
                scale
            } else {
                -scale
            }
        }
        b => {
            let l = (1i64 << (b - 1)) - 1;
            (i64::from(code) - l) as f32 * scale
        }
    }
}

impl Packed {
    /// The dense vector this update stands for.
    pub fn to_dense(&self) -> Vec<f32> {
        match self {
            Packed::Dense(v) => v.clone(),
            Packed::Sparse {
                dim,
                indices,
                bits,
                scale,
                codes,
            } => {
                let mut out = vec![0.0; *dim as usize];
                for (&i, &c) in indices.iter().zip(codes) {
                    if let Some(o) = out.get_mut(i as usize) {
                        *o = dequant(c, *bits, *scale);
                    }
                }
                out
            }
            Packed::Masked {
                dim,
                mask_seed,
                round,
                bits,
                scale,
                codes,
            } => {
                let mut out = vec![0.0; *dim as usize];
                let idx = shared_mask(*dim as usize, codes.len(), *mask_seed, *round);
                for (&i, &c) in idx.iter().zip(codes) {
                    if let Some(o) = out.get_mut(i as usize) {
                        *o = dequant(c, *bits, *scale);
                    }
                }
                out
            }
        }
    }

    /// The compact encoding (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![];
        match self {
            Packed::Dense(v) => {
                out.push(0);
                put_varint(&mut out, v.len() as u64);
                for x in v {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
            Packed::Sparse {
                dim,
                indices,
                bits,
                scale,
                codes,
            } => {
                out.push(1);
                put_varint(&mut out, u64::from(*dim));
                put_varint(&mut out, indices.len() as u64);
                out.push(*bits);
                out.extend_from_slice(&scale.to_le_bytes());
                let mut prev = -1i64;
                let gaps: Vec<u32> = indices
                    .iter()
                    .map(|&i| {
                        let g = (i64::from(i) - prev - 1).max(0) as u32;
                        prev = i64::from(i);
                        g
                    })
                    .collect();
                let w = gaps.iter().map(|&g| width_of(g)).max().unwrap_or(0);
                out.push(w as u8);
                let mut bw = BitWriter::default();
                gaps.iter().for_each(|&g| bw.put(g, w));
                codes.iter().for_each(|&c| bw.put(c, u32::from(*bits)));
                out.extend(bw.finish());
            }
            Packed::Masked {
                dim,
                mask_seed,
                round,
                bits,
                scale,
                codes,
            } => {
                out.push(2);
                put_varint(&mut out, u64::from(*dim));
                put_varint(&mut out, codes.len() as u64);
                out.push(*bits);
                out.extend_from_slice(&scale.to_le_bytes());
                out.extend_from_slice(&mask_seed.to_le_bytes());
                put_varint(&mut out, *round);
                let mut bw = BitWriter::default();
                codes.iter().for_each(|&c| bw.put(c, u32::from(*bits)));
                out.extend(bw.finish());
            }
        }
        out
    }
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], WireError> {
    let end = pos.checked_add(n).ok_or(WireError::Malformed("length"))?;
    let s = b.get(*pos..end).ok_or(WireError::Malformed("truncated"))?;
    *pos = end;
    Ok(s)
}

fn byte(b: &[u8], pos: &mut usize) -> Result<u8, WireError> {
    Ok(take(b, pos, 1)?[0])
}

fn f32_at(b: &[u8], pos: &mut usize) -> Result<f32, WireError> {
    let s = take(b, pos, 4)?;
    Ok(f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn varint(b: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    get_varint(b, pos).ok_or(WireError::Malformed("varint"))
}

/// Decodes untrusted bytes as an update of dimension `dim`, refusing more
/// than `max_bytes`. Returns the packed form; [`Packed::to_dense`] of a
/// successful result is finite and of length `dim`.
pub fn decode(bytes: &[u8], dim: usize, max_bytes: usize) -> Result<Packed, WireError> {
    if bytes.len() > max_bytes {
        return Err(WireError::TooLarge(bytes.len()));
    }
    let mut pos = 0;
    let tag = byte(bytes, &mut pos)?;
    let d = varint(bytes, &mut pos)?;
    if d != dim as u64 {
        return Err(WireError::WrongDimension {
            expected: dim,
            got: d,
        });
    }
    let packed = match tag {
        0 => {
            let raw = take(
                bytes,
                &mut pos,
                dim.checked_mul(4).ok_or(WireError::Malformed("length"))?,
            )?;
            let v: Vec<f32> = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Packed::Dense(v)
        }
        1 | 2 => {
            let k = varint(bytes, &mut pos)?;
            if k > dim as u64 {
                return Err(WireError::Malformed("more entries than the dimension"));
            }
            let k = k as usize;
            let bits = byte(bytes, &mut pos)?;
            if !valid_bits(bits) {
                return Err(WireError::Malformed("value bits"));
            }
            let scale = f32_at(bytes, &mut pos)?;
            if !scale.is_finite() {
                return Err(WireError::NonFinite);
            }
            if tag == 1 {
                let w = u32::from(byte(bytes, &mut pos)?);
                if w > 32 {
                    return Err(WireError::Malformed("index width"));
                }
                let rest = bytes.get(pos..).unwrap_or_default();
                let need = (k * w as usize + k * usize::from(bits)).div_ceil(8);
                if rest.len() != need {
                    return Err(WireError::Malformed("body length"));
                }
                let mut r = BitReader::new(rest);
                let mut indices = Vec::with_capacity(k);
                let mut prev = -1i64;
                for _ in 0..k {
                    let g = r.get(w).ok_or(WireError::Malformed("truncated"))?;
                    let i = prev + 1 + i64::from(g);
                    if i >= dim as i64 {
                        return Err(WireError::Malformed("index out of range"));
                    }
                    indices.push(i as u32);
                    prev = i;
                }
                let codes = read_codes(&mut r, k, bits)?;
                pos = bytes.len();
                Packed::Sparse {
                    dim: dim as u32,
                    indices,
                    bits,
                    scale,
                    codes,
                }
            } else {
                let seed_bytes = take(bytes, &mut pos, 8)?;
                let mut sb = [0u8; 8];
                sb.copy_from_slice(seed_bytes);
                let mask_seed = u64::from_le_bytes(sb);
                let round = varint(bytes, &mut pos)?;
                let rest = bytes.get(pos..).unwrap_or_default();
                if rest.len() != packed_len(k, u32::from(bits)) {
                    return Err(WireError::Malformed("body length"));
                }
                let mut r = BitReader::new(rest);
                let codes = read_codes(&mut r, k, bits)?;
                pos = bytes.len();
                Packed::Masked {
                    dim: dim as u32,
                    mask_seed,
                    round,
                    bits,
                    scale,
                    codes,
                }
            }
        }
        _ => return Err(WireError::Malformed("tag")),
    };
    if pos != bytes.len() {
        return Err(WireError::Malformed("trailing bytes"));
    }
    if packed.to_dense().iter().any(|v| !v.is_finite()) {
        return Err(WireError::NonFinite);
    }
    Ok(packed)
}

fn read_codes(r: &mut BitReader<'_>, k: usize, bits: u8) -> Result<Vec<u32>, WireError> {
    let max = match bits {
        32 => u32::MAX,
        1 => 1,
        b => 2 * ((1u32 << (b - 1)) - 1),
    };
    let mut codes = Vec::with_capacity(k);
    for _ in 0..k {
        let c = r
            .get(u32::from(bits))
            .ok_or(WireError::Malformed("truncated"))?;
        if c > max {
            return Err(WireError::Malformed("value code"));
        }
        codes.push(c);
    }
    Ok(codes)
}
