//! The measurements behind the lab's `fl-secagg` and `fl-dp` experiments.
//! Pure functions of their arguments; compute time comes from a clock the
//! caller supplies (the crate never reads one).

use crate::dp::{self, RdpAccountant};
use crate::secagg::harness::{Clock, SessionReport, run_session, spread_dropouts};
use crate::secagg::{ClientInput, SecAggConfig, ServerOutcome, recommended_threshold};
use dwcp_core::rng::{self, RngCore};

/// The ring and code of the `fl-secagg` benchmark: Z_{2^32}, values clipped
/// to [-1, 1] at 2^20 levels per unit, weights up to 16. The overflow check
/// admits up to 127 clients (127 × 16 × 2^21 < 2^32).
pub fn secagg_bench_config(
    clients: usize,
    dim: usize,
    session: u64,
) -> Result<SecAggConfig, crate::ConfigError> {
    SecAggConfig::new(
        session,
        clients,
        recommended_threshold(clients),
        dim,
        32,
        1.0,
        f64::from(1u32 << 20),
        16,
    )
}

/// One `fl-secagg` point.
#[derive(Clone, Debug, PartialEq)]
pub struct SecAggPoint {
    /// Clients.
    pub clients: usize,
    /// Shamir threshold.
    pub threshold: usize,
    /// Vector length.
    pub dim: usize,
    /// Clients that dropped (30%, spread over the rounds).
    pub dropped: usize,
    /// Clients whose inputs are in the sum.
    pub survivors: usize,
    /// Whether the recovered level sums and weight sum equal the plaintext
    /// sums of the survivors' encoded inputs, coordinate by coordinate.
    pub exact: bool,
    /// Largest |decoded weighted mean − weighted mean of the clipped inputs|.
    pub max_mean_error: f64,
    /// The round-trip bound `1 / (2·scale)`.
    pub error_bound: f64,
    /// Mean bytes sent per client that completed.
    pub upload_per_client: f64,
    /// Mean bytes received per client that completed.
    pub download_per_client: f64,
    /// Plaintext upload: `dim` f32 values.
    pub plaintext_bytes: f64,
    /// Mean client compute time (clock units, ns with a real clock), completed clients.
    pub client_ns_mean: f64,
    /// Slowest client.
    pub client_ns_max: u64,
    /// Server compute time over the whole session.
    pub server_ns: u64,
    /// Server compute time of the unmasking round (mask removal).
    pub server_unmask_ns: u64,
    /// Evidence raised (0 in an honest run).
    pub evidence: usize,
}

/// Random inputs in [-1.2, 1.2] (some beyond the clip range) and weights 1..=16.
fn bench_inputs(n: usize, dim: usize, seed: u64) -> Vec<ClientInput> {
    let mut r = rng::derive(seed, 0x5ec);
    (0..n)
        .map(|_| ClientInput {
            values: (0..dim)
                .map(|_| (r.next_u32() as f32 / u32::MAX as f32) * 2.4 - 1.2)
                .collect(),
            weight: 1 + r.next_u64() % 16,
        })
        .collect()
}

/// Runs one session with `n` clients, `dim`-vectors and 30% dropouts, and
/// checks the result against the plaintext sum.
pub fn secagg_point(
    n: usize,
    dim: usize,
    seed: u64,
    clock: Clock<'_>,
) -> Result<SecAggPoint, String> {
    let cfg = secagg_bench_config(n, dim, seed).map_err(|e| e.to_string())?;
    let inputs = bench_inputs(n, dim, seed);
    let drops = spread_dropouts(n, 30, seed);
    let report: SessionReport = run_session(&cfg, inputs.clone(), &drops, seed, clock);
    let Some(ServerOutcome::Sum(sum)) = &report.outcome else {
        return Err(format!(
            "session did not recover the sum: {:?}",
            report.outcome
        ));
    };
    // Plaintext reference over the same survivors.
    let mut levels = vec![0u64; dim];
    let mut weight = 0u64;
    let mut exact_mean = vec![0f64; dim];
    for s in &sum.survivors {
        let inp = inputs.get(s.index()).ok_or("unknown survivor")?;
        weight += inp.weight;
        for ((l, m), x) in levels
            .iter_mut()
            .zip(exact_mean.iter_mut())
            .zip(&inp.values)
        {
            *l += cfg.fixed.quantize(*x) * inp.weight;
            *m += f64::from(x.clamp(-cfg.fixed.clip, cfg.fixed.clip)) * inp.weight as f64;
        }
    }
    let exact = sum.levels == levels && sum.weight_sum == weight;
    let max_mean_error = sum
        .weighted_mean(&cfg.fixed)
        .iter()
        .zip(&exact_mean)
        .map(|(got, m)| (f64::from(*got) - m / weight.max(1) as f64).abs())
        .fold(0.0, f64::max);
    let done: Vec<usize> = (0..n)
        .filter(|&i| report.client_events.get(i).is_some_and(|e| !e.is_empty()))
        .collect();
    let mean = |v: &[u64]| {
        done.iter()
            .map(|&i| v.get(i).copied().unwrap_or(0) as f64)
            .sum::<f64>()
            / done.len().max(1) as f64
    };
    Ok(SecAggPoint {
        clients: n,
        threshold: cfg.threshold,
        dim,
        dropped: drops
            .iter()
            .filter(|d| **d != crate::secagg::harness::DropPoint::Never)
            .count(),
        survivors: sum.survivors.len(),
        exact,
        max_mean_error,
        error_bound: cfg.fixed.max_error(),
        upload_per_client: mean(&report.upload_bytes),
        download_per_client: mean(&report.download_bytes),
        plaintext_bytes: (dim * 4) as f64,
        client_ns_mean: mean(&report.client_ns),
        client_ns_max: done
            .iter()
            .map(|&i| report.client_ns.get(i).copied().unwrap_or(0))
            .max()
            .unwrap_or(0),
        server_ns: report.server_ns,
        server_unmask_ns: report.server_unmask_ns,
        evidence: report.evidence.len(),
    })
}

