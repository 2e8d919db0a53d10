//! The wire encoding of a [`Compressed`] update.
//!
//! ```text
//! byte 0   format version (1)
//! byte 1   flags: bit 0 = body is one zstd frame; other bits zero
//! body     a bit stream, least significant bit first, zero padded:
//!   varint  dim                      LEB128 in 8-bit groups, minimal
//!   2 bits  support: 0 dense, 1 explicit indices, 2 seeded random-k
//!   3 bits  values: 0 f32, 1 uniform, 2 qsgd, 3 ternary, 4 sign
//!   support 1: varint n, 5 bits Rice parameter r, then n Rice codes of
//!              the gaps (first index, then index − previous − 1):
//!              unary(gap >> r) followed by the low r bits
//!   support 2: varint k, 64 bits seed (indices = random_k_indices(seed, dim, k))
//!   values 0: 32 bits per value
//!   values 1: 4 bits (bits − 1), f32 min, f32 max, `bits` per code
//!   values 2: 16 bits levels s, f32 norm, ⌈log2(2s+1)⌉ bits per code + s
//!   values 3: f32 scale, codes + 1 packed base 3, five per 8 bits
//!             (a final group of m < 5 trits takes 0/2/4/5/7 bits)
//!   values 4: f32 scale, 1 bit per value (1 = negative)
//! ```
//! Rice-coded gaps cost about `log2(d/k) + 1.5` bits per index instead of a
//! varint's 8 or 16. Decoding is bounded: the dimension is checked against
//! [`Limits`], every count against the dimension and the bits left, so no
//! allocation is sized by an unchecked length.

use crate::Error;
use crate::bits::{BitCounter, BitReader, BitSink, BitWriter};
use crate::compressed::{Compressed, MAX_QSGD_LEVELS, Support, Values};
use crate::quantize::{Quantizer, qsgd_width};
use crate::sparsify::random_k_indices;
use std::io::Read;

/// The format version written in byte 0.
pub const FORMAT_VERSION: u8 = 1;
const FLAG_ZSTD: u8 = 1;
/// Largest zstd window a decoder accepts (the encoder uses 128 KiB).
const MAX_WINDOW: u64 = 1 << 20;
/// Bits taken by a final ternary group of `m` trits.
const TRIT_BITS: [u32; 5] = [0, 2, 4, 5, 7];

/// The optional entropy-coding stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Entropy {
    /// Bit-packed body only.
    #[default]
    None,
    /// The body compressed as one zstd frame (Huffman-coded literals and
    /// FSE-coded matches; pure-Rust `ruzstd`, fastest level).
    Zstd,
    /// Whichever of `None` and `Zstd` is smaller (zstd's frame overhead of
    /// ~10 bytes makes it lose on small messages).
    Auto,
}

/// Decoder limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest dimension accepted. Decoding may allocate `O(max_dim)` bytes
    /// (a seeded random-k mask, an entropy-coded body).
    pub max_dim: usize,
}

impl Default for Limits {
    /// `max_dim = 2^26` (67 M parameters).
    fn default() -> Self {
        Limits { max_dim: 1 << 26 }
    }
}

impl Limits {
    /// Limits for models of at most `max_dim` parameters.
    pub fn new(max_dim: usize) -> Self {
        Limits { max_dim }
    }

    /// Largest raw body a valid message of dimension `<= max_dim` can have:
    /// indices ≤ 33 bits and values ≤ 32 bits per coordinate, plus headers.
    fn max_body_bytes(&self) -> u64 {
        (self.max_dim as u64).saturating_mul(9).saturating_add(64)
    }
}

fn gaps(indices: &[u32]) -> impl Iterator<Item = u64> + '_ {
    let mut prev: Option<u32> = None;
    indices.iter().map(move |&i| {
        let g = match prev {
            None => i,
            Some(p) => i.wrapping_sub(p).wrapping_sub(1),
        };
        prev = Some(i);
        u64::from(g)
    })
}

