//! Optimisers. Both keep one state slot per parameter in the canonical flat
//! order and can step an [`Mlp`] or a bare flat vector (server-side
//! optimisers in federated learning).

use crate::error::NnError;
use crate::grads::Gradients;
use crate::mlp::Mlp;

/// Something that updates parameters from gradients.
///
/// Implementors provide [`Optimizer::begin`] (size the state, advance the
/// step counter) and [`Optimizer::update`] (update one contiguous run of
/// parameters starting at a flat offset); stepping a network or a flat
/// vector is built from those.
pub trait Optimizer {
    /// Starts one step over `n` parameters. The first call fixes the state
    /// size; a later call with another `n` is an error and changes nothing.
    fn begin(&mut self, n: usize) -> Result<(), NnError>;

    /// Updates `params[i]` from `grads[i]` using state slot `offset + i`.
    /// Callers guarantee equal lengths within the size given to `begin`.
    fn update(&mut self, offset: usize, params: &mut [f32], grads: &[f32]);

    /// One update of `params` (any length) from `grads` of the same length.
    fn step_flat(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), NnError> {
        if params.len() != grads.len() {
            return Err(NnError::LengthMismatch {
                expected: params.len(),
                got: grads.len(),
            });
        }
        self.begin(params.len())?;
        self.update(0, params, grads);
        Ok(())
    }

    /// One update of a network from its gradients, layer by layer in place.
    fn step(&mut self, net: &mut Mlp, grads: &Gradients) -> Result<(), NnError> {
        if grads.layers.len() != net.layers().len()
            || !net
                .layers()
                .iter()
                .zip(&grads.layers)
                .all(|(l, g)| l.same_shape(g))
        {
            return Err(NnError::ShapeMismatch(
                "gradients do not match the network".into(),
            ));
        }
        self.begin(net.num_params())?;
        let mut offset = 0;
        for (layer, g) in net.layers_mut().iter_mut().zip(&grads.layers) {
            layer.make_standard_layout();
            let (gw, gb) = (g.w.as_standard_layout(), g.b.as_standard_layout());
            if let (Some(p), Some(g)) = (layer.w.as_slice_mut(), gw.as_slice()) {
                self.update(offset, p, g);
            }
            offset += layer.w.len();
            if let (Some(p), Some(g)) = (layer.b.as_slice_mut(), gb.as_slice()) {
                self.update(offset, p, g);
            }
            offset += layer.b.len();
        }
        Ok(())
    }
}

/// Moments below this magnitude are flushed to zero (see [`Adam`]).
const FLUSH: f32 = 1e-30;

fn size_state(state: &mut Vec<f32>, n: usize) -> Result<(), NnError> {
    if state.is_empty() {
        state.resize(n, 0.0);
    }
    if state.len() != n {
        return Err(NnError::LengthMismatch {
            expected: state.len(),
            got: n,
        });
    }
    Ok(())
}

/// Stochastic gradient descent with optional momentum, PyTorch convention:
/// `v ← momentum·v + g`, `p ← p − lr·v` (with `momentum = 0`, plain SGD).
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor in `[0, 1)`.
    pub momentum: f32,
    velocity: Vec<f32>,
}

impl Sgd {
    /// A fresh optimiser (zero velocity).
    pub fn new(lr: f32, momentum: f32) -> Self {
        Sgd {
            lr,
            momentum,
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for Sgd {
    fn begin(&mut self, n: usize) -> Result<(), NnError> {
        if self.momentum == 0.0 {
            Ok(())
        } else {
            size_state(&mut self.velocity, n)
        }
    }

    fn update(&mut self, offset: usize, params: &mut [f32], grads: &[f32]) {
        if self.momentum == 0.0 {
            params
                .iter_mut()
                .zip(grads)
                .for_each(|(p, &g)| *p -= self.lr * g);
            return;
        }
        let v = self.velocity.get_mut(offset..).unwrap_or_default();
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(v) {
            *v = self.momentum * *v + g;
            *p -= self.lr * *v;
        }
    }
}

/// Adam (Kingma & Ba), PyTorch convention: `m ← β1 m + (1−β1) g`,
/// `v ← β2 v + (1−β2) g²`, `p ← p − lr · m̂ / (sqrt(v̂) + eps)` with
/// bias-corrected `m̂ = m / (1 − β1^t)`, `v̂ = v / (1 − β2^t)`.
///
/// Moment entries below `1e-30` in magnitude are stored as zero. A weight
/// whose gradient stays zero (a dead ReLU unit) otherwise decays its moments
/// geometrically into subnormal numbers, where x86 arithmetic is about 100×
/// slower; the flushed values would move the weight by less than
/// `lr · 1e-22` per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate (MADDPG: 1e-2).
    pub lr: f32,
    /// First-moment decay (default 0.9).
    pub beta1: f32,
    /// Second-moment decay (default 0.999).
    pub beta2: f32,
    /// Denominator term (default 1e-8).
    pub eps: f32,
    m: Vec<f32>,
    v: Vec<f32>,
    t: u64,
    bc1: f32,
    bc2: f32,
}

impl Adam {
    /// Adam with the usual defaults `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`.
    pub fn new(lr: f32) -> Self {
        Adam::with_params(lr, 0.9, 0.999, 1e-8)
    }

    /// Adam with explicit hyperparameters.
    pub fn with_params(lr: f32, beta1: f32, beta2: f32, eps: f32) -> Self {
        Adam {
            lr,
            beta1,
            beta2,
            eps,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
            bc1: 1.0,
            bc2: 1.0,
        }
    }

    /// Number of steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }
}

impl Optimizer for Adam {
    fn begin(&mut self, n: usize) -> Result<(), NnError> {
        if !self.m.is_empty() && self.m.len() != n {
            return Err(NnError::LengthMismatch {
                expected: self.m.len(),
                got: n,
            });
        }
        size_state(&mut self.m, n)?;
        size_state(&mut self.v, n)?;
        self.t += 1;
        let t = self.t.min(i32::MAX as u64) as i32;
        self.bc1 = (1.0 - f64::from(self.beta1).powi(t)) as f32;
        self.bc2 = (1.0 - f64::from(self.beta2).powi(t)) as f32;
        Ok(())
    }

    fn update(&mut self, offset: usize, params: &mut [f32], grads: &[f32]) {
        let (b1, b2, lr, eps) = (self.beta1, self.beta2, self.lr, self.eps);
        let (inv_bc1, inv_bc2) = (1.0 / self.bc1, 1.0 / self.bc2);
        let m = self.m.get_mut(offset..).unwrap_or_default();
        let v = self.v.get_mut(offset..).unwrap_or_default();
        // One vectorised pass; moments are flushed before they turn subnormal
        // (see the type docs).
        crate::simd::run(crate::simd::AdamStep {
            p: params,
            g: grads,
            m,
            v,
            k: [b1, b2, lr, eps, inv_bc1, inv_bc2, FLUSH],
        });
    }
}
