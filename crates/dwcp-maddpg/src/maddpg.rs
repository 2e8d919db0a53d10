//! The MADDPG / independent-DDPG trainer: per-agent actors and critics with
//! target networks, one shared replay of joint transitions, and the batched
//! update.

use crate::env::MultiAgentEnv;
use crate::policy::Policy;
use crate::replay::{Batch, ReplayBuffer};
use crate::space::{self, ActionSpace};
use dwcp_core::rng::{Rng, RngCore, SeedableRng, derive};
use dwcp_nn::ndarray::{Array2, ArrayView2, Axis, Slice, Zip};
use dwcp_nn::{
    Activation, Adam, Gradients, InputGrad, Mlp, NnError, Optimizer, Workspace, clip_grad_norm,
};
use rand_chacha::ChaCha8Rng;
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
    /// Factor on the environment's reward in the TD target (1: the
    /// reference; a constant rescaling of the same reward).
    pub reward_scale: f32,
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
            reward_scale: 1.0,
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

/// One agent's reusable buffers for an update round.
#[derive(Clone, Debug)]
struct AgentScratch {
    target_actor: Workspace,
    target_critic: Workspace,
    critic: Workspace,
    critic_grads: Gradients,
    policy: PolicyBuffers,
    /// Local (IDDPG) critic inputs: `[obs_i, act_i]` and
    /// `[next_obs_i, next_act_i]` (empty in centralised mode).
    x: Array2<f32>,
    x_next: Array2<f32>,
    /// Target actions and their noise.
    next_act: Array2<f32>,
    next_noise: Array2<f32>,
    /// Policy-gradient noise.
    noise: Array2<f32>,
}

/// Reusable per-round matrices (allocated once, sized by the batch).
#[derive(Clone, Debug)]
struct Scratch {
    batch: Batch,
    /// Centralised critic input on the sampled transitions (shared by all agents).
    x: Array2<f32>,
    /// Centralised critic input on next observations and target actions.
    x_next: Array2<f32>,
    /// TD targets.
    y: Array2<f32>,
    agents: Vec<AgentScratch>,
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
    /// Gumbel / Gaussian noise of the update (target and policy actions):
    /// ChaCha8, seeded from the trainer's seed, because the update draws
    /// about 100k noise samples per round.
    noise_rng: ChaCha8Rng,
    steps: u64,
    updates: u64,
    scratch: Option<Scratch>,
}

/// The update's noise generator: ChaCha8 keyed by 32 bytes of a ChaCha20
/// stream derived from the seed (so runs stay deterministic).
fn noise_rng(seed: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    derive(seed, (1 << 32) + 2).fill_bytes(&mut key);
    ChaCha8Rng::from_seed(key)
}

/// `Σ t²` in `f64`, eight independent partial sums so the loop vectorises.
fn sum_sq(t: &[f32]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = t.chunks_exact(8);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum();
    for c in chunks {
        for (a, &g) in acc.iter_mut().zip(c) {
            *a += f64::from(g) * f64::from(g);
        }
    }
    acc.iter().sum::<f64>() + tail
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
                    let n = sum_sq(t).sqrt() as f32;
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
/// the critic's weights held fixed. (The trainer runs the same computation
/// on preallocated buffers.)
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
    let mut bufs = PolicyBuffers {
        actor: actor.workspace(),
        critic: critic.workspace(),
        grads: actor.zero_grads(),
        action: Array2::zeros((rows, ad)),
    };
    let mut xa = x.to_owned();
    let loss = policy_grad(
        actor, critic, space, obs, &mut xa, a_col, noise, reg, &mut bufs,
    );
    (loss, bufs.grads)
}

/// Buffers of one policy-gradient computation.
#[derive(Clone, Debug)]
struct PolicyBuffers {
    actor: Workspace,
    critic: Workspace,
    grads: Gradients,
    action: Array2<f32>,
}

