//! MADDPG, IDDPG and tuned heuristics on NodeAlloc at several loads.
//!
//! Protocol (fixed before results were looked at):
//! 1. Held-out evaluation episodes use seeds `0..eval_episodes`; heuristic
//!    tuning uses seeds from `TUNE_BASE`, training seeds from `TRAIN_BASE`;
//!    the three sets never overlap.
//! 2. Every heuristic with parameters is tuned per load by exhaustive grid
//!    search ([`HeuristicKind::grid`]) on `tune_episodes` tuning episodes,
//!    maximising mean efficiency; the winner is then evaluated once on the
//!    held-out episodes.
//! 3. Each learner (MADDPG, IDDPG) trains `seeds` times per load with the
//!    same hyperparameters and budget; each trained set of policies is
//!    evaluated deterministically (softmax routing) on the held-out episodes.
//! 4. Gain over a baseline = `(E_learner − E_baseline) / E_baseline` per
//!    training seed (paired on the same held-out episodes); its 95% CI is the
//!    Student-t interval over seeds, or over episodes when only one seed ran.

use crate::maddpg::{Maddpg, MaddpgConfig, MaddpgError};
use crate::nodealloc::{EpisodeMetrics, Heuristic, HeuristicKind, NodeAlloc, NodeAllocConfig};
use crate::stats;
use crate::train::{self, Controller};

const TUNE_BASE: u64 = 5_000_000_000;
const TRAIN_BASE: u64 = 7_000_000_000;

/// The learners' hyperparameters on NodeAlloc: the reference configuration
/// (Adam lr 1e-2, τ 0.01, per-tensor clip 0.5, γ 0.95, warm-up = 25 batches)
/// with a smaller batch and more frequent updates — batch
/// [`TUNED_BATCH`], one update round every [`TUNED_UPDATE_EVERY`] steps —
/// chosen on tuning runs that never touch the held-out episodes or the
/// experiment's training seeds (`examples/nodealloc_tune.rs`; the grid and
/// its results are in docs/BENCHMARKS.md). The same for every load and for
/// both learners. `quick` halves the batch for short runs.
pub fn tuned_trainer(quick: bool) -> MaddpgConfig {
    let batch = if quick { TUNED_BATCH / 2 } else { TUNED_BATCH };
    MaddpgConfig {
        batch,
        warmup: batch * 25,
        update_every: TUNED_UPDATE_EVERY,
        gamma: TUNED_GAMMA,
        ..MaddpgConfig::default()
    }
}

/// Minibatch chosen by tuning (reference: 1024).
pub const TUNED_BATCH: usize = 512;
/// Environment steps between update rounds chosen by tuning (reference: 100).
pub const TUNED_UPDATE_EVERY: usize = 12;
/// Discount (the reference's 0.95).
pub const TUNED_GAMMA: f32 = 0.95;

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAllocExperiment {
    /// Loads ρ.
    pub loads: Vec<f32>,
    /// Training seeds per learner and load.
    pub seeds: usize,
    /// Training episodes per run.
    pub episodes: usize,
    /// Held-out evaluation episodes.
    pub eval_episodes: usize,
    /// Tuning episodes per heuristic grid point.
    pub tune_episodes: usize,
    /// MADDPG hyperparameters (IDDPG uses the same with local critics).
    pub trainer: MaddpgConfig,
    /// Worker threads for independent training runs.
    pub threads: usize,
    /// Master seed.
    pub seed: u64,
    /// Episodes per learning-curve point.
    pub window: usize,
}

/// Held-out figures of one method at one load.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodResult {
    /// `"maddpg"`, `"iddpg"` or a heuristic name.
    pub method: String,
    /// Tuned parameters (heuristics) or a description.
    pub params: String,
    /// Mean efficiency per training seed (one entry for heuristics).
    pub efficiency_per_seed: Vec<f64>,
    /// Mean efficiency.
    pub efficiency: f64,
    /// 95% CI half-width (over seeds for learners, episodes for heuristics).
    pub efficiency_ci: f64,
    /// Mean drop rate.
    pub drop_rate: f64,
    /// Mean Jain fairness over origin nodes.
    pub fairness: f64,
    /// Mean forwarded fraction of jobs.
    pub forwarded: f64,
    /// Per-episode efficiency averaged over seeds (for paired comparisons).
    pub episode_efficiency: Vec<f64>,
    /// Mean training-return curve over seeds: `(episode, mean return)`.
    pub curve: Vec<(usize, f64)>,
}

/// A learner's gain over one baseline at one load.
#[derive(Clone, Debug, PartialEq)]
pub struct Gain {
    /// Load.
    pub rho: f32,
    /// Learner.
    pub learner: String,
    /// Baseline.
    pub baseline: String,
    /// Mean relative gain.
    pub gain: f64,
    /// 95% CI half-width.
    pub ci: f64,
}

