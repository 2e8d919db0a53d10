//! `NodeAlloc`: four heterogeneous nodes share jobs over three resources
//! (bandwidth, CPU, memory) under phase-shifted Poisson load.
//!
//! All parameters are fixed in [`NodeAllocConfig::new`] (pre-registered before
//! any result was looked at; only the load `ρ` varies between settings).
//!
//! One step `t`:
//! 1. Jobs forwarded during step `t − 1` join their destination's queue (one
//!    step of transfer delay), then each node routes its new arrivals: for
//!    each job type its action is a probability vector over the four nodes
//!    (itself included), apportioned to whole jobs deterministically
//!    (cumulative rounding). Forwarding a job costs the sender
//!    [`NodeAllocConfig::transfer_bw`] units of this step's bandwidth; when
//!    the sender's bandwidth is exhausted, the job stays local.
//! 2. Service: each node admits its queue in FIFO order while the head job's
//!    demand vector fits in all three remaining resources; admitted jobs
//!    complete this step.
//! 3. Every job still waiting or in transit ages one step; a job whose age
//!    reaches the deadline (3 steps) is dropped.
//! 4. New arrivals for `t + 1` are drawn: node `i` receives
//!    `Poisson(λ̄_ij (1 + 0.5 sin(2π t / T + φ_i)))` jobs of type `j`, with
//!    `φ_i = 2π i / 4`.
//!
//! Work of a job of type `j` is `Σ_r d_jr / C̄_r` (`C̄_r` the mean node
//! capacity of resource `r`), the same wherever it is served. Efficiency is
//! completed work ÷ offered work. The shared reward per step is
//! `(completed − 1.0 · dropped − 0.05 · transfer bandwidth) / (mean offered
//! work per step)`, given to every node.

mod heuristics;

pub use heuristics::{Heuristic, HeuristicKind};

use crate::env::MultiAgentEnv;
use crate::space::ActionSpace;
use dwcp_core::rng::{Rng, RngCore, seeded};
use std::collections::VecDeque;

/// Number of nodes (agents).
pub const NODES: usize = 4;
/// Number of resources: bandwidth, CPU, memory.
pub const RESOURCES: usize = 3;
/// Number of job types: bandwidth-, CPU- and memory-heavy.
pub const TYPES: usize = 3;
/// Observation width of every node.
pub const OBS_DIM: usize = 3 + 3 + 3 + 3 + 2 + 1 + 3 * (NODES - 1) + (NODES - 1);

/// The environment's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAllocConfig {
    /// Per-step capacity of each node in each resource.
    pub capacity: [[f32; RESOURCES]; NODES],
    /// Demand vector of each job type.
    pub demand: [[f32; RESOURCES]; TYPES],
    /// Relative arrival rates per node and type (scaled to the load).
    pub mix: [[f32; TYPES]; NODES],
    /// Offered load: mean demand ÷ total capacity in the bottleneck resource.
    pub rho: f32,
    /// Steps per episode, also the period `T` of the load sinusoid.
    pub episode_len: usize,
    /// Relative amplitude of the load sinusoid.
    pub amplitude: f32,
    /// Steps a job may wait (including its arrival step) before it is dropped.
    pub deadline: u32,
    /// Bandwidth a sender spends per forwarded job.
    pub transfer_bw: f32,
    /// Reward weight of dropped work.
    pub drop_penalty: f32,
    /// Reward weight per unit of forwarding bandwidth.
    pub transfer_penalty: f32,
}

impl NodeAllocConfig {
    /// The pre-registered configuration at load `rho`.
    pub fn new(rho: f32) -> Self {
        NodeAllocConfig {
            // bandwidth, CPU, memory
            capacity: [
                [4.0, 12.0, 8.0], // node 0: CPU-rich
                [12.0, 4.0, 8.0], // node 1: bandwidth-rich
                [6.0, 6.0, 14.0], // node 2: memory-rich
                [7.0, 7.0, 7.0],  // node 3: balanced
            ],
            demand: [
                [3.0, 1.0, 1.0], // bandwidth-heavy
                [1.0, 3.0, 1.0], // CPU-heavy
                [1.0, 1.0, 3.0], // memory-heavy
            ],
            // Each node mostly receives the jobs it is worst at.
            mix: [
                [0.6, 0.2, 0.2],
                [0.2, 0.6, 0.2],
                [0.32, 0.32, 0.16],
                [0.24, 0.24, 0.72],
            ],
            rho,
            episode_len: 25,
            amplitude: 0.5,
            deadline: 3,
            transfer_bw: 0.5,
            drop_penalty: 1.0,
            transfer_penalty: 0.05,
        }
    }

