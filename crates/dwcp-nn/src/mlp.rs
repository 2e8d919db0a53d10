//! The multi-layer perceptron: forward, cached forward, backprop, flat
//! parameters, soft updates and weight (de)serialisation.

use crate::activation::Activation;
use crate::dense::{Dense, Init};
use crate::error::NnError;
use crate::grads::Gradients;
use crate::kernels::{self, InputGrad};
use dwcp_core::codec;
use dwcp_core::rng::RngCore;
use ndarray::{Array2, ArrayBase, Data, Ix2, Zip};
use serde::{Deserialize, Serialize};

/// A stack of dense layers, each followed by its activation. Batches are
/// rows: the input is `batch × input_dim`, the output `batch × output_dim`.
///
/// The layer list is validated at construction and on deserialisation, so a
/// value of this type always has consistent shapes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MlpRepr")]
pub struct Mlp {
    layers: Vec<Dense>,
    activations: Vec<Activation>,
}

/// The unvalidated serde form of [`Mlp`].
#[derive(Deserialize)]
struct MlpRepr {
    layers: Vec<Dense>,
    activations: Vec<Activation>,
}

impl TryFrom<MlpRepr> for Mlp {
    type Error = NnError;
    fn try_from(r: MlpRepr) -> Result<Self, NnError> {
        Mlp::from_layers(r.layers, r.activations)
    }
}

/// Everything [`Mlp::forward_cached`] keeps for [`Mlp::backward`]: the input
/// and the output of every layer (after its activation).
#[derive(Clone, Debug)]
pub struct ForwardCache {
    /// `activations[0]` is the input, `activations[i + 1]` the output of layer `i`.
    activations: Vec<Array2<f32>>,
}

impl ForwardCache {
    /// The network output (the last layer's activations).
    pub fn output(&self) -> &Array2<f32> {
        // Never empty: it holds at least the input.
        &self.activations[self.activations.len() - 1]
    }

    /// The input the forward pass was run on.
    pub fn input(&self) -> &Array2<f32> {
        &self.activations[0]
    }
}

