//! A fully connected layer and its initialisers.

use dwcp_core::rng::RngCore;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// A fully connected layer `y = x · w + b` on row-major batches: `x` is
/// `batch × inputs`, `w` is `inputs × outputs`, `b` has `outputs` entries.
///
/// The same type holds a layer's gradients (see [`crate::Gradients`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Weights, `inputs × outputs`.
    pub w: Array2<f32>,
    /// Biases, `outputs` entries.
    pub b: Array1<f32>,
}

/// How a layer's weights are drawn (biases always start at zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Glorot/Xavier uniform: `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// He/Kaiming uniform for ReLU layers: `U(-a, a)`, `a = sqrt(6 / fan_in)`.
    HeUniform,
}

/// A uniform `f32` in `[0, 1)` from the top 24 bits of a `u32`; written out
/// here so the stream does not depend on a sampling library's version.
pub(crate) fn unit_f32(rng: &mut impl RngCore) -> f32 {
    (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

impl Dense {
    /// A zero layer (all weights and biases 0).
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Dense {
            w: Array2::zeros((inputs, outputs)),
            b: Array1::zeros(outputs),
        }
    }

    /// A layer with weights drawn by `init` from `rng` (row-major order) and
    /// zero biases. Deterministic for a given RNG state.
    pub fn init(inputs: usize, outputs: usize, init: Init, rng: &mut impl RngCore) -> Self {
        let limit = match init {
            Init::GlorotUniform => (6.0 / (inputs + outputs).max(1) as f64).sqrt(),
            Init::HeUniform => (6.0 / inputs.max(1) as f64).sqrt(),
        } as f32;
        let w =
            Array2::from_shape_simple_fn((inputs, outputs), || (2.0 * unit_f32(rng) - 1.0) * limit);
        Dense {
            w,
            b: Array1::zeros(outputs),
        }
    }

    /// Re-lays `w` and `b` out row-major and contiguous if they are not
    /// (a transposed or sliced array), so they can be viewed as slices.
    pub fn make_standard_layout(&mut self) {
        if !self.w.is_standard_layout() {
            self.w = self.w.as_standard_layout().into_owned();
        }
        if !self.b.is_standard_layout() {
            self.b = self.b.as_standard_layout().into_owned();
        }
    }

    /// Number of inputs (rows of `w`).
    pub fn inputs(&self) -> usize {
        self.w.nrows()
    }

    /// Number of outputs (columns of `w`).
    pub fn outputs(&self) -> usize {
        self.w.ncols()
    }

    /// Number of scalar parameters (`inputs·outputs + outputs`).
    pub fn num_params(&self) -> usize {
        self.w.len() + self.b.len()
    }

    /// Whether two layers have identical shapes.
    pub fn same_shape(&self, other: &Dense) -> bool {
        self.w.dim() == other.w.dim() && self.b.len() == other.b.len()
    }

    /// Parameters in canonical order: `w` row-major, then `b`.
    pub fn iter(&self) -> impl Iterator<Item = &f32> {
        self.w.iter().chain(self.b.iter())
    }

    /// Mutable parameters in canonical order: `w` row-major, then `b`.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.w.iter_mut().chain(self.b.iter_mut())
    }
}
