//! Parameter gradients and global-norm clipping.

use crate::dense::Dense;
use crate::error::NnError;

/// Gradients of a loss with respect to every parameter of an
/// [`Mlp`](crate::Mlp), one [`Dense`] per layer with the layer's shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    /// One entry per layer, in network order.
    pub layers: Vec<Dense>,
}

impl Gradients {
    /// Number of scalar entries.
    pub fn len(&self) -> usize {
        self.layers.iter().map(Dense::num_params).sum()
    }

    /// Whether there are no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in the canonical flat order (layer by layer, `w` row-major then `b`).
    pub fn iter(&self) -> impl Iterator<Item = &f32> {
        self.layers.iter().flat_map(Dense::iter)
    }

    /// Mutable entries in the canonical flat order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.layers.iter_mut().flat_map(Dense::iter_mut)
    }

    /// The gradient as one flat vector, in the same order as
    /// [`Mlp::params_flat`](crate::Mlp::params_flat).
    pub fn to_flat(&self) -> Vec<f32> {
        self.iter().copied().collect()
    }

    /// Overwrites every entry from a flat vector of exactly [`Self::len`] entries.
    pub fn set_flat(&mut self, flat: &[f32]) -> Result<(), NnError> {
        let expected = self.len();
        if flat.len() != expected {
            return Err(NnError::LengthMismatch {
                expected,
                got: flat.len(),
            });
        }
        self.iter_mut().zip(flat).for_each(|(g, &v)| *g = v);
        Ok(())
    }

    /// Multiplies every entry by `factor` (e.g. `1 / k` to average `k` accumulated batches).
    pub fn scale(&mut self, factor: f32) {
        self.iter_mut().for_each(|g| *g *= factor);
    }

    /// Adds `other` entry-wise (gradient accumulation).
    pub fn add_assign(&mut self, other: &Gradients) -> Result<(), NnError> {
        self.check_same_shape(other)?;
        self.iter_mut()
            .zip(other.iter())
            .for_each(|(a, &b)| *a += b);
        Ok(())
    }

    /// The global L2 norm over all entries (accumulated in `f64`).
    pub fn norm(&self) -> f32 {
        self.iter()
            .map(|&g| f64::from(g) * f64::from(g))
            .sum::<f64>()
            .sqrt() as f32
    }

    pub(crate) fn check_same_shape(&self, other: &Gradients) -> Result<(), NnError> {
        let same = self.layers.len() == other.layers.len()
            && self
                .layers
                .iter()
                .zip(&other.layers)
                .all(|(a, b)| a.same_shape(b));
        if same {
            Ok(())
        } else {
            Err(NnError::ShapeMismatch(
                "gradients of different networks".into(),
            ))
        }
    }
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`, like
/// PyTorch's `clip_grad_norm_`: with total norm `n`, every entry is multiplied
/// by `max_norm / (n + 1e-6)` when that factor is below 1. Returns the total
/// norm *before* clipping. A non-finite norm leaves the gradients unchanged
/// (and is returned, so the caller can skip the step).
pub fn clip_grad_norm(grads: &mut Gradients, max_norm: f32) -> f32 {
    let norm = grads.norm();
    if norm.is_finite() {
        let coef = max_norm / (norm + 1e-6);
        if coef < 1.0 {
            grads.scale(coef);
        }
    }
    norm
}
