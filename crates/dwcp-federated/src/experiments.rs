//! The pre-registered experiments behind the lab's `fl-*` reports. Each
//! returns plain rows; the lab formats them, draws plots and checks claims.

use crate::aggregate::Rule;
use crate::bench::{Method, RunResult, Setup, build, drive, run};
use crate::data::Dataset;
use crate::select::{RoundPlan, Uniform};
use crate::sim::Attack;
use crate::tcs::{Logged, Radio, TcsSelector};
use std::sync::{Arc, Mutex};

/// `fl-digits`: dense FedAvg and the compressed method on identical splits
/// for every seed. Returns `(dense runs, compressed runs)`, one per seed.
pub fn digits(
    data: &Dataset,
    setup: &Setup,
    seeds: &[u64],
) -> Result<(Vec<RunResult>, Vec<RunResult>), String> {
    let mut dense = vec![];
    let mut comp = vec![];
    for &s in seeds {
        dense.push(run(data, setup, &Method::dense(), s)?);
        comp.push(run(data, setup, &Method::compressed(), s)?);
    }
    Ok((dense, comp))
}

/// The robust rules compared by `fl-robust`, for `n` clients of which `f` are Byzantine.
pub fn robust_rules(n: usize, f: usize) -> Vec<Rule> {
    vec![
        Rule::FedAvg,
        Rule::Krum { f },
        Rule::MultiKrum { f, m: n - f },
        Rule::Median,
        Rule::TrimmedMean { trim: f },
        Rule::FlTrust,
    ]
}

/// The attacks of `fl-robust`: sign flip (−Δ), scaling (×10), Gaussian
/// (σ = 1 per coordinate) and A Little Is Enough (z from n and f).
pub fn robust_attacks(n: usize, f: usize) -> Vec<Attack> {
    vec![
        Attack::SignFlip,
        Attack::Scale(10.0),
        Attack::Gaussian(1.0),
        Attack::Alie {
            z: Attack::alie_z(n, f),
        },
    ]
}

/// One `fl-robust` measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct RobustRow {
    /// Attack name (`none` for the clean run).
    pub attack: String,
    /// Rule name.
    pub rule: String,
    /// Seed.
    pub seed: u64,
    /// Final test accuracy.
    pub accuracy: f64,
}

/// `fl-robust`: every rule under no attack and under every attack with the
/// last `f` clients Byzantine (dense updates both ways).
pub fn robust(
    data: &Dataset,
    setup: &Setup,
    f: usize,
    seeds: &[u64],
) -> Result<Vec<RobustRow>, String> {
    let mut rows = vec![];
    for &seed in seeds {
        let attacks: Vec<Option<Attack>> = std::iter::once(None)
            .chain(robust_attacks(setup.clients, f).into_iter().map(Some))
            .collect();
        for attack in attacks {
            for rule in robust_rules(setup.clients, f) {
                let m = Method {
                    name: rule.name().into(),
                    rule,
                    attack: attack.map(|a| (f, a)),
                    ..Method::dense()
                };
                let r = run(data, setup, &m, seed)?;
                rows.push(RobustRow {
                    attack: attack.map_or("none", |a| a.name()).into(),
                    rule: rule.name().into(),
                    seed,
                    accuracy: r.final_accuracy,
                });
            }
        }
    }
    Ok(rows)
}

/// One `fl-tcs` run.
#[derive(Clone, Debug, PartialEq)]
pub struct TcsRow {
    /// `tcs-feel` or `uniform`.
    pub policy: String,
    /// Seed.
    pub seed: u64,
    /// First round reaching the target, if any.
    pub rounds_to_target: Option<u64>,
    /// Mean simulated seconds per round.
    pub mean_round_s: f64,
    /// Simulated seconds until the target (sum of round times), if reached.
    pub time_to_target_s: Option<f64>,
    /// Final test accuracy.
    pub final_accuracy: f64,
    /// Mean relayed clients per round.
    pub relayed_per_round: f64,
    /// Clients never selected over the whole run (their data never trained).
    pub never_selected: usize,
}

/// `fl-tcs` parameters (pre-registered in the lab).
#[derive(Clone, Debug, PartialEq)]
pub struct TcsSetup {
    /// The federation (clients, split, model, rounds, target).
    pub setup: Setup,
    /// Clients per round.
    pub per_round: usize,
    /// Cell radius in metres.
    pub radius_m: f64,
    /// The TCS time weights `μ` to run (one policy `tcs-feel(mu=μ)` each).
    pub time_weights: Vec<f64>,
    /// Post-hoc variants `(μ, β)` with the staleness bonus `β` (one policy
    /// `tcs-feel(mu=μ,staleness=β)` each).
    pub staleness_variants: Vec<(f64, f64)>,
}