    /// Mean arrival rate `λ̄_ij` per node and type at this configuration's load.
    pub fn base_rates(&self) -> [[f32; TYPES]; NODES] {
        let mut util = 0.0f32;
        for r in 0..RESOURCES {
            let demand: f32 = (0..NODES)
                .flat_map(|i| (0..TYPES).map(move |j| (i, j)))
                .map(|(i, j)| self.mix[i][j] * self.demand[j][r])
                .sum();
            let cap: f32 = self.capacity.iter().map(|c| c[r]).sum();
            util = util.max(demand / cap);
        }
        let s = self.rho / util.max(f32::MIN_POSITIVE);
        self.mix.map(|row| row.map(|m| m * s))
    }

    /// Work of one job of each type, `Σ_r d_jr / C̄_r`.
    pub fn work(&self) -> [f32; TYPES] {
        let mean_cap: [f32; RESOURCES] =
            std::array::from_fn(|r| self.capacity.iter().map(|c| c[r]).sum::<f32>() / NODES as f32);
        self.demand
            .map(|d| d.iter().zip(&mean_cap).map(|(x, c)| x / c).sum())
    }

    /// The dominant resource of each job type (its largest demand ÷ mean capacity).
    pub fn dominant(&self) -> [usize; TYPES] {
        self.demand.map(|d| {
            (0..RESOURCES)
                .max_by(|&a, &b| d[a].total_cmp(&d[b]))
                .unwrap_or(0)
        })
    }
}

/// A job waiting or in transit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Job {
    kind: usize,
    origin: usize,
    age: u32,
}

/// Totals over an episode (jobs and work), per origin node where it matters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpisodeMetrics {
    /// Jobs that arrived and were routed.
    pub arrived: u64,
    /// Jobs served within their deadline.
    pub served: u64,
    /// Jobs dropped at their deadline.
    pub dropped: u64,
    /// Jobs forwarded to another node.
    pub forwarded: u64,
    /// Offered work per origin node.
    pub offered_work: [f64; NODES],
    /// Completed work per origin node.
    pub completed_work: [f64; NODES],
    /// Dropped work in total.
    pub dropped_work: f64,
    /// Bandwidth spent on forwarding.
    pub transfer_bw: f64,
    /// Mean utilisation of each node's bottleneck (most used) resource.
    pub bottleneck_util: f64,
}

impl EpisodeMetrics {
    /// Completed ÷ offered work (0 if nothing was offered).
    pub fn efficiency(&self) -> f64 {
        let o: f64 = self.offered_work.iter().sum();
        if o > 0.0 {
            self.completed_work.iter().sum::<f64>() / o
        } else {
            0.0
        }
    }

    /// Dropped ÷ arrived jobs.
    pub fn drop_rate(&self) -> f64 {
        if self.arrived > 0 {
            self.dropped as f64 / self.arrived as f64
        } else {
            0.0
        }
    }

    /// Jain's index over origin nodes of their per-node efficiency (1 = every
    /// node's jobs are served equally well).
    pub fn fairness(&self) -> f64 {
        let eff: Vec<f64> = self
            .offered_work
            .iter()
            .zip(&self.completed_work)
            .filter(|(o, _)| **o > 0.0)
            .map(|(o, c)| c / o)
            .collect();
        crate::stats::jain(&eff)
    }
}

/// The environment (see the module docs).
#[derive(Clone, Debug)]
pub struct NodeAlloc {
    cfg: NodeAllocConfig,
    rates: [[f32; TYPES]; NODES],
    work: [f32; TYPES],
    norm: f32,
    rng: Rng,
    t: usize,
    queues: [VecDeque<Job>; NODES],
    transit: [Vec<Job>; NODES],
    arrivals: [[u32; TYPES]; NODES],
    util: [[f32; RESOURCES]; NODES],
    prev_util: [[f32; RESOURCES]; NODES],
    backlog: [f32; NODES],
    prev_backlog: [f32; NODES],
    drops: [u32; NODES],
    metrics: EpisodeMetrics,
}

fn poisson(rng: &mut impl RngCore, lambda: f32) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    // Knuth's multiplication method; rates here are a few jobs per step.
    let limit = (-f64::from(lambda)).exp();
    let mut p = 1.0f64;
    let mut k = 0u32;
    loop {
        p *= f64::from(crate::space::open_unit(rng));
        if p <= limit || k >= 1000 {
            return k;
        }
        k += 1;
    }
}

