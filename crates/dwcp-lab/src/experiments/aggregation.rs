//! `aggregation-messages`: messages, bytes and latency per decision of
//! all-to-all PBFT and the aggregated (collector-based, linear) mode of
//! `dwcp-aggregation`, in the same simulator, network and workload.

use super::Ctx;
use super::pbft_messages::{self, network};
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_aggregation::linear::{self, LinearConfig, Voting};
use dwcp_aggregation::scheme::MultiSigCert;
use dwcp_core::{Digest, Duration, Engine, NodeId, Time, codec};
use dwcp_crypto::{AggKeyring, AggregateCert, Certificate, Keyring, SignerSet, ThresholdSetup};
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_pbft::{PbftConfig, Request, VoteCertificate, VotePhase};
use dwcp_sim::analysis::loglog_slope;
use dwcp_sim::{SimConfig, Simulation, Stats};
use serde_json::{Value, json};

/// One size's figures as measured side by side.
struct SidePoint {
    n: usize,
    pbft_msgs: f64,
    /// Linear mode with the fast path (what every fault-free slot takes).
    fast_msgs: f64,
    /// Linear mode with the fast path off (the fallback's cost).
    slow_msgs: f64,
    pbft_bytes: f64,
    fast_bytes: f64,
    slow_bytes: f64,
    /// Fast path with the relayed certificates replaced by BLS aggregates.
    projected: f64,
    lat_pbft: f64,
    lat_fast: f64,
    lat_slow: f64,
    /// Fast path with real BLS decision certificates on the wire (small n).
    bls_bytes: Option<f64>,
}

/// One protocol step in the simulator: the fixed 10 ms one-way latency
/// plus the 1 ms fsync that precedes every vote or certificate send.
const HOP_MS: f64 = 11.0;

/// Message and byte counts of one run.
struct Counts {
    decisions: u64,
    messages: f64,
    bytes: f64,
    /// Copies and bytes of relayed vote certificates.
    cert_copies: u64,
    cert_bytes: u64,
    by_kind: Vec<(&'static str, f64)>,
}

fn counts(stats: &Stats, decisions: u64) -> Counts {
    let cert: Vec<_> = stats
        .kinds
        .iter()
        .filter(|k| k.kind == "prepare-cert" || k.kind == "commit-cert")
        .collect();
    Counts {
        decisions,
        messages: stats.messages_per_decision(decisions),
        bytes: stats.bytes_per_decision(decisions),
        cert_copies: cert.iter().map(|k| k.sent).sum(),
        cert_bytes: cert.iter().map(|k| k.sent_bytes).sum(),
        by_kind: stats
            .kinds
            .iter()
            .map(|k| (k.kind, k.sent as f64 / decisions.max(1) as f64))
            .collect(),
    }
}

fn crypto(real: bool) -> CryptoMode {
    if real {
        CryptoMode::Sr25519
    } else {
        CryptoMode::InsecureMock
    }
}

fn linear_config(n: usize, voting: Voting, max_batch: usize, fast: bool) -> LinearConfig {
    let mut c = LinearConfig::new(n).expect("n >= 1");
    c.voting = voting;
    if !fast {
        c.fast_path = None;
    }
    c.pbft.max_batch = max_batch;
    c.pbft.status_interval = None;
    c
}

fn pbft_config(n: usize, max_batch: usize) -> PbftConfig {
    let mut c = PbftConfig::new(n).expect("n >= 1");
    c.max_batch = max_batch;
    c.status_interval = None;
    c
}

fn finish<E: Engine<Request = Request, Value = Request> + 'static>(
    sim: &mut Simulation<E>,
    requests: u64,
    what: &str,
) -> u64 {
    let outcome = sim.run_until_delivered(requests as usize, Time::from_secs(600));
    if let Err(v) = outcome.and_then(|()| harness::check(sim)) {
        panic!("aggregation-messages {what} run failed: {v}");
    }
    sim.decisions()
}

