//! Hyperparameter tuning of the learners on NodeAlloc, on tuning episodes
//! only: training seeds and evaluation episodes never overlap with the
//! `maddpg-nodealloc` experiment's (held-out episodes use seeds `0..100`).
//!
//! `cargo run --release -p dwcp-maddpg --example nodealloc_tune -- rho=0.9 seeds=2 episodes=3000 update_every=25 lr=0.003`
//!
//! Prints the mean tuning-episode efficiency per training seed next to the
//! tuned proportional-share and local-only baselines on the same episodes.

use dwcp_maddpg::nodealloc::{EpisodeMetrics, Heuristic, HeuristicKind, NodeAllocConfig};
use dwcp_maddpg::{Controller, Maddpg, MaddpgConfig, NodeAlloc, stats, train};

const TUNE_EVAL_BASE: u64 = 9_000_000_000;
const TUNE_TRAIN_BASE: u64 = 11_000_000_000;

fn eval<C: Controller + ?Sized>(ctrl: &mut C, rho: f32, n: usize) -> f64 {
    let mut env = NodeAlloc::with_load(rho);
    let e: Vec<f64> = (0..n)
        .map(|k| {
            train::play(&mut env, ctrl, TUNE_EVAL_BASE + k as u64);
            EpisodeMetrics::efficiency(env.metrics())
        })
        .collect();
    stats::mean(&e)
}

fn main() {
    let mut rho = 0.9f32;
    let mut seeds = 2usize;
    let mut episodes = 3000usize;
    let mut n_eval = 50usize;
    let mut baselines = true;
    let mut cfg = MaddpgConfig::default();
    for a in std::env::args().skip(1) {
        let Some((k, v)) = a.split_once('=') else {
            continue;
        };
        let f = || v.parse::<f32>().unwrap_or_else(|_| panic!("bad value {a}"));
        let u = || {
            v.parse::<usize>()
                .unwrap_or_else(|_| panic!("bad value {a}"))
        };
        match k {
            "rho" => rho = f(),
            "seeds" => seeds = u(),
            "episodes" => episodes = u(),
            "eval" => n_eval = u(),
            "baselines" => baselines = v == "1",
            "lr" => cfg.lr = f(),
            "gamma" => cfg.gamma = f(),
            "tau" => cfg.tau = f(),
            "batch" => cfg.batch = u(),
            "warmup" => cfg.warmup = u(),
            "update_every" => cfg.update_every = u(),
            "actor_reg" => cfg.actor_reg = f(),
            "clip" => cfg.grad_clip = f(),
            "iddpg" => {
                if v == "1" {
                    cfg.critic = dwcp_maddpg::CriticMode::Local;
                }
            }
            _ => panic!("unknown key {k}"),
        }
    }
    println!("rho {rho} seeds {seeds} episodes {episodes} cfg {cfg:?}");
    if baselines {
        let ncfg = NodeAllocConfig::new(rho);
        let mut lo = Heuristic::new(HeuristicKind::LocalOnly, &ncfg, 1);
        println!("local-only {:.4}", eval(&mut lo, rho, n_eval));
        let ps = HeuristicKind::ProportionalShare {
            exponent: 1.0,
            local_bias: 1.0,
            floor: 0.0,
        };
        let best = ps
            .grid()
            .into_iter()
            .map(|k| {
                let mut h = Heuristic::new(k, &ncfg, 1);
                (k, eval(&mut h, rho, 20))
            })
            .fold((ps, f64::MIN), |b, x| if x.1 > b.1 { x } else { b });
        let mut h = Heuristic::new(best.0, &ncfg, 1);
        println!(
            "proportional-share {:.4} {:?}",
            eval(&mut h, rho, n_eval),
            best.0
        );
    }
    let results: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..seeds)
            .map(|sd| {
                let cfg = cfg.clone();
                s.spawn(move || {
                    let mut env = NodeAlloc::with_load(rho);
                    let mut m = Maddpg::for_env(&env, cfg, 777 + sd as u64).expect("shapes");
                    let t = std::time::Instant::now();
                    let log = train::train(
                        &mut env,
                        &mut m,
                        episodes,
                        TUNE_TRAIN_BASE + sd as u64 * 10_000_000,
                        |_, _| {},
                    );
                    let mut p = m.policies();
                    let e = eval(&mut p, rho, n_eval);
                    let tail = &log.returns[log.returns.len().saturating_sub(200)..];
                    println!(
                        "seed {sd}: eff {e:.4} updates {} last-200 return {:.2} ({:.0}s)",
                        m.updates(),
                        tail.iter().sum::<f32>() / tail.len().max(1) as f32,
                        t.elapsed().as_secs_f64()
                    );
                    e
                })
            })
            .collect();
        hs.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    println!(
        "MADDPG mean {:.4} ± {:.4}",
        stats::mean(&results),
        stats::ci95(&results)
    );
}
