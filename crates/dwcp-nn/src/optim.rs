//! Optimisers. Both keep one state slot per parameter in the canonical flat
//! order and can step an [`Mlp`] or a bare flat vector (server-side
//! optimisers in federated learning).

use crate::error::NnError;
use crate::grads::Gradients;
use crate::mlp::Mlp;

/// Something that updates parameters from gradients.
pub trait Optimizer {
    /// One update of `params` (any length) from `grads` of the same length.
    /// The first call fixes the state size; a later call with another length
    /// is an error and changes nothing.
    fn step_flat(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), NnError>;

    /// One update of a network from its gradients.
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
        let mut flat = net.params_flat();
        self.step_flat(&mut flat, &grads.to_flat())?;
        net.set_params_flat(&flat)
    }
}

fn check_len(state: &mut Vec<f32>, n: usize, grads: usize) -> Result<(), NnError> {
    if n != grads {
        return Err(NnError::LengthMismatch {
            expected: n,
            got: grads,
        });
    }
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
    fn step_flat(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), NnError> {
        if self.momentum == 0.0 {
            if params.len() != grads.len() {
                return Err(NnError::LengthMismatch {
                    expected: params.len(),
                    got: grads.len(),
                });
            }
            params
                .iter_mut()
                .zip(grads)
                .for_each(|(p, &g)| *p -= self.lr * g);
            return Ok(());
        }
        check_len(&mut self.velocity, params.len(), grads.len())?;
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(&mut self.velocity) {
            *v = self.momentum * *v + g;
            *p -= self.lr * *v;
        }
        Ok(())
    }
}

/// Adam (Kingma & Ba), PyTorch convention: `m ← β1 m + (1−β1) g`,
/// `v ← β2 v + (1−β2) g²`, `p ← p − lr · m̂ / (sqrt(v̂) + eps)` with
/// bias-corrected `m̂ = m / (1 − β1^t)`, `v̂ = v / (1 − β2^t)`.
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
        }
    }

    /// Number of steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }
}

impl Optimizer for Adam {
    fn step_flat(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), NnError> {
        check_len(&mut self.m, params.len(), grads.len())?;
        check_len(&mut self.v, params.len(), grads.len())?;
        self.t += 1;
        let t = self.t.min(i32::MAX as u64) as i32;
        let bc1 = (1.0 - f64::from(self.beta1).powi(t)) as f32;
        let bc2 = (1.0 - f64::from(self.beta2).powi(t)) as f32;
        let (b1, b2) = (self.beta1, self.beta2);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let m_hat = *m / bc1;
            let v_hat = *v / bc2;
            *p -= self.lr * m_hat / (v_hat.sqrt() + self.eps);
        }
        Ok(())
    }
}