/// The row name of the TCS policy with time weight `mu`.
pub fn tcs_policy_name(mu: f64) -> String {
    format!("tcs-feel(mu={mu})")
}

/// The row name of the post-hoc TCS variant with time weight `mu` and
/// staleness bonus `beta`.
pub fn tcs_variant_name(mu: f64, beta: f64) -> String {
    format!("tcs-feel(mu={mu},staleness={beta})")
}

/// `fl-tcs`: TCS-FEEL-style selection with relays versus uniform sampling
/// with direct uplink, same clients, data and radio model per seed.
pub fn tcs(data: &Dataset, t: &TcsSetup, seeds: &[u64]) -> Result<Vec<TcsRow>, String> {
    let mut rows = vec![];
    for &seed in seeds {
        let (_, parts, _) = t.setup.layout(data, seed);
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        let hist: Vec<Vec<usize>> = parts.iter().map(|p| data.subset(p).histogram()).collect();
        let epochs = crate::model::LocalTraining::default().epochs;
        let radio = Radio::random(&sizes, epochs, t.radius_m, seed);
        let method = Method::dense();
        let update_bytes = 4 * crate::model::ModelSpec {
            sizes: std::iter::once(data.dim)
                .chain(t.setup.hidden.iter().copied())
                .chain([data.classes])
                .collect(),
            seed,
        }
        .num_params()
            + 16;
        let policies: Vec<Option<(f64, f64)>> = t
            .time_weights
            .iter()
            .map(|&mu| (mu, 0.0))
            .chain(t.staleness_variants.iter().copied())
            .map(Some)
            .chain([None])
            .collect();
        for policy in policies {
            let log: Arc<Mutex<Vec<RoundPlan>>> = Arc::default();
            let (selector, relays): (Box<dyn crate::select::Selector>, bool) =
                if let Some((mu, beta)) = policy {
                    (
                        Box::new(Logged {
                            inner: TcsSelector {
                                per_round: t.per_round,
                                pool_factor: 2,
                                time_weight: mu,
                                max_children: 3,
                                update_bytes,
                                histograms: hist.clone(),
                                radio: radio.clone(),
                                staleness_weight: beta,
                                last_selected: vec![],
                            },
                            log: log.clone(),
                        }),
                        true,
                    )
                } else {
                    (
                        Box::new(Logged {
                            inner: Uniform {
                                per_round: t.per_round,
                            },
                            log: log.clone(),
                        }),
                        false,
                    )
                };
            let (mut fed, test) = build(data, &t.setup, &method, Some(selector), relays, seed)?;
            let r = drive(&mut fed, &test, &t.setup, &method, seed);
            let plans = log.lock().map(|g| g.clone()).unwrap_or_default();
            let times: Vec<f64> = plans
                .iter()
                .map(|p| radio.round_time(p, update_bytes))
                .collect();
            let rounds_to_target = r.reached.map(|(round, _)| round);
            rows.push(TcsRow {
                policy: policy.map_or("uniform".into(), |(mu, beta)| {
                    if beta == 0.0 {
                        tcs_policy_name(mu)
                    } else {
                        tcs_variant_name(mu, beta)
                    }
                }),
                seed,
                rounds_to_target,
                mean_round_s: times.iter().sum::<f64>() / times.len().max(1) as f64,
                time_to_target_s: rounds_to_target.map(|k| times.iter().take(k as usize).sum()),
                final_accuracy: r.final_accuracy,
                relayed_per_round: plans.iter().map(|p| p.relays.len() as f64).sum::<f64>()
                    / plans.len().max(1) as f64,
                never_selected: (1..=t.setup.clients as u32)
                    .filter(|&c| {
                        !plans
                            .iter()
                            .any(|p| p.participants.contains(&dwcp_core::NodeId(c)))
                    })
                    .count(),
            });
        }
    }
    Ok(rows)
}

/// One `fl-snap` run.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapRow {
    /// `snap(tau=…)`, `snap(tau=…,mixing=fmmc,post-hoc)` or `terngrad`.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// Rounds (SNAP) or iterations (TernGrad) run.
    pub steps: u64,
    /// Final accuracy (SNAP: mean over peers).
    pub final_accuracy: f64,
    /// Total payload bytes.
    pub bytes: u64,
    /// First `(step, bytes)` reaching the target.
    pub reached: Option<(u64, u64)>,
    /// `(step, cumulative bytes, accuracy)` at every evaluation.
    pub curve: Vec<(u64, u64, f64)>,
}

