//! The MADDPG / independent-DDPG trainer: per-agent actors and critics with
//! target networks, one shared replay of joint transitions, and the batched
//! update.

use crate::env::MultiAgentEnv;
use crate::policy::Policy;
use crate::replay::{Batch, ReplayBuffer};
use crate::space::{self, ActionSpace};
use dwcp_core::rng::{Rng, derive};
use dwcp_nn::ndarray::{Array2, ArrayView2, Axis, Slice};
use dwcp_nn::{Activation, Adam, Gradients, Mlp, NnError, Optimizer, clip_grad_norm, mse};
use serde::{Deserialize, Serialize};

/// What each agent's critic sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CriticMode {
    /// MADDPG: all agents' observations and actions (centralised training).
    Centralised,
    /// Independent DDPG: only the agent's own observation and action.
    Local,
}

/// How gradients are clipped before each optimiser step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClipMode {
    /// Every weight and bias tensor clipped to the norm on its own
    /// (`tf.clip_by_norm` per variable, as the reference code does).
    PerTensor,
    /// One global norm over all of a network's gradients.
    Global,
}

/// Hyperparameters. [`MaddpgConfig::default`] is the reference code's
/// configuration (openai/maddpg `train.py` and `maddpg.py`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaddpgConfig {
    /// Hidden layer widths of actors and critics (reference: `[64, 64]`, ReLU).
    pub hidden: Vec<usize>,
    /// Adam learning rate for actors and critics (1e-2).
    pub lr: f32,
    /// Gradient-norm clip (0.5).
    pub grad_clip: f32,
    /// Clipping granularity (per tensor, as the reference).
    pub clip_mode: ClipMode,
    /// Discount (0.95).
    pub gamma: f32,
    /// Soft target update rate (0.01).
    pub tau: f32,
    /// Minibatch size (1024).
    pub batch: usize,
    /// Replay capacity in joint transitions (1e6).
    pub buffer: usize,
    /// Transitions stored before updates start (`batch · 25` = 25,600).
    pub warmup: usize,
    /// Environment steps between updates (100).
    pub update_every: usize,
    /// Weight of the actor regulariser `mean(p²)` on its output (1e-3).
    pub actor_reg: f32,
    /// Centralised (MADDPG) or local (IDDPG) critics.
    pub critic: CriticMode,
}

impl Default for MaddpgConfig {
    fn default() -> Self {
        MaddpgConfig {
            hidden: vec![64, 64],
            lr: 1e-2,
            grad_clip: 0.5,
            clip_mode: ClipMode::PerTensor,
            gamma: 0.95,
            tau: 0.01,
            batch: 1024,
            buffer: 1_000_000,
            warmup: 1024 * 25,
            update_every: 100,
            actor_reg: 1e-3,
            critic: CriticMode::Centralised,
        }
    }
}

impl MaddpgConfig {
    /// The reference configuration with local critics (independent DDPG).
    pub fn iddpg() -> Self {
        MaddpgConfig {
            critic: CriticMode::Local,
            ..Self::default()
        }
    }
}

/// One agent's networks and optimisers.
#[derive(Clone, Debug)]
pub struct AgentNets {
    /// The actor `o_i → distribution parameters`.
    pub actor: Mlp,
    /// The critic `(x, a) → Q`.
    pub critic: Mlp,
    /// Target actor.
    pub target_actor: Mlp,
    /// Target critic.
    pub target_critic: Mlp,
    actor_opt: Adam,
    critic_opt: Adam,
    space: ActionSpace,
    obs_dim: usize,
}

/// Figures from one update round (means over agents).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// Mean critic loss (before the step).
    pub critic_loss: f32,
    /// Mean Q of the sampled transitions.
    pub mean_q: f32,
    /// Mean actor loss (`−mean Q + reg`).
    pub actor_loss: f32,
}