/// Results at one load.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadResult {
    /// Load ρ.
    pub rho: f32,
    /// Every method.
    pub methods: Vec<MethodResult>,
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAllocReport {
    /// Per load.
    pub loads: Vec<LoadResult>,
    /// Gains of both learners over every other method, per load.
    pub gains: Vec<Gain>,
}

fn evaluate<C: Controller + ?Sized>(
    ctrl: &mut C,
    rho: f32,
    episodes: usize,
    base: u64,
) -> Vec<EpisodeMetrics> {
    let mut env = NodeAlloc::with_load(rho);
    (0..episodes)
        .map(|k| {
            train::play(&mut env, ctrl, base + k as u64);
            env.metrics().clone()
        })
        .collect()
}

fn mean_of(ms: &[EpisodeMetrics], f: impl Fn(&EpisodeMetrics) -> f64) -> f64 {
    stats::mean(&ms.iter().map(f).collect::<Vec<_>>())
}

fn heuristic_result(kind: HeuristicKind, rho: f32, x: &NodeAllocExperiment) -> MethodResult {
    let cfg = NodeAllocConfig::new(rho);
    let best = kind
        .grid()
        .into_iter()
        .map(|k| {
            let mut h = Heuristic::new(k, &cfg, x.seed ^ 0x7e57);
            let ms = evaluate(&mut h, rho, x.tune_episodes, TUNE_BASE);
            (k, mean_of(&ms, EpisodeMetrics::efficiency))
        })
        .fold(
            None,
            |best: Option<(HeuristicKind, f64)>, (k, e)| match best {
                Some((_, b)) if b >= e => best,
                _ => Some((k, e)),
            },
        )
        .map_or(kind, |(k, _)| k);
    let mut h = Heuristic::new(best, &cfg, x.seed ^ 0xe7a1);
    let ms = evaluate(&mut h, rho, x.eval_episodes, 0);
    let eff: Vec<f64> = ms.iter().map(EpisodeMetrics::efficiency).collect();
    MethodResult {
        method: kind.name().into(),
        params: format!("{best:?}"),
        efficiency_per_seed: vec![stats::mean(&eff)],
        efficiency: stats::mean(&eff),
        efficiency_ci: stats::ci95(&eff),
        drop_rate: mean_of(&ms, EpisodeMetrics::drop_rate),
        fairness: mean_of(&ms, EpisodeMetrics::fairness),
        forwarded: mean_of(&ms, |m| m.forwarded as f64 / m.arrived.max(1) as f64),
        episode_efficiency: eff,
        curve: vec![],
    }
}

/// One training run's held-out metrics and training curve.
type RunOut = (Vec<EpisodeMetrics>, Vec<(usize, f64)>);

fn train_run(
    cfg: MaddpgConfig,
    rho: f32,
    seed: u64,
    x: &NodeAllocExperiment,
) -> Result<RunOut, MaddpgError> {
    let mut env = NodeAlloc::with_load(rho);
    let mut trainer = Maddpg::for_env(&env, cfg, seed)?;
    let log = train::train(
        &mut env,
        &mut trainer,
        x.episodes,
        TRAIN_BASE + seed * 10_000_000,
        |_, _| {},
    );
    let w = x.window.max(1);
    let curve = log
        .returns
        .chunks(w)
        .enumerate()
        .map(|(k, c)| {
            let v: Vec<f64> = c.iter().map(|&r| f64::from(r)).collect();
            (k * w + c.len(), stats::mean(&v))
        })
        .collect();
    let mut policies = trainer.policies();
    Ok((evaluate(&mut policies, rho, x.eval_episodes, 0), curve))
}