/// The Rice parameter minimising the coded size of `indices`' gaps, and
/// that size in bits (without the 5-bit parameter field).
fn rice_parameter(indices: &[u32]) -> (u32, u64) {
    let n = indices.len() as u64;
    if n == 0 {
        return (0, 0);
    }
    let total: u64 = gaps(indices).sum();
    let mean = total / n;
    let guess = 63 - (mean | 1).leading_zeros();
    let cost = |r: u32| gaps(indices).map(|g| g >> r).sum::<u64>() + n * (1 + u64::from(r));
    (guess.saturating_sub(2)..=(guess + 1).min(31))
        .map(|r| (cost(r), r))
        .min()
        .map_or((0, 0), |(c, r)| (r, c))
}

/// Bits of a varint.
pub(crate) fn varint_bits(v: u64) -> u64 {
    8 * u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

/// Exact body bits of `n` values quantized by `q` (headers included).
pub(crate) fn values_bits(q: Quantizer, n: u64) -> u64 {
    match q {
        Quantizer::F32 => 32 * n,
        Quantizer::Uniform { bits, .. } => 68 + n * u64::from(bits),
        Quantizer::Qsgd { levels } => 48 + n * u64::from(qsgd_width(levels)),
        Quantizer::Ternary => 32 + 8 * (n / 5) + u64::from(TRIT_BITS[(n % 5) as usize]),
        Quantizer::Sign => 32 + n,
    }
}

/// Exact encoded bytes (no entropy stage) of a dense update.
pub(crate) fn dense_len(dim: u64, q: Quantizer) -> u64 {
    2 + (varint_bits(dim) + 5 + values_bits(q, dim)).div_ceil(8)
}

/// Exact encoded bytes (no entropy stage) of a top-k update with these
/// increasing indices.
pub(crate) fn sparse_len(dim: u64, indices: &[u32], q: Quantizer) -> u64 {
    let n = indices.len() as u64;
    let bits = varint_bits(dim) + 5 + varint_bits(n) + 5 + rice_parameter(indices).1;
    2 + (bits + values_bits(q, n)).div_ceil(8)
}

impl Compressed {
    fn write_body<S: BitSink>(&self, s: &mut S) {
        s.varint(u64::from(self.dim));
        let (skind, vkind) = (
            match &self.support {
                Support::Dense => 0,
                Support::Sparse { seed: None, .. } => 1,
                Support::Sparse { seed: Some(_), .. } => 2,
            },
            match &self.values {
                Values::F32(_) => 0,
                Values::Uniform { .. } => 1,
                Values::Qsgd { .. } => 2,
                Values::Ternary { .. } => 3,
                Values::Sign { .. } => 4,
            },
        );
        s.put(skind, 2);
        s.put(vkind, 3);
        match &self.support {
            Support::Dense => {}
            Support::Sparse {
                indices,
                seed: None,
            } => {
                s.varint(indices.len() as u64);
                let (r, _) = rice_parameter(indices);
                s.put(u64::from(r), 5);
                for g in gaps(indices) {
                    s.unary(g >> r);
                    s.put(g, r);
                }
            }
            Support::Sparse {
                indices,
                seed: Some(seed),
            } => {
                s.varint(indices.len() as u64);
                s.put(*seed, 64);
            }
        }
        match &self.values {
            Values::F32(v) => v.iter().for_each(|&x| s.f32(x)),
            Values::Uniform {
                bits,
                min,
                max,
                codes,
            } => {
                s.put(u64::from(bits - 1), 4);
                s.f32(*min);
                s.f32(*max);
                let b = u32::from(*bits);
                codes.iter().for_each(|&c| s.put(u64::from(c), b));
            }
            Values::Qsgd {
                levels,
                norm,
                codes,
            } => {
                s.put(u64::from(*levels), 16);
                s.f32(*norm);
                let w = qsgd_width(*levels);
                let off = i32::from(*levels);
                codes
                    .iter()
                    .for_each(|&c| s.put((i32::from(c) + off) as u64, w));
            }
            Values::Ternary { scale, codes } => {
                s.f32(*scale);
                for group in codes.chunks(5) {
                    let v = group
                        .iter()
                        .rev()
                        .fold(0u64, |acc, &c| acc * 3 + (c + 1) as u64);
                    let w = if group.len() == 5 {
                        8
                    } else {
                        TRIT_BITS[group.len()]
                    };
                    s.put(v, w);
                }
            }
            Values::Sign { scale, negative } => {
                s.f32(*scale);
                negative.iter().for_each(|&n| s.put(u64::from(n), 1));
            }
        }
    }

    /// The body alone, after `prefix` bytes (written first, whole bytes).
    fn raw_body(&self, prefix: &[u8]) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(prefix.len() + self.raw_body_len());
        prefix.iter().for_each(|&b| w.put(u64::from(b), 8));
        self.write_body(&mut w);
        w.finish()
    }

    fn raw_body_len(&self) -> usize {
        let mut c = BitCounter::default();
        self.write_body(&mut c);
        c.0.div_ceil(8) as usize
    }

    /// Exact length in bytes of [`Compressed::encode`]'s output, computed
    /// without encoding (the encoder runs on a bit counter).
    pub fn encoded_len(&self) -> usize {
        2 + self.raw_body_len()
    }

    /// The bit-packed encoding (no entropy stage).
    pub fn encode(&self) -> Vec<u8> {
        self.raw_body(&[FORMAT_VERSION, 0])
    }

    /// The encoding with the chosen entropy stage.
    pub fn encode_with(&self, entropy: Entropy) -> Vec<u8> {
        match entropy {
            Entropy::None => self.encode(),
            Entropy::Zstd => {
                let body = self.raw_body(&[]);
                let mut out = vec![FORMAT_VERSION, FLAG_ZSTD];
                out.extend_from_slice(&ruzstd::encoding::compress_to_vec(
                    body.as_slice(),
                    ruzstd::encoding::CompressionLevel::Fastest,
                ));
                out
            }
            Entropy::Auto => {
                let z = self.encode_with(Entropy::Zstd);
                if z.len() < self.encoded_len() {
                    z
                } else {
                    self.encode()
                }
            }
        }
    }

    /// Exact length of [`Compressed::encode_with`]'s output. For `None` this is
    /// computed without encoding; with an entropy stage it compresses.
    pub fn encoded_len_with(&self, entropy: Entropy) -> usize {
        match entropy {
            Entropy::None => self.encoded_len(),
            _ => self.encode_with(entropy).len(),
        }
    }

    /// Decodes an untrusted message. Never panics; allocates at most
    /// `O(limits.max_dim + bytes.len())`.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Compressed, Error> {
        let (&version, rest) = bytes.split_first().ok_or(Error::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(Error::Malformed("unknown format version"));
        }
        let (&flags, body) = rest.split_first().ok_or(Error::Truncated)?;
        match flags {
            0 => decode_body(body, limits),
            FLAG_ZSTD => decode_body(&unzstd(body, limits)?, limits),
            _ => Err(Error::Malformed("unknown flags")),
        }
    }
}