/// Errors building a trainer.
#[derive(Debug)]
pub enum MaddpgError {
    /// Agent lists of different lengths, no agents, or zero widths.
    BadShape(String),
    /// A network could not be built.
    Nn(NnError),
}

impl std::fmt::Display for MaddpgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaddpgError::BadShape(s) => write!(f, "bad shape: {s}"),
            MaddpgError::Nn(e) => write!(f, "network: {e}"),
        }
    }
}

impl std::error::Error for MaddpgError {}

impl From<NnError> for MaddpgError {
    fn from(e: NnError) -> Self {
        MaddpgError::Nn(e)
    }
}

/// Reusable per-round matrices (allocated once, sized by the batch).
#[derive(Clone, Debug)]
struct Scratch {
    batch: Batch,
    /// Critic input on the sampled transitions (centralised: shared by all agents).
    x: Array2<f32>,
    /// Critic input on next observations and target actions.
    x_next: Array2<f32>,
    /// Target actions per agent and the matching noise.
    next_act: Vec<Array2<f32>>,
    next_noise: Vec<Array2<f32>>,
}

/// The trainer. Everything random (initial weights, exploration, sampling)
/// comes from ChaCha streams derived from the seed, so the same seed and
/// the same environment give bit-identical weights.
#[derive(Clone, Debug)]
pub struct Maddpg {
    cfg: MaddpgConfig,
    agents: Vec<AgentNets>,
    buffer: ReplayBuffer,
    explore_rng: Rng,
    update_rng: Rng,
    steps: u64,
    updates: u64,
    scratch: Option<Scratch>,
}

fn clip(grads: &mut Gradients, max: f32, mode: ClipMode) {
    match mode {
        ClipMode::Global => {
            if !clip_grad_norm(grads, max).is_finite() {
                grads.scale(0.0);
            }
        }
        ClipMode::PerTensor => {
            for l in &mut grads.layers {
                for t in [l.w.as_slice_mut(), l.b.as_slice_mut()]
                    .into_iter()
                    .flatten()
                {
                    let n = t.iter().map(|&g| f64::from(g).powi(2)).sum::<f64>().sqrt() as f32;
                    if !n.is_finite() {
                        // A non-finite gradient would poison Adam's state: drop it.
                        t.iter_mut().for_each(|g| *g = 0.0);
                    } else if n > max {
                        let c = max / n;
                        t.iter_mut().for_each(|g| *g *= c);
                    }
                }
            }
        }
    }
}

/// The MADDPG policy objective of one agent and its actor gradients:
/// `L = −mean_b Q(x_b with columns a_col.. replaced by a_b) + reg · mean(p²)`,
/// where `p = actor(obs)` and `a = apply_noise(p, noise)` (the Gumbel-softmax
/// or Gaussian sample for the given noise). `x` is the critic input on the
/// sampled transitions. The gradient flows critic → action → actor, with
/// the critic's weights held fixed.
#[allow(clippy::too_many_arguments)]
pub fn actor_loss_grad(
    actor: &Mlp,
    critic: &Mlp,
    space: ActionSpace,
    obs: ArrayView2<f32>,
    x: ArrayView2<f32>,
    a_col: usize,
    noise: ArrayView2<f32>,
    reg: f32,
) -> (f32, Gradients) {
    let rows = obs.nrows();
    let ad = space.action_dim();
    let a_cache = actor.forward_cached(&obs);
    let mut a_new = Array2::zeros((rows, ad));
    space::apply_noise(space, a_cache.output().view(), a_new.view_mut(), noise);
    let mut xa = x.to_owned();
    put_cols(&mut xa, a_col, a_new.view());
    let q_cache = critic.forward_cached(&xa);
    let q_mean = q_cache.output().mean().unwrap_or(0.0);
    let p_reg = a_cache.output().mapv(|v| v * v).mean().unwrap_or(0.0);
    let d_q = Array2::from_elem((rows, 1), -1.0 / rows.max(1) as f32);
    let d_x = critic.backward_input_cols(&q_cache, &d_q, a_col..a_col + ad);
    let d_a = d_x.view();
    let d_p = space::backward(
        space,
        a_cache.output().view(),
        a_new.view(),
        noise,
        d_a,
        reg,
    );
    let grads = actor.backward_params(&a_cache, &d_p);
    (-q_mean + reg * p_reg, grads)
}