fn learner_result(name: &str, cfg: &MaddpgConfig, runs: &[RunOut]) -> MethodResult {
    let per_seed: Vec<f64> = runs
        .iter()
        .map(|(ms, _)| mean_of(ms, EpisodeMetrics::efficiency))
        .collect();
    let all: Vec<&EpisodeMetrics> = runs.iter().flat_map(|(ms, _)| ms.iter()).collect();
    let avg = |f: &dyn Fn(&EpisodeMetrics) -> f64| {
        stats::mean(&all.iter().map(|m| f(m)).collect::<Vec<_>>())
    };
    let episodes = runs.first().map_or(0, |(ms, _)| ms.len());
    let episode_efficiency = (0..episodes)
        .map(|k| {
            stats::mean(
                &runs
                    .iter()
                    .filter_map(|(ms, _)| ms.get(k).map(EpisodeMetrics::efficiency))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let points = runs.first().map_or(0, |(_, c)| c.len());
    let curve = (0..points)
        .map(|p| {
            let ys: Vec<f64> = runs
                .iter()
                .filter_map(|(_, c)| c.get(p).map(|v| v.1))
                .collect();
            (runs[0].1[p].0, stats::mean(&ys))
        })
        .collect();
    MethodResult {
        method: name.into(),
        params: format!(
            "lr {}, gamma {}, tau {}, batch {}, warm-up {}, update every {} steps, grad clip {}",
            cfg.lr, cfg.gamma, cfg.tau, cfg.batch, cfg.warmup, cfg.update_every, cfg.grad_clip
        ),
        efficiency: stats::mean(&per_seed),
        efficiency_ci: if per_seed.len() > 1 {
            stats::ci95(&per_seed)
        } else {
            stats::ci95(&all.iter().map(|m| m.efficiency()).collect::<Vec<_>>())
        },
        efficiency_per_seed: per_seed,
        drop_rate: avg(&EpisodeMetrics::drop_rate),
        fairness: avg(&EpisodeMetrics::fairness),
        forwarded: avg(&|m| m.forwarded as f64 / m.arrived.max(1) as f64),
        episode_efficiency,
        curve,
    }
}

fn gain(rho: f32, l: &MethodResult, b: &MethodResult) -> Gain {
    let base = b.efficiency.max(1e-12);
    let (g, ci) = if l.efficiency_per_seed.len() > 1 {
        let gs: Vec<f64> = l
            .efficiency_per_seed
            .iter()
            .map(|e| (e - base) / base)
            .collect();
        (stats::mean(&gs), stats::ci95(&gs))
    } else {
        // One seed: paired per-episode differences, scaled by the baseline mean.
        let d: Vec<f64> = l
            .episode_efficiency
            .iter()
            .zip(&b.episode_efficiency)
            .map(|(a, c)| (a - c) / base)
            .collect();
        (stats::mean(&d), stats::ci95(&d))
    };
    Gain {
        rho,
        learner: l.method.clone(),
        baseline: b.method.clone(),
        gain: g,
        ci,
    }
}

/// Runs the experiment. Training runs are spread over `threads` worker
/// threads; results do not depend on the thread count.
pub fn run(x: &NodeAllocExperiment) -> Result<NodeAllocReport, MaddpgError> {
    let learners = [
        ("maddpg", x.trainer.clone()),
        (
            "iddpg",
            MaddpgConfig {
                critic: crate::maddpg::CriticMode::Local,
                ..x.trainer.clone()
            },
        ),
    ];
    let mut jobs = vec![];
    for (li, _) in learners.iter().enumerate() {
        for (ri, _) in x.loads.iter().enumerate() {
            for s in 0..x.seeds {
                jobs.push((li, ri, s));
            }
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<RunOut, MaddpgError>>>> =
        std::sync::Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..x.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&(li, ri, s)) = jobs.get(k) else {
                        break;
                    };
                    let seed = x.seed.wrapping_mul(1000).wrapping_add(s as u64);
                    let out = train_run(learners[li].1.clone(), x.loads[ri], seed, x);
                    if let Ok(mut r) = results.lock() {
                        r[k] = Some(out);
                    }
                }
            });
        }
    });
    let mut results: Vec<Option<Result<RunOut, MaddpgError>>> =
        results.into_inner().unwrap_or_default();
    let mut loads = vec![];
    let mut gains = vec![];
    for (ri, &rho) in x.loads.iter().enumerate() {
        let mut methods = vec![];
        for (li, (name, cfg)) in learners.iter().enumerate() {
            let mut runs = vec![];
            for (k, &(l, r, _)) in jobs.iter().enumerate() {
                if l == li && r == ri {
                    match results.get_mut(k).and_then(Option::take) {
                        Some(Ok(out)) => runs.push(out),
                        Some(Err(e)) => return Err(e),
                        None => {}
                    }
                }
            }
            methods.push(learner_result(name, cfg, &runs));
        }
        for kind in [
            HeuristicKind::Random,
            HeuristicKind::LocalOnly,
            HeuristicKind::ProportionalShare {
                exponent: 1.0,
                local_bias: 1.0,
                floor: 0.0,
            },
            HeuristicKind::JoinShortestQueue { margin: 0.0 },
        ] {
            methods.push(heuristic_result(kind, rho, x));
        }
        for l in methods.iter().take(2) {
            for b in methods.iter().filter(|b| b.method != l.method) {
                gains.push(gain(rho, l, b));
            }
        }
        loads.push(LoadResult { rho, methods });
    }
    Ok(NodeAllocReport { loads, gains })
}
