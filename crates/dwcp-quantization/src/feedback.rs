//! Error feedback (EF-SGD, Karimireddy et al. 2019; Stich et al. 2018):
//! what compression dropped this round is added back next round.

use crate::compressor::{Compress, check_dim};
use crate::{Compressed, Error};
use dwcp_core::rng::Rng;

/// Wraps a compressor with a residual memory.
///
/// Each call compresses `acc = x + residual` and keeps
/// `residual = acc − decompress(sent)`. Use one per client for uplink and
/// one on the server for the broadcast aggregate (two-way error feedback).
/// The residual is sized on the first call; a call with another length
/// fails with [`Error::DimensionMismatch`].
#[derive(Clone, Debug)]
pub struct ErrorFeedback<C> {
    inner: C,
    residual: Vec<f32>,
}

impl<C: Compress> ErrorFeedback<C> {
    /// Wraps `inner` with an empty residual.
    pub fn new(inner: C) -> Self {
        ErrorFeedback {
            inner,
            residual: Vec::new(),
        }
    }

    /// The current residual (empty before the first call).
    pub fn residual(&self) -> &[f32] {
        &self.residual
    }

    /// Forgets the residual (e.g. after the model was replaced).
    pub fn reset(&mut self) {
        self.residual.clear();
    }

    /// The wrapped compressor.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The wrapped compressor, mutably (e.g. to set a new random-k mask seed).
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }
}

impl<C: Compress> Compress for ErrorFeedback<C> {
    fn compress(&mut self, x: &[f32], rng: &mut Rng) -> Result<Compressed, Error> {
        check_dim(x)?;
        if self.residual.is_empty() {
            self.residual = vec![0.0; x.len()];
        } else if self.residual.len() != x.len() {
            return Err(Error::DimensionMismatch {
                expected: self.residual.len(),
                got: x.len(),
            });
        }
        for (r, &v) in self.residual.iter_mut().zip(x) {
            *r += v;
        }
        let sent = self.inner.compress(&self.residual, rng)?;
        let res = &mut self.residual;
        sent.for_each(|i, v| {
            if let Some(r) = res.get_mut(i) {
                *r -= v;
            }
        });
        Ok(sent)
    }
}