impl Compressed {
    /// Decodes an untrusted update that must have exactly dimension `dim`
    /// (the model size): [`Compressed::decode`] with `Limits::new(dim)` plus
    /// an equality check, so applying it to a `dim`-long vector cannot fail.
    pub fn decode_for(bytes: &[u8], dim: usize) -> Result<Compressed, Error> {
        let c = Compressed::decode(bytes, &Limits::new(dim))?;
        if c.dim() != dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                got: c.dim(),
            });
        }
        Ok(c)
    }
}

fn unzstd(mut frame: &[u8], limits: &Limits) -> Result<Vec<u8>, Error> {
    let bound = limits.max_body_bytes();
    let mut out = Vec::new();
    {
        let dec = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
            &mut frame,
            MAX_WINDOW.min(bound.max(1 << 17)),
        )
        .map_err(|e| Error::Entropy(e.to_string()))?;
        dec.take(bound + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::Entropy(e.to_string()))?;
    }
    if out.len() as u64 > bound {
        return Err(Error::Malformed("entropy-coded body too large"));
    }
    if !frame.is_empty() {
        return Err(Error::Malformed("trailing bytes after the zstd frame"));
    }
    Ok(out)
}

fn decode_body(body: &[u8], limits: &Limits) -> Result<Compressed, Error> {
    let mut r = BitReader::new(body);
    let dim = r.varint()?;
    let max = (limits.max_dim as u64).min(u64::from(u32::MAX));
    if dim > max {
        return Err(Error::DimensionTooLarge { dim, max });
    }
    let (skind, vkind) = (r.get(2)?, r.get(3)?);
    // Support: count, explicit indices or the seed.
    let (n, explicit, seed) = match skind {
        0 => (dim, None, None),
        1 => {
            let n = r.varint()?;
            if n > dim {
                return Err(Error::Malformed("more indices than coordinates"));
            }
            let rice = r.get(5)? as u32;
            if n.saturating_mul(1 + u64::from(rice)) > r.remaining() {
                return Err(Error::Truncated);
            }
            let mut indices = Vec::with_capacity(n as usize);
            let mut next = 0u64; // smallest index allowed next
            for _ in 0..n {
                let q = r.unary(dim)?;
                let g = (q << rice) | r.get(rice)?;
                let i = next
                    .checked_add(g)
                    .ok_or(Error::Malformed("index overflow"))?;
                if i >= dim {
                    return Err(Error::Malformed("index out of range"));
                }
                indices.push(i as u32);
                next = i + 1;
            }
            (n, Some(indices), None)
        }
        2 => {
            let n = r.varint()?;
            if n > dim {
                return Err(Error::Malformed("k larger than the dimension"));
            }
            (n, None, Some(r.get(64)?))
        }
        _ => return Err(Error::Malformed("unknown support kind")),
    };
    let values = decode_values(&mut r, vkind, n)?;
    r.finish()?;
    values.validate()?;
    let support = match (explicit, seed) {
        (Some(indices), _) => Support::Sparse {
            indices,
            seed: None,
        },
        (None, Some(seed)) => Support::Sparse {
            indices: random_k_indices(seed, dim as usize, n as usize),
            seed: Some(seed),
        },
        (None, None) => Support::Dense,
    };
    Ok(Compressed {
        dim: dim as u32,
        support,
        values,
    })
}

