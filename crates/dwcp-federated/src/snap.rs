//! SNAP-style decentralised training (Zhao et al., ICDCS 2020) and its
//! TernGrad parameter-server baseline, as synchronous simulations (not
//! sans-IO engines).
//!
//! What is verified of SNAP: peers train locally, then set their parameters
//! to a weighted sum of their neighbours' parameters with weights chosen from
//! the topology, and send only parameters that changed significantly. The
//! weight optimisation, the threshold and the data set are not verified. This
//! module's instantiation:
//!
//! - **Mixing weights:** [`run_snap`] uses Metropolis–Hastings, `W_ij = 1 /
//!   (1 + max(deg_i, deg_j))` on each edge, `W_ii = 1 − Σ_j W_ij` —
//!   symmetric and doubly stochastic on any undirected graph, but not
//!   optimised. [`run_snap_with`] takes any doubly-stochastic `W`, e.g.
//!   the fastest-mixing matrix optimised from the topology
//!   ([`crate::mixing::fastest_mixing`]), which is SNAP's description.
//! - **Significant changes:** every peer's neighbours hold a copy `x̂_i` of
//!   its parameters; after local training peer `i` sends the coordinates
//!   with `|x_i − x̂_i| > τ` (raw f32, explicit indices in the
//!   `dwcp-quantization` encoding) to each neighbour and updates `x̂_i`
//!   there. Coordinates below `τ` keep accumulating, so nothing is lost for
//!   good (the error-feedback effect).
//! - **Round:** local training (E epochs), send changes, then
//!   `x_i ← x_i + Σ_j W_ij (x̂_j − x̂_i)` (CHOCO-gossip-style with step 1:
//!   the mixing uses the copies everyone holds, the peer's own included,
//!   and keeps the peer's unsent change `x_i − x̂_i`, so the peers' mean is
//!   preserved exactly). An earlier version mixed `W_ii x_i + Σ_j W_ij x̂_j`,
//!   which drops a `(1 − W_ii)` share of every peer's unsent change each
//!   round: no error feedback for what was below the threshold.
//!
//! **TernGrad** (Wen et al. 2017) baseline: a parameter server; every
//! iteration each worker sends a stochastic ternary (`sign · max|g|`)
//! minibatch gradient, the server averages and broadcasts the average
//! ternarised again, and everyone steps `w ← w − lr · ĝ`. Bytes are the
//! exact encoded payload sizes, per recipient, both ways.

use crate::data::Dataset;
use crate::model::{LocalTraining, ModelSpec, accuracy, gradient, train_local};
use crate::rand_util::shuffle;
use dwcp_core::rng;
use dwcp_quantization::{Compress, Compressed, Compressor, Quantizer, Sparsifier, Support, Values};

pub use crate::mixing::metropolis;

/// A ring where each node links to its `k` nearest neighbours on each side.
pub fn ring(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            let mut v: Vec<usize> = (1..=k.min(n.saturating_sub(1) / 2).max(1))
                .flat_map(|d| [(i + d) % n, (i + n - d) % n])
                .filter(|&j| j != i)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect()
}

/// One run's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapRun {
    /// `(round or iteration, cumulative bytes, accuracy)` at every evaluation.
    pub curve: Vec<(u64, u64, f64)>,
    /// First evaluation reaching the target: `(round, bytes)`.
    pub reached: Option<(u64, u64)>,
}

fn record(
    curve: &mut Vec<(u64, u64, f64)>,
    reached: &mut Option<(u64, u64)>,
    t: u64,
    bytes: u64,
    acc: f64,
    target: f64,
) {
    curve.push((t, bytes, acc));
    if reached.is_none() && acc >= target {
        *reached = Some((t, bytes));
    }
}

/// SNAP over `shards` (one per peer) on graph `adj` with
/// Metropolis–Hastings mixing, threshold `tau`, for `rounds` rounds;
/// accuracy is the mean of the peers' test accuracies.
#[allow(clippy::too_many_arguments)]
pub fn run_snap(
    spec: &ModelSpec,
    shards: &[Dataset],
    test: &Dataset,
    adj: &[Vec<usize>],
    tau: f32,
    local: &LocalTraining,
    rounds: u64,
    target: f64,
    seed: u64,
) -> SnapRun {
    let w = metropolis(adj);
    run_snap_with(
        spec, shards, test, adj, &w, tau, local, rounds, target, seed,
    )
}

