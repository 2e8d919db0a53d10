//! A port of the multi-agent particle environment's `simple_spread`
//! (cooperative navigation): 3 agents must cover 3 landmarks without
//! colliding.
//!
//! Physics as in MPE's `core.py`: time step 0.1, damping 0.25, unit mass,
//! action sensitivity 5, soft contact force `100 · 0.001 · ln(1 + e^(−(d − d_min)/0.001))`
//! along the centre line between colliding agents (radius 0.15). Discrete
//! action interface: a 5-vector `[noop, +x, −x, +y, −y]` whose soft values are
//! used directly, `u = 5 · (a1 − a2, a3 − a4)`. Each agent's reward is
//! `−Σ_landmarks min_agents distance − (collisions, counting itself)`; the
//! environment is collaborative, so every agent receives the sum of those
//! rewards (MPE's `shared_reward`). The observation of an agent (18 values) is
//! its velocity, its position, the landmarks relative to it, the other agents
//! relative to it and their (always zero, silent) communication channels.

use crate::env::MultiAgentEnv;
use crate::space::ActionSpace;
use dwcp_core::rng::{RngCore, seeded};

const AGENTS: usize = 3;
const LANDMARKS: usize = 3;
const DT: f32 = 0.1;
const DAMPING: f32 = 0.25;
const SENSITIVITY: f32 = 5.0;
const AGENT_SIZE: f32 = 0.15;
const CONTACT_FORCE: f32 = 100.0;
const CONTACT_MARGIN: f32 = 1e-3;
const EPISODE_LEN: usize = 25;
const DIM_C: usize = 2;

/// The `simple_spread` environment (3 agents, 3 landmarks, 25-step episodes).
#[derive(Clone, Debug, Default)]
pub struct SimpleSpread {
    pos: [[f32; 2]; AGENTS],
    vel: [[f32; 2]; AGENTS],
    landmarks: [[f32; 2]; LANDMARKS],
}

fn uniform(rng: &mut impl RngCore) -> f32 {
    2.0 * ((rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32) - 1.0
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

impl SimpleSpread {
    /// A new environment (call [`MultiAgentEnv::reset`] before stepping).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sum over landmarks of the distance to the closest agent.
    pub fn coverage_distance(&self) -> f32 {
        self.landmarks
            .iter()
            .map(|&l| {
                self.pos
                    .iter()
                    .map(|&p| dist(p, l))
                    .fold(f32::INFINITY, f32::min)
            })
            .sum()
    }

    /// Number of colliding agent pairs.
    pub fn collisions(&self) -> usize {
        let mut c = 0;
        for a in 0..AGENTS {
            for b in a + 1..AGENTS {
                if dist(self.pos[a], self.pos[b]) < 2.0 * AGENT_SIZE {
                    c += 1;
                }
            }
        }
        c
    }

    fn observe(&self, obs: &mut [Vec<f32>]) {
        for (i, o) in obs.iter_mut().enumerate().take(AGENTS) {
            o.clear();
            let p = self.pos[i];
            o.extend_from_slice(&self.vel[i]);
            o.extend_from_slice(&p);
            for l in &self.landmarks {
                o.extend_from_slice(&[l[0] - p[0], l[1] - p[1]]);
            }
            for (j, q) in self.pos.iter().enumerate() {
                if j != i {
                    o.extend_from_slice(&[q[0] - p[0], q[1] - p[1]]);
                }
            }
            o.extend(std::iter::repeat_n(0.0, DIM_C * (AGENTS - 1)));
        }
    }
}

impl MultiAgentEnv for SimpleSpread {
    fn num_agents(&self) -> usize {
        AGENTS
    }

    fn obs_dim(&self, _i: usize) -> usize {
        4 + 2 * LANDMARKS + (2 + DIM_C) * (AGENTS - 1)
    }

    fn action_space(&self, _i: usize) -> ActionSpace {
        ActionSpace::Categorical { groups: 1, size: 5 }
    }

    fn episode_len(&self) -> usize {
        EPISODE_LEN
    }

    fn reset(&mut self, seed: u64, obs: &mut [Vec<f32>]) {
        let mut rng = seeded(seed);
        for i in 0..AGENTS {
            self.pos[i] = [uniform(&mut rng), uniform(&mut rng)];
            self.vel[i] = [0.0; 2];
        }
        for l in &mut self.landmarks {
            *l = [uniform(&mut rng), uniform(&mut rng)];
        }
        self.observe(obs);
    }

    fn step(&mut self, actions: &[Vec<f32>], obs: &mut [Vec<f32>], rewards: &mut [f32]) -> bool {
        let mut force = [[0.0f32; 2]; AGENTS];
        for (f, a) in force.iter_mut().zip(actions) {
            let g = |k: usize| a.get(k).copied().unwrap_or(0.0);
            *f = [SENSITIVITY * (g(1) - g(2)), SENSITIVITY * (g(3) - g(4))];
        }
        for a in 0..AGENTS {
            for b in a + 1..AGENTS {
                let delta = [
                    self.pos[a][0] - self.pos[b][0],
                    self.pos[a][1] - self.pos[b][1],
                ];
                let d = dist(self.pos[a], self.pos[b]).max(1e-8);
                let x = -(d - 2.0 * AGENT_SIZE) / CONTACT_MARGIN;
                // logaddexp(0, x), computed stably.
                let pen = (x.max(0.0) + (-x.abs()).exp().ln_1p()) * CONTACT_MARGIN;
                for k in 0..2 {
                    let f = CONTACT_FORCE * delta[k] / d * pen;
                    force[a][k] += f;
                    force[b][k] -= f;
                }
            }
        }
        for i in 0..AGENTS {
            for k in 0..2 {
                self.vel[i][k] = self.vel[i][k] * (1.0 - DAMPING) + force[i][k] * DT;
                self.pos[i][k] += self.vel[i][k] * DT;
            }
        }
        let cover = self.coverage_distance();
        let mut total = 0.0;
        for i in 0..AGENTS {
            let hits = (0..AGENTS)
                .filter(|&j| dist(self.pos[i], self.pos[j]) < 2.0 * AGENT_SIZE)
                .count();
            total += -cover - hits as f32;
        }
        rewards.iter_mut().for_each(|r| *r = total);
        self.observe(obs);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::buffers;

    #[test]
    fn shapes_and_shared_reward() {
        let mut env = SimpleSpread::new();
        let (mut obs, mut act, mut rew) = buffers(&env);
        env.reset(3, &mut obs);
        assert!(obs.iter().all(|o| o.len() == 18));
        act.iter_mut().for_each(|a| a[1] = 1.0);
        env.step(&act, &mut obs, &mut rew);
        assert!(rew.iter().all(|&r| r == rew[0] && r <= -3.0));
        // Every agent moved +x by 0.1 · 0.5 = 0.05 from rest.
        assert!((obs[0][0] - 0.5).abs() < 1e-6);
    }
}
