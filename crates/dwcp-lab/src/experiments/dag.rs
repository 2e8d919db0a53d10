//! `dag-throughput`: Bullshark and Tusk on a Narwhal DAG against chained
//! HotStuff and Multi-Paxos, in one simulated WAN with a per-node uplink cap
//! and the same saturating open-loop load (`dwcp_sim::workload`).

use super::Ctx;
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_bullshark::harness::AnchorLatency;
use dwcp_core::Duration;
use dwcp_sim::workload::{LoadReport, ThroughputConfig};
use serde_json::json;

/// The offered load of the saturated runs (tx/s in total): above what any
/// of the four can commit through 40 Mbit/s uplinks, so all of them run
/// saturated. The rest of the setting is
/// `ThroughputConfig::five_region_wan` (five regions, 5 MB/s uplinks,
/// 512-byte transactions, 2 s warm-up, 10 s drain).
const RATE: f64 = 12_000.0;
/// The light load for protocol latency without queueing: a quarter of the
/// saturating one.
const LIGHT_RATE: f64 = 3_000.0;
/// Real signatures up to this size in the saturated and light-load runs,
/// the insecure mock above and in the round-robin comparison runs (which
/// carry no claim; simulated time does not depend on it: the simulator does
/// not model CPU).
const REAL_CRYPTO_UP_TO: usize = 20;
/// Light-load runs with f crashed up to this size (every size: they add
/// about a quarter to the full run's wall time, ~7 s to `--quick`).
const LIGHT_CRASHED_UP_TO: usize = 50;

type Runner = fn(&ThroughputConfig) -> LoadReport;
type AnchorRunner = fn(&ThroughputConfig) -> (LoadReport, AnchorLatency);

/// The light-load runs also measure anchor-commit latency.
const LIGHT_PROTOCOLS: [(&str, AnchorRunner); 2] = [
    (
        "Bullshark",
        dwcp_bullshark::harness::throughput_with_anchors,
    ),
    ("Tusk", dwcp_tusk::harness::throughput_with_anchors),
];

/// The label of the comparison runs of Bullshark without leader
/// reputation (crashed settings only).
const ROUND_ROBIN: &str = "Bullshark (round-robin leaders)";

const PROTOCOLS: [(&str, Runner); 4] = [
    ("Bullshark", dwcp_bullshark::harness::throughput),
    ("Tusk", dwcp_tusk::harness::throughput),
    ("HotStuff", dwcp_hotstuff::harness::throughput),
    ("Multi-Paxos", dwcp_paxos::harness::throughput),
];

fn config(n: usize, crashed: usize, seed: u64, quick: bool, rate: f64) -> ThroughputConfig {
    let mut c = ThroughputConfig::five_region_wan(n, crashed, seed);
    c.load.rate = rate;
    c.load.duration = Duration::from_secs(if quick { 3 } else { 6 });
    c.real_crypto = n <= REAL_CRYPTO_UP_TO;
    c
}

struct Run {
    protocol: &'static str,
    n: usize,
    crashed: usize,
    real_crypto: bool,
    report: LoadReport,
    anchors: Option<AnchorLatency>,
}