fn put_cols(dst: &mut Array2<f32>, start: usize, src: ArrayView2<f32>) {
    dst.slice_axis_mut(Axis(1), Slice::from(start..start + src.ncols()))
        .assign(&src);
}

impl Maddpg {
    /// A trainer for agents with the given observation widths and action
    /// spaces, seeded by `seed`.
    pub fn new(
        obs_dims: &[usize],
        spaces: &[ActionSpace],
        cfg: MaddpgConfig,
        seed: u64,
    ) -> Result<Self, MaddpgError> {
        let n = obs_dims.len();
        if n == 0 || spaces.len() != n || obs_dims.contains(&0) {
            return Err(MaddpgError::BadShape(format!(
                "{n} observation widths, {} action spaces",
                spaces.len()
            )));
        }
        let total_obs: usize = obs_dims.iter().sum();
        let total_act: usize = spaces.iter().map(|s| s.action_dim()).sum();
        let mut agents = Vec::with_capacity(n);
        for (i, (&od, &sp)) in obs_dims.iter().zip(spaces).enumerate() {
            let mut rng = derive(seed, 1 + i as u64);
            let critic_in = match cfg.critic {
                CriticMode::Centralised => total_obs + total_act,
                CriticMode::Local => od + sp.action_dim(),
            };
            let sizes = |input: usize, output: usize| {
                let mut s = vec![input];
                s.extend(&cfg.hidden);
                s.push(output);
                s
            };
            let actor = Mlp::new(
                &sizes(od, sp.param_dim()),
                Activation::Relu,
                Activation::Identity,
                &mut rng,
            )?;
            let critic = Mlp::new(
                &sizes(critic_in, 1),
                Activation::Relu,
                Activation::Identity,
                &mut rng,
            )?;
            agents.push(AgentNets {
                target_actor: actor.clone(),
                target_critic: critic.clone(),
                actor,
                critic,
                actor_opt: Adam::new(cfg.lr),
                critic_opt: Adam::new(cfg.lr),
                space: sp,
                obs_dim: od,
            });
        }
        let act_dims: Vec<usize> = spaces.iter().map(|s| s.action_dim()).collect();
        Ok(Maddpg {
            buffer: ReplayBuffer::new(cfg.buffer, obs_dims, &act_dims),
            cfg,
            agents,
            explore_rng: derive(seed, 1 << 32),
            update_rng: derive(seed, (1 << 32) + 1),
            steps: 0,
            updates: 0,
            scratch: None,
        })
    }

    /// A trainer sized for `env`'s agents.
    pub fn for_env<E: MultiAgentEnv + ?Sized>(
        env: &E,
        cfg: MaddpgConfig,
        seed: u64,
    ) -> Result<Self, MaddpgError> {
        let n = env.num_agents();
        let obs: Vec<usize> = (0..n).map(|i| env.obs_dim(i)).collect();
        let spaces: Vec<ActionSpace> = (0..n).map(|i| env.action_space(i)).collect();
        Self::new(&obs, &spaces, cfg, seed)
    }

    /// The configuration.
    pub fn config(&self) -> &MaddpgConfig {
        &self.cfg
    }

    /// Every agent's networks.
    pub fn agents(&self) -> &[AgentNets] {
        &self.agents
    }

    /// The replay buffer.
    pub fn buffer(&self) -> &ReplayBuffer {
        &self.buffer
    }