/// The aggregated mode under the `pbft-messages` workload: one request per
/// batch, one every 5 ms, round-robin over replicas.
fn measure_linear(n: usize, decisions: u64, seed: u64, real: bool, fast: bool) -> Counts {
    let cfg = linear_config(n, Voting::Linear, 1, fast);
    let mut sim = linear::harness::cluster(
        cfg,
        SimConfig::new(n, seed).with_network(network()),
        crypto(real),
    );
    harness::submit_requests(&mut sim, decisions, Time::ZERO, Duration::from_millis(5));
    let d = finish(&mut sim, decisions, "linear");
    counts(sim.stats(), d)
}

/// The fast path with BLS aggregate decision certificates on the wire
/// (real sr25519 and real BLS: BLS has no mock, so only small n).
fn measure_linear_bls(n: usize, decisions: u64, seed: u64) -> Counts {
    let mut cfg = linear_config(n, Voting::Linear, 1, true);
    cfg.bls_certificates = true;
    let mut sim = linear::harness::cluster(
        cfg,
        SimConfig::new(n, seed).with_network(network()),
        CryptoMode::Sr25519,
    );
    harness::submit_requests(&mut sim, decisions, Time::ZERO, Duration::from_millis(5));
    let d = finish(&mut sim, decisions, "linear bls");
    counts(sim.stats(), d)
}

/// Both modes with `batch` requests per consensus instance (requests every
/// 0.1 ms so batches fill): counts per request.
fn measure_batched(
    n: usize,
    requests: u64,
    batch: usize,
    seed: u64,
    real: bool,
) -> (Counts, Counts) {
    let every = Duration::from_micros(100);
    let net = SimConfig::new(n, seed).with_network(network());
    let mut a = harness::cluster_with(pbft_config(n, batch), net.clone(), crypto(real));
    harness::submit_requests(&mut a, requests, Time::ZERO, every);
    let da = finish(&mut a, requests, "batched pbft");
    let mut b = linear::harness::cluster(
        linear_config(n, Voting::Linear, batch, true),
        net,
        crypto(real),
    );
    harness::submit_requests(&mut b, requests, Time::ZERO, every);
    let db = finish(&mut b, requests, "batched linear");
    (counts(a.stats(), da), counts(b.stats(), db))
}