/// [`actor_loss_grad`] on caller buffers: `xa` holds the critic input and
/// gets the fresh action written into its columns `a_col..`; the gradient
/// lands in `bufs.grads`. Returns the loss.
#[allow(clippy::too_many_arguments)]
fn policy_grad(
    actor: &Mlp,
    critic: &Mlp,
    space: ActionSpace,
    obs: ArrayView2<f32>,
    xa: &mut Array2<f32>,
    a_col: usize,
    noise: ArrayView2<f32>,
    reg: f32,
    bufs: &mut PolicyBuffers,
) -> f32 {
    let rows = obs.nrows();
    let ad = space.action_dim();
    actor.forward_ws(&obs, &mut bufs.actor);
    let p = bufs.actor.output();
    space::apply_noise(space, p.view(), bufs.action.view_mut(), noise);
    put_cols(xa, a_col, bufs.action.view());
    critic.forward_ws(xa, &mut bufs.critic);
    let q_mean = bufs.critic.output().mean().unwrap_or(0.0);
    let p_reg = p.iter().map(|v| v * v).sum::<f32>() / p.len().max(1) as f32;
    bufs.critic.d_output_mut().fill(-1.0 / rows.max(1) as f32);
    critic.backward_ws(
        xa,
        &mut bufs.critic,
        None,
        InputGrad::Cols(a_col..a_col + ad),
    );
    let (p, d_p) = bufs.actor.output_and_d_output_mut();
    space::backward_into(
        space,
        p.view(),
        bufs.action.view(),
        noise,
        bufs.critic.d_input().view(),
        reg,
        d_p.view_mut(),
    );
    actor.backward_ws(
        &obs,
        &mut bufs.actor,
        Some(&mut bufs.grads),
        InputGrad::None,
    );
    -q_mean + reg * p_reg
}