impl Mlp {
    /// A fresh network with layer widths `sizes` (`[input, hidden…, output]`,
    /// at least two entries, all non-zero): `hidden` after every layer but the
    /// last, `output` after the last. ReLU layers use He-uniform weights, the
    /// others Glorot-uniform; biases start at zero. Deterministic for a given
    /// RNG state (use `dwcp_core::rng::seeded(seed)`).
    pub fn new(
        sizes: &[usize],
        hidden: Activation,
        output: Activation,
        rng: &mut impl RngCore,
    ) -> Result<Self, NnError> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(NnError::InvalidArchitecture(format!(
                "layer sizes {sizes:?}"
            )));
        }
        let n = sizes.len() - 1;
        let activations: Vec<Activation> = (0..n)
            .map(|i| if i + 1 == n { output } else { hidden })
            .collect();
        let layers = sizes
            .windows(2)
            .zip(&activations)
            .map(|(io, act)| {
                let init = if *act == Activation::Relu {
                    Init::HeUniform
                } else {
                    Init::GlorotUniform
                };
                Dense::init(io[0], io[1], init, rng)
            })
            .collect();
        Mlp::from_layers(layers, activations)
    }

    /// A network from explicit layers, checking that consecutive widths
    /// match, biases fit and there is one activation per layer.
    pub fn from_layers(
        mut layers: Vec<Dense>,
        activations: Vec<Activation>,
    ) -> Result<Self, NnError> {
        layers.iter_mut().for_each(Dense::make_standard_layout);
        if layers.is_empty() || layers.len() != activations.len() {
            return Err(NnError::InvalidArchitecture(format!(
                "{} layers and {} activations",
                layers.len(),
                activations.len()
            )));
        }
        for (i, l) in layers.iter().enumerate() {
            if l.inputs() == 0 || l.outputs() == 0 || l.b.len() != l.outputs() {
                return Err(NnError::InvalidArchitecture(format!(
                    "layer {i}: w is {:?}, b has {}",
                    l.w.dim(),
                    l.b.len()
                )));
            }
        }
        if let Some(i) = layers
            .windows(2)
            .position(|p| p[0].outputs() != p[1].inputs())
        {
            return Err(NnError::InvalidArchitecture(format!(
                "layer {i} output width differs from layer {} input",
                i + 1
            )));
        }
        Ok(Mlp {
            layers,
            activations,
        })
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Mutable layers for in-place parameter updates; shapes must not be
    /// changed through this (crate-internal, used by the optimisers).
    pub(crate) fn layers_mut(&mut self) -> &mut [Dense] {
        &mut self.layers
    }

    /// The activation after each layer.
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    /// Input width.
    pub fn input_dim(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(Dense::num_params).sum()
    }

    /// Whether `other` has the same layer shapes and activations.
    pub fn same_architecture(&self, other: &Mlp) -> bool {
        self.activations == other.activations
            && self.layers.len() == other.layers.len()
            && self
                .layers
                .iter()
                .zip(&other.layers)
                .all(|(a, b)| a.same_shape(b))
    }

    fn layer_forward(
        layer: &Dense,
        act: Activation,
        x: &ArrayBase<impl Data<Elem = f32>, Ix2>,
    ) -> Array2<f32> {
        let mut z = Array2::zeros((x.nrows(), layer.outputs()));
        kernels::layer_forward_into(layer, act, x, &mut z.view_mut());
        z
    }

    /// The output for a batch (rows are samples).
    ///
    /// # Panics
    /// If `x.ncols() != self.input_dim()` (a programming error, not data).
    pub fn forward<S: Data<Elem = f32>>(&self, x: &ArrayBase<S, Ix2>) -> Array2<f32> {
        let mut a = Self::layer_forward(&self.layers[0], self.activations[0], x);
        for (l, act) in self.layers.iter().zip(&self.activations).skip(1) {
            a = Self::layer_forward(l, *act, &a);
        }
        a
    }

    /// Like [`Self::forward`] but keeps every layer's output for [`Self::backward`].
    ///
    /// # Panics
    /// If `x.ncols() != self.input_dim()`.
    pub fn forward_cached<S: Data<Elem = f32>>(&self, x: &ArrayBase<S, Ix2>) -> ForwardCache {
        let mut activations = Vec::with_capacity(self.layers.len() + 1);
        activations.push(x.to_owned());
        for (l, act) in self.layers.iter().zip(&self.activations) {
            let next = Self::layer_forward(l, *act, &activations[activations.len() - 1]);
            activations.push(next);
        }
        ForwardCache { activations }
    }

    /// Backpropagates `dL/doutput` (same shape as the cached output) and
    /// returns the parameter gradients and `dL/dinput` (`batch × input_dim`).
    /// The loss's own averaging (e.g. `1 / batch`) must already be in `d_out`;
    /// the loss functions in this crate do that.
    ///
    /// # Panics
    /// If the cache came from a network of another shape or `d_out` has the
    /// wrong shape.
    pub fn backward(&self, cache: &ForwardCache, d_out: &Array2<f32>) -> (Gradients, Array2<f32>) {
        let (grads, d_in) = self.backprop(cache, d_out, true, InputGrad::All);
        (Gradients { layers: grads }, d_in)
    }

    /// Like [`Self::backward`] but only the parameter gradients: skips the
    /// first layer's `dL/dinput` product (`batch × input_dim × width`), which
    /// a critic or actor update never reads.
    ///
    /// # Panics
    /// As [`Self::backward`].
    pub fn backward_params(&self, cache: &ForwardCache, d_out: &Array2<f32>) -> Gradients {
        let (grads, _) = self.backprop(cache, d_out, true, InputGrad::None);
        Gradients { layers: grads }
    }

    /// `dL/dinput` for the input columns in `cols` only (`batch × cols.len()`),
    /// skipping weight gradients: the MADDPG actor update needs `dQ/da_i`, a
    /// few columns of a wide centralised critic input. Equal to those columns
    /// of [`Self::backward_input`].
    ///
    /// # Panics
    /// As [`Self::backward`], or if `cols` reaches past `input_dim`.
    pub fn backward_input_cols(
        &self,
        cache: &ForwardCache,
        d_out: &Array2<f32>,
        cols: std::ops::Range<usize>,
    ) -> Array2<f32> {
        assert!(cols.end <= self.input_dim(), "columns past the input");
        self.backprop(cache, d_out, false, InputGrad::Cols(cols)).1
    }

    /// Only `dL/dinput`, skipping the weight gradients: the MADDPG actor
    /// update's `dQ/da` (pass `d_out` = ones / batch, or `-1 / batch` for the
    /// loss `-mean Q`, and read the action columns of the result).
    ///
    /// # Panics
    /// As [`Self::backward`].
    pub fn backward_input(&self, cache: &ForwardCache, d_out: &Array2<f32>) -> Array2<f32> {
        self.backprop(cache, d_out, false, InputGrad::All).1
    }

    fn backprop(
        &self,
        cache: &ForwardCache,
        d_out: &Array2<f32>,
        weights: bool,
        input_grad: InputGrad,
    ) -> (Vec<Dense>, Array2<f32>) {
        assert_eq!(
            cache.activations.len(),
            self.layers.len() + 1,
            "cache from another network"
        );
        assert_eq!(
            d_out.dim(),
            cache.output().dim(),
            "d_out shape differs from the output"
        );
        let rows = d_out.nrows();
        let mut deltas: Vec<Array2<f32>> = self
            .layers
            .iter()
            .map(|l| Array2::zeros((rows, l.outputs())))
            .collect();
        if let Some(last) = deltas.last_mut() {
            last.assign(d_out);
        }
        let mut grads: Vec<Dense> = if weights {
            self.zero_grads().layers
        } else {
            Vec::new()
        };
        let d_in_cols = match &input_grad {
            InputGrad::All => self.input_dim(),
            InputGrad::None => 0,
            InputGrad::Cols(c) => c.len(),
        };
        let mut d_in = Array2::zeros((rows, d_in_cols));
        kernels::backprop_into(
            &self.layers,
            &self.activations,
            &cache.activations[0],
            &cache.activations[1..],
            &mut deltas,
            weights.then_some(grads.as_mut_slice()),
            &input_grad,
            &mut d_in,
        );
        (grads, d_in)
    }

    /// A zero gradient with this network's shapes (for accumulation).
    pub fn zero_grads(&self) -> Gradients {
        Gradients {
            layers: self
                .layers
                .iter()
                .map(|l| Dense::zeros(l.inputs(), l.outputs()))
                .collect(),
        }
    }

    /// Parameters in canonical order (layer by layer, `w` row-major then `b`).
    pub fn params(&self) -> impl Iterator<Item = &f32> {
        self.layers.iter().flat_map(Dense::iter)
    }

    /// Mutable parameters in canonical order. The shapes cannot change through this.
    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.layers.iter_mut().flat_map(Dense::iter_mut)
    }

    /// All parameters as one flat vector of [`Self::num_params`] entries
    /// (for FedAvg, quantisation, secure aggregation).
    pub fn params_flat(&self) -> Vec<f32> {
        self.params().copied().collect()
    }

    /// Overwrites all parameters from a flat vector in [`Self::params_flat`]
    /// order. A wrong length is an error and leaves the network unchanged.
    pub fn set_params_flat(&mut self, flat: &[f32]) -> Result<(), NnError> {
        let expected = self.num_params();
        if flat.len() != expected {
            return Err(NnError::LengthMismatch {
                expected,
                got: flat.len(),
            });
        }
        self.params_mut().zip(flat).for_each(|(p, &v)| *p = v);
        Ok(())
    }

    /// Polyak averaging `self ← tau·source + (1 − tau)·self` (target networks;
    /// MADDPG uses `tau = 0.01`). Errors if the architectures differ.
    pub fn soft_update_from(&mut self, source: &Mlp, tau: f32) -> Result<(), NnError> {
        if !self.same_architecture(source) {
            return Err(NnError::ShapeMismatch(
                "soft update between different architectures".into(),
            ));
        }
        for (t, s) in self.layers.iter_mut().zip(&source.layers) {
            if let (Some(tw), Some(sw), Some(tb), Some(sb)) = (
                t.w.as_slice_mut(),
                s.w.as_slice(),
                t.b.as_slice_mut(),
                s.b.as_slice(),
            ) && tw.len() == sw.len()
                && tb.len() == sb.len()
            {
                // Flat vectorised passes (layers are kept in standard layout).
                crate::simd::run(crate::simd::Polyak { t: tw, s: sw, tau });
                crate::simd::run(crate::simd::Polyak { t: tb, s: sb, tau });
                continue;
            }
            Zip::from(&mut t.w)
                .and(&s.w)
                .for_each(|t, &s| *t = tau * s + (1.0 - tau) * *t);
            Zip::from(&mut t.b)
                .and(&s.b)
                .for_each(|t, &s| *t = tau * s + (1.0 - tau) * *t);
        }
        Ok(())
    }

    /// The weights as bytes (dwcp's bincode codec).
    pub fn to_bytes(&self) -> Result<Vec<u8>, NnError> {
        Ok(codec::try_encode(self)?)
    }

    /// Weights from bytes produced by [`Self::to_bytes`]. Bounded: input over
    /// `dwcp_core::codec::MAX_MESSAGE_SIZE` (8 MiB, about 2 M parameters),
    /// malformed bytes and inconsistent shapes are errors, never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NnError> {
        Ok(codec::decode(bytes)?)
    }
}

/// `target ← tau·source + (1 − tau)·target`; see [`Mlp::soft_update_from`].
pub fn soft_update(target: &mut Mlp, source: &Mlp, tau: f32) -> Result<(), NnError> {
    target.soft_update_from(source, tau)
}
