//! The model and local training: an MLP from `dwcp-nn`, trained with
//! minibatch SGD (or Adam) on a client's shard.

use crate::data::Dataset;
use crate::rand_util::shuffle;
use dwcp_core::rng::Rng;
use dwcp_nn::ndarray::Array2;
use dwcp_nn::{Activation, Adam, Mlp, Optimizer, Sgd, argmax_rows, softmax_cross_entropy};
use serde::{Deserialize, Serialize};

/// The shared model: layer widths and the seed of the initial weights (every
/// node builds the same initial model from it, so round 1 needs no download).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// `[inputs, hidden…, classes]`, e.g. `[64, 64, 10]`.
    pub sizes: Vec<usize>,
    /// Seed of the initial weights.
    pub seed: u64,
}

impl ModelSpec {
    /// The initial network (ReLU hidden layers, identity logits). `None` if
    /// the sizes are not a valid architecture.
    pub fn build(&self) -> Option<Mlp> {
        Mlp::new(
            &self.sizes,
            Activation::Relu,
            Activation::Identity,
            &mut dwcp_core::rng::seeded(self.seed),
        )
        .ok()
    }

    /// Number of parameters (0 for an invalid spec).
    pub fn num_params(&self) -> usize {
        self.build().map_or(0, |m| m.num_params())
    }
}

/// The local optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LocalOptimizer {
    /// Plain SGD.
    Sgd,
    /// Adam (fresh state every round).
    Adam,
}

/// Local training: `epochs` passes of minibatch training per round.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalTraining {
    /// Local epochs `E`.
    pub epochs: u32,
    /// Minibatch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f32,
    /// Optimiser.
    pub optimizer: LocalOptimizer,
}

impl Default for LocalTraining {
    /// The benchmark's setting: E = 2, batch 32, SGD lr 0.1.
    fn default() -> Self {
        LocalTraining {
            epochs: 2,
            batch: 32,
            lr: 0.1,
            optimizer: LocalOptimizer::Sgd,
        }
    }
}

fn batch(d: &Dataset, idx: &[usize]) -> (Array2<f32>, Vec<usize>) {
    let mut x = Vec::with_capacity(idx.len() * d.dim);
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        x.extend_from_slice(d.row(i));
        y.push(d.labels[i]);
    }
    let x =
        Array2::from_shape_vec((idx.len(), d.dim), x).unwrap_or_else(|_| Array2::zeros((0, d.dim)));
    (x, y)
}

/// Trains `net` on `data` in place. Data whose width or labels do not fit
/// the network is skipped (nothing is trained).
pub fn train_local(net: &mut Mlp, data: &Dataset, cfg: &LocalTraining, rng: &mut Rng) {
    if data.is_empty() || data.dim != net.input_dim() || data.classes > net.output_dim() {
        return;
    }
    let mut sgd = Sgd::new(cfg.lr, 0.0);
    let mut adam = Adam::new(cfg.lr);
    let mut order: Vec<usize> = (0..data.len()).collect();
    for _ in 0..cfg.epochs {
        shuffle(&mut order, rng);
        for chunk in order.chunks(cfg.batch.max(1)) {
            let (x, y) = batch(data, chunk);
            let cache = net.forward_cached(&x);
            let Ok((_, d_out)) = softmax_cross_entropy(cache.output(), &y) else {
                return;
            };
            let (grads, _) = net.backward(&cache, &d_out);
            let _ = match cfg.optimizer {
                LocalOptimizer::Sgd => sgd.step(net, &grads),
                LocalOptimizer::Adam => adam.step(net, &grads),
            };
        }
    }
}

/// Classification accuracy of `net` on `data`, in `[0, 1]`.
pub fn accuracy(net: &Mlp, data: &Dataset) -> f64 {
    if data.is_empty() || data.dim != net.input_dim() {
        return 0.0;
    }
    let idx: Vec<usize> = (0..data.len()).collect();
    let (x, y) = batch(data, &idx);
    let pred = argmax_rows(&net.forward(&x));
    pred.iter().zip(&y).filter(|(p, l)| p == l).count() as f64 / y.len() as f64
}

/// Accuracy of flat parameters `params` under `spec`.
pub fn accuracy_of(spec: &ModelSpec, params: &[f32], data: &Dataset) -> f64 {
    let Some(mut net) = spec.build() else {
        return 0.0;
    };
    if net.set_params_flat(params).is_err() {
        return 0.0;
    }
    accuracy(&net, data)
}

/// The mean loss gradient of `net` on the rows `idx` of `data`, flat (in
/// [`Mlp::params_flat`] order); zeros if the data does not fit the network.
pub fn gradient(net: &Mlp, data: &Dataset, idx: &[usize]) -> Vec<f32> {
    if idx.is_empty() || data.dim != net.input_dim() || data.classes > net.output_dim() {
        return vec![0.0; net.num_params()];
    }
    let (x, y) = batch(data, idx);
    let cache = net.forward_cached(&x);
    match softmax_cross_entropy(cache.output(), &y) {
        Ok((_, d_out)) => net.backward(&cache, &d_out).0.to_flat(),
        Err(_) => vec![0.0; net.num_params()],
    }
}
