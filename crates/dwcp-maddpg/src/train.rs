//! The training loop and policy evaluation, generic over environments.

use crate::env::{MultiAgentEnv, buffers};
use crate::maddpg::Maddpg;
use crate::policy::Policy;

/// Anything that picks a joint action from the agents' local observations:
/// trained policies, heuristics, random play.
pub trait Controller {
    /// Writes one action per agent. `t` is the step within the episode.
    fn act(&mut self, t: usize, obs: &[Vec<f32>], actions: &mut [Vec<f32>]);
}

/// Decentralised execution of trained policies: agent `i` sees only `obs[i]`.
impl Controller for [Policy] {
    fn act(&mut self, _t: usize, obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for ((p, o), a) in self.iter().zip(obs).zip(actions.iter_mut()) {
            let _ = p.act_into(o, a);
        }
    }
}

impl Controller for Vec<Policy> {
    fn act(&mut self, t: usize, obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        self.as_mut_slice().act(t, obs, actions);
    }
}

/// What a training run records per episode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainLog {
    /// Episode returns: the sum over agents and steps of the rewards (the
    /// reference code's "mean episode reward" is a mean of these).
    pub returns: Vec<f32>,
    /// Update rounds done by the end of each episode.
    pub updates: Vec<u64>,
}

/// Runs `episodes` training episodes; episode `k` is reset with seed
/// `seed_base + k`. `after_episode(k, env)` is called at each episode's end
/// (before the next reset) so callers can read environment metrics.
pub fn train<E: MultiAgentEnv>(
    env: &mut E,
    trainer: &mut Maddpg,
    episodes: usize,
    seed_base: u64,
    mut after_episode: impl FnMut(usize, &E),
) -> TrainLog {
    let (mut obs, mut act, mut rew) = buffers(env);
    let mut next = obs.clone();
    let mut log = TrainLog::default();
    for k in 0..episodes {
        env.reset(seed_base.wrapping_add(k as u64), &mut obs);
        let mut ret = 0.0;
        for _ in 0..env.episode_len() {
            trainer.act(&obs, &mut act);
            let done = env.step(&act, &mut next, &mut rew);
            ret += rew.iter().sum::<f32>();
            trainer.observe(&obs, &act, &rew, &next, done);
            std::mem::swap(&mut obs, &mut next);
            if done {
                break;
            }
        }
        after_episode(k, env);
        log.returns.push(ret);
        log.updates.push(trainer.updates());
    }
    log
}

/// Plays one episode with `ctrl` from seed `seed` and returns its return
/// (sum over agents and steps).
pub fn play<E: MultiAgentEnv, C: Controller + ?Sized>(env: &mut E, ctrl: &mut C, seed: u64) -> f32 {
    let (mut obs, mut act, mut rew) = buffers(env);
    env.reset(seed, &mut obs);
    let mut ret = 0.0;
    for t in 0..env.episode_len() {
        ctrl.act(t, &obs, &mut act);
        let done = env.step(&act, &mut obs, &mut rew);
        ret += rew.iter().sum::<f32>();
        if done {
            break;
        }
    }
    ret
}
