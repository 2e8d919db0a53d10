//! The logic of the lab's `probft-messages` and `probft-safety`
//! experiments (feature `sim`), kept here so it is tested with the crate;
//! the lab's module only formats the results.
//!
//! - [`messages_rows`]: ProBFT and PBFT side by side in the same simulator,
//!   with the same seeds, network, workload and key kind: messages and bytes
//!   per decision, by message kind, for each `n`; the log-log slope of
//!   ProBFT's messages and the ProBFT/PBFT ratios.
//! - [`safety_rows`]: seeded single-decision instances of [`crate::model`]
//!   with an equivocating leader and `f = ⌊(n−1)/3⌋` colluders, with the
//!   violation counts, their 95% upper bounds and [`crate::safety_bound`].
//!
//! Both take a [`KeyFactory`]: the lab passes dwcp-crypto's insecure mock
//! for large `n` (message counts do not depend on the key kind; byte counts
//! do, and rows say which kind they used).

use crate::bound::{binomial_tail, safety_analysis};
use crate::config::ProbftConfig;
use crate::harness::{self, KeyFactory};
use crate::model::{Attack, Model};
use dwcp_core::{Duration, Time};
use dwcp_pbft::PbftConfig;
use dwcp_pbft::harness::{CryptoMode, check, submit_requests};
use dwcp_sim::analysis::loglog_slope;
use dwcp_sim::{NetworkConfig, SimConfig, Stats};

/// Message kinds of both protocols, in protocol order.
pub const KINDS: [&str; 13] = [
    "request",
    "propose",
    "pre-prepare",
    "prepare",
    "commit",
    "checkpoint",
    "view-change",
    "new-view",
    "fetch",
    "decided",
    "status",
    "catch-up",
    "certificate",
];