/// Commit latency in ms: each of `count` requests is submitted alone to
/// replica 1 (a backup, so forwarding counts) and timed until every replica
/// has delivered it.
fn latencies<E: Engine<Request = Request, Value = Request> + 'static>(
    sim: &mut Simulation<E>,
    count: u64,
) -> Vec<f64> {
    let n = sim.config().n;
    let spacing = Duration::from_millis(400);
    let mut out = vec![];
    for i in 0..count {
        let at = Time::ZERO + spacing * (i as u32 + 1);
        sim.submit(at, NodeId(1), harness::request(i));
        sim.run_until(at);
        let mut cursor = 0usize;
        let done = sim.run_until_cond(at + Duration::from_secs(30), |s| {
            while cursor < n && s.delivered(NodeId(cursor as u32)).len() > i as usize {
                cursor += 1;
            }
            cursor == n
        });
        assert!(done, "request {i} not delivered everywhere");
        out.push((sim.now() - at).as_secs_f64() * 1e3);
    }
    out
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn latency_pbft(n: usize, seed: u64, real: bool, count: u64) -> f64 {
    let mut sim = harness::cluster_with(
        pbft_config(n, 1),
        SimConfig::new(n, seed).with_network(network()),
        crypto(real),
    );
    mean(&latencies(&mut sim, count))
}

fn latency_linear(n: usize, seed: u64, real: bool, count: u64, voting: Voting, fast: bool) -> f64 {
    let mut sim = linear::harness::cluster(
        linear_config(n, voting, 1, fast),
        SimConfig::new(n, seed).with_network(network()),
        crypto(real),
    );
    mean(&latencies(&mut sim, count))
}

/// Encoded sizes of one quorum certificate (the vote-certificate header
/// included) under each scheme, with real signatures (64-byte sr25519,
/// 96-byte BLS), at committee size `n`.
fn cert_sizes(n: usize, seed: u64) -> (usize, usize, usize) {
    let q = dwcp_core::Committee::new(n).expect("n >= 1").quorum();
    let header = codec::encoded_len(&VoteCertificate {
        phase: VotePhase::Commit,
        view: 0,
        seq: 1,
        digest: Digest::default(),
        votes: vec![],
    });
    let signers: SignerSet = NodeId::all(q).collect();
    let sr = Keyring::sr25519(1, seed).secrets[0].sign(b"x", b"y");
    let list = MultiSigCert {
        signers: signers.clone(),
        signatures: vec![sr; q],
    };
    let bls = AggKeyring::bls(1, seed).secrets[0].sign(b"y");
    let agg = AggregateCert { signers, sig: bls };
    let th = ThresholdSetup::generate(1, 1, seed);
    let cert: Certificate = th
        .public
        .combine(
            b"y",
            &[(NodeId(0), th.shares[0].sign(b"y"))].into_iter().collect(),
        )
        .expect("1-of-1");
    (
        header + codec::encoded_len(&list),
        header + codec::encoded_len(&agg),
        header + codec::encoded_len(&cert),
    )
}

/// Runs the sweep.
pub fn run(ctx: &Ctx) -> ExperimentResult {
    // (n, real sr25519 signatures, decisions)
    let sizes: &[(usize, bool, u64)] = if ctx.quick {
        &[(16, true, 32), (64, true, 16), (256, false, 32)]
    } else {
        &[
            (16, true, 32),
            (64, true, 32),
            (256, false, 32),
            (500, false, 16),
            (1000, false, 16),
        ]
    };
    let latency_count = if ctx.quick { 2 } else { 5 };
    let mut rows = vec![];
    let mut pts: Vec<SidePoint> = vec![];
    for &(n, real, decisions) in sizes {
        let base = pbft_messages::measure(n, decisions, ctx.seed, real);
        let lin = measure_linear(n, decisions, ctx.seed, real, true);
        // Quick mode: the slow path's counts at n = 64 with mock signatures
        // (same messages, smaller bytes) to stay within its time budget.
        let slow_real = real && !(ctx.quick && n == 64);
        let slow = measure_linear(n, decisions, ctx.seed, slow_real, false);
        let lat_big = n >= 500;
        let lc = if lat_big { 2 } else { latency_count };
        let lat_p = latency_pbft(n, ctx.seed, real, lc);
        let lat_l = latency_linear(n, ctx.seed, real, lc, Voting::Linear, true);
        let lat_s = latency_linear(n, ctx.seed, real, lc, Voting::Linear, false);
        let lat_h = latency_linear(n, ctx.seed, real, lc, Voting::LinearPrepare, false);
        let bls = (real && n <= 64).then(|| measure_linear_bls(n, decisions, ctx.seed));
        let (list_b, agg_b, th_b) = cert_sizes(n, ctx.seed);
        // Projection: the same run with the relayed certificates replaced by
        // BLS aggregate certificates of the measured size.
        let projected = lin.bytes
            + (lin.cert_copies as f64 * agg_b as f64 - lin.cert_bytes as f64)
                / lin.decisions as f64;
        let reduction = 100.0 * (1.0 - lin.messages / base.messages);
        let byte_reduction = 100.0 * (1.0 - lin.bytes / base.bytes);
        let hop = HOP_MS;
        let mut row = json!({
            "n": n,
            "crypto": if real { "sr25519" } else { "insecure-mock" },
            "decisions": lin.decisions,
            "pbft_messages_per_decision": base.messages,
            "linear_messages_per_decision": lin.messages,
            "message_reduction_pct": reduction,
            "linear_slow_path_messages_per_decision": slow.messages,
            "slow_path_message_reduction_pct": 100.0 * (1.0 - slow.messages / base.messages),
            "pbft_bytes_per_decision": base.bytes,
            "linear_bytes_per_decision": lin.bytes,
            "byte_reduction_pct": byte_reduction,
            "linear_slow_path_bytes_per_decision": slow.bytes,
            "slow_path_crypto": if slow_real { "sr25519" } else { "insecure-mock" },
            "linear_bytes_with_bls_aggregate_certs_projected": projected,
            "cert_bytes_sr25519_list": list_b,
            "cert_bytes_bls_aggregate": agg_b,
            "cert_bytes_bls_threshold": th_b,
            "pbft_latency_ms": lat_p,
            "linear_latency_ms": lat_l,
            "linear_slow_path_latency_ms": lat_s,
            "linear_prepare_latency_ms": lat_h,
            "linear_extra_hops": (lat_l - lat_p) / hop,
            "linear_slow_path_extra_hops": (lat_s - lat_p) / hop,
            "linear_prepare_extra_hops": (lat_h - lat_p) / hop,
        });
        if let Some(b) = &bls {
            row["linear_bls_bytes_per_decision_measured"] = json!(b.bytes);
            row["bls_byte_reduction_pct"] = json!(100.0 * (1.0 - b.bytes / base.bytes));
            row["linear_bls_messages_per_decision"] = json!(b.messages);
            row["bls_cert_bytes_on_wire"] =
                json!(b.cert_bytes as f64 / b.cert_copies.max(1) as f64);
        }
        for (k, v) in &lin.by_kind {
            row[format!("linear {k}/decision")] = json!(v);
        }
        rows.push(row);
        pts.push(SidePoint {
            n,
            pbft_msgs: base.messages,
            fast_msgs: lin.messages,
            slow_msgs: slow.messages,
            pbft_bytes: base.bytes,
            fast_bytes: lin.bytes,
            slow_bytes: slow.bytes,
            projected,
            lat_pbft: lat_p,
            lat_fast: lat_l,
            lat_slow: lat_s,
            bls_bytes: bls.as_ref().map(|b| b.bytes),
        });
    }
    // Several requests per certificate (same batching in both modes).
    let batch = 16;
    let mut batched_rows = vec![];
    for &(n, real, _) in sizes
        .iter()
        .filter(|(n, _, _)| *n <= 256 && !(ctx.quick && *n == 64))
    {
        let (b, l) = measure_batched(n, 16 * batch as u64, batch, ctx.seed, real);
        batched_rows.push((n, b.messages, l.messages));
        rows.push(json!({
            "n": n, "crypto": if real { "sr25519" } else { "insecure-mock" },
            "decisions": l.decisions, "requests_per_batch": batch,
            "pbft_messages_per_decision": b.messages, "linear_messages_per_decision": l.messages,
            "message_reduction_pct": 100.0 * (1.0 - l.messages / b.messages),
            "pbft_bytes_per_decision": b.bytes, "linear_bytes_per_decision": l.bytes,
            "byte_reduction_pct": 100.0 * (1.0 - l.bytes / b.bytes),
        }));
    }
    let mut claims = vec![];
    for p in pts.iter().filter(|p| p.n >= 500) {
        claims.push(Claim::new(
            &format!(
                "fewer messages per decision than all-to-all PBFT at n={} (fast path)",
                p.n
            ),
            100.0 * (1.0 - p.fast_msgs / p.pbft_msgs),
            Op::Ge,
            99.6,
            "%",
            format!(
                "PBFT {:.0} vs linear {:.0} messages/decision (one request per instance); slow path {:.0} ({:.2}%)",
                p.pbft_msgs,
                p.fast_msgs,
                p.slow_msgs,
                100.0 * (1.0 - p.slow_msgs / p.pbft_msgs)
            ),
        ));
    }
    let last = pts.last().expect("at least one size");
    let lin_pts: Vec<(f64, f64)> = pts.iter().map(|p| (p.n as f64, p.fast_msgs)).collect();
    claims.push(Claim::new(
        "log-log slope of linear-mode messages/decision vs n: linear",
        loglog_slope(&lin_pts),
        Op::Le,
        1.1,
        "exponent",
        format!(
            "PBFT slope {:.2}",
            loglog_slope(
                &pts.iter()
                    .map(|p| (p.n as f64, p.pbft_msgs))
                    .collect::<Vec<_>>()
            )
        ),
    ));
    claims.push(Claim::new(
        &format!("fast-path messages/decision / n at n={}", last.n),
        last.fast_msgs / last.n as f64,
        Op::Le,
        3.2,
        "messages/n",
        format!(
            "3 phases of n-1 copies plus forwarding and collected checkpoints; slow path {:.2}",
            last.slow_msgs / last.n as f64
        ),
    ));
    claims.push(Claim::new(
        &format!(
            "fewer bytes per decision than PBFT at n={} (sr25519-list certificates)",
            last.n
        ),
        100.0 * (1.0 - last.fast_bytes / last.pbft_bytes),
        Op::Ge,
        50.0,
        "%",
        format!(
            "PBFT {:.0} vs linear {:.0} bytes/decision (slow path {:.0})",
            last.pbft_bytes, last.fast_bytes, last.slow_bytes
        ),
    ));
    claims.push(Claim::new(
        &format!("fewer bytes per decision than PBFT at n={} with BLS aggregate certificates (projection)", last.n),
        100.0 * (1.0 - last.projected / last.pbft_bytes),
        Op::Ge,
        95.0,
        "%",
        format!("PBFT {:.0} vs projected {:.0} bytes/decision", last.pbft_bytes, last.projected),
    ));
    if let Some(p) = pts.iter().rfind(|p| p.bls_bytes.is_some()) {
        let b = p.bls_bytes.unwrap_or(f64::NAN);
        claims.push(Claim::new(
            &format!(
                "fewer bytes per decision than PBFT at n={} with BLS aggregate certificates on the wire (measured)",
                p.n
            ),
            100.0 * (1.0 - b / p.pbft_bytes),
            Op::Ge,
            95.0,
            "%",
            format!(
                "PBFT {:.0} vs linear fast path {:.0} bytes/decision with BLS certificates ({:.0} with sr25519 lists)",
                p.pbft_bytes, b, p.fast_bytes
            ),
        ));
    }
    let fast_extra = pts
        .iter()
        .map(|p| (p.lat_fast - p.lat_pbft) / HOP_MS)
        .fold(f64::MIN, f64::max);
    let slow_extra = pts
        .iter()
        .map(|p| (p.lat_slow - p.lat_pbft) / HOP_MS)
        .fold(f64::MIN, f64::max);
    claims.push(Claim::new(
        "latency cost of the linear mode on the fast path (max over n)",
        fast_extra,
        Op::Le,
        1.0,
        "hops (10 ms + 1 ms fsync)",
        format!(
            "PBFT {:.1} ms vs fast path {:.1} ms at n={}; slow path (fallback) {:.1} ms, {:.1} extra hops",
            last.lat_pbft, last.lat_fast, last.n, last.lat_slow, slow_extra
        ),
    ));
    claims.push(Claim::new(
        "latency cost of the slow path (fallback when a replica's prepare is missing; max over n)",
        slow_extra,
        Op::Le,
        2.0,
        "hops (10 ms + 1 ms fsync)",
        "each all-to-all round becomes two hops through the collector; reported, not a target",
    ));
    let hybrid: f64 = rows
        .iter()
        .filter_map(|r| r.get("linear_prepare_extra_hops").and_then(Value::as_f64))
        .fold(f64::MIN, f64::max);
    claims.push(Claim::new(
        "latency cost of linear prepares + all-to-all commits (max over n)",
        hybrid,
        Op::Le,
        1.0,
        "hops (10 ms + 1 ms fsync)",
        "same PBFT runs; this mode keeps O(n^2) commits",
    ));
    if let Some(&(n, b, l)) = batched_rows.last() {
        claims.push(Claim::new(
            &format!("fewer messages per request with {batch} requests per certificate, both modes batched, n={n}"),
            100.0 * (1.0 - l / b),
            Op::Ge,
            99.6,
            "%",
            format!("PBFT {b:.1} vs linear {l:.1} messages/request"),
        ));
    }
    let series = |f: fn(&SidePoint) -> f64| -> Vec<(f64, f64)> {
        pts.iter().map(|p| (p.n as f64, f(p))).collect()
    };
    ExperimentResult {
        experiment: "aggregation-messages".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "network": network().describe(), "faults": "none", "max_batch": 1, "status_probes": false,
            "checkpoint_interval": 16, "workload": "one request every 5 ms, round-robin over replicas",
            "latency_workload": "one request at a time to replica 1, 400 ms apart",
            "linear_mode": "votes and checkpoints to the view's primary, which relays sr25519-list certificates; SBFT fast path with a 10 ms wait (slow-path rows: fast path off)",
        }),
        rows,
        claims,
        notes: vec![
            "Every copy on the wire is counted: a broadcast to n-1 replicas is n-1 messages, each relayed certificate is n-1 messages. A decision is one committed sequence number holding one request, except in the rows with requests_per_batch, which count per request with the same batching in both modes.".into(),
            "Arithmetic: PBFT sends (n-1) + (n-1)^2 + n(n-1) + n(n-1)/16 copies per decision. The linear mode's fast path (SBFT: the collector holds prepares from all n replicas and broadcasts them as the commit proof) sends 3(n-1) + 1 + 2(n-1)/16, about 1.5/n of PBFT: 99.70% fewer at n=500. Its slow path (prepare certificate, commit votes, commit certificate), taken when some replica's prepare misses the fast-path wait (10 ms), sends 5(n-1) + 1 + 2(n-1)/16: 99.51% at n=500.".into(),
            "Latency: a hop is one protocol step, the 10 ms one-way delay plus the 1 ms fsync of the record persisted before each send (PBFT's 4 hops from submission, forwarding included, measure 43 ms). The fast path has PBFT's three steps after the pre-prepare (pre-prepare, prepares to the collector, commit proof), so it costs no extra hop; the slow path turns each all-to-all round into two hops through the collector (two extra hops, plus the fast-path wait it first spent). Linear prepares with all-to-all commits cost one extra hop but keep O(n^2) messages. Our byte targets (50% measured, 95% projected) are ours; the issue only asks for the figure.".into(),
            "BLS on the wire (rows with linear_bls_bytes_per_decision_measured, n <= 64, real sr25519 and BLS since BLS has no mock): votes to the collector carry a BLS share next to their sr25519 signature, and the fast path's commit proof (and the slow path's commit certificate) is relayed as one BLS aggregate certificate; slow-path prepare certificates stay sr25519 lists because view-changes carry them. Larger n would cost minutes of real pairings per run, so there the BLS figure stays a projection.".into(),
            "Bytes: relayed certificates are dwcp-pbft's sr25519 lists (what the inner replica verifies). The BLS-aggregate column is a projection: measured bytes with each relayed certificate replaced by a BLS aggregate certificate of the measured encoded size. Rows with insecure-mock crypto carry 16-byte mock signatures instead of 64-byte sr25519 ones, so their byte figures are lower than real ones for both modes.".into(),
        ],
        plots: vec![
            Plot {
                stem: "aggregation-messages".into(),
                title: "Messages per decision".into(),
                x_label: "n".into(),
                y_label: "messages / decision".into(),
                log: true,
                series: vec![
                    ("PBFT all-to-all".into(), series(|p| p.pbft_msgs)),
                    ("linear, fast path".into(), series(|p| p.fast_msgs)),
                    ("linear, slow path".into(), series(|p| p.slow_msgs)),
                ],
            },
            Plot {
                stem: "aggregation-bytes".into(),
                title: "Bytes per decision".into(),
                x_label: "n".into(),
                y_label: "bytes / decision".into(),
                log: true,
                series: vec![
                    ("PBFT all-to-all".into(), series(|p| p.pbft_bytes)),
                    ("linear fast path, sr25519 lists".into(), series(|p| p.fast_bytes)),
                    ("linear slow path, sr25519 lists".into(), series(|p| p.slow_bytes)),
                    ("linear fast path, BLS aggregate (projected)".into(), series(|p| p.projected)),
                ],
            },
        ],
    }
}