    /// Environment steps observed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Update rounds done so far (each is one gradient step per agent).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The trained policies for decentralised execution.
    pub fn policies(&self) -> Vec<Policy> {
        self.agents
            .iter()
            .filter_map(|a| Policy::new(a.actor.clone(), a.space).ok())
            .collect()
    }

    /// Exploratory joint action (each agent samples from its own actor's
    /// distribution on its own observation). Observations of the wrong width
    /// leave that agent's action unchanged.
    pub fn act(&mut self, obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for ((a, o), out) in self.agents.iter().zip(obs).zip(actions.iter_mut()) {
            let Ok(x) = ArrayView2::from_shape((1, o.len()), o) else {
                continue;
            };
            if o.len() != a.obs_dim || out.len() != a.space.action_dim() {
                continue;
            }
            let params = a.actor.forward(&x);
            let d = a.space.action_dim();
            let mut act = Array2::zeros((1, d));
            let mut noise = Array2::zeros((1, d));
            space::sample_into(
                a.space,
                params.view(),
                act.view_mut(),
                noise.view_mut(),
                &mut self.explore_rng,
            );
            out.iter_mut().zip(act.iter()).for_each(|(o, &v)| *o = v);
        }
    }

    /// Records one joint transition; after warm-up, runs an update round
    /// every `update_every` steps and returns its figures.
    pub fn observe(
        &mut self,
        obs: &[Vec<f32>],
        act: &[Vec<f32>],
        rew: &[f32],
        next_obs: &[Vec<f32>],
        done: bool,
    ) -> Option<UpdateStats> {
        self.buffer.push(obs, act, rew, next_obs, done);
        self.steps += 1;
        let ready = self.buffer.len() >= self.cfg.warmup.max(1)
            && self
                .steps
                .is_multiple_of(self.cfg.update_every.max(1) as u64);
        ready.then(|| self.update())
    }

    /// Stores a transition without counting an environment step or
    /// updating (for filling a buffer from logged data or benchmarks).
    pub fn buffer_push(
        &mut self,
        obs: &[Vec<f32>],
        act: &[Vec<f32>],
        rew: &[f32],
        next_obs: &[Vec<f32>],
        done: bool,
    ) {
        self.buffer.push(obs, act, rew, next_obs, done);
    }

    fn scratch(&mut self) -> Scratch {
        let b = self.cfg.batch.max(1);
        if let Some(s) = self.scratch.take() {
            return s;
        }
        let total: usize = self
            .agents
            .iter()
            .map(|a| a.obs_dim + a.space.action_dim())
            .sum();
        Scratch {
            batch: self.buffer.batch(b),
            x: Array2::zeros((b, total)),
            x_next: Array2::zeros((b, total)),
            next_act: self
                .agents
                .iter()
                .map(|a| Array2::zeros((b, a.space.action_dim())))
                .collect(),
            next_noise: self
                .agents
                .iter()
                .map(|a| Array2::zeros((b, a.space.action_dim())))
                .collect(),
        }
    }