/// One protocol at one `n`.
#[derive(Clone, Debug)]
pub struct MessagesPoint {
    /// `"ProBFT"` or `"PBFT"`.
    pub protocol: &'static str,
    /// Committee size.
    pub n: usize,
    /// Distinct committed requests (one per decision).
    pub decisions: u64,
    /// Copies sent per decision.
    pub messages: f64,
    /// Bytes sent per decision.
    pub bytes: f64,
    /// Copies per decision by kind (kinds never sent omitted).
    pub by_kind: Vec<(&'static str, f64)>,
    /// Whether the keys were real sr25519 (else the insecure mock).
    pub real_crypto: bool,
}

/// The network of the message-count comparison: fixed 10 ms one way.
pub fn network() -> NetworkConfig {
    NetworkConfig::fixed(Duration::from_millis(10))
}

fn point(
    protocol: &'static str,
    n: usize,
    decisions: u64,
    stats: &Stats,
    real_crypto: bool,
) -> MessagesPoint {
    MessagesPoint {
        protocol,
        n,
        decisions,
        messages: stats.messages_per_decision(decisions),
        bytes: stats.bytes_per_decision(decisions),
        by_kind: KINDS
            .iter()
            .map(|k| (*k, stats.kind_per_decision(k, decisions)))
            .filter(|(_, v)| *v > 0.0)
            .collect(),
        real_crypto,
    }
}

/// A fault-free ProBFT cluster deciding `decisions` single-request batches.
///
/// # Panics
/// If the run does not deliver everything or a safety check fails.
pub fn measure_probft(
    n: usize,
    decisions: u64,
    seed: u64,
    keys: KeyFactory,
    real_crypto: bool,
) -> MessagesPoint {
    let mut cfg = ProbftConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cfg.max_batch = 1;
    let mut sim = harness::cluster_with(
        cfg,
        SimConfig::new(n, seed).with_network(network()),
        keys(n, seed),
    );
    submit_requests(&mut sim, decisions, Time::ZERO, Duration::from_millis(5));
    let outcome = sim.run_until_delivered(decisions as usize, Time::from_secs(3_600));
    if let Err(v) = outcome.and_then(|()| check(&sim)) {
        panic!("probft-messages run failed: {v}");
    }
    point("ProBFT", n, sim.decisions(), sim.stats(), real_crypto)
}

/// The same for PBFT (dwcp-pbft, all-to-all votes, no status probes).
///
/// # Panics
/// If the run does not deliver everything or a safety check fails.
pub fn measure_pbft(
    n: usize,
    decisions: u64,
    seed: u64,
    keys: KeyFactory,
    real_crypto: bool,
) -> MessagesPoint {
    let mut cfg = PbftConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cfg.max_batch = 1;
    cfg.status_interval = None;
    let sim_cfg = SimConfig::new(n, seed).with_network(network());
    let mut sim = dwcp_pbft::harness::cluster_with(cfg, sim_cfg, CryptoMode::Keys(keys(n, seed)));
    submit_requests(&mut sim, decisions, Time::ZERO, Duration::from_millis(5));
    let outcome = sim.run_until_delivered(decisions as usize, Time::from_secs(3_600));
    if let Err(v) = outcome.and_then(|()| check(&sim)) {
        panic!("pbft run failed: {v}");
    }
    point("PBFT", n, sim.decisions(), sim.stats(), real_crypto)
}

/// The sweep's sizes: `(n, decisions)`.
pub fn sweep(quick: bool) -> Vec<(usize, u64)> {
    if quick {
        vec![(16, 10), (64, 10), (100, 10), (256, 4)]
    } else {
        vec![(16, 20), (64, 20), (100, 20), (256, 8), (1024, 3)]
    }
}

/// Everything `probft-messages` reports.
#[derive(Clone, Debug)]
pub struct MessagesReport {
    /// `(ProBFT, PBFT)` per size, ascending.
    pub pairs: Vec<(MessagesPoint, MessagesPoint)>,
    /// Least-squares slope of `ln(ProBFT messages)` against `ln n`.
    pub slope: f64,
}

impl MessagesReport {
    /// ProBFT/PBFT messages per decision at `n`, if measured.
    pub fn ratio(&self, n: usize) -> Option<f64> {
        self.pairs
            .iter()
            .find(|(p, _)| p.n == n)
            .map(|(p, b)| p.messages / b.messages)
    }
}

/// Runs the message sweep. Sizes up to 16 use real sr25519 keys
/// ([`harness::real_keys`]), larger ones `large_keys`.
pub fn messages_rows(quick: bool, seed: u64, large_keys: KeyFactory) -> MessagesReport {
    let pairs: Vec<(MessagesPoint, MessagesPoint)> = sweep(quick)
        .into_iter()
        .map(|(n, d)| {
            let real = n <= 16;
            let keys = if real { harness::real_keys } else { large_keys };
            (
                measure_probft(n, d, seed, keys, real),
                measure_pbft(n, d, seed, keys, real),
            )
        })
        .collect();
    let pts: Vec<(f64, f64)> = pairs
        .iter()
        .map(|(p, _)| (p.n as f64, p.messages))
        .collect();
    MessagesReport {
        slope: loglog_slope(&pts),
        pairs,
    }
}

/// The one-sided upper confidence bound on a binomial rate: the `p` with
/// `P[Bin(runs, p) ≤ k] = 1 − confidence` (Clopper–Pearson). For `k = 0`
/// it is `1 − (1 − confidence)^(1/runs)`, about `3/runs` at 95%.
pub fn upper_bound(k: u64, runs: u64, confidence: f64) -> f64 {
    if runs == 0 {
        return 1.0;
    }
    if k >= runs {
        return 1.0;
    }
    let alpha = 1.0 - confidence;
    let (mut lo, mut hi) = (k as f64 / runs as f64, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        // P[X ≤ k] = 1 − P[X ≥ k + 1], decreasing in p.
        if 1.0 - binomial_tail(runs, mid, k + 1) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// One `probft-safety` row.
#[derive(Clone, Debug)]
pub struct SafetyRow {
    /// Committee size.
    pub n: usize,
    /// Faulty replicas, `⌊(n−1)/3⌋`.
    pub f: usize,
    /// Sample factor.
    pub o: f64,
    /// Quorum factor.
    pub l: f64,
    /// The leader's split.
    pub attack: Attack,
    /// Instances run.
    pub runs: u64,
    /// Instances where two correct replicas decided different values.
    pub violations: u64,
    /// Of those, disagreements inside view 0 (the event [`crate::bound`] bounds).
    pub in_view: u64,
    /// 95% upper bound on the violation rate.
    pub upper95: f64,
    /// 95% upper bound on the in-view violation rate.
    pub in_view_upper95: f64,
    /// [`crate::safety_bound`] for `(n, f, o, l)`.
    pub bound: f64,
    /// Mean fraction of correct replicas that saw the leader's equivocation.
    pub detected: f64,
    /// Mean fraction of correct replicas that decided (view 0 or 1; the
    /// rest catch up from `f + 1` deciders).
    pub decided: f64,
    /// Instances in which replica 1, the next leader, was faulty.
    pub faulty_next_leader: u64,
}

/// The safety configurations: `(n, o, l, attack, runs)`.
pub fn safety_plan(quick: bool) -> Vec<(usize, f64, f64, Attack, u64)> {
    let worst = |n: usize, l: f64| {
        let (a, b) = safety_analysis(n, (n - 1) / 3, 2.0, l).worst_split;
        Attack::Split(a, b)
    };
    if quick {
        vec![
            (100, 2.0, 1.0, Attack::Balanced, 500),
            (100, 2.0, 1.0, worst(100, 1.0), 500),
        ]
    } else {
        vec![
            (100, 2.0, 1.0, Attack::Balanced, 10_000),
            (100, 2.0, 1.0, worst(100, 1.0), 10_000),
            (100, 2.0, 1.2, worst(100, 1.2), 5_000),
            (256, 2.0, 1.0, worst(256, 1.0), 2_000),
        ]
    }
}

/// Runs the safety model for every configuration of [`safety_plan`].
pub fn safety_rows(quick: bool, seed: u64, keys: KeyFactory) -> Vec<SafetyRow> {
    safety_plan(quick)
        .into_iter()
        .map(|(n, o, l, attack, runs)| safety_row(n, o, l, attack, runs, seed, keys))
        .collect()
}

/// `runs` model instances of one configuration.
pub fn safety_row(
    n: usize,
    o: f64,
    l: f64,
    attack: Attack,
    runs: u64,
    seed: u64,
    keys: KeyFactory,
) -> SafetyRow {
    let f = (n - 1) / 3;
    let ring = keys(n, seed);
    let model = Model::new(&ring, f, o, l);
    let (mut violations, mut in_view, mut detected, mut decided, mut faulty_next) =
        (0u64, 0u64, 0usize, 0usize, 0u64);
    for slot in 0..runs {
        let out = model.run(attack, slot, seed);
        violations += u64::from(out.violation);
        in_view += u64::from(out.violation_in_view);
        detected += out.detected;
        decided += (n - f) - out.undecided;
        faulty_next += u64::from(out.faulty_next_leader);
    }
    let per = (runs.max(1) as f64) * (n - f) as f64;
    SafetyRow {
        n,
        f,
        o,
        l,
        attack,
        runs,
        violations,
        in_view,
        upper95: upper_bound(violations, runs, 0.95),
        in_view_upper95: upper_bound(in_view, runs, 0.95),
        bound: safety_analysis(n, f, o, l).bound,
        detected: detected as f64 / per,
        decided: decided as f64 / per,
        faulty_next_leader: faulty_next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds_by_hand() {
        // k = 0: 1 − 0.05^(1/n).
        assert!((upper_bound(0, 1_000, 0.95) - (1.0 - 0.05f64.powf(1e-3))).abs() < 1e-9);
        // k = 1, n = 10: solve (1−p)^10 + 10p(1−p)^9 = 0.05 → p ≈ 0.3942.
        let p = upper_bound(1, 10, 0.95);
        let cdf = (1.0 - p).powi(10) + 10.0 * p * (1.0 - p).powi(9);
        assert!(
            (cdf - 0.05).abs() < 1e-9 && (p - 0.3942).abs() < 1e-3,
            "{p}"
        );
        assert_eq!(upper_bound(5, 5, 0.95), 1.0);
    }
}
