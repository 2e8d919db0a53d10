//! The learners learn: a two-agent coordination task with a known optimum.

use dwcp_core::rng::{Rng, RngCore, seeded};
use dwcp_maddpg::space::ActionSpace;
use dwcp_maddpg::train;
use dwcp_maddpg::{CriticMode, Maddpg, MaddpgConfig, MultiAgentEnv};

/// Each step both agents see a random context in {0, 1, 2} (one-hot) and are
/// rewarded, jointly, with the probability mass both put on the context.
struct Match {
    rng: Rng,
    ctx: usize,
}

impl Match {
    fn observe(&mut self, obs: &mut [Vec<f32>]) {
        self.ctx = (self.rng.next_u32() % 3) as usize;
        for o in obs.iter_mut() {
            o.iter_mut()
                .enumerate()
                .for_each(|(k, v)| *v = f32::from(u8::from(k == self.ctx)));
        }
    }
}

impl MultiAgentEnv for Match {
    fn num_agents(&self) -> usize {
        2
    }
    fn obs_dim(&self, _i: usize) -> usize {
        3
    }
    fn action_space(&self, _i: usize) -> ActionSpace {
        ActionSpace::Categorical { groups: 1, size: 3 }
    }
    fn episode_len(&self) -> usize {
        5
    }
    fn reset(&mut self, seed: u64, obs: &mut [Vec<f32>]) {
        self.rng = seeded(seed);
        self.observe(obs);
    }
    fn step(&mut self, actions: &[Vec<f32>], obs: &mut [Vec<f32>], rewards: &mut [f32]) -> bool {
        let r: f32 = actions.iter().map(|a| a[self.ctx]).sum();
        rewards.iter_mut().for_each(|x| *x = r);
        self.observe(obs);
        false
    }
}

fn learns(mode: CriticMode) {
    let cfg = MaddpgConfig {
        batch: 64,
        warmup: 256,
        update_every: 5,
        critic: mode,
        ..MaddpgConfig::default()
    };
    let mut env = Match {
        rng: seeded(0),
        ctx: 0,
    };
    let mut m = Maddpg::for_env(&env, cfg, 3).unwrap();
    train::train(&mut env, &mut m, 400, 0, |_, _| {});
    for p in m.policies() {
        for ctx in 0..3 {
            let obs: Vec<f32> = (0..3).map(|k| f32::from(u8::from(k == ctx))).collect();
            let a = p.act(&obs).unwrap();
            assert!(a[ctx] > 0.8, "{mode:?}: context {ctx}, action {a:?}");
        }
    }
}

#[test]
fn maddpg_learns_a_coordination_task() {
    learns(CriticMode::Centralised);
}

#[test]
fn iddpg_learns_a_coordination_task() {
    learns(CriticMode::Local);
}
