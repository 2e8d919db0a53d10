//! Update compression: dense fp32, top-k, and random-k with a mask derived
//! from a shared seed, each with quantised values (1-bit sign·mean|v| as in
//! STC, 2..=16-bit symmetric uniform, or raw 32-bit floats), plus error
//! feedback (the residual of what was not sent is added to the next update).
//!
//! This is a small local implementation behind [`Compressor`]; the
//! workspace's quantisation crate can replace it behind the same trait.

use crate::wire::Packed;
use dwcp_core::rng;
use serde::{Deserialize, Serialize};

/// How an update (or the downlink delta) is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Compression {
    /// Every parameter as a 32-bit float.
    Dense,
    /// The `fraction` largest-magnitude entries (at least one), values with
    /// `bits` bits (1, 2..=16 or 32; see [`Packed`]).
    TopK {
        /// Fraction of entries kept, in `(0, 1]`.
        fraction: f32,
        /// Value bits.
        bits: u8,
    },
    /// `fraction` of the entries at positions drawn from a seed shared by
    /// everyone for the round, so all clients send the same index set (the
    /// mode that stays compatible with secure aggregation).
    RandomK {
        /// Fraction of entries kept, in `(0, 1]`.
        fraction: f32,
        /// Value bits.
        bits: u8,
    },
}

impl Compression {
    /// Whether `bits` is a supported value width for this mode.
    pub fn valid(&self) -> bool {
        match *self {
            Compression::Dense => true,
            Compression::TopK { fraction, bits } | Compression::RandomK { fraction, bits } => {
                fraction > 0.0 && fraction <= 1.0 && valid_bits(bits)
            }
        }
    }

    /// Entries kept out of `dim`.
    pub fn kept(&self, dim: usize) -> usize {
        match *self {
            Compression::Dense => dim,
            Compression::TopK { fraction, .. } | Compression::RandomK { fraction, .. } => {
                ((f64::from(fraction) * dim as f64).round() as usize).clamp(1, dim.max(1))
            }
        }
    }
}

/// Whether `bits` is a supported value width: 1, 2..=16 or 32.
pub fn valid_bits(bits: u8) -> bool {
    (1..=16).contains(&bits) || bits == 32
}

/// Something that turns a dense vector into a packed update. `round` and
/// `mask_seed` drive the shared random-k mask.
pub trait Compressor {
    /// Compresses `v`; returns the packed form and its decoded value.
    fn compress(&mut self, v: &[f32], round: u64) -> (Packed, Vec<f32>);
}

/// A compressor with error feedback: keeps `residual = (v + residual) − sent`.
#[derive(Clone, Debug)]
pub struct FeedbackCompressor {
    /// The compression mode.
    pub mode: Compression,
    /// Seed of the shared random-k mask.
    pub mask_seed: u64,
    /// Whether to keep a residual (error feedback). Dense mode never needs one.
    pub feedback: bool,
    residual: Vec<f32>,
}

impl FeedbackCompressor {
    /// A compressor with an empty residual.
    pub fn new(mode: Compression, mask_seed: u64, feedback: bool) -> Self {
        FeedbackCompressor {
            mode,
            mask_seed,
            feedback,
            residual: vec![],
        }
    }

    /// The current residual (empty before the first call).
    pub fn residual(&self) -> &[f32] {
        &self.residual
    }
}

impl Compressor for FeedbackCompressor {
    fn compress(&mut self, v: &[f32], round: u64) -> (Packed, Vec<f32>) {
        if self.mode == Compression::Dense || !self.feedback {
            let p = compress_once(self.mode, v, round, self.mask_seed);
            let d = p.to_dense();
            return (p, d);
        }
        if self.residual.len() != v.len() {
            self.residual = vec![0.0; v.len()];
        }
        let a: Vec<f32> = v.iter().zip(&self.residual).map(|(x, r)| x + r).collect();
        let p = compress_once(self.mode, &a, round, self.mask_seed);
        let d = p.to_dense();
        self.residual = a.iter().zip(&d).map(|(x, q)| x - q).collect();
        (p, d)
    }
}

/// The shared random-k mask for a round: `k` distinct sorted indices in `0..dim`.
pub fn shared_mask(dim: usize, k: usize, seed: u64, round: u64) -> Vec<u32> {
    let mut r = rng::derive(seed, round);
    let mut all: Vec<u32> = (0..dim as u32).collect();
    let k = k.min(dim);
    for i in 0..k {
        let j = i + crate::rand_util::below(&mut r, dim - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// Indices of the `k` largest |v| (ties broken by lower index), sorted.
pub fn top_k(v: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(v.len());
    if k == 0 {
        return vec![];
    }
    let mut idx: Vec<u32> = (0..v.len() as u32).collect();
    let key = |i: &u32| {
        let x = v[*i as usize].abs();
        if x.is_nan() { 0.0 } else { x }
    };
    idx.select_nth_unstable_by(k - 1, |a, b| key(b).total_cmp(&key(a)).then(a.cmp(b)));
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// Quantises `vals` to `bits`-bit codes; returns `(scale, codes)`.
pub fn quantise(vals: &[f32], bits: u8) -> (f32, Vec<u32>) {
    match bits {
        32 => (1.0, vals.iter().map(|v| v.to_bits()).collect()),
        1 => {
            let s = vals.iter().map(|v| v.abs()).sum::<f32>() / vals.len().max(1) as f32;
            (s, vals.iter().map(|&v| u32::from(v >= 0.0)).collect())
        }
        b => {
            let l = ((1u32 << (b - 1)) - 1) as f32;
            let max = vals.iter().fold(0f32, |m, v| m.max(v.abs()));
            let s = if max > 0.0 { max / l } else { 1.0 };
            let codes = vals
                .iter()
                .map(|&v| ((v / s).round().clamp(-l, l) + l) as u32)
                .collect();
            (s, codes)
        }
    }
}

/// One compression of `v` (no residual).
pub fn compress_once(mode: Compression, v: &[f32], round: u64, mask_seed: u64) -> Packed {
    let dim = v.len() as u32;
    match mode {
        Compression::Dense => Packed::Dense(v.to_vec()),
        Compression::TopK { bits, .. } => {
            let indices = top_k(v, mode.kept(v.len()));
            let vals: Vec<f32> = indices.iter().map(|&i| v[i as usize]).collect();
            let (scale, codes) = quantise(&vals, bits);
            Packed::Sparse {
                dim,
                indices,
                bits,
                scale,
                codes,
            }
        }
        Compression::RandomK { bits, .. } => {
            let k = mode.kept(v.len());
            let idx = shared_mask(v.len(), k, mask_seed, round);
            let vals: Vec<f32> = idx.iter().map(|&i| v[i as usize]).collect();
            let (scale, codes) = quantise(&vals, bits);
            Packed::Masked {
                dim,
                mask_seed,
                round,
                bits,
                scale,
                codes,
            }
        }
    }
}