/// Runs `dag-throughput`.
pub fn run(ctx: &Ctx) -> ExperimentResult {
    let sizes: &[usize] = if ctx.quick { &[10] } else { &[10, 20, 50] };
    let mut runs = vec![];
    for &n in sizes {
        let f = (n - 1) / 3;
        for crashed in [0, f] {
            for (protocol, run) in PROTOCOLS {
                let cfg = config(n, crashed, ctx.seed, ctx.quick, RATE);
                runs.push(Run {
                    protocol,
                    n,
                    crashed,
                    real_crypto: cfg.real_crypto,
                    report: run(&cfg),
                    anchors: None,
                });
            }
            if crashed > 0 {
                // The same Bullshark with round-robin leaders: what the
                // reputation schedule saves when anchors' authors crash
                // (mock keys: the simulated figures do not depend on them).
                let mut cfg = config(n, crashed, ctx.seed, ctx.quick, RATE);
                cfg.real_crypto = false;
                runs.push(Run {
                    protocol: ROUND_ROBIN,
                    n,
                    crashed,
                    real_crypto: false,
                    report: dwcp_bullshark::harness::throughput_round_robin(&cfg),
                    anchors: None,
                });
            }
        }
    }
    // Protocol latency without queueing: Bullshark and Tusk at a light
    // load, with 0 crashed (the claim) and with f crashed (extra rows, up
    // to n = LIGHT_CRASHED_UP_TO).
    let mut light = vec![];
    for &n in sizes {
        let f = (n - 1) / 3;
        for crashed in [0, f] {
            if crashed > 0 && n > LIGHT_CRASHED_UP_TO {
                continue;
            }
            for (protocol, run) in LIGHT_PROTOCOLS {
                // Real keys where the saturated runs have them: the
                // 0-crashed runs carry a claim.
                let cfg = config(n, crashed, ctx.seed, ctx.quick, LIGHT_RATE);
                let (report, anchors) = run(&cfg);
                light.push(Run {
                    protocol,
                    n,
                    crashed,
                    real_crypto: cfg.real_crypto,
                    report,
                    anchors: Some(anchors),
                });
            }
        }
    }
    let rows = runs
        .iter()
        .map(|r| (r, RATE))
        .chain(light.iter().map(|r| (r, LIGHT_RATE)))
        .map(|(r, rate)| {
            json!({
                "protocol": r.protocol, "n": r.n, "crashed": r.crashed, "offered_tx_per_s": rate,
                "tx_per_s": r.report.tx_per_s, "latency_p50_ms": r.report.latency_p50_ms,
                "latency_p99_ms": r.report.latency_p99_ms, "latency_mean_ms": r.report.latency_mean_ms,
                "offered": r.report.offered, "committed": r.report.committed,
                "uncommitted_in_window": r.report.uncommitted,
                "messages": r.report.messages, "bytes": r.report.bytes,
                "crypto": if r.real_crypto { "real" } else { "insecure mock" },
                "anchors_in_window": r.anchors.as_ref().map(|a| a.anchors),
                "anchor_commit_p50_ms": r.anchors.as_ref().map(|a| a.p50_ms),
                "anchor_commit_mean_ms": r.anchors.as_ref().map(|a| a.mean_ms),
                "anchor_commit_p50_rounds": r.anchors.as_ref().map(|a| a.p50_rounds),
                "anchor_commit_mean_rounds": r.anchors.as_ref().map(|a| a.mean_rounds),
            })
        })
        .collect();
    let find = |p: &str, n: usize, c: usize| {
        runs.iter()
            .find(|r| r.protocol == p && r.n == n && r.crashed == c)
            .map(|r| &r.report)
    };
    // Ratios per (n, crashed); the claims take the worst case.
    let mut vs_paxos = vec![];
    let mut vs_hotstuff = vec![];
    let mut vs_tusk = vec![];
    for &n in sizes {
        for crashed in [0, (n - 1) / 3] {
            let (Some(b), Some(t), Some(h), Some(p)) = (
                find("Bullshark", n, crashed),
                find("Tusk", n, crashed),
                find("HotStuff", n, crashed),
                find("Multi-Paxos", n, crashed),
            ) else {
                continue;
            };
            let label = format!("n={n}, {crashed} crashed");
            // A baseline that committed nothing in the window gives an
            // infinite ratio (printed as "inf"), never a made-up number.
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
            vs_paxos.push((ratio(b.tx_per_s, p.tx_per_s), label.clone()));
            vs_hotstuff.push((ratio(b.tx_per_s, h.tx_per_s), label.clone()));
            vs_tusk.push((b.latency_p50_ms / t.latency_p50_ms, label));
        }
    }
    let worst = |v: &[(f64, String)], max: bool| {
        v.iter()
            .cloned()
            .reduce(|a, b| {
                let pick_b = if max { b.0 > a.0 } else { b.0 < a.0 } || b.0.is_nan();
                if pick_b { b } else { a }
            })
            .unwrap_or((f64::NAN, "no runs".into()))
    };
    let listing = |v: &[(f64, String)]| {
        v.iter()
            .map(|(x, l)| format!("{l}: {x:.2}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (p_min, p_at) = worst(&vs_paxos, false);
    let (h_min, h_at) = worst(&vs_hotstuff, false);
    let (t_max, t_at) = worst(&vs_tusk, true);
    let vs_tusk_light: Vec<(f64, String)> = sizes
        .iter()
        .filter_map(|&n| {
            let get = |p: &str| {
                light
                    .iter()
                    .find(|r| r.protocol == p && r.n == n && r.crashed == 0)
            };
            let (b, t) = (get("Bullshark")?, get("Tusk")?);
            Some((
                b.report.latency_p50_ms / t.report.latency_p50_ms,
                format!("n={n}"),
            ))
        })
        .collect();
    let (l_max, l_at) = worst(&vs_tusk_light, true);
    // Extra light-load figures (no claim): Bullshark / Tusk ratios of the
    // median transaction latency and of the anchor-commit latency (ms and
    // rounds), per n and crash setting.
    let light_ratios: Vec<String> = light
        .iter()
        .filter(|r| r.protocol == "Bullshark")
        .filter_map(|b| {
            let t = light
                .iter()
                .find(|r| r.protocol == "Tusk" && r.n == b.n && r.crashed == b.crashed)?;
            let (ba, ta) = (b.anchors.as_ref()?, t.anchors.as_ref()?);
            Some(format!(
                "n={}, {} crashed: tx p50 {:.0} / {:.0} ms = {:.2}; anchor commit p50 {:.0} / {:.0} ms = {:.2}, mean rounds {:.2} / {:.2} = {:.2}",
                b.n,
                b.crashed,
                b.report.latency_p50_ms,
                t.report.latency_p50_ms,
                b.report.latency_p50_ms / t.report.latency_p50_ms,
                ba.p50_ms,
                ta.p50_ms,
                ba.p50_ms / ta.p50_ms,
                ba.mean_rounds,
                ta.mean_rounds,
                ba.mean_rounds / ta.mean_rounds,
            ))
        })
        .collect();
    let claims = vec![
        Claim::new(
            "Bullshark / Multi-Paxos throughput, worst n and crash setting",
            p_min,
            Op::Ge,
            6.0,
            "x",
            format!("worst at {p_at}; all: {}", listing(&vs_paxos)),
        ),
        Claim::new(
            "Bullshark / HotStuff throughput, worst n and crash setting",
            h_min,
            Op::Ge,
            1.0,
            "x",
            format!("worst at {h_at}; all: {}", listing(&vs_hotstuff)),
        ),
        Claim::new(
            "Bullshark / Tusk median commit latency, worst n and crash setting",
            t_max,
            Op::Le,
            0.67,
            "x",
            format!("worst at {t_at}; all: {}", listing(&vs_tusk)),
        ),
        Claim::new(
            "Bullshark / Tusk median commit latency at a light load (no queueing), worst n",
            l_max,
            Op::Le,
            0.67,
            "x",
            format!(
                "{LIGHT_RATE} tx/s offered, no crashes; worst at {l_at}; all: {}",
                listing(&vs_tusk_light)
            ),
        ),
    ];
    let series = |metric: fn(&LoadReport) -> f64| {
        PROTOCOLS
            .iter()
            .map(|(p, _)| {
                let pts = runs
                    .iter()
                    .filter(|r| r.protocol == *p && r.crashed == 0)
                    .map(|r| (r.n as f64, metric(&r.report)))
                    .collect();
                (p.to_string(), pts)
            })
            .collect()
    };
    let setting = ThroughputConfig::five_region_wan(sizes[0], 0, ctx.seed);
    let net = &setting.network;
    ExperimentResult {
        experiment: "dag-throughput".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "sizes": sizes, "offered_tx_per_s": RATE,
            "uplink_bytes_per_s": setting.uplink_bytes_per_s, "tx_bytes": setting.load.tx_size, "crashed": "0 and f = (n-1)/3 (the highest ids, down from t = 0)",
            "warmup_s": setting.load.warmup.as_secs_f64(), "window_s": if ctx.quick { 3 } else { 6 },
            "drain_s": setting.load.drain.as_secs_f64(),
            "real_crypto_up_to_n": REAL_CRYPTO_UP_TO, "light_tx_per_s": LIGHT_RATE,
            "light_crashed_up_to_n": LIGHT_CRASHED_UP_TO,
        }),
        rows,
        claims,
        notes: vec![
            format!("Network model: {}", net.describe()),
            "Regions: na-east, na-west, europe, asia, south-america (one-way 1-135 ms, +0-2 ms jitter); node i lives in region i mod 5.".into(),
            "Load: open loop, 512-byte transactions round robin over the running nodes; throughput counts transactions whose commit (at the node they were submitted to) falls in the window; latency is commit minus submission for transactions submitted in the window (dwcp_sim::workload).".into(),
            "Multi-Paxos tolerates crashes only; with f crashed its leader is node 0, which stays up.".into(),
            "Bullshark's leaders follow the reputation schedule (dwcp_bullshark::schedule: nodes without certificates, or whose anchor slots were skipped without a committed anchor, in the last 8 committed anchors are skipped, at most f); with crashes the same run with round-robin leaders is listed as \"Bullshark (round-robin leaders)\".".into(),
            "Throughput ceiling with c crashed: batches leave only the n - c running nodes, each broadcast to n - 1 peers at 90% of 5 MB/s: (n - c) x 4.5 MB/s / ((n - 1) x ~530 B) = 6.6k tx/s at n = 10, c = 3 (Multi-Paxos: 5 MB/s / (9 x ~530 B) = 1.05k at its leader), i.e. at most ~6.3x.".into(),
            "Latency is measured from client submission; under the saturating load it includes the client-side backlog waiting for a batch (the same for Bullshark and Tusk), so the light-load figure is the fair comparison of protocol latency.".into(),
            "Anchor-commit latency (light-load rows only; dwcp_narwhal::harness::AnchorLatency): for every anchor whose header its author proposed in the window, at every running node that committed it, proposal -> commit in ms, and the rounds it spans (anchor round through the highest round in the committing node's DAG, both included; the structural minimum is 2 for Bullshark, 3 for Tusk: the papers' ~50%). The light-load claim stays the 0-crashed transaction-latency ratio; with f crashed the rows are informational.".into(),
            format!("Light load, Bullshark / Tusk: {}", light_ratios.join("; ")),
        ],
        plots: vec![
            Plot {
                stem: "dag-throughput-tps".into(),
                title: "Committed tx/s vs n (no crashes)".into(),
                x_label: "n".into(),
                y_label: "tx/s".into(),
                log: false,
                series: series(|r| r.tx_per_s),
            },
            Plot {
                stem: "dag-throughput-latency".into(),
                title: "Median commit latency vs n (no crashes)".into(),
                x_label: "n".into(),
                y_label: "ms".into(),
                log: false,
                series: series(|r| r.latency_p50_ms),
            },
        ],
    }
}