/// `fl-snap` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapSetup {
    /// Federation shape (clients = peers/workers, split, model, target).
    pub setup: Setup,
    /// Neighbours on each side of the ring.
    pub ring_k: usize,
    /// SNAP thresholds to run (Metropolis–Hastings mixing).
    pub taus: Vec<f32>,
    /// Thresholds to run again with the fastest-mixing weights optimised
    /// from the topology ([`crate::mixing::fastest_mixing`]); the rows are
    /// named [`snap_fmmc_name`] (added after the first results: post-hoc).
    pub fmmc_taus: Vec<f32>,
    /// Post-hoc topology-degree sensitivity: `(neighbours per side, τ)`
    /// to run with Metropolis–Hastings mixing, rows named
    /// [`snap_degree_name`].
    pub degree_variants: Vec<(usize, f32)>,
    /// Post-hoc baseline: plain D-PSGD (every peer sends its whole model to
    /// every neighbour each round, Metropolis–Hastings mixing), row
    /// [`DPSGD_NAME`].
    pub dpsgd: bool,
    /// SNAP rounds.
    pub rounds: u64,
    /// TernGrad iterations, batch and learning rate.
    pub terngrad: (u64, usize, f32),
}

/// The row name of SNAP with Metropolis–Hastings mixing at threshold `tau`.
pub fn snap_name(tau: f32) -> String {
    format!("snap(tau={tau})")
}

/// The row name of the post-hoc SNAP variant with fastest-mixing weights.
pub fn snap_fmmc_name(tau: f32) -> String {
    format!("snap(tau={tau},mixing=fmmc,post-hoc)")
}

/// The row name of the post-hoc degree-sensitivity variant.
pub fn snap_degree_name(tau: f32, ring_k: usize) -> String {
    format!("snap(tau={tau},ring_k={ring_k},post-hoc)")
}

/// The row name of the post-hoc plain D-PSGD baseline.
pub const DPSGD_NAME: &str = "d-psgd(dense,post-hoc)";

/// Projected-subgradient iterations of the `fl-snap` fastest-mixing weights.
pub const FMMC_ITERATIONS: usize = 300;

/// `fl-snap`: SNAP-style decentralised training vs the TernGrad parameter
/// server on the same shards and test split per seed.
pub fn snap(data: &Dataset, t: &SnapSetup, seeds: &[u64]) -> Vec<SnapRow> {
    use crate::mixing::{fastest_mixing, metropolis};
    use crate::snap::{ring, run_snap_with, run_terngrad};
    let mut rows = vec![];
    for &seed in seeds {
        let (_, parts, test) = t.setup.layout(data, seed);
        let shards: Vec<Dataset> = parts.iter().map(|p| data.subset(p)).collect();
        let test = data.subset(&test);
        let spec = crate::model::ModelSpec {
            sizes: std::iter::once(data.dim)
                .chain(t.setup.hidden.iter().copied())
                .chain([data.classes])
                .collect(),
            seed,
        };
        let adj = ring(t.setup.clients, t.ring_k);
        let (mh, fm) = (metropolis(&adj), fastest_mixing(&adj, FMMC_ITERATIONS));
        type Run = (f32, Vec<Vec<usize>>, Vec<Vec<(usize, f64)>>, String);
        let mut runs: Vec<Run> = t
            .taus
            .iter()
            .map(|&tau| (tau, adj.clone(), mh.clone(), snap_name(tau)))
            .chain(
                t.fmmc_taus
                    .iter()
                    .map(|&tau| (tau, adj.clone(), fm.clone(), snap_fmmc_name(tau))),
            )
            .collect();
        for &(k, tau) in &t.degree_variants {
            let a = ring(t.setup.clients, k);
            runs.push((tau, a.clone(), metropolis(&a), snap_degree_name(tau, k)));
        }
        if t.dpsgd {
            // τ < 0: every coordinate is sent, changed or not.
            runs.push((-1.0, adj.clone(), mh.clone(), DPSGD_NAME.into()));
        }
        for (tau, adj, w, method) in runs {
            let r = run_snap_with(
                &spec,
                &shards,
                &test,
                &adj,
                &w,
                tau,
                &crate::model::LocalTraining::default(),
                t.rounds,
                t.setup.target,
                seed,
            );
            rows.push(SnapRow {
                method,
                seed,
                steps: t.rounds,
                final_accuracy: r.curve.last().map_or(0.0, |c| c.2),
                bytes: r.curve.last().map_or(0, |c| c.1),
                reached: r.reached,
                curve: r.curve,
            });
        }
        let (iters, batch, lr) = t.terngrad;
        let r = run_terngrad(
            &spec,
            &shards,
            &test,
            batch,
            lr,
            iters,
            10,
            t.setup.target,
            seed,
        );
        rows.push(SnapRow {
            method: "terngrad".into(),
            seed,
            steps: iters,
            final_accuracy: r.curve.last().map_or(0.0, |c| c.2),
            bytes: r.curve.last().map_or(0, |c| c.1),
            reached: r.reached,
            curve: r.curve,
        });
    }
    rows
}
