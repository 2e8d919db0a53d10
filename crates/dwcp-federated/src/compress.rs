//! Update compression, configured by [`Compression`] and carried out by the
//! workspace's `dwcp-quantization` crate: dense fp32, exact top-k, or
//! random-k at a mask derived from a seed shared by everyone for the round;
//! kept values as raw f32, `bits`-bit uniform codes, or sign·mean|v| (1 bit,
//! STC-like); optional error feedback (the residual of what was not sent is
//! added to the next update).

use dwcp_core::rng::{self, Rng};
use dwcp_quantization::{
    self as q, Compress, Compressed, ErrorFeedback, Quantizer, Sparsifier, k_for_fraction,
    round_seed,
};
use serde::{Deserialize, Serialize};

/// How an update (or the downlink delta) is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Compression {
    /// Every parameter as a 32-bit float.
    Dense,
    /// The `fraction` largest-magnitude entries (at least one), values with
    /// `bits` bits (see [`valid_bits`]).
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
    /// Whether the fraction and bit width are supported.
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
                k_for_fraction(f64::from(fraction), dim)
            }
        }
    }

    /// The `dwcp-quantization` compressor for vectors of `dim` entries in
    /// round `round` (`mask_seed` is the federation's shared random-k seed).
    /// Fails only for an invalid bit width (see [`Compression::valid`]).
    pub fn compressor(
        &self,
        dim: usize,
        round: u64,
        mask_seed: u64,
    ) -> Result<q::Compressor, q::Error> {
        let quant = |bits: u8| match bits {
            32 => Quantizer::F32,
            1 => Quantizer::Sign,
            b => Quantizer::Uniform {
                bits: b,
                stochastic: false,
            },
        };
        let (sparsifier, quantizer) = match *self {
            Compression::Dense => (Sparsifier::Dense, Quantizer::F32),
            Compression::TopK { bits, .. } => (Sparsifier::TopK { k: self.kept(dim) }, quant(bits)),
            Compression::RandomK { bits, .. } => (
                Sparsifier::RandK {
                    k: self.kept(dim),
                    seed: round_seed(mask_seed, round),
                    rescale: false,
                },
                quant(bits),
            ),
        };
        q::Compressor::new(sparsifier, quantizer)
    }
}

/// Whether `bits` is a supported value width: 1 (sign·mean|v|), 2..=16
/// (uniform codes, nearest rounding) or 32 (raw f32).
pub fn valid_bits(bits: u8) -> bool {
    (1..=16).contains(&bits) || bits == 32
}

/// Something that turns a dense vector into update bytes for `round`.
pub trait Compressor {
    /// Compresses `v`; returns the encoded bytes and the decoded value
    /// (what the receiver will apply).
    fn compress(&mut self, v: &[f32], round: u64) -> (Vec<u8>, Vec<f32>);
}

/// A [`Compression`] mode with error feedback (one per sender and direction).
#[derive(Clone, Debug)]
pub struct FeedbackCompressor {
    /// The compression mode.
    pub mode: Compression,
    /// Seed of the shared random-k mask.
    pub mask_seed: u64,
    /// Whether to keep a residual (error feedback). Dense mode never needs one.
    pub feedback: bool,
    ef: Option<ErrorFeedback<q::Compressor>>,
    rng: Rng,
}

impl FeedbackCompressor {
    /// A compressor with an empty residual.
    pub fn new(mode: Compression, mask_seed: u64, feedback: bool) -> Self {
        FeedbackCompressor {
            mode,
            mask_seed,
            feedback,
            ef: None,
            rng: rng::derive(mask_seed, 0xef),
        }
    }

    /// The current residual (empty before the first call or without feedback).
    pub fn residual(&self) -> &[f32] {
        self.ef.as_ref().map_or(&[], |e| e.residual())
    }

    fn try_compress(&mut self, v: &[f32], round: u64) -> Result<Compressed, q::Error> {
        let mut c = self.mode.compressor(v.len(), round, self.mask_seed)?;
        if self.mode == Compression::Dense || !self.feedback {
            return c.compress(v, &mut self.rng);
        }
        let ef = self.ef.get_or_insert_with(|| ErrorFeedback::new(c));
        *ef.inner_mut() = c;
        if ef.residual().len() != v.len() {
            *ef = ErrorFeedback::new(c);
        }
        ef.compress(v, &mut self.rng)
    }
}

impl Compressor for FeedbackCompressor {
    fn compress(&mut self, v: &[f32], round: u64) -> (Vec<u8>, Vec<f32>) {
        match self.try_compress(v, round) {
            Ok(p) => (p.encode(), p.to_dense()),
            // Invalid configurations are rejected by `FlConfig::validate`;
            // should one get here, send the update densely.
            Err(_) => (crate::wire::encode_dense(v), v.to_vec()),
        }
    }
}

/// One compression of `v` without a residual (used for Byzantine updates in
/// the simulator and by tests); returns the encoded bytes.
pub fn compress_once(mode: Compression, v: &[f32], round: u64, mask_seed: u64) -> Vec<u8> {
    FeedbackCompressor::new(mode, mask_seed, false)
        .compress(v, round)
        .0
}