impl NodeAlloc {
    /// An environment with configuration `cfg` (reset before stepping).
    pub fn new(cfg: NodeAllocConfig) -> Self {
        let rates = cfg.base_rates();
        let work = cfg.work();
        let norm: f32 = rates
            .iter()
            .map(|r| r.iter().zip(&work).map(|(l, w)| l * w).sum::<f32>())
            .sum::<f32>()
            .max(1e-6);
        NodeAlloc {
            cfg,
            rates,
            work,
            norm,
            rng: seeded(0),
            t: 0,
            queues: Default::default(),
            transit: Default::default(),
            arrivals: [[0; TYPES]; NODES],
            util: [[0.0; RESOURCES]; NODES],
            prev_util: [[0.0; RESOURCES]; NODES],
            backlog: [0.0; NODES],
            prev_backlog: [0.0; NODES],
            drops: [0; NODES],
            metrics: EpisodeMetrics::default(),
        }
    }

    /// The pre-registered environment at load `rho`.
    pub fn with_load(rho: f32) -> Self {
        Self::new(NodeAllocConfig::new(rho))
    }

    /// The configuration.
    pub fn config(&self) -> &NodeAllocConfig {
        &self.cfg
    }

    /// The current episode's totals so far.
    pub fn metrics(&self) -> &EpisodeMetrics {
        &self.metrics
    }

    /// Jobs currently waiting in queues or in transit.
    pub fn pending(&self) -> u64 {
        (self.queues.iter().map(VecDeque::len).sum::<usize>()
            + self.transit.iter().map(Vec::len).sum::<usize>()) as u64
    }

    fn draw_arrivals(&mut self) {
        let t = self.t as f32;
        let period = self.cfg.episode_len.max(1) as f32;
        for i in 0..NODES {
            let phase = std::f32::consts::TAU * i as f32 / NODES as f32;
            let f = 1.0 + self.cfg.amplitude * (std::f32::consts::TAU * t / period + phase).sin();
            for j in 0..TYPES {
                self.arrivals[i][j] = poisson(&mut self.rng, self.rates[i][j] * f);
            }
        }
    }

    fn observe(&self, obs: &mut [Vec<f32>]) {
        let period = self.cfg.episode_len.max(1) as f32;
        let angle = std::f32::consts::TAU * self.t as f32 / period;
        for (i, o) in obs.iter_mut().enumerate().take(NODES) {
            o.clear();
            o.extend(self.arrivals[i].iter().map(|&a| a as f32 / 5.0));
            let mut waiting = [0.0f32; TYPES];
            for job in &self.queues[i] {
                waiting[job.kind] += 1.0;
            }
            o.extend(waiting.iter().map(|w| w / 5.0));
            o.extend_from_slice(&self.util[i]);
            o.extend(self.cfg.capacity[i].iter().map(|c| c / 10.0));
            o.extend_from_slice(&[angle.sin(), angle.cos()]);
            o.push(self.drops[i] as f32 / 5.0);
            for k in (0..NODES).filter(|&k| k != i) {
                o.extend_from_slice(&self.prev_util[k]);
            }
            for k in (0..NODES).filter(|&k| k != i) {
                o.push(self.prev_backlog[k] / 10.0);
            }
        }
    }

    /// Cumulative-rounding apportionment of `k` jobs over destinations by
    /// the fractions in `action` (non-finite or negative entries count as 0;
    /// an all-zero vector keeps everything local).
    fn apportion(action: &[f32], k: u32, own: usize) -> [u32; NODES] {
        let mut f = [0.0f64; NODES];
        for (d, v) in f.iter_mut().enumerate() {
            let a = action.get(d).copied().unwrap_or(0.0);
            *v = if a.is_finite() && a > 0.0 {
                f64::from(a)
            } else {
                0.0
            };
        }
        let sum: f64 = f.iter().sum();
        let mut out = [0u32; NODES];
        if sum <= 0.0 {
            out[own] = k;
            return out;
        }
        let mut cum = 0.0;
        let mut prev = 0u32;
        for (d, v) in f.iter().enumerate() {
            cum += v / sum;
            let upto = if d + 1 == NODES {
                k
            } else {
                ((cum * f64::from(k)) + 0.5).floor().min(f64::from(k)) as u32
            };
            out[d] = upto.saturating_sub(prev);
            prev = prev.max(upto);
        }
        out
    }
}

impl MultiAgentEnv for NodeAlloc {
    fn num_agents(&self) -> usize {
        NODES
    }

    fn obs_dim(&self, _i: usize) -> usize {
        OBS_DIM
    }

    fn action_space(&self, _i: usize) -> ActionSpace {
        ActionSpace::Categorical {
            groups: TYPES,
            size: NODES,
        }
    }

    fn episode_len(&self) -> usize {
        self.cfg.episode_len
    }

