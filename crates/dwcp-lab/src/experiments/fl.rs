//! `fl-digits`, `fl-robust`, `fl-tcs` and `fl-snap`: federated learning on the sklearn
//! digits set (or the user's CSV via `--data`). The protocol logic lives in
//! `dwcp_federated::experiments`; this file fixes the pre-registered
//! parameters, formats rows and checks claims.
//!
//! Pre-registered protocols (fixed before any result was looked at):
//! - `fl-digits`: stratified 80/20 split, 10 clients with Dirichlet(0.5)
//!   label skew (≥ 20 rows each), MLP 64-64-10, E = 2, batch 32, SGD lr 0.1,
//!   300 rounds, seeds `seed..seed+5` (quick: 2 seeds), test accuracy after
//!   every round. Dense fp32 FedAvg vs top-0.5% + 4-bit values + error
//!   feedback in both directions (research notes §4). Bytes are the exact
//!   encoded message sizes, uplink + downlink (per recipient).
//! - `fl-robust`: the same federation with dense updates, the last 2 of 10
//!   clients Byzantine (sign flip −Δ, scaling ×10, Gaussian σ = 1, ALIE),
//!   rules FedAvg, Krum (f = 2), Multi-Krum (f = 2, m = 8), median, trimmed
//!   mean (2 per side), FLTrust (100 root samples from the training split);
//!   200 rounds, 3 seeds (quick: 100 rounds, 1 seed). Clean accuracy =
//!   FedAvg without attack.
//! - `fl-tcs`: 20 clients (Dirichlet(0.5), ≥ 20 rows), 8 per round, cell
//!   radius 500 m, dense FedAvg, 300 rounds, 3 seeds (quick: 1 seed);
//!   TCS-FEEL-style selection (pool 2m, μ = 0.5, ≤ 3 children per relay) vs
//!   uniform sampling with direct uplink.
//! - `fl-snap`: 10 peers (Dirichlet(0.5)) on a ring with 2 neighbours per
//!   side, Metropolis–Hastings mixing, E = 2, threshold τ = 0.01 (τ = 0.003
//!   and 0.03 as declared sensitivity rows), 300 rounds, vs a TernGrad
//!   parameter server (batch 32, lr 0.1, 3,000 iterations), target 95%, 3
//!   seeds (quick: 1 seed, τ = 0.01, 150 rounds / 1,500 iterations). Claim:
//!   SNAP's bytes to 95% ≥ 99.6% below TernGrad's (the paper's figure).
//!
//! Added after the first results and labelled post-hoc in rows and notes:
//! the `fl-tcs` rows with μ = 0 and with the staleness bonus, and the
//! `fl-snap` row with fastest-mixing weights
//! (`snap(tau=0.01,mixing=fmmc,post-hoc)`). The claim rows stay the
//! pre-registered ones.

use super::Ctx;
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_federated::bench::{RunResult, Setup};
use dwcp_federated::data::{self, Dataset};
use dwcp_federated::experiments::{self, TcsSetup};
use serde_json::json;

fn dataset(ctx: &Ctx) -> Result<(Dataset, String), String> {
    match &ctx.data {
        Some(p) => data::load_csv(p)
            .map(|mut d| {
                let by = d.scale_to_unit();
                (d, format!("{}, features / {by}", p.display()))
            })
            .map_err(|e| format!("{}: {e}", p.display())),
        None => Ok((
            data::digits(),
            "sklearn digits (vendored), features / 16".into(),
        )),
    }
}

