//! The multi-agent environment contract used by training and evaluation.

use crate::space::ActionSpace;

/// A cooperative or mixed multi-agent environment with a fixed number of
/// agents, stepped synchronously (every agent acts every step).
///
/// Buffers are caller-owned so that stepping allocates nothing: `obs` holds
/// one `Vec` per agent of length [`Self::obs_dim`], `actions` one of length
/// `action_space(i).action_dim()`, `rewards` one entry per agent.
pub trait MultiAgentEnv {
    /// Number of agents.
    fn num_agents(&self) -> usize;

    /// Observation width of agent `i`.
    fn obs_dim(&self, i: usize) -> usize;

    /// Action space of agent `i`.
    fn action_space(&self, i: usize) -> ActionSpace;

    /// Steps per episode (episodes end by time limit; time-limit ends are not
    /// terminal, so value targets bootstrap through them as in the reference).
    fn episode_len(&self) -> usize;

    /// Starts an episode; everything random in it derives from `seed`.
    /// Writes the first observations.
    fn reset(&mut self, seed: u64, obs: &mut [Vec<f32>]);

    /// Applies one joint action, writes the next observations and the rewards,
    /// and returns whether the episode reached a true terminal state.
    fn step(&mut self, actions: &[Vec<f32>], obs: &mut [Vec<f32>], rewards: &mut [f32]) -> bool;
}

/// Per-agent buffers sized for `env` (observations, actions, rewards).
pub fn buffers<E: MultiAgentEnv + ?Sized>(env: &E) -> (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<f32>) {
    let n = env.num_agents();
    let obs = (0..n).map(|i| vec![0.0; env.obs_dim(i)]).collect();
    let act = (0..n)
        .map(|i| vec![0.0; env.action_space(i).action_dim()])
        .collect();
    (obs, act, vec![0.0; n])
}
