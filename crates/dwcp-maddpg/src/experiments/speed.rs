//! Time per MADDPG update round on synthetic data.

use crate::maddpg::{Maddpg, MaddpgConfig};
use crate::space::ActionSpace;
use dwcp_core::rng::{RngCore, seeded};
use std::time::Instant;

/// Shape of the timed update.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeedConfig {
    /// Agents.
    pub agents: usize,
    /// Observation width per agent.
    pub obs_dim: usize,
    /// Categorical groups per agent.
    pub groups: usize,
    /// Options per group.
    pub size: usize,
    /// Minibatch.
    pub batch: usize,
    /// Hidden width (two layers).
    pub hidden: usize,
    /// Untimed warm-up rounds.
    pub warmup_rounds: usize,
    /// Timed rounds.
    pub rounds: usize,
}

impl SpeedConfig {
    /// 4 agents with NodeAlloc's shapes (27 observations, 3 groups of 4
    /// logits), batch 1024, two 64-unit hidden layers.
    pub fn reference(rounds: usize) -> Self {
        SpeedConfig {
            agents: 4,
            obs_dim: crate::nodealloc::OBS_DIM,
            groups: 3,
            size: 4,
            batch: 1024,
            hidden: 64,
            warmup_rounds: 3,
            rounds,
        }
    }
}

/// Measured update times.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeedReport {
    /// Milliseconds per update round (one critic and one actor step for
    /// every agent, target actions and soft updates included): the median of
    /// the timed rounds.
    pub median_ms: f64,
    /// Mean milliseconds per round.
    pub mean_ms: f64,
    /// Mean on-CPU milliseconds per round of the timing thread (Linux
    /// `/proc/thread-self/schedstat`; NaN elsewhere). Unlike wall-clock time
    /// it does not count time spent waiting for a core on a shared machine.
    pub cpu_mean_ms: f64,
    /// Timed rounds.
    pub rounds: usize,
}

/// Times `cfg.rounds` update rounds of a MADDPG trainer whose buffer holds
/// `2 · batch` random transitions. Wall-clock, single thread.
pub fn measure(cfg: &SpeedConfig, seed: u64) -> SpeedReport {
    let space = ActionSpace::Categorical {
        groups: cfg.groups,
        size: cfg.size,
    };
    let mc = MaddpgConfig {
        hidden: vec![cfg.hidden, cfg.hidden],
        batch: cfg.batch,
        buffer: 2 * cfg.batch,
        warmup: 0,
        ..MaddpgConfig::default()
    };
    let obs_dims = vec![cfg.obs_dim; cfg.agents];
    let spaces = vec![space; cfg.agents];
    let Ok(mut m) = Maddpg::new(&obs_dims, &spaces, mc, seed) else {
        return SpeedReport {
            median_ms: f64::NAN,
            mean_ms: f64::NAN,
            cpu_mean_ms: f64::NAN,
            rounds: 0,
        };
    };
    let mut rng = seeded(seed ^ 0x5eed);
    let mut u = || (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    for _ in 0..2 * cfg.batch {
        let obs: Vec<Vec<f32>> = (0..cfg.agents)
            .map(|_| (0..cfg.obs_dim).map(|_| u()).collect())
            .collect();
        let next: Vec<Vec<f32>> = (0..cfg.agents)
            .map(|_| (0..cfg.obs_dim).map(|_| u()).collect())
            .collect();
        let act: Vec<Vec<f32>> = (0..cfg.agents)
            .map(|_| (0..space.action_dim()).map(|_| u()).collect())
            .collect();
        let rew: Vec<f32> = (0..cfg.agents).map(|_| u()).collect();
        m.buffer_push(&obs, &act, &rew, &next, false);
    }
    for _ in 0..cfg.warmup_rounds {
        m.update();
    }
    let mut times = Vec::with_capacity(cfg.rounds);
    let cpu_start = thread_cpu_ns();
    for _ in 0..cfg.rounds {
        let start = Instant::now();
        m.update();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_mean_ms = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) if cfg.rounds > 0 => {
            b.saturating_sub(a) as f64 / 1e6 / cfg.rounds as f64
        }
        _ => f64::NAN,
    };
    let mean_ms = crate::stats::mean(&times);
    times.sort_by(f64::total_cmp);
    SpeedReport {
        median_ms: times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
        mean_ms,
        cpu_mean_ms,
        rounds: cfg.rounds,
    }
}

/// Nanoseconds the calling thread has spent on a CPU (Linux schedstat's
/// first field), or `None` where that file does not exist.
pub fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
