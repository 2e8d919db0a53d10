//! A compressor that meets a per-round bit budget.

use crate::compressor::{Compress, Compressor, Sparsifier, check_dim, sparse_from};
use crate::quantize::Quantizer;
use crate::sparsify::top_k_ranked;
use crate::wire::{dense_len, sparse_len};
use crate::{Compressed, Error};
use dwcp_core::rng::Rng;

/// Picks, every call, the most accurate configuration whose encoding (no
/// entropy stage) fits `budget_bits`:
///
/// 1. dense `f32` if it fits;
/// 2. else dense quantization with the widest `b` in `min_dense_bits..=16`
///    that fits (b-bit uniform, or QSGD with `2^(b−1) − 1` levels);
/// 3. else top-k with the `sparse_values` quantizer and the largest `k` that
///    fits (binary search over prefixes of one ranking, using the exact
///    encoded length, so the result is `<= budget_bits` whenever an empty
///    update fits).
///
/// [`Adaptive::last_choice`] tells which configuration was used.
#[derive(Clone, Debug)]
pub struct Adaptive {
    budget_bits: u64,
    min_dense_bits: u8,
    dense_qsgd: bool,
    stochastic: bool,
    sparse_values: Quantizer,
    last: Option<Compressor>,
}

impl Adaptive {
    /// A budget of `budget_bits` per update, with defaults: dense down to
    /// 2 bits (uniform, nearest rounding), then top-k with 4-bit uniform values.
    pub fn new(budget_bits: u64) -> Self {
        Adaptive {
            budget_bits,
            min_dense_bits: 2,
            dense_qsgd: false,
            stochastic: false,
            sparse_values: Quantizer::Uniform {
                bits: 4,
                stochastic: false,
            },
            last: None,
        }
    }

    /// Changes the budget (e.g. every round, from a bandwidth estimate).
    pub fn set_budget_bits(&mut self, budget_bits: u64) {
        self.budget_bits = budget_bits;
    }

    /// The current budget.
    pub fn budget_bits(&self) -> u64 {
        self.budget_bits
    }

    /// Narrowest dense width before switching to top-k (`1..=16`).
    pub fn with_min_dense_bits(mut self, bits: u8) -> Result<Self, Error> {
        if !(1..=16).contains(&bits) {
            return Err(Error::Config("min_dense_bits must be in 1..=16"));
        }
        self.min_dense_bits = bits;
        Ok(self)
    }

    /// Use QSGD (unbiased) instead of uniform codes in the dense regime.
    pub fn with_dense_qsgd(mut self, qsgd: bool) -> Self {
        self.dense_qsgd = qsgd;
        self
    }

    /// Stochastic (unbiased) rounding for dense uniform codes.
    pub fn with_stochastic_rounding(mut self, stochastic: bool) -> Self {
        self.stochastic = stochastic;
        self
    }

    /// The quantizer of the values kept in the top-k regime.
    pub fn with_sparse_values(mut self, q: Quantizer) -> Result<Self, Error> {
        q.validate()?;
        self.sparse_values = q;
        Ok(self)
    }

    /// The configuration used by the last call.
    pub fn last_choice(&self) -> Option<Compressor> {
        self.last
    }

    fn dense_quantizer(&self, bits: u8) -> Option<Quantizer> {
        if self.dense_qsgd {
            // width(2^(b-1) - 1 levels) = b; needs b >= 2.
            (bits >= 2).then(|| Quantizer::Qsgd {
                levels: (1u16 << (bits - 1)) - 1,
            })
        } else {
            Some(Quantizer::Uniform {
                bits,
                stochastic: self.stochastic,
            })
        }
    }

    fn fits(&self, bytes: u64) -> bool {
        bytes.saturating_mul(8) <= self.budget_bits
    }
}

impl Compress for Adaptive {
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error> {
        check_dim(x)?;
        let d = x.len() as u64;
        let dense = std::iter::once(Quantizer::F32).chain(
            (self.min_dense_bits..=16)
                .rev()
                .filter_map(|b| self.dense_quantizer(b)),
        );
        for q in dense {
            if self.fits(dense_len(d, q)) {
                let mut c = Compressor::new(Sparsifier::Dense, q)?;
                self.last = Some(c);
                return c.compress(x, rng);
            }
        }
        let q = self.sparse_values;
        // Every kept entry costs at least 1 index bit plus its value bits.
        let per_entry = 1 + q.bits_per_value().floor() as u64;
        let kmax = (self.budget_bits / per_entry).min(d) as usize;
        let ranked = top_k_ranked(x, kmax);
        let sorted_prefix = |k: usize| {
            let mut idx = ranked[..k].to_vec();
            idx.sort_unstable();
            idx
        };
        // Largest k in 0..=kmax whose exact length fits (length grows with k).
        let (mut lo, mut hi) = (0usize, ranked.len());
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.fits(sparse_len(d, &sorted_prefix(mid), q)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        self.last = Some(Compressor::new(Sparsifier::TopK { k: lo }, q)?);
        Ok(sparse_from(x, sorted_prefix(lo), None, 1.0, q, rng))
    }
}
