//! `pbft-messages`: PBFT messages and bytes per decision as n grows.

use super::Ctx;
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_core::{Duration, Time};
use dwcp_pbft::PbftConfig;
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_sim::analysis::loglog_slope;
use dwcp_sim::{NetworkConfig, SimConfig};
use serde_json::json;

/// Message kinds PBFT sends, in protocol order.
const KINDS: [&str; 7] = [
    "request",
    "pre-prepare",
    "prepare",
    "commit",
    "checkpoint",
    "view-change",
    "new-view",
];

/// PBFT's normal-case copies per decision: pre-prepare (n−1), prepares ((n−1)²), commits (n(n−1)).
pub fn pbft_theory(n: usize) -> f64 {
    let n = n as f64;
    (n - 1.0) + (n - 1.0) * (n - 1.0) + n * (n - 1.0)
}

/// One measured point: a fault-free PBFT cluster committing `decisions` single-request batches.
pub struct Point {
    /// Committee size.
    pub n: usize,
    /// Distinct committed requests (one per batch).
    pub decisions: u64,
    /// Copies per decision.
    pub messages: f64,
    /// Bytes per decision.
    pub bytes: f64,
    /// Copies per decision by kind.
    pub by_kind: Vec<(&'static str, f64)>,
    /// Signatures are real sr25519 (else the insecure mock).
    pub real_crypto: bool,
}

/// The network every message-count experiment uses: fixed 10 ms one way, no loss.
pub fn network() -> NetworkConfig {
    NetworkConfig::fixed(Duration::from_millis(10))
}

/// Measures PBFT at `n` with `decisions` requests, one per batch, no faults.
pub fn measure(n: usize, decisions: u64, seed: u64, real_crypto: bool) -> Point {
    let mut config = PbftConfig::new(n).expect("n >= 1");
    config.max_batch = 1;
    config.status_interval = None;
    let crypto = if real_crypto {
        CryptoMode::Sr25519
    } else {
        CryptoMode::InsecureMock
    };
    let mut sim = harness::cluster_with(
        config,
        SimConfig::new(n, seed).with_network(network()),
        crypto,
    );
    harness::submit_requests(&mut sim, decisions, Time::ZERO, Duration::from_millis(5));
    let outcome = sim.run_until_delivered(decisions as usize, Time::from_secs(600));
    if let Err(v) = outcome.and_then(|()| harness::check(&sim)) {
        panic!("pbft-messages run failed: {v}");
    }
    let d = sim.decisions();
    let stats = sim.stats();
    Point {
        n,
        decisions: d,
        messages: stats.messages_per_decision(d),
        bytes: stats.bytes_per_decision(d),
        by_kind: KINDS
            .iter()
            .map(|k| (*k, stats.kind_per_decision(k, d)))
            .collect(),
        real_crypto,
    }
}

/// Runs the sweep.
pub fn run(ctx: &Ctx) -> ExperimentResult {
    let sizes: &[(usize, bool)] = if ctx.quick {
        &[
            (4, true),
            (7, true),
            (16, true),
            (31, true),
            (64, true),
            (100, false),
            (256, false),
        ]
    } else {
        &[
            (4, true),
            (7, true),
            (16, true),
            (31, true),
            (64, true),
            (100, true),
            (256, false),
        ]
    };
    let decisions = if ctx.quick { 10 } else { 40 };
    let points: Vec<Point> = sizes
        .iter()
        .map(|&(n, real)| measure(n, decisions, ctx.seed, real))
        .collect();
    let mut rows = vec![];
    for p in &points {
        let mut row = json!({
            "n": p.n, "decisions": p.decisions, "messages_per_decision": p.messages,
            "theory_normal_case": pbft_theory(p.n), "bytes_per_decision": p.bytes,
            "crypto": if p.real_crypto { "sr25519" } else { "insecure-mock" },
        });
        for (k, v) in &p.by_kind {
            row[format!("{k}/decision")] = json!(v);
        }
        rows.push(row);
    }
    let msg_pts: Vec<(f64, f64)> = points.iter().map(|p| (p.n as f64, p.messages)).collect();
    let byte_pts: Vec<(f64, f64)> = points.iter().map(|p| (p.n as f64, p.bytes)).collect();
    let theory_pts: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.n as f64, pbft_theory(p.n)))
        .collect();
    let big: Vec<(f64, f64)> = msg_pts
        .iter()
        .copied()
        .filter(|(n, _)| *n >= 16.0)
        .collect();
    let slope = loglog_slope(&big);
    let last = points.last().expect("at least one size");
    let claims = vec![
        Claim::new(
            "log-log slope of PBFT messages/decision vs n (n>=16): quadratic",
            slope,
            Op::Ge,
            1.9,
            "exponent",
            format!(
                "theory: 2 (normal case (n-1)+(n-1)^2+n(n-1) = {:.0} at n={})",
                pbft_theory(last.n),
                last.n
            ),
        ),
        Claim::new(
            &format!("measured / normal-case theory at n={}", last.n),
            last.messages / pbft_theory(last.n),
            Op::Le,
            1.1,
            "ratio",
            "overhead of checkpoints and request forwarding",
        ),
    ];
    ExperimentResult {
        experiment: "pbft-messages".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({"decisions_per_n": decisions, "max_batch": 1, "status_probes": false, "network": network().describe(), "faults": "none"}),
        rows,
        claims,
        notes: vec![
            "A decision is one committed sequence number holding one request (max_batch = 1), so the figures are per consensus instance. Requests are submitted round-robin to replicas, which forward them to the primary.".into(),
            "Signatures are real sr25519 where the row says so; the insecure mock is used only for the largest sizes, where it does not change counts.".into(),
        ],
        plots: vec![
            Plot {
                stem: "pbft-messages".into(),
                title: "PBFT messages per decision".into(),
                x_label: "n".into(),
                y_label: "messages / decision".into(),
                log: true,
                series: vec![("PBFT (measured)".into(), msg_pts), ("normal-case theory".into(), theory_pts)],
            },
            Plot {
                stem: "pbft-bytes".into(),
                title: "PBFT bytes per decision".into(),
                x_label: "n".into(),
                y_label: "bytes / decision".into(),
                log: true,
                series: vec![("PBFT (measured)".into(), byte_pts)],
            },
        ],
    }
}