/// `aggregation-dissemination`: delivery ratio, hop counts and copies of
/// tree and gossip dissemination under loss and crashed inner nodes.
pub fn run_dissemination(ctx: &Ctx) -> ExperimentResult {
    use dwcp_aggregation::dissemination::{Mode, measure};
    let sizes: &[usize] = if ctx.quick { &[100] } else { &[100, 1000] };
    let losses = [0.0, 0.05, 0.1, 0.2];
    let broadcasts = if ctx.quick { 10 } else { 20 };
    let k = 8;
    let modes = [
        Mode::Tree {
            fanout: k,
            acks: true,
        },
        Mode::Tree {
            fanout: k,
            acks: false,
        },
        Mode::Gossip { fanout: 6 },
        Mode::Gossip { fanout: 10 },
    ];
    let mut rows = vec![];
    let mut reports = vec![];
    for &n in sizes {
        for mode in modes {
            for loss in losses {
                for crashed in [0, k] {
                    let r = measure(n, mode, loss, crashed, broadcasts, ctx.seed);
                    rows.push(json!({
                        "n": n, "mode": r.mode, "loss": loss, "crashed_inner_nodes": crashed,
                        "delivery_ratio": r.delivery_ratio, "mean_hops": r.mean_hops, "max_hops": r.max_hops,
                        "messages_per_broadcast": r.messages_per_broadcast, "root_copies_per_broadcast": r.root_copies,
                    }));
                    reports.push((mode, r));
                }
            }
        }
    }
    let worst = |want: Mode, loss: f64, crashed: usize| {
        reports
            .iter()
            .filter(|(m, r)| *m == want && r.loss == loss && r.crashed == crashed)
            .map(|(_, r)| r.delivery_ratio)
            .fold(f64::MAX, f64::min)
    };
    let n_max = *sizes.last().expect("a size");
    let depth = dwcp_aggregation::dissemination::TreeOverlay::new(n_max, k).depth();
    let tree_hops = reports
        .iter()
        .filter(|(m, r)| *m == modes[0] && r.n == n_max && r.crashed == 0)
        .map(|(_, r)| r.max_hops)
        .max()
        .unwrap_or(0);
    let claims = vec![
        Claim::new(
            &format!(
                "tree (k={k}, acks) delivery ratio at 10% loss with the root's {k} children crashed"
            ),
            worst(modes[0], 0.1, k),
            Op::Ge,
            1.0,
            "fraction",
            format!("plain tree: {:.3}", worst(modes[1], 0.1, k)),
        ),
        Claim::new(
            "gossip (fanout 10) delivery ratio at 10% loss",
            worst(modes[3], 0.1, 0),
            Op::Ge,
            0.99,
            "fraction",
            format!("fanout 6: {:.3}", worst(modes[2], 0.1, 0)),
        ),
        Claim::new(
            &format!("tree (k={k}) max hops at n={n_max}"),
            tree_hops as f64,
            Op::Le,
            depth as f64,
            "hops",
            format!(
                "direct broadcast: 1 hop, {} copies from the root",
                n_max - 1
            ),
        ),
    ];
    ExperimentResult {
        experiment: "aggregation-dissemination".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "network": "10 ms one-way + uniform jitter up to 5 ms, independent per-copy loss",
            "broadcasts": broadcasts, "payload_bytes": 256, "root": 0,
            "crashes": "the root's first k tree children, crashed from the start (inner nodes of its tree)",
            "tree_ack_timeout_ms": 50, "tree_sends_before_rerouting": 3,
        }),
        rows,
        claims,
        notes: vec![
            "Delivery ratio: deliveries at live non-root nodes over broadcasts times their number. Hops: transmissions on the path that delivered first. Messages count every copy, acknowledgements included.".into(),
        ],
        plots: vec![],
    }
}
