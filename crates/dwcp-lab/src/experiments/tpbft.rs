//! `tpbft-throughput` and `reputation-detection`: T-PBFT against PBFT on the
//! same simulator, seeds and offered load, and how fast EigenTrust notices
//! each Byzantine behaviour.

use super::Ctx;
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_core::{Duration, NodeId};
use dwcp_sim::{LatencyModel, NetworkConfig};
use dwcp_tpbft::epochs::{self, EpochReport, Protocol, RunConfig, RunReport, Scenario};
use serde_json::json;

const SCENARIOS: [(Scenario, &str); 4] = [
    (Scenario::NoFaults, "no faults"),
    (Scenario::SilentPrimaries, "f silent primaries"),
    (Scenario::Equivocators, "f equivocators"),
    (Scenario::SlowPrimaries, "f slow primaries"),
];

fn config(n: usize, epochs: u64, scenario: Scenario, protocol: Protocol, seed: u64) -> RunConfig {
    let mut c = RunConfig::new(n, scenario, protocol, seed);
    c.epochs = epochs;
    c
}

/// Real sr25519 signatures and blsttc group keys in full mode (the figures
/// the claims are measured with), the insecure mock in quick mode
/// (signatures do not change counts or simulated times).
fn crypto(mut c: RunConfig, ctx: &Ctx) -> RunConfig {
    c.real_crypto = !ctx.quick;
    c.real_group_crypto = !ctx.quick;
    c
}

/// The primary of an epoch's first view.
fn leader(e: &EpochReport) -> Option<NodeId> {
    let g = e.primary_group.len().max(1) as u64;
    e.primary_group.get((e.epoch % g) as usize).copied()
}

/// Merges several seeds' runs into one report.
fn merged(runs: Vec<RunReport>) -> RunReport {
    RunReport {
        epochs: runs.into_iter().flat_map(|r| r.epochs).collect(),
    }
}

/// PBFT, T-PBFT with everyone voting and T-PBFT with a consensus group of
/// `3f + 1` among `n = 10` members with `f = 2`, silent primaries; one row
/// each, returned in that order.
fn consensus_group(ctx: &Ctx, seeds: &[u64], rows: &mut Vec<serde_json::Value>) -> Vec<RunReport> {
    let (n, f) = (10, 2);
    let seeds = if ctx.quick { &seeds[..1] } else { seeds };
    let variants = [
        (Protocol::Pbft, None, "PBFT"),
        (Protocol::TPbft, None, "T-PBFT, everyone votes"),
        (
            Protocol::TPbft,
            Some(3 * f + 1),
            "T-PBFT, consensus group of 7",
        ),
    ];
    variants
        .into_iter()
        .map(|(protocol, group, name)| {
            let r = merged(
                seeds
                    .iter()
                    .map(|&s| {
                        let mut c = config(n, 3 * n as u64, Scenario::SilentPrimaries, protocol, s);
                        c.f = Some(f);
                        c.consensus_group = group;
                        epochs::run(&crypto(c, ctx))
                    })
                    .collect(),
            );
            rows.push(json!({
                "scenario": "f silent primaries, n = 10, f = 2", "protocol": name, "n": n,
                "decisions": r.decisions(), "decisions_per_s": r.throughput(),
                "view_changes_per_1000": r.view_changes_per_1000(),
                "messages_per_decision": r.messages_per_decision(), "mean_latency_ms": r.mean_latency_ms(),
                "safe": r.safe(),
                "consensus_group_last_epoch": r.epochs.last().map(|e| e.consensus_group.len()),
            }));
            r
        })
        .collect()
}