/// One row of the accountant's table: ε at `delta` after `steps` rounds with
/// client sampling rate `q` and noise multiplier `sigma`.
#[derive(Clone, Debug, PartialEq)]
pub struct EpsilonRow {
    /// Noise multiplier.
    pub sigma: f64,
    /// Sampling rate.
    pub q: f64,
    /// Rounds.
    pub steps: u64,
    /// δ.
    pub delta: f64,
    /// ε.
    pub epsilon: f64,
    /// The RDP order that gave it.
    pub order: u32,
}

/// ε for each σ (the accountant's ε-vs-σ table).
pub fn epsilon_table(sigmas: &[f64], q: f64, steps: u64, delta: f64) -> Vec<EpsilonRow> {
    sigmas
        .iter()
        .map(|&sigma| {
            let mut acc = RdpAccountant::new();
            acc.compose(q, sigma, steps);
            let (epsilon, order) = acc.epsilon_and_order(delta);
            EpsilonRow {
                sigma,
                q,
                steps,
                delta,
                epsilon,
                order,
            }
        })
        .collect()
}

/// Noise versus utility on a fixed aggregation task.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseUtilityRow {
    /// Noise multiplier σ (noise std on the sum is σ·clip).
    pub sigma: f64,
    /// Clients averaged.
    pub clients: usize,
    /// Relative L2 error ‖noisy mean − mean of clipped updates‖ / ‖mean of clipped updates‖,
    /// averaged over the trials.
    pub relative_error: f64,
    /// Cosine similarity between the noisy mean and the true (unclipped) mean.
    pub cosine_to_true_mean: f64,
}

/// DP-FedAvg's server step on a fixed task: `clients` update vectors of
/// length `dim` sharing a common direction plus per-client noise, each
/// clipped to L2 norm `clip`, averaged, and `N(0, (σ·clip)²)` added to the
/// sum. Reports the distortion per σ, averaged over `trials` seeds.
pub fn noise_utility(
    sigmas: &[f64],
    clients: usize,
    dim: usize,
    clip: f32,
    trials: u64,
    seed: u64,
) -> Vec<NoiseUtilityRow> {
    sigmas
        .iter()
        .map(|&sigma| {
            let (mut rel, mut cos) = (0.0, 0.0);
            for trial in 0..trials {
                let mut r = rng::derive(seed, trial);
                let common: Vec<f64> = (0..dim)
                    .map(|_| dp::standard_normal_pair(&mut r).0)
                    .collect();
                let mut true_sum = vec![0f64; dim];
                let mut clipped_sum = vec![0f32; dim];
                for _ in 0..clients {
                    let mut u: Vec<f32> = common
                        .iter()
                        .map(|c| (c + 1.5 * dp::standard_normal_pair(&mut r).0) as f32 * 0.05)
                        .collect();
                    for (t, x) in true_sum.iter_mut().zip(&u) {
                        *t += f64::from(*x);
                    }
                    dp::clip_l2(&mut u, clip);
                    for (s, x) in clipped_sum.iter_mut().zip(&u) {
                        *s += x;
                    }
                }
                let clean: Vec<f64> = clipped_sum
                    .iter()
                    .map(|s| f64::from(*s) / clients as f64)
                    .collect();
                dp::add_gaussian_noise(&mut clipped_sum, sigma * f64::from(clip), &mut r);
                let noisy: Vec<f64> = clipped_sum
                    .iter()
                    .map(|s| f64::from(*s) / clients as f64)
                    .collect();
                let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let diff: Vec<f64> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
                rel += norm(&diff) / norm(&clean).max(1e-30);
                let dot: f64 = noisy.iter().zip(&true_sum).map(|(a, b)| a * b).sum();
                cos += dot / (norm(&noisy) * norm(&true_sum)).max(1e-30);
            }
            NoiseUtilityRow {
                sigma,
                clients,
                relative_error: rel / trials as f64,
                cosine_to_true_mean: cos / trials as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_secagg_point_is_exact() {
        let mut t = 0u64;
        let p = secagg_point(10, 50, 1, &mut || {
            t += 1;
            t
        })
        .unwrap();
        assert!(p.exact && p.evidence == 0, "{p:?}");
        assert_eq!((p.dropped, p.survivors), (3, 8));
        assert!(p.max_mean_error <= p.error_bound + 1e-6);
        assert!(p.upload_per_client > p.plaintext_bytes);
        assert!(p.client_ns_mean > 0.0 && p.server_ns > 0);
    }

    #[test]
    fn more_noise_means_less_epsilon_and_less_utility() {
        let eps = epsilon_table(&[0.5, 1.0, 2.0], 0.1, 100, 1e-5);
        assert!(eps[0].epsilon > eps[1].epsilon && eps[1].epsilon > eps[2].epsilon);
        let u = noise_utility(&[0.0, 1.0, 4.0], 50, 200, 1.0, 3, 7);
        assert!(u[0].relative_error < 1e-6);
        assert!(u[1].relative_error < u[2].relative_error);
        assert!(u[0].cosine_to_true_mean > u[2].cosine_to_true_mean);
    }
}