/// Fails unless `n` values of `bits_each` fit in what is left.
fn need(r: &BitReader<'_>, n: u64, bits_each: u64) -> Result<usize, Error> {
    if n.saturating_mul(bits_each) > r.remaining() {
        return Err(Error::Truncated);
    }
    Ok(n as usize)
}

fn decode_values(r: &mut BitReader<'_>, kind: u64, n: u64) -> Result<Values, Error> {
    Ok(match kind {
        0 => {
            let n = need(r, n, 32)?;
            Values::F32((0..n).map(|_| r.finite_f32()).collect::<Result<_, _>>()?)
        }
        1 => {
            let bits = r.get(4)? as u8 + 1;
            let (min, max) = (r.finite_f32()?, r.finite_f32()?);
            let n = need(r, n, u64::from(bits))?;
            let codes = (0..n)
                .map(|_| r.get(u32::from(bits)).map(|c| c as u16))
                .collect::<Result<_, _>>()?;
            Values::Uniform {
                bits,
                min,
                max,
                codes,
            }
        }
        2 => {
            let levels = r.get(16)? as u16;
            if levels == 0 || levels > MAX_QSGD_LEVELS {
                return Err(Error::Malformed("qsgd levels outside 1..=32767"));
            }
            let norm = r.finite_f32()?;
            let w = qsgd_width(levels);
            let n = need(r, n, u64::from(w))?;
            let off = i32::from(levels);
            let codes = (0..n)
                .map(|_| {
                    let c = r.get(w)? as i32 - off;
                    if c > off {
                        return Err(Error::Malformed("qsgd code out of range"));
                    }
                    Ok(c as i16)
                })
                .collect::<Result<_, _>>()?;
            Values::Qsgd {
                levels,
                norm,
                codes,
            }
        }
        3 => {
            let scale = r.finite_f32()?;
            // 8 bits per 5 trits, rounded down: a lower bound on the bits needed.
            need(r, n / 5, 8)?;
            let n = n as usize;
            let mut codes = Vec::with_capacity(n);
            while codes.len() < n {
                let m = (n - codes.len()).min(5);
                let w = if m == 5 { 8 } else { TRIT_BITS[m] };
                let mut v = r.get(w)?;
                if v >= 3u64.pow(m as u32) {
                    return Err(Error::Malformed("ternary group out of range"));
                }
                for _ in 0..m {
                    codes.push((v % 3) as i8 - 1);
                    v /= 3;
                }
            }
            Values::Ternary { scale, codes }
        }
        4 => {
            let scale = r.finite_f32()?;
            let n = need(r, n, 1)?;
            let negative = (0..n)
                .map(|_| r.get(1).map(|b| b == 1))
                .collect::<Result<_, _>>()?;
            Values::Sign { scale, negative }
        }
        _ => return Err(Error::Malformed("unknown value kind")),
    })
}
