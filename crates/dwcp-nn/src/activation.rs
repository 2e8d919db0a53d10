//! Element-wise activations and their derivatives.

use ndarray::{Array2, Zip};
use serde::{Deserialize, Serialize};

/// An element-wise activation applied after a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `f(z) = z` (linear output layers: critics, logits).
    Identity,
    /// `f(z) = max(z, 0)`.
    Relu,
    /// `f(z) = tanh(z)` (bounded actor outputs).
    Tanh,
    /// `f(z) = 1 / (1 + e^-z)`, computed without overflow.
    Sigmoid,
}

impl Activation {
    /// Applies the activation to one value.
    pub fn apply_scalar(self, z: f32) -> f32 {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => {
                if z >= 0.0 {
                    1.0 / (1.0 + (-z).exp())
                } else {
                    let e = z.exp();
                    e / (1.0 + e)
                }
            }
        }
    }

    /// Applies the activation in place.
    pub fn apply(self, z: &mut Array2<f32>) {
        if self != Activation::Identity {
            z.mapv_inplace(|v| self.apply_scalar(v));
        }
    }

    /// The derivative `f'(z)` expressed through the output `y = f(z)`; every
    /// supported activation allows this, so backprop needs only the cached
    /// outputs. For ReLU the derivative at 0 is taken as 0.
    pub fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => 1.0 - y * y,
            Activation::Sigmoid => y * (1.0 - y),
        }
    }

    /// Turns `dL/dy` into `dL/dz` in place, given the layer outputs `y`.
    pub(crate) fn backprop_inplace(self, grad: &mut Array2<f32>, y: &Array2<f32>) {
        if let (Activation::Relu, Some(g), Some(y)) = (self, grad.as_slice_mut(), y.as_slice()) {
            // Branch-free and vectorised at the CPU's full width.
            crate::simd::run(crate::simd::ReluMask { g, y });
        } else if self != Activation::Identity {
            Zip::from(grad)
                .and(y)
                .for_each(|g, &y| *g *= self.derivative_from_output(y));
        }
    }
}