    /// One update round: samples one batch of joint transitions and takes one
    /// critic and one actor step per agent, then soft-updates every target
    /// network. Does nothing (returns zeros) on an empty buffer.
    pub fn update(&mut self) -> UpdateStats {
        if self.buffer.is_empty() {
            return UpdateStats::default();
        }
        let mut s = self.scratch();
        self.buffer.sample_into(&mut s.batch, &mut self.update_rng);
        let n = self.agents.len();
        // Target actions, sampled from the target actors as the reference does.
        for (j, a) in self.agents.iter().enumerate() {
            let p = a.target_actor.forward(&s.batch.next_obs[j]);
            space::sample_into(
                a.space,
                p.view(),
                s.next_act[j].view_mut(),
                s.next_noise[j].view_mut(),
                &mut self.update_rng,
            );
        }
        // Column layout of a centralised critic input: all obs, then all actions.
        let obs_off: Vec<usize> = self
            .agents
            .iter()
            .scan(0, |o, a| {
                let v = *o;
                *o += a.obs_dim;
                Some(v)
            })
            .collect();
        let total_obs: usize = self.agents.iter().map(|a| a.obs_dim).sum();
        let act_off: Vec<usize> = self
            .agents
            .iter()
            .scan(total_obs, |o, a| {
                let v = *o;
                *o += a.space.action_dim();
                Some(v)
            })
            .collect();
        let central = self.cfg.critic == CriticMode::Centralised;
        if central {
            for j in 0..n {
                put_cols(&mut s.x, obs_off[j], s.batch.obs[j].view());
                put_cols(&mut s.x, act_off[j], s.batch.act[j].view());
                put_cols(&mut s.x_next, obs_off[j], s.batch.next_obs[j].view());
                put_cols(&mut s.x_next, act_off[j], s.next_act[j].view());
            }
        }
        let mut stats = UpdateStats::default();
        for i in 0..n {
            let (od, ad) = (self.agents[i].obs_dim, self.agents[i].space.action_dim());
            let (x, x_next, a_col) = if central {
                (s.x.view(), s.x_next.view(), act_off[i])
            } else {
                let w = od + ad;
                let mut xl = s.x.slice_axis_mut(Axis(1), Slice::from(0..w));
                xl.slice_axis_mut(Axis(1), Slice::from(0..od))
                    .assign(&s.batch.obs[i]);
                xl.slice_axis_mut(Axis(1), Slice::from(od..w))
                    .assign(&s.batch.act[i]);
                let mut xn = s.x_next.slice_axis_mut(Axis(1), Slice::from(0..w));
                xn.slice_axis_mut(Axis(1), Slice::from(0..od))
                    .assign(&s.batch.next_obs[i]);
                xn.slice_axis_mut(Axis(1), Slice::from(od..w))
                    .assign(&s.next_act[i]);
                (
                    s.x.slice_axis(Axis(1), Slice::from(0..w)),
                    s.x_next.slice_axis(Axis(1), Slice::from(0..w)),
                    od,
                )
            };
            let agent = &mut self.agents[i];
            // Critic: y = r + γ (1 − done) Q'(x', a').
            let mut y = agent.target_critic.forward(&x_next);
            let g = self.cfg.gamma;
            y.zip_mut_with(&s.batch.done, |q, &d| *q *= g * (1.0 - d));
            y += &s.batch.rew[i];
            let cache = agent.critic.forward_cached(&x);
            let Ok((loss, d_out)) = mse(cache.output(), &y) else {
                continue;
            };
            stats.critic_loss += loss / n as f32;
            stats.mean_q += cache.output().mean().unwrap_or(0.0) / n as f32;
            let mut grads = agent.critic.backward_params(&cache, &d_out);
            clip(&mut grads, self.cfg.grad_clip, self.cfg.clip_mode);
            let _ = agent.critic_opt.step(&mut agent.critic, &grads);
            // Actor: maximise Q(x with a_i ← sample(μ_i(o_i))) − reg·mean(p²).
            let mut a_noise = Array2::zeros((s.batch.len(), ad));
            space::draw_noise(agent.space, a_noise.view_mut(), &mut self.update_rng);
            let (a_loss, mut a_grads) = actor_loss_grad(
                &agent.actor,
                &agent.critic,
                agent.space,
                s.batch.obs[i].view(),
                x,
                a_col,
                a_noise.view(),
                self.cfg.actor_reg,
            );
            stats.actor_loss += a_loss / n as f32;
            clip(&mut a_grads, self.cfg.grad_clip, self.cfg.clip_mode);
            let _ = agent.actor_opt.step(&mut agent.actor, &a_grads);
        }
        let tau = self.cfg.tau;
        for a in &mut self.agents {
            let _ = a.target_actor.soft_update_from(&a.actor, tau);
            let _ = a.target_critic.soft_update_from(&a.critic, tau);
        }
        self.scratch = Some(s);
        self.updates += 1;
        stats
    }
}
