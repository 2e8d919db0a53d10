//! The [`Compress`] trait and the configurable [`Compressor`]
//! (a [`Sparsifier`] followed by a [`Quantizer`]).

use crate::Error;
use crate::compressed::{Compressed, Support};
use crate::quantize::Quantizer;
use crate::sparsify::{random_k_indices, top_k_indices};
use dwcp_core::rng::Rng;

/// Anything that turns a vector into a [`Compressed`] update.
///
/// `rng` supplies the randomness of stochastic rounding; it must be a seeded
/// `dwcp_core::rng` generator so runs are reproducible.
pub trait Compress {
    /// Compresses `x`. Fails only if `x.len()` exceeds `u32::MAX`.
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error>;
}

impl<C: Compress + ?Sized> Compress for &mut C {
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error> {
        (**self).compress(x, rng)
    }
}

impl<C: Compress + ?Sized> Compress for Box<C> {
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error> {
        (**self).compress(x, rng)
    }
}

/// Which coordinates to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sparsifier {
    /// All of them.
    Dense,
    /// The `k` of largest magnitude (exact). Clients' index sets differ, so
    /// this does not compose with secure aggregation.
    TopK {
        /// Coordinates kept (clamped to the dimension).
        k: usize,
    },
    /// `k` coordinates chosen by [`random_k_indices`]`(seed, dim, k)`: with a
    /// shared per-round `seed` (see [`crate::round_seed`]) every client sends
    /// the same coordinates, and the wire carries the seed instead of indices.
    RandK {
        /// Coordinates kept (clamped to the dimension).
        k: usize,
        /// The mask seed; change it every round with [`Compressor::set_mask_seed`].
        seed: u64,
        /// Multiply kept values by `dim / k` so the decompressed vector is an
        /// unbiased estimate of the input. Leave `false` with error feedback.
        rescale: bool,
    },
}

/// A sparsifier followed by a quantizer of the kept values.
///
/// Common configurations: `TopK` + `F32` (plain top-k), `TopK` + `Uniform`
/// (top-k with b-bit values), `TopK` + `Sign` (STC-like ternary), `Dense` +
/// `Qsgd`/`Ternary`/`Sign`/`Uniform`, `RandK` + anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compressor {
    sparsifier: Sparsifier,
    quantizer: Quantizer,
}

impl Compressor {
    /// A compressor, checking the quantizer's parameters.
    pub fn new(sparsifier: Sparsifier, quantizer: Quantizer) -> Result<Self, Error> {
        quantizer.validate()?;
        Ok(Compressor {
            sparsifier,
            quantizer,
        })
    }

    /// The sparsifier.
    pub fn sparsifier(&self) -> Sparsifier {
        self.sparsifier
    }

    /// The quantizer.
    pub fn quantizer(&self) -> Quantizer {
        self.quantizer
    }

    /// Sets the random-k mask seed for the next round (no effect on other
    /// sparsifiers).
    pub fn set_mask_seed(&mut self, new_seed: u64) {
        if let Sparsifier::RandK { seed, .. } = &mut self.sparsifier {
            *seed = new_seed;
        }
    }
}

pub(crate) fn check_dim(x: &[f32]) -> Result<(), Error> {
    if u32::try_from(x.len()).is_err() {
        return Err(Error::DimensionTooLarge {
            dim: x.len() as u64,
            max: u64::from(u32::MAX),
        });
    }
    Ok(())
}

/// Quantizes the values at `indices` (increasing) into a sparse update.
pub(crate) fn sparse_from(
    x: &[f32],
    indices: Vec<u32>,
    seed: Option<u64>,
    scale: f32,
    quantizer: Quantizer,
    rng: &mut Rng,
) -> Compressed {
    let picked: Vec<f32> = indices
        .iter()
        .map(|&i| x.get(i as usize).copied().unwrap_or(0.0) * scale)
        .collect();
    let values = quantizer.quantize(&picked, rng);
    Compressed {
        dim: x.len() as u32,
        support: Support::Sparse { indices, seed },
        values,
    }
}

impl Compress for Compressor {
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error> {
        check_dim(x)?;
        Ok(match self.sparsifier {
            Sparsifier::Dense => Compressed {
                dim: x.len() as u32,
                support: Support::Dense,
                values: self.quantizer.quantize(x, rng),
            },
            Sparsifier::TopK { k } => {
                sparse_from(x, top_k_indices(x, k), None, 1.0, self.quantizer, rng)
            }
            Sparsifier::RandK { k, seed, rescale } => {
                let idx = random_k_indices(seed, x.len(), k);
                let scale = if rescale && !idx.is_empty() {
                    x.len() as f32 / idx.len() as f32
                } else {
                    1.0
                };
                sparse_from(x, idx, Some(seed), scale, self.quantizer, rng)
            }
        })
    }
}