/// Runs `tpbft-throughput`.
pub fn run_throughput(ctx: &Ctx) -> ExperimentResult {
    let n = 7;
    // Three full rotations of the primary over the committee.
    let epochs = 3 * n as u64;
    let seeds: Vec<u64> = (0..3).map(|k| ctx.seed + k).collect();
    let mut rows = vec![];
    let mut table = vec![];
    for (scenario, label) in SCENARIOS {
        let mut pair = vec![];
        for (protocol, name) in [(Protocol::Pbft, "PBFT"), (Protocol::TPbft, "T-PBFT")] {
            let r = merged(
                seeds
                    .iter()
                    .map(|&s| epochs::run(&crypto(config(n, epochs, scenario, protocol, s), ctx)))
                    .collect(),
            );
            rows.push(json!({
                "scenario": label, "protocol": name, "n": n, "decisions": r.decisions(),
                "decisions_per_s": r.throughput(), "view_changes_per_1000": r.view_changes_per_1000(),
                "messages_per_decision": r.messages_per_decision(), "mean_latency_ms": r.mean_latency_ms(),
                "safe": r.safe(), "epochs": r.epochs.len(), "certified_epochs": r.certified_epochs(),
            }));
            pair.push(r);
        }
        table.push((label, pair));
    }
    // Sensitivity: ten times longer epochs, silent primaries and no faults
    // (one seed in quick mode).
    let long_seeds = if ctx.quick { &seeds[..1] } else { &seeds[..] };
    let mut long = vec![];
    for (scenario, label) in [
        (
            Scenario::SilentPrimaries,
            "f silent primaries, 200 requests per epoch",
        ),
        (Scenario::NoFaults, "no faults, 200 requests per epoch"),
    ] {
        for (protocol, name) in [(Protocol::Pbft, "PBFT"), (Protocol::TPbft, "T-PBFT")] {
            let r = merged(
                long_seeds
                    .iter()
                    .map(|&s| {
                        let mut c = config(n, epochs, scenario, protocol, s);
                        c.per_epoch = 200;
                        epochs::run(&crypto(c, ctx))
                    })
                    .collect(),
            );
            rows.push(json!({
                "scenario": label, "protocol": name, "n": n,
                "decisions": r.decisions(), "decisions_per_s": r.throughput(),
                "view_changes_per_1000": r.view_changes_per_1000(),
                "messages_per_decision": r.messages_per_decision(), "mean_latency_ms": r.mean_latency_ms(),
                "safe": r.safe(),
            }));
            long.push(r);
        }
    }
    let long_gain = 100.0 * (long[1].throughput() / long[0].throughput() - 1.0);
    let long_calm = long[3].throughput() / long[2].throughput();
    let group = consensus_group(ctx, &seeds, &mut rows);
    let get = |label: &str| {
        table
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, p)| p)
            .expect("scenario ran")
    };
    let byz = get("f silent primaries");
    let (pb, tp) = (&byz[0], &byz[1]);
    let gain = 100.0 * (tp.throughput() / pb.throughput() - 1.0);
    let vc_ratio = pb.view_changes() as f64 / tp.view_changes().max(1) as f64;
    let calm = get("no faults");
    let calm_ratio = calm[1].throughput() / calm[0].throughput();
    let eq = get("f equivocators");
    let eq_gain = 100.0 * (eq[1].throughput() / eq[0].throughput() - 1.0);
    let eq_vc_ratio = eq[0].view_changes() as f64 / eq[1].view_changes().max(1) as f64;
    let slow = get("f slow primaries");
    let slow_gain = 100.0 * (slow[1].throughput() / slow[0].throughput() - 1.0);
    let unsafe_runs = table
        .iter()
        .flat_map(|(_, p)| p.iter())
        .chain(long.iter())
        .chain(group.iter())
        .filter(|r| !r.safe())
        .count();
    let uncertified: u64 = table
        .iter()
        .map(|(_, p)| &p[1])
        .map(|r| r.epochs.len() as u64 - r.certified_epochs())
        .sum();
    let claims = vec![
        Claim::new(
            "T-PBFT throughput gain over PBFT, f silent Byzantine primaries",
            gain,
            Op::Ge,
            26.0,
            "%",
            format!(
                "PBFT {:.1} decisions/s, T-PBFT {:.1}",
                pb.throughput(),
                tp.throughput()
            ),
        ),
        Claim::new(
            "view-change reduction (PBFT / T-PBFT), f silent Byzantine primaries",
            vc_ratio,
            Op::Ge,
            5.0,
            "x",
            format!(
                "PBFT {} view changes, T-PBFT {}",
                pb.view_changes(),
                tp.view_changes()
            ),
        ),
        Claim::new(
            "runs violating safety (all scenarios, both protocols)",
            unsafe_runs as f64,
            Op::Le,
            0.0,
            "runs",
            "prefix agreement, no duplicates, validity over honest logs",
        ),
        Claim::new(
            "T-PBFT epochs whose log no follower could learn from a group certificate",
            uncertified as f64,
            Op::Le,
            0.0,
            "epochs",
            "f + 1 honest primary-group members threshold-sign the epoch's log digest (blsttc)",
        ),
        Claim::new(
            "T-PBFT throughput gain over PBFT, f equivocators",
            eq_gain,
            Op::Ge,
            26.0,
            "%",
            format!(
                "PBFT {:.1} decisions/s, T-PBFT {:.1}; view changes PBFT {}, T-PBFT {} ({eq_vc_ratio:.1}x fewer)",
                eq[0].throughput(),
                eq[1].throughput(),
                eq[0].view_changes(),
                eq[1].view_changes()
            ),
        ),
        Claim::new(
            "T-PBFT throughput gain over PBFT, f slow primaries (pre-prepares held 400 ms)",
            slow_gain,
            Op::Ge,
            26.0,
            "%",
            format!(
                "PBFT {:.1} decisions/s, T-PBFT {:.1}; late-proposal charges (f + 1 committed complaints): {}",
                slow[0].throughput(),
                slow[1].throughput(),
                slow[1]
                    .epochs
                    .iter()
                    .map(|e| e.late_charged.len())
                    .sum::<usize>()
            ),
        ),
    ];
    let series = |p: usize| -> Vec<(f64, f64)> {
        table
            .iter()
            .enumerate()
            .map(|(i, (_, pair))| (i as f64, pair[p].throughput()))
            .collect()
    };
    ExperimentResult {
        experiment: "tpbft-throughput".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "n": n, "f": 2, "epochs": epochs, "requests_per_epoch": 20, "request_interval_ms": 2,
            "max_batch": 1, "seeds": seeds, "long_epoch_seeds": long_seeds, "network": NetworkConfig::fixed(Duration::from_millis(10)).describe(),
            "byzantine": "nodes 0..f",
        }),
        rows,
        claims,
        notes: vec![
            "Both protocols run the same epoch loop on the same simulator, seeds and offered load: each epoch is a fresh dwcp-pbft engine fed 20 requests (2 ms apart, one request per batch). PBFT keeps equal trust, so its first primary rotates by one every epoch and the f Byzantine nodes (0..f) become primary in turn; T-PBFT re-elects its groups from EigenTrust scores computed from committed data only: the signed attestations (what each replica saw of the others) that close every epoch, and the committed late-proposal complaints.".into(),
            "The gain in the Byzantine-primary scenario depends on how much of an epoch a view change costs (500 ms initial timeout against ~100 ms of work per epoch here); with longer epochs the relative gain shrinks, the view-change reduction does not.".into(),
            format!("With 200 requests per epoch (ten times longer epochs) the silent-primary gain is {long_gain:.1}% (rows tagged '200 requests per epoch')."),
            format!(
                "Consensus group (rows tagged 'n = 10, f = 2'): with n = 10 members of which at most f = 2 are Byzantine, T-PBFT can let only the 3f + 1 = 7 most trusted vote; the others follow, deciding from the pre-prepare plus a quorum of the voters' commit votes (a commit certificate). Silent primaries: messages per decision PBFT {:.1}, T-PBFT with everyone voting {:.1}, T-PBFT with a group of 7 {:.1}; decisions/s {:.1} / {:.1} / {:.1}. Epochs start with equal trust (everyone votes) until trust tells members apart.",
                group[0].messages_per_decision(), group[1].messages_per_decision(), group[2].messages_per_decision(),
                group[0].throughput(), group[1].throughput(), group[2].throughput()
            ),
            format!(
                "No faults (reported, not a claim): T-PBFT / PBFT throughput {calm_ratio:.2} with 20-request epochs ({:.1} vs {:.1} decisions/s), {long_calm:.2} with 200-request epochs. With equal trust T-PBFT makes exactly PBFT's decisions (round-robin primaries, ceil((n+f+1)/2) quorums); the difference is the cost of computing trust from committed data only: every epoch closes with the replicas' signed attestations (dwcp_tpbft::attest) ordered like requests, one more consensus round per epoch (about 45 ms against ~90 ms of work in a 20-request epoch), which PBFT, keeping equal trust, does not need.",
                calm[0].throughput(),
                calm[1].throughput()
            ),
            "Equivocating primaries (conflicting, validly signed pre-prepares to the two halves of the committee) are caught by evidence: view-changes relay the signed pre-prepare each replica voted for (dwcp-pbft's Policy::report_own_votes, on in T-PBFT), so both versions meet in the next new-view; the new primary and every replica checking it emit Fault::Equivocation, which marks the primary Byzantine for good (trust 0) and keeps it out of the primary group from the next epoch on. PBFT runs the same engine and sees the same evidence but has no re-election, so its equivocating primaries keep costing view changes.".into(),
            "Once trust singles out a primary group (from the second epoch of a faulty scenario on), T-PBFT's pre-prepares are group-signed: backups prepare only after f + 1 primary-group members' blsttc shares on the proposal combine into a threshold signature (one more message delay per decision: about 111 ms instead of 91 ms for an epoch's 20 decisions here). The full run uses real blsttc keys for these (and real sr25519 signatures); quick mode uses dwcp-crypto's insecure mock keys, which change no count or simulated time here.".into(),
            "Slow primaries hold each pre-prepare for 4/5 of the 500 ms request timeout: their views never time out and certificates hold no proposal times. T-PBFT makes timeliness committed data (dwcp_tpbft::timeliness): each honest replica measures, with its own clock, how long the primary took to propose the requests it received (from receipt, the view's start or the window's reopening), signs a late-proposal complaint above half the request timeout and submits it as an ordinary request; the ledger charges the primary (-10) only when f + 1 distinct replicas' valid complaints about the same view are committed, so f Byzantine replicas cannot frame an honest primary. Complaints are submitted when the epoch closes, with the replicas' attestations (again at the start of the next epoch if not committed by then), so a slow primary is charged before the next election; the closing round of an epoch led by a slow primary is itself slow (400 ms per proposal). They are ordered like requests (a few log slots per slow epoch), and PBFT runs without them.".into(),
        ],
        plots: vec![Plot {
            stem: "tpbft-throughput".into(),
            title: "Decisions/s by scenario (0 no faults, 1 silent, 2 equivocating, 3 slow primaries)".into(),
            x_label: "scenario".into(),
            y_label: "decisions / s".into(),
            log: false,
            series: vec![("PBFT".into(), series(0)), ("T-PBFT".into(), series(1))],
        }],
    }
}