    fn reset(&mut self, seed: u64, obs: &mut [Vec<f32>]) {
        self.rng = seeded(seed);
        self.t = 0;
        self.queues = Default::default();
        self.transit = Default::default();
        self.util = [[0.0; RESOURCES]; NODES];
        self.prev_util = self.util;
        self.backlog = [0.0; NODES];
        self.prev_backlog = self.backlog;
        self.drops = [0; NODES];
        self.metrics = EpisodeMetrics::default();
        self.draw_arrivals();
        self.observe(obs);
    }

    fn step(&mut self, actions: &[Vec<f32>], obs: &mut [Vec<f32>], rewards: &mut [f32]) -> bool {
        let cfg = &self.cfg;
        let mut bw_left: [f32; NODES] = std::array::from_fn(|i| cfg.capacity[i][0]);
        // 1. Transfers from the last step land; route new arrivals.
        for d in 0..NODES {
            let landed = std::mem::take(&mut self.transit[d]);
            self.queues[d].extend(landed);
        }
        let mut transfer = 0.0f32;
        let mut new_transit: [Vec<Job>; NODES] = Default::default();
        for i in 0..NODES {
            for j in 0..TYPES {
                let k = self.arrivals[i][j];
                self.metrics.arrived += u64::from(k);
                self.metrics.offered_work[i] += f64::from(k) * f64::from(self.work[j]);
                let empty: &[f32] = &[];
                let act = actions
                    .get(i)
                    .and_then(|a| a.get(j * NODES..(j + 1) * NODES))
                    .unwrap_or(empty);
                let split = Self::apportion(act, k, i);
                for (d, &cnt) in split.iter().enumerate() {
                    for _ in 0..cnt {
                        let job = Job {
                            kind: j,
                            origin: i,
                            age: 0,
                        };
                        if d != i && bw_left[i] >= cfg.transfer_bw {
                            bw_left[i] -= cfg.transfer_bw;
                            transfer += cfg.transfer_bw;
                            self.metrics.forwarded += 1;
                            new_transit[d].push(job);
                        } else {
                            self.queues[i].push_back(job);
                        }
                    }
                }
            }
        }
        // 2. FIFO service while the head job fits.
        let mut completed = 0.0f32;
        for i in 0..NODES {
            let mut left = cfg.capacity[i];
            left[0] = bw_left[i];
            while let Some(job) = self.queues[i].front().copied() {
                let d = cfg.demand[job.kind];
                if (0..RESOURCES).any(|r| d[r] > left[r] + 1e-6) {
                    break;
                }
                (0..RESOURCES).for_each(|r| left[r] -= d[r]);
                self.queues[i].pop_front();
                self.metrics.served += 1;
                self.metrics.completed_work[job.origin] += f64::from(self.work[job.kind]);
                completed += self.work[job.kind];
            }
            self.prev_util[i] = self.util[i];
            self.util[i] = std::array::from_fn(|r| 1.0 - left[r] / cfg.capacity[i][r].max(1e-6));
        }
        let bottleneck: f64 = self
            .util
            .iter()
            .map(|u| f64::from(u.iter().fold(0.0f32, |m, &v| m.max(v))))
            .sum::<f64>()
            / NODES as f64;
        self.metrics.bottleneck_util += bottleneck / cfg.episode_len.max(1) as f64;
        // 3. Ageing and deadline drops (queues and jobs in transit).
        let mut dropped = 0.0f32;
        let deadline = cfg.deadline;
        let work = self.work;
        let mut drop_count = [0u32; NODES];
        let metrics = &mut self.metrics;
        let mut age_out = |job: &mut Job, at: usize| -> bool {
            job.age += 1;
            if job.age >= deadline {
                metrics.dropped += 1;
                metrics.dropped_work += f64::from(work[job.kind]);
                dropped += work[job.kind];
                drop_count[at] += 1;
                false
            } else {
                true
            }
        };
        for i in 0..NODES {
            self.queues[i].retain_mut(|j| age_out(j, i));
            new_transit[i].retain_mut(|j| age_out(j, i));
        }
        self.transit = new_transit;
        self.drops = drop_count;
        self.metrics.transfer_bw += f64::from(transfer);
        self.prev_backlog = self.backlog;
        self.backlog = std::array::from_fn(|i| self.queues[i].len() as f32);
        let r =
            (completed - cfg.drop_penalty * dropped - cfg.transfer_penalty * transfer) / self.norm;
        // 4. Next arrivals.
        self.t += 1;
        self.draw_arrivals();
        rewards.iter_mut().for_each(|x| *x = r);
        self.observe(obs);
        false
    }
}