/// [`run_snap`] with the mixing matrix `w` (sparse rows as in
/// [`crate::mixing`]; it should be symmetric and doubly stochastic on
/// `adj`, else the peers' mean drifts). Bytes are counted per neighbour in
/// `adj`.
#[allow(clippy::too_many_arguments)]
pub fn run_snap_with(
    spec: &ModelSpec,
    shards: &[Dataset],
    test: &Dataset,
    adj: &[Vec<usize>],
    w: &[Vec<(usize, f64)>],
    tau: f32,
    local: &LocalTraining,
    rounds: u64,
    target: f64,
    seed: u64,
) -> SnapRun {
    let Some(net0) = spec.build() else {
        return SnapRun {
            curve: vec![],
            reached: None,
        };
    };
    let n = shards.len().min(adj.len()).min(w.len());
    let init = net0.params_flat();
    let dim = init.len();
    let mut x = vec![init.clone(); n];
    let mut shared = vec![init; n];
    let mut nets = vec![net0; n];
    let mut rngs: Vec<_> = (0..n)
        .map(|i| rng::derive(seed, 0x5a00 + i as u64))
        .collect();
    let (mut bytes, mut curve, mut reached) = (0u64, vec![], None);
    for r in 1..=rounds {
        for i in 0..n {
            if nets[i].set_params_flat(&x[i]).is_ok() {
                train_local(&mut nets[i], &shards[i], local, &mut rngs[i]);
                x[i] = nets[i].params_flat();
            }
            let idx: Vec<u32> = (0..dim)
                .filter(|&k| (x[i][k] - shared[i][k]).abs() > tau)
                .map(|k| k as u32)
                .collect();
            let vals: Vec<f32> = idx.iter().map(|&k| x[i][k as usize]).collect();
            let size = Compressed::new(
                dim,
                Support::Sparse {
                    indices: idx.clone(),
                    seed: None,
                },
                Values::F32(vals),
            )
            .map_or(0, |c| c.encoded_len());
            bytes += (size * adj[i].len()) as u64;
            for &k in &idx {
                shared[i][k as usize] = x[i][k as usize];
            }
        }
        // x_i ← x_i + Σ_j W_ij (x̂_j − x̂_i): every peer mixes the copies
        // its neighbours hold (its own included), and keeps its own
        // not-yet-sent change x_i − x̂_i. Because W is doubly stochastic
        // the peers' mean is preserved exactly, so nothing a peer has not
        // sent yet is lost (it is sent once it exceeds τ).
        x = (0..n)
            .map(|i| {
                (0..dim)
                    .map(|k| {
                        let mixed: f32 = w[i]
                            .iter()
                            .filter(|&&(j, _)| j < n)
                            .map(|&(j, wij)| wij as f32 * shared[j][k])
                            .sum();
                        x[i][k] - shared[i][k] + mixed
                    })
                    .collect()
            })
            .collect();
        let acc = (0..n)
            .map(|i| {
                let _ = nets[i].set_params_flat(&x[i]);
                accuracy(&nets[i], test)
            })
            .sum::<f64>()
            / n.max(1) as f64;
        record(&mut curve, &mut reached, r, bytes, acc, target);
    }
    SnapRun { curve, reached }
}

/// TernGrad with a parameter server: `iterations` steps, batch `batch` per
/// worker, learning rate `lr`, evaluated every `eval_every` iterations.
#[allow(clippy::too_many_arguments)]
pub fn run_terngrad(
    spec: &ModelSpec,
    shards: &[Dataset],
    test: &Dataset,
    batch: usize,
    lr: f32,
    iterations: u64,
    eval_every: u64,
    target: f64,
    seed: u64,
) -> SnapRun {
    let Some(mut net) = spec.build() else {
        return SnapRun {
            curve: vec![],
            reached: None,
        };
    };
    let Ok(mut tern) = Compressor::new(Sparsifier::Dense, Quantizer::Ternary) else {
        return SnapRun {
            curve: vec![],
            reached: None,
        };
    };
    let n = shards.len();
    let mut w = net.params_flat();
    let mut r = rng::derive(seed, 0x7e2);
    let mut orders: Vec<(Vec<usize>, usize)> = shards
        .iter()
        .map(|s| ((0..s.len()).collect(), usize::MAX))
        .collect();
    let (mut bytes, mut curve, mut reached) = (0u64, vec![], None);
    for t in 1..=iterations {
        let _ = net.set_params_flat(&w);
        let mut avg = vec![0f32; w.len()];
        for (s, (order, pos)) in shards.iter().zip(orders.iter_mut()) {
            if *pos >= order.len() {
                shuffle(order, &mut r);
                *pos = 0;
            }
            let end = (*pos + batch.max(1)).min(order.len());
            let g = gradient(&net, s, &order[*pos..end]);
            *pos = end;
            if let Ok(c) = tern.compress(&g, &mut r) {
                bytes += c.encoded_len() as u64;
                for (a, v) in avg.iter_mut().zip(c.to_dense()) {
                    *a += v / n as f32;
                }
            }
        }
        if let Ok(c) = tern.compress(&avg, &mut r) {
            bytes += (c.encoded_len() * n) as u64;
            for (p, g) in w.iter_mut().zip(c.to_dense()) {
                *p -= lr * g;
            }
        }
        if t % eval_every.max(1) == 0 || t == iterations {
            let _ = net.set_params_flat(&w);
            record(
                &mut curve,
                &mut reached,
                t,
                bytes,
                accuracy(&net, test),
                target,
            );
        }
    }
    SnapRun { curve, reached }
}

/// Exact encoded bytes of one SNAP message carrying `k` changed f32
/// coordinates (explicit indices, evenly spread) of a `dim`-parameter model:
/// the unit of SNAP's byte budget (`k = 0` is the empty message's header).
pub fn message_bytes(dim: usize, k: usize) -> usize {
    let k = k.min(dim);
    let step = dim.checked_div(k).unwrap_or(1).max(1);
    let indices: Vec<u32> = (0..k).map(|i| (i * step) as u32).collect();
    Compressed::new(
        dim,
        Support::Sparse {
            indices,
            seed: None,
        },
        Values::F32(vec![0.5; k]),
    )
    .map_or(0, |c| c.encoded_len())
}