/// Runs `reputation-detection`.
pub fn run_detection(ctx: &Ctx) -> ExperimentResult {
    let n = 7;
    let f = 2;
    let epochs = if ctx.quick { 8 } else { 16 };
    let seeds: Vec<u64> = if ctx.quick {
        vec![ctx.seed, ctx.seed + 1]
    } else {
        (0..6).map(|k| ctx.seed + k).collect()
    };
    // The group threshold: half the average trust.
    let tau = 0.5 / n as f64;
    let lossy = NetworkConfig {
        latency: LatencyModel::Uniform {
            min: Duration::from_millis(1),
            max: Duration::from_millis(50),
        },
        loss: 0.05,
        ..NetworkConfig::default()
    };
    let networks = [
        (
            "fixed 10 ms, no loss",
            NetworkConfig::fixed(Duration::from_millis(10)),
        ),
        ("1-50 ms, 5% loss", lossy),
    ];
    let behaviours = [
        (Scenario::SilentPrimaries, "silent"),
        (Scenario::Equivocators, "equivocating"),
        (Scenario::InvalidSignatures, "invalid signatures (50%)"),
        (Scenario::SlowPrimaries, "slow primary (400 ms)"),
        (Scenario::NoFaults, "none"),
    ];
    let mut rows = vec![];
    let mut worst_detect: f64 = 0.0;
    let mut undetected = 0u64;
    let mut undetected_eq = 0u64;
    let mut undetected_slow = 0u64;
    let mut slow_never_led = 0u64;
    let mut slow_worst: f64 = 0.0;
    let mut eq_marked = 0u64;
    let mut fp_epochs = 0u64;
    let mut honest_epochs = 0u64;
    for (net_label, net) in &networks {
        for (scenario, label) in behaviours {
            let mut detect = vec![];
            let (mut fp, mut total) = (0u64, 0u64);
            let (mut byz_below, mut byz_total) = (0u64, 0u64);
            for &seed in &seeds {
                let mut c = config(n, epochs, scenario, Protocol::TPbft, seed);
                c.network = net.clone();
                let r = epochs::run(&crypto(c, ctx));
                if scenario != Scenario::NoFaults {
                    for b in 0..f as u32 {
                        byz_below += r.epochs_below(NodeId(b), tau);
                        byz_total += r.epochs.len() as u64;
                        let marked = r
                            .epochs
                            .last()
                            .is_some_and(|e| e.marked.contains(&NodeId(b)));
                        if scenario == Scenario::Equivocators && marked {
                            eq_marked += 1;
                        }
                        if scenario == Scenario::SlowPrimaries {
                            // A slow node can only be caught once it leads:
                            // count from its first epoch as primary.
                            let led = r.epochs.iter().position(|e| leader(e) == Some(NodeId(b)));
                            let caught = led.and_then(|l| {
                                r.epochs[l..]
                                    .iter()
                                    .position(|e| e.trust.get(b as usize).is_some_and(|t| *t < tau))
                            });
                            match (led, caught) {
                                (None, _) => slow_never_led += 1,
                                (Some(_), Some(k)) => {
                                    detect.push((k + 1) as f64);
                                    slow_worst = slow_worst.max((k + 1) as f64);
                                }
                                (Some(_), None) => undetected_slow += 1,
                            }
                            continue;
                        }
                        match r.detected_after(NodeId(b), tau) {
                            // Epoch e closes after e + 1 rounds of observations.
                            Some(e) => detect.push((e + 1) as f64),
                            None if scenario == Scenario::Equivocators => undetected_eq += 1,
                            None => undetected += 1,
                        }
                    }
                }
                let first_honest = if scenario == Scenario::NoFaults {
                    0
                } else {
                    f as u32
                };
                for h in first_honest..n as u32 {
                    fp += r.epochs_below(NodeId(h), tau);
                    total += r.epochs.len() as u64;
                }
            }
            let mean = if detect.is_empty() {
                f64::NAN
            } else {
                detect.iter().sum::<f64>() / detect.len() as f64
            };
            let max = detect.iter().copied().fold(0.0, f64::max);
            // Slow primaries are counted from their first epoch as primary
            // (their own claims below).
            if scenario != Scenario::SlowPrimaries {
                worst_detect = worst_detect.max(max);
            }
            fp_epochs += fp;
            honest_epochs += total;
            rows.push(json!({
                "network": net_label, "behaviour": label, "byzantine_detected": detect.len(),
                "mean_epochs_to_detect": mean, "max_epochs_to_detect": max,
                "honest_false_positive_epochs": fp, "honest_epochs": total,
                "byzantine_epochs_below": byz_below, "byzantine_epochs": byz_total,
            }));
        }
    }
    let fp_rate = fp_epochs as f64 / honest_epochs.max(1) as f64;
    ExperimentResult {
        experiment: "reputation-detection".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({"n": n, "f": f, "epochs": epochs, "seeds": seeds, "group_threshold": "trust < 0.5/n", "requests_per_epoch": 20}),
        rows,
        claims: vec![
            Claim::new("silent and invalid-signature nodes never detected", undetected as f64, Op::Le, 0.0, "nodes", "both networks, every seed"),
            Claim::new("equivocating nodes never detected", undetected_eq as f64, Op::Le, 0.0, "nodes", format!("both networks, every seed; {eq_marked} of {} marked Byzantine by verified evidence", 2 * f * seeds.len())),
            Claim::new("slow primaries that led an epoch but were never detected", undetected_slow as f64, Op::Le, 0.0, "nodes", format!("both networks, every seed; pre-prepares held 4/5 of the request timeout; {slow_never_led} of {} slow nodes were never primary of an epoch (the trust-elected rotation did not reach them) and are not counted", 2 * f * seeds.len())),
            Claim::new("worst epochs from a slow primary's first epoch as leader until trust < group threshold", slow_worst, Op::Le, 3.0, "epochs", "late-proposal complaints of f + 1 replicas, committed in the log"),
            Claim::new("worst epochs until trust < group threshold", worst_detect, Op::Le, 3.0, "epochs", "silent, equivocating and invalid-signature nodes; an epoch is 20 decisions"),
            Claim::new("honest false-positive rate (epochs below threshold)", fp_rate, Op::Le, 0.05, "fraction", format!("{fp_epochs} of {honest_epochs} honest node-epochs")),
        ],
        notes: vec![
            "Detection is the first epoch after which the node's EigenTrust score is below half the average trust; byzantine_epochs_below gives how long it stays there (decay lets trust recover when misbehaviour stops being observed). Observations come from committed data: views left without any honest prepared certificate charge their primary a missed deadline, stable-checkpoint signers earn a timely vote, evidence of invalid signatures counts against the sender, verified conflicting signed statements mark a node Byzantine for good.".into(),
            "A silent node is only charged when it is primary of a view that fails, so detection time depends on when it first leads. An equivocating primary is caught once its conflicting pre-prepares meet in a new-view (relayed in view-changes) and is then marked Byzantine for good. Slow primaries are caught by committed late-proposal complaints of f + 1 distinct replicas (see the tpbft-throughput notes); their detection time is counted from their first epoch as primary of view 0 (a slow node never elected to lead cannot be caught, nor does it slow anything down).".into(),
        ],
        plots: vec![],
    }
}