/// Writes `src` into `dst`'s columns `start..start + src.ncols()`.
fn put_cols(dst: &mut Array2<f32>, start: usize, src: ArrayView2<f32>) {
    let (w, sw) = (dst.ncols(), src.ncols());
    if let (Some(d), Some(s)) = (dst.as_slice_mut(), src.as_slice())
        && sw > 0
        && start + sw <= w
        && d.len() / w == s.len() / sw
    {
        // Contiguous rows: one short copy per row.
        for (drow, srow) in d.chunks_exact_mut(w).zip(s.chunks_exact(sw)) {
            crate::replay::copy_row(&mut drow[start..start + sw], srow);
        }
        return;
    }
    dst.slice_axis_mut(Axis(1), Slice::from(start..start + sw))
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
            noise_rng: noise_rng(seed),
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
        let central = self.cfg.critic == CriticMode::Centralised;
        let total: usize = self
            .agents
            .iter()
            .map(|a| a.obs_dim + a.space.action_dim())
            .sum();
        let wide = if central { total } else { 0 };
        let agents = self
            .agents
            .iter()
            .map(|a| {
                let ad = a.space.action_dim();
                let local = if central { 0 } else { a.obs_dim + ad };
                AgentScratch {
                    target_actor: a.target_actor.workspace(),
                    target_critic: a.target_critic.workspace(),
                    critic: a.critic.workspace(),
                    critic_grads: a.critic.zero_grads(),
                    policy: PolicyBuffers {
                        actor: a.actor.workspace(),
                        critic: a.critic.workspace(),
                        grads: a.actor.zero_grads(),
                        action: Array2::zeros((b, ad)),
                    },
                    x: Array2::zeros((b, local)),
                    x_next: Array2::zeros((b, local)),
                    next_act: Array2::zeros((b, ad)),
                    next_noise: Array2::zeros((b, ad)),
                    noise: Array2::zeros((b, ad)),
                }
            })
            .collect();
        Scratch {
            batch: self.buffer.batch(b),
            x: Array2::zeros((b, wide)),
            x_next: Array2::zeros((b, wide)),
            y: Array2::zeros((b, 1)),
            agents,
        }
    }

    /// One update round: samples one batch of joint transitions and takes one
    /// critic and one actor step per agent, then soft-updates every target
    /// network. Does nothing (returns zeros) on an empty buffer.
    ///
    /// Each agent's step reads only the sampled batch, the target actions
    /// and its own networks, so the order of agents does not matter; target
    /// actions are computed once per round for all agents.
    pub fn update(&mut self) -> UpdateStats {
        if self.buffer.is_empty() {
            return UpdateStats::default();
        }
        let mut s = self.scratch();
        let idx = self
            .buffer
            .sample_indices(s.batch.len(), &mut self.update_rng);
        let n = self.agents.len();
        let central = self.cfg.critic == CriticMode::Centralised;
        // Column layout of a centralised critic input: all obs, then all actions.
        let total_obs: usize = self.agents.iter().map(|a| a.obs_dim).sum();
        let mut obs_off = Vec::with_capacity(n);
        let mut act_off = Vec::with_capacity(n);
        let (mut o, mut c) = (0, total_obs);
        for a in &self.agents {
            obs_off.push(o);
            act_off.push(c);
            o += a.obs_dim;
            c += a.space.action_dim();
        }
        if central {
            // One pass over the sampled rows fills the batch and both wide inputs.
            // The buffer's row layout is this column layout.
            self.buffer
                .gather_wide(&idx, &mut s.batch, &mut s.x, &mut s.x_next);
        } else {
            self.buffer.gather(&idx, &mut s.batch);
        }
        // Target actions, sampled from the target actors as the reference does.
        for ((a, sc), next_obs) in self.agents.iter().zip(&mut s.agents).zip(&s.batch.next_obs) {
            a.target_actor.forward_ws(next_obs, &mut sc.target_actor);
            space::sample_into(
                a.space,
                sc.target_actor.output().view(),
                sc.next_act.view_mut(),
                sc.next_noise.view_mut(),
                &mut self.noise_rng,
            );
        }
        if central {
            for j in 0..n {
                put_cols(&mut s.x_next, act_off[j], s.agents[j].next_act.view());
            }
        } else {
            for (j, sc) in s.agents.iter_mut().enumerate() {
                let od = self.agents[j].obs_dim;
                put_cols(&mut sc.x, 0, s.batch.obs[j].view());
                put_cols(&mut sc.x, od, s.batch.act[j].view());
                put_cols(&mut sc.x_next, 0, s.batch.next_obs[j].view());
                put_cols(&mut sc.x_next, od, sc.next_act.view());
            }
        }
        let rows = s.batch.len().max(1) as f32;
        let (g, reward_scale) = (self.cfg.gamma, self.cfg.reward_scale);
        let mut stats = UpdateStats::default();
        for (i, sc) in s.agents.iter_mut().enumerate() {
            let agent = &mut self.agents[i];
            // The policy step writes the fresh action into `x` and restores
            // the sampled one afterwards.
            let (x, x_next, a_col) = if central {
                (&mut s.x, &s.x_next, act_off[i])
            } else {
                (&mut sc.x, &sc.x_next, agent.obs_dim)
            };
            // Critic: y = r + γ (1 − done) Q'(x', a').
            agent
                .target_critic
                .forward_ws(x_next, &mut sc.target_critic);
            Zip::from(&mut s.y)
                .and(sc.target_critic.output())
                .and(&s.batch.done)
                .and(&s.batch.rew[i])
                .for_each(|y, &q, &d, &r| *y = reward_scale * r + g * (1.0 - d) * q);
            agent.critic.forward_ws(x, &mut sc.critic);
            let mut loss = 0.0f64;
            let mut q_sum = 0.0f64;
            let (q_out, d_out) = sc.critic.output_and_d_output_mut();
            Zip::from(d_out).and(q_out).and(&s.y).for_each(|d, &q, &y| {
                let e = q - y;
                loss += f64::from(e) * f64::from(e);
                q_sum += f64::from(q);
                *d = 2.0 * e / rows;
            });
            stats.critic_loss += (loss / f64::from(rows)) as f32 / n as f32;
            stats.mean_q += (q_sum / f64::from(rows)) as f32 / n as f32;
            agent.critic.backward_ws(
                x,
                &mut sc.critic,
                Some(&mut sc.critic_grads),
                InputGrad::None,
            );
            clip(&mut sc.critic_grads, self.cfg.grad_clip, self.cfg.clip_mode);
            let _ = agent.critic_opt.step(&mut agent.critic, &sc.critic_grads);
            // Actor: maximise Q(x with a_i ← sample(μ_i(o_i))) − reg·mean(p²).
            space::draw_noise(agent.space, sc.noise.view_mut(), &mut self.noise_rng);
            let a_loss = policy_grad(
                &agent.actor,
                &agent.critic,
                agent.space,
                s.batch.obs[i].view(),
                x,
                a_col,
                sc.noise.view(),
                self.cfg.actor_reg,
                &mut sc.policy,
            );
            // Restore the sampled actions for the next agent.
            put_cols(x, a_col, s.batch.act[i].view());
            stats.actor_loss += a_loss / n as f32;
            clip(&mut sc.policy.grads, self.cfg.grad_clip, self.cfg.clip_mode);
            let _ = agent.actor_opt.step(&mut agent.actor, &sc.policy.grads);
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
