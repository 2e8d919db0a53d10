//! MADDPG on `simple_spread` against random play.

use crate::env::MultiAgentEnv;
use crate::maddpg::{Maddpg, MaddpgConfig, MaddpgError};
use crate::policy::Policy;
use crate::spread::SimpleSpread;
use crate::stats;
use crate::train::{self, Controller};
use dwcp_core::rng::{Rng, RngCore, seeded};

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadConfig {
    /// Trainer hyperparameters.
    pub trainer: MaddpgConfig,
    /// Training episodes (reference: 60,000).
    pub episodes: usize,
    /// Episodes per learning-curve point (reference logs every 1,000).
    pub window: usize,
    /// Held-out evaluation episodes for the final policies and random play.
    pub eval_episodes: usize,
    /// Training seed.
    pub seed: u64,
}

/// Results.
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadReport {
    /// `(episodes trained, mean training return over the window)`.
    pub curve: Vec<(usize, f64)>,
    /// Mean return of uniformly random one-hot actions on the held-out episodes.
    pub random_return: f64,
    /// 95% CI half-width of `random_return`.
    pub random_ci: f64,
    /// Mean held-out return of the trained policies acting stochastically
    /// (Gumbel-softmax samples, as the reference evaluates).
    pub trained_sampled_return: f64,
    /// 95% CI half-width of `trained_sampled_return`.
    pub trained_sampled_ci: f64,
    /// Mean held-out return of the trained policies acting deterministically
    /// (softmax of the logits).
    pub trained_return: f64,
    /// 95% CI half-width of `trained_return`.
    pub trained_ci: f64,
    /// Mean over held-out episodes of the final-step sum of landmark distances
    /// to their nearest agent, trained deterministic policies and random play.
    pub final_distance: (f64, f64),
    /// Update rounds done.
    pub updates: u64,
}

/// Uniformly random one-hot actions for every agent.
struct RandomPlay(Rng);

impl Controller for RandomPlay {
    fn act(&mut self, _t: usize, _obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for a in actions.iter_mut() {
            let k = (self.0.next_u32() as usize) % a.len().max(1);
            a.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = f32::from(u8::from(i == k)));
        }
    }
}

/// The policies acting on Gumbel-softmax samples.
struct Sampled(Vec<Policy>, Rng);

impl Controller for Sampled {
    fn act(&mut self, _t: usize, obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for ((p, o), a) in self.0.iter().zip(obs).zip(actions.iter_mut()) {
            if let Ok(v) = p.act_sample(o, &mut self.1) {
                a.copy_from_slice(&v);
            }
        }
    }
}

/// Evaluation seeds are disjoint from training seeds (`seed · 10⁷ + k`).
const EVAL_BASE: u64 = 9_000_000_000;

fn eval<C: Controller + ?Sized>(ctrl: &mut C, episodes: usize) -> (Vec<f64>, f64) {
    let mut env = SimpleSpread::new();
    let mut rets = Vec::with_capacity(episodes);
    let mut dist = 0.0;
    for k in 0..episodes {
        rets.push(f64::from(train::play(&mut env, ctrl, EVAL_BASE + k as u64)));
        dist += f64::from(env.coverage_distance());
    }
    (rets, dist / episodes.max(1) as f64)
}

/// Trains MADDPG on `simple_spread` and evaluates it against random play.
pub fn run(cfg: &SpreadConfig) -> Result<SpreadReport, MaddpgError> {
    let mut env = SimpleSpread::new();
    let mut trainer = Maddpg::for_env(&env, cfg.trainer.clone(), cfg.seed)?;
    let log = train::train(
        &mut env,
        &mut trainer,
        cfg.episodes,
        cfg.seed.wrapping_mul(10_000_000),
        |_, _| {},
    );
    let w = cfg.window.max(1);
    let curve = log
        .returns
        .chunks(w)
        .enumerate()
        .map(|(k, c)| {
            let v: Vec<f64> = c.iter().map(|&r| f64::from(r)).collect();
            (k * w + c.len(), stats::mean(&v))
        })
        .collect();
    let (random, random_dist) = eval(&mut RandomPlay(seeded(cfg.seed ^ 0xabc)), cfg.eval_episodes);
    let policies = trainer.policies();
    let (sampled, _) = eval(
        &mut Sampled(policies.clone(), seeded(cfg.seed ^ 0xdef)),
        cfg.eval_episodes,
    );
    let mut det = policies;
    let (trained, trained_dist) = eval(&mut det, cfg.eval_episodes);
    debug_assert_eq!(env.num_agents(), 3);
    Ok(SpreadReport {
        curve,
        random_return: stats::mean(&random),
        random_ci: stats::ci95(&random),
        trained_sampled_return: stats::mean(&sampled),
        trained_sampled_ci: stats::ci95(&sampled),
        trained_return: stats::mean(&trained),
        trained_ci: stats::ci95(&trained),
        final_distance: (trained_dist, random_dist),
        updates: trainer.updates(),
    })
}