fn failed(name: &str, quick: bool, seed: u64, err: String) -> ExperimentResult {
    ExperimentResult {
        experiment: name.into(),
        quick,
        seed,
        params: json!({"error": err}),
        rows: vec![],
        claims: vec![Claim::new("experiment ran", 0.0, Op::Ge, 1.0, "", err)],
        notes: vec![],
        plots: vec![],
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

fn digits_rows(runs: &[RunResult]) -> Vec<serde_json::Value> {
    runs.iter()
        .map(|r| {
            json!({
                "method": r.method, "seed": r.seed,
                "final_accuracy_pct": 100.0 * r.final_accuracy,
                "bytes_up": r.traffic.up, "bytes_down": r.traffic.down,
                "bytes_total": r.traffic.total(),
                "round_to_96": r.reached.map(|x| x.0),
                "bytes_to_96": r.reached.map(|x| x.1),
            })
        })
        .collect()
}

/// Runs `fl-digits`.
pub fn run_digits(ctx: &Ctx) -> ExperimentResult {
    let name = "fl-digits";
    let (data, source) = match dataset(ctx) {
        Ok(d) => d,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let setup = Setup::digits();
    let seeds: Vec<u64> = (0..if ctx.quick { 2 } else { 5 })
        .map(|k| ctx.seed + k)
        .collect();
    let (dense, comp) = match experiments::digits(&data, &setup, &seeds) {
        Ok(x) => x,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let mut rows = digits_rows(&dense);
    rows.extend(digits_rows(&comp));
    let acc = |v: &[RunResult]| {
        v.iter()
            .map(|r| 100.0 * r.final_accuracy)
            .collect::<Vec<_>>()
    };
    let (da, ca) = (acc(&dense), acc(&comp));
    let tot = |v: &[RunResult]| {
        mean(
            &v.iter()
                .map(|r| r.traffic.total() as f64)
                .collect::<Vec<_>>(),
        )
    };
    let reduction = 100.0 * (1.0 - tot(&comp) / tot(&dense));
    let to96: Vec<f64> = dense
        .iter()
        .zip(&comp)
        .filter_map(|(d, c)| Some(100.0 * (1.0 - c.reached?.1 as f64 / d.reached?.1 as f64)))
        .collect();
    let both = to96.len();
    let min_c = ca.iter().copied().fold(f64::INFINITY, f64::min);
    let claims = vec![
        Claim::new(
            "compressed (top-0.5%, 4-bit, EF both ways) mean final test accuracy",
            mean(&ca),
            Op::Ge,
            96.0,
            "%",
            format!(
                "dense FedAvg {:.2}±{:.2}% (compressed ±{:.2}, min {:.2}), {} seeds",
                mean(&da),
                sd(&da),
                sd(&ca),
                min_c,
                seeds.len()
            ),
        ),
        Claim::new(
            "total bytes (up+down, fixed 300-round budget) saved vs dense FedAvg",
            reduction,
            Op::Ge,
            99.6,
            "%",
            format!(
                "dense {:.1} MB, compressed {:.3} MB per run",
                tot(&dense) / 1e6,
                tot(&comp) / 1e6
            ),
        ),
        Claim::new(
            "bytes to first reach 96% saved vs dense FedAvg (mean over seeds where both reach it)",
            if both == 0 { f64::NAN } else { mean(&to96) },
            Op::Ge,
            99.0,
            "%",
            format!(
                "{both} of {} seeds reach 96% with both methods",
                seeds.len()
            ),
        ),
    ];
    let series = |runs: &[RunResult], label: &str| {
        (
            format!("{label} (seed {})", runs.first().map_or(0, |r| r.seed)),
            runs.first()
                .map(|r| {
                    r.curve
                        .iter()
                        .map(|&(_, b, a)| ((b as f64).max(1.0).log10(), 100.0 * a))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    ExperimentResult {
        experiment: name.into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "data": source, "clients": setup.clients, "alpha": setup.alpha, "min_per_client": setup.min_per_client,
            "test_fraction": setup.test_fraction, "model": "MLP in-64-out, ReLU", "local": "E=2, batch 32, SGD lr 0.1",
            "rounds": setup.rounds, "seeds": seeds, "compressed": "top-0.5% + 4-bit values + error feedback, uplink and downlink",
            "evaluation": "test accuracy after every round",
        }),
        rows,
        claims,
        notes: vec![
            "Bytes are exact encoded message sizes (bincode envelope + compact update encoding), uplink plus downlink counted once per recipient, over the fixed 300-round budget. Dense FedAvg sends the full fp32 model down and the full fp32 delta up every round.".into(),
            format!(
                "Bytes-to-96% reduction per seed (where both methods reach 96%): {}.",
                to96.iter().map(|x| format!("{x:.2}%")).collect::<Vec<_>>().join(", ")
            ),
        ],
        plots: vec![Plot {
            stem: "fl-digits-accuracy-vs-bytes".into(),
            title: "fl-digits: test accuracy vs cumulative bytes (up+down)".into(),
            x_label: "log10 cumulative bytes".into(),
            y_label: "test accuracy (%)".into(),
            log: false,
            series: vec![series(&dense, "dense FedAvg"), series(&comp, "top-0.5% 4-bit EF")],
        }],
    }
}

/// Runs `fl-robust`.
pub fn run_robust(ctx: &Ctx) -> ExperimentResult {
    let name = "fl-robust";
    let (data, source) = match dataset(ctx) {
        Ok(d) => d,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let mut setup = Setup::digits();
    setup.rounds = if ctx.quick { 100 } else { 200 };
    let f = 2;
    let seeds: Vec<u64> = (0..if ctx.quick { 1 } else { 3 })
        .map(|k| ctx.seed + k)
        .collect();
    let rows = match experiments::robust(&data, &setup, f, &seeds) {
        Ok(r) => r,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let acc = |attack: &str, rule: &str| {
        100.0
            * mean(
                &rows
                    .iter()
                    .filter(|r| r.attack == attack && r.rule == rule)
                    .map(|r| r.accuracy)
                    .collect::<Vec<_>>(),
            )
    };
    let clean = acc("none", "fedavg");
    let rules: Vec<&str> = experiments::robust_rules(setup.clients, f)
        .iter()
        .map(|r| r.name())
        .collect();
    let attacks: Vec<&str> = experiments::robust_attacks(setup.clients, f)
        .iter()
        .map(|a| a.name())
        .collect();
    let mut table = vec![];
    let mut worst_gap = f64::INFINITY;
    let mut worst = String::new();
    for attack in std::iter::once("none").chain(attacks.iter().copied()) {
        let mut row = serde_json::Map::new();
        row.insert("attack".into(), json!(attack));
        let mut best = (f64::NEG_INFINITY, "");
        for rule in &rules {
            let a = acc(attack, rule);
            row.insert(format!("{rule}_pct"), json!(a));
            if *rule != "fedavg" && a > best.0 {
                best = (a, rule);
            }
        }
        row.insert("best_robust_rule".into(), json!(best.1));
        table.push(serde_json::Value::Object(row));
        if attack != "none" && best.0 - clean < worst_gap {
            worst_gap = best.0 - clean;
            worst = format!("{attack}: best {} {:.2}%", best.1, best.0);
        }
    }
    ExperimentResult {
        experiment: name.into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "data": source, "clients": setup.clients, "byzantine": f, "alpha": setup.alpha,
            "rounds": setup.rounds, "seeds": seeds, "updates": "dense fp32 both ways",
            "attacks": "sign flip (-delta), scaling (x10), gaussian (sigma 1), ALIE (z from n, f)",
            "rules": "fedavg, krum f=2, multi-krum f=2 m=8, median, trimmed mean 2/side, fltrust (100 root samples)",
        }),
        rows: table,
        claims: vec![Claim::new(
            "best robust rule minus clean FedAvg accuracy, worst attack",
            worst_gap,
            Op::Ge,
            -2.0,
            "points",
            format!("clean FedAvg {clean:.2}%; worst case {worst}"),
        )],
        notes: vec![format!(
            "Accuracy (%) is the mean final test accuracy over {} seed(s); the last {f} of {} clients are Byzantine and the attacker is omniscient for ALIE (it sees the round's honest updates).",
            seeds.len(),
            setup.clients
        )],
        plots: vec![],
    }
}

/// Runs `fl-tcs`.
pub fn run_tcs(ctx: &Ctx) -> ExperimentResult {
    let name = "fl-tcs";
    let (data, source) = match dataset(ctx) {
        Ok(d) => d,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let mut setup = Setup::digits();
    setup.clients = 20;
    let t = TcsSetup {
        setup,
        per_round: 8,
        radius_m: 500.0,
        // 0.5 is the pre-registered rule; 0 (data similarity only) was added
        // after the first results as a labelled sensitivity row.
        time_weights: vec![0.5, 0.0],
        // Post-hoc (after the coverage analysis): the pre-registered rule
        // with a staleness bonus, labelled as such.
        staleness_variants: vec![(0.5, 1.0)],
    };
    let pre = experiments::tcs_policy_name(0.5);
    let seeds: Vec<u64> = (0..if ctx.quick { 1 } else { 3 })
        .map(|k| ctx.seed + k)
        .collect();
    let rows = match experiments::tcs(&data, &t, &seeds) {
        Ok(r) => r,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let rounds_cap = t.setup.rounds as f64;
    let pick = |p: &str, f: &dyn Fn(&experiments::TcsRow) -> f64| {
        mean(
            &rows
                .iter()
                .filter(|r| r.policy == p)
                .map(f)
                .collect::<Vec<_>>(),
        )
    };
    let r_to = |r: &experiments::TcsRow| r.rounds_to_target.map_or(rounds_cap + 1.0, |x| x as f64);
    let (rt_tcs, rt_uni) = (pick(&pre, &r_to), pick("uniform", &r_to));
    let rt_post = pick(&experiments::tcs_policy_name(0.0), &r_to);
    let rt_stale = pick(&experiments::tcs_variant_name(0.5, 1.0), &r_to);
    let never_pre = pick(&pre, &|r| r.never_selected as f64);
    let (s_tcs, s_uni) = (
        pick(&pre, &|r| r.mean_round_s),
        pick("uniform", &|r| r.mean_round_s),
    );
    let json_rows = rows
        .iter()
        .map(|r| {
            json!({
                "policy": r.policy, "seed": r.seed, "rounds_to_96": r.rounds_to_target,
                "mean_round_s": r.mean_round_s, "time_to_96_s": r.time_to_target_s,
                "final_accuracy_pct": 100.0 * r.final_accuracy, "relayed_per_round": r.relayed_per_round,
                "never_selected": r.never_selected,
            })
        })
        .collect();
    ExperimentResult {
        experiment: name.into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "data": source, "clients": t.setup.clients, "per_round": t.per_round, "alpha": t.setup.alpha,
            "rounds": t.setup.rounds, "seeds": seeds, "radius_m": t.radius_m, "time_weights": t.time_weights,
            "pre_registered_policy": pre,
            "radio": "10 MHz BS uplink shared by direct uploaders, 5 MHz D2D, 150 m D2D range, 23 dBm, -174 dBm/Hz, 3GPP macro path loss",
        }),
        rows: json_rows,
        claims: vec![
            Claim::new(
                "TCS-FEEL-style (mu=0.5) mean rounds to 96% (a run that never reaches it counts as rounds+1)",
                rt_tcs,
                Op::Le,
                rt_uni,
                "rounds",
                format!("uniform sampling {rt_uni:.1} rounds; post-hoc mu=0 variant {rt_post:.1}; post-hoc staleness variant (mu=0.5, beta=1) {rt_stale:.1}"),
            ),
            Claim::new(
                "TCS-FEEL-style (mu=0.5) mean simulated seconds per round",
                s_tcs,
                Op::Le,
                s_uni,
                "s",
                format!("uniform sampling, direct uplink {s_uni:.3} s"),
            ),
        ],
        notes: vec![
            "The selection rule is this crate's own instantiation of TCS-FEEL's verified description (data similarity, user distribution and D2D links; randomised sampling plus a relay tree); the paper's exact rule is not verified. See dwcp_federated::tcs.".into(),
            format!("Coverage: the pre-registered rule never selects {never_pre:.1} of {} clients on average over the run (column never_selected): its random pool is 2m = 16 of 20, so the deterministic greedy (label-balance + time term, which charges compute proportional to shard size) keeps excluding the same clients, the largest shards among them; their data never trains. The staleness variant (post-hoc, beta = 1: a client loses 1 from its score per n/m rounds it waits) restores coverage and recovers part of the gap.", t.setup.clients),
        ],
        plots: vec![],
    }
}

/// Runs `fl-snap`.
pub fn run_snap(ctx: &Ctx) -> ExperimentResult {
    let name = "fl-snap";
    let (data, source) = match dataset(ctx) {
        Ok(d) => d,
        Err(e) => return failed(name, ctx.quick, ctx.seed, e),
    };
    let mut setup = Setup::digits();
    setup.target = 0.95;
    let t = experiments::SnapSetup {
        setup,
        ring_k: 2,
        // 0.01 is the pre-registered threshold; 0.003 and 0.03 are the
        // sensitivity rows declared with it.
        taus: if ctx.quick {
            vec![0.01]
        } else {
            vec![0.003, 0.01, 0.03]
        },
        // Post-hoc (added after the pre-registered results): the same SNAP
        // with the fastest-mixing weights optimised from the topology.
        fmmc_taus: vec![0.01],
        // Post-hoc, full mode only: topology-degree sensitivity (1 and 3
        // neighbours per side) and plain D-PSGD (dense sends), as the
        // research notes' measurement plan asks for.
        degree_variants: if ctx.quick {
            vec![]
        } else {
            vec![(1, 0.01), (3, 0.01)]
        },
        dpsgd: !ctx.quick,
        rounds: if ctx.quick { 150 } else { 300 },
        terngrad: (if ctx.quick { 1500 } else { 3000 }, 32, 0.1),
    };
    let seeds: Vec<u64> = (0..if ctx.quick { 1 } else { 3 })
        .map(|k| ctx.seed + k)
        .collect();
    let rows = experiments::snap(&data, &t, &seeds);
    let pick = |m: &str| rows.iter().filter(|r| r.method == m).collect::<Vec<_>>();
    let (sn, tg) = (pick(&experiments::snap_name(0.01)), pick("terngrad"));
    let fm = pick(&experiments::snap_fmmc_name(0.01));
    let reduction = |s: &[&experiments::SnapRow]| -> Vec<f64> {
        s.iter()
            .zip(&tg)
            .filter_map(|(s, g)| Some(100.0 * (1.0 - s.reached?.1 as f64 / g.reached?.1 as f64)))
            .collect()
    };
    let (red, red_fm) = (reduction(&sn), reduction(&fm));
    // Post-hoc sensitivity rows (full mode): mean bytes to 95% per method.
    let to95 = |m: &str| {
        let r = pick(m);
        let got: Vec<f64> = r
            .iter()
            .filter_map(|x| x.reached.map(|y| y.1 as f64 / 1e6))
            .collect();
        format!(
            "{:.2} MB ({} of {} seeds reach 95%)",
            mean(&got),
            got.len(),
            r.len()
        )
    };
    let sensitivity: Vec<String> = t
        .degree_variants
        .iter()
        .map(|&(k, tau)| {
            format!(
                "ring with {k} neighbour(s) per side, tau={tau}: {}",
                to95(&experiments::snap_degree_name(tau, k))
            )
        })
        .chain(t.dpsgd.then(|| {
            format!(
                "plain D-PSGD (dense sends): {}",
                to95(experiments::DPSGD_NAME)
            )
        }))
        .collect();
    let adj = dwcp_federated::snap::ring(t.setup.clients, t.ring_k);
    let gap_mh = dwcp_federated::mixing::spectral_gap(&dwcp_federated::mixing::metropolis(&adj));
    let gap_fm = dwcp_federated::mixing::spectral_gap(&dwcp_federated::mixing::fastest_mixing(
        &adj,
        experiments::FMMC_ITERATIONS,
    ));
    // What 99.6% less than TernGrad would leave SNAP: the budget per seed,
    // spread over the fewest rounds any SNAP row on the registered graph
    // needed to reach 95%.
    let dim = dwcp_federated::model::ModelSpec {
        sizes: std::iter::once(data.dim)
            .chain(t.setup.hidden.iter().copied())
            .chain([data.classes])
            .collect(),
        seed: ctx.seed,
    }
    .num_params();
    let links = adj.iter().map(Vec::len).sum::<usize>();
    let full = dwcp_federated::snap::message_bytes(dim, dim);
    let header = dwcp_federated::snap::message_bytes(dim, 0);
    let per_coord = dwcp_federated::snap::message_bytes(dim, 1) - header;
    let budget: Vec<String> = seeds
        .iter()
        .filter_map(|&seed| {
            let g = tg.iter().find(|r| r.seed == seed)?.reached?.1;
            let fastest = rows
                .iter()
                .filter(|r| {
                    r.seed == seed && r.method.starts_with("snap") && !r.method.contains("ring_k")
                })
                .filter_map(|r| r.reached.map(|x| x.0))
                .min()?;
            let allowed = 0.004 * g as f64;
            let per_msg = allowed / (fastest as f64 * links as f64);
            Some(format!(
                "seed {seed}: TernGrad {:.2} MB to 95% -> SNAP may spend {:.1} KB; over the {fastest} rounds SNAP needs at best, {links} messages per round, that is {per_msg:.1} B per message = {:.2} changed coordinates after the {header}-byte header ({:.3}% of the model)",
                g as f64 / 1e6,
                allowed / 1e3,
                ((per_msg - header as f64) / per_coord as f64).max(0.0),
                100.0 * ((per_msg - header as f64) / per_coord as f64).max(0.0) / dim as f64,
            ))
        })
        .collect();
    let reached = |v: &[&experiments::SnapRow]| v.iter().filter(|r| r.reached.is_some()).count();
    let json_rows = rows
        .iter()
        .map(|r| {
            json!({
                "method": r.method, "seed": r.seed, "steps": r.steps,
                "final_accuracy_pct": 100.0 * r.final_accuracy, "total_bytes": r.bytes,
                "step_to_95": r.reached.map(|x| x.0), "bytes_to_95": r.reached.map(|x| x.1),
            })
        })
        .collect();
    ExperimentResult {
        experiment: name.into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({
            "data": source, "peers": t.setup.clients, "alpha": t.setup.alpha, "graph": "ring, 2 neighbours per side (degree 4)",
            "mixing": "Metropolis-Hastings (doubly stochastic); post-hoc rows: fastest-mixing (projected subgradient)",
            "spectral_gap_mh": gap_mh, "spectral_gap_fmmc": gap_fm, "fmmc_taus": t.fmmc_taus, "budget_for_99_6_pct": &budget, "snap_local": "E=2, batch 32, SGD lr 0.1",
            "taus": t.taus, "snap_rounds": t.rounds, "terngrad": "batch 32 per worker, lr 0.1, ternary both ways",
            "terngrad_iterations": t.terngrad.0, "target_pct": 95, "seeds": seeds,
        }),
        rows: json_rows,
        claims: vec![Claim::new(
            "SNAP (tau=0.01) bytes to 95% saved vs TernGrad parameter server (mean over seeds where both reach it)",
            if red.is_empty() { f64::NAN } else { mean(&red) },
            Op::Ge,
            99.6,
            "%",
            format!(
                "SNAP reaches 95% in {} of {} seeds, TernGrad in {}",
                reached(&sn),
                sn.len(),
                reached(&tg)
            ),
        )],
        notes: vec![
            "SNAP and TernGrad run as synchronous simulations (dwcp_federated::snap), not through the round engines. Bytes are exact dwcp-quantization payload sizes per recipient: SNAP peer-to-peer (each changed-coordinate message to every neighbour), TernGrad uplink plus ternary broadcast to every worker. SNAP accuracy is the mean over the peers' models.".into(),
            format!(
                "Post-hoc (added after the pre-registered results; the claim row stays Metropolis-Hastings): fastest-mixing weights optimised from the ring (dwcp_federated::mixing::fastest_mixing, spectral gap {gap_fm:.3} vs Metropolis-Hastings {gap_mh:.3}). Bytes to 95% saved vs TernGrad with them: {} (Metropolis-Hastings: {}).",
                if red_fm.is_empty() { "never reached".into() } else { format!("{:.1}%", mean(&red_fm)) },
                if red.is_empty() { "never reached".into() } else { format!("{:.1}%", mean(&red)) },
            ),
            if sensitivity.is_empty() {
                "Degree sensitivity and the plain D-PSGD baseline run in full mode only.".into()
            } else {
                format!(
                    "Post-hoc sensitivity (full mode; registered graph: 2 neighbours per side, tau=0.01: {}): {}.",
                    to95(&experiments::snap_name(0.01)),
                    sensitivity.join("; ")
                )
            },
            format!(
                "What 99.6% less would take (one full model = {dim} fp32 parameters, {full} B as one message; a dense exchange of all peers = {links} x {full} B = {:.2} MB; each changed coordinate costs {per_coord} B): {}. Faster mixing cannot close that gap: SNAP needs tens of rounds of local training to reach 95%, and every round a peer whose model moved has to send its changed coordinates to each neighbour.",
                (links * full) as f64 / 1e6,
                budget.join("; ")
            ),
        ],
        plots: vec![Plot {
            stem: "fl-snap-accuracy-vs-bytes".into(),
            title: format!("fl-snap: accuracy vs cumulative bytes (seed {})", ctx.seed),
            x_label: "log10 cumulative bytes".into(),
            y_label: "test accuracy (%)".into(),
            log: false,
            series: [
                (experiments::snap_name(0.01), "SNAP tau=0.01, Metropolis-Hastings"),
                (
                    experiments::snap_fmmc_name(0.01),
                    "SNAP tau=0.01, fastest mixing (post-hoc)",
                ),
                ("terngrad".to_string(), "TernGrad parameter server"),
            ]
            .into_iter()
            .filter_map(|(method, label)| {
                let r = rows
                    .iter()
                    .find(|r| r.method == method && r.seed == ctx.seed)?;
                Some((
                    label.to_string(),
                    r.curve
                        .iter()
                        .map(|&(_, b, a)| ((b as f64).max(1.0).log10(), 100.0 * a))
                        .collect(),
                ))
            })
            .collect(),
        }],
    }
}
