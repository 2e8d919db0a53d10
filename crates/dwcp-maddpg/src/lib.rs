//! MADDPG (Lowe et al., NeurIPS 2017) and independent DDPG for cooperative
//! multi-agent control, with a multi-agent environment trait, a port of the
//! particle environment `simple_spread`, and `NodeAlloc`, a resource-allocation
//! environment with heuristic baselines.
//!
//! # How to use this crate
//!
//! 1. **Pick an environment** implementing [`MultiAgentEnv`]: [`SimpleSpread`]
//!    or [`NodeAlloc`] (or your own: agent count, observation widths,
//!    [`ActionSpace`] per agent, `reset(seed)`, `step`; buffers are
//!    caller-owned, see [`buffers`]).
//! 2. **Build a trainer**: `Maddpg::for_env(&env, MaddpgConfig::default(), seed)`
//!    for MADDPG with the reference code's hyperparameters, or
//!    [`MaddpgConfig::iddpg`] for independent DDPG (local critics).
//! 3. **Train**: [`train::train`]`(&mut env, &mut trainer, episodes, seed_base, |k, env| …)`
//!    steps the environment with exploratory actions, stores aligned joint
//!    transitions and runs one gradient step per agent every 100 steps after
//!    warm-up. Or drive it yourself with [`Maddpg::act`] and [`Maddpg::observe`].
//! 4. **Deploy**: [`Maddpg::policies`] gives one [`Policy`] per agent, a bare
//!    actor mapping the agent's local observation to its action
//!    ([`Policy::act`]); save and load it with serde or
//!    [`Policy::to_bytes`] / [`Policy::from_bytes`].
//! 5. **Compare**: [`train::play`] runs any [`Controller`] (policies,
//!    [`nodealloc::Heuristic`]s) on a seeded episode; [`experiments`] holds
//!    the lab's measurements.
//!
//! ```
//! use dwcp_maddpg::{Maddpg, MaddpgConfig, Policy, SimpleSpread, train};
//!
//! let mut env = SimpleSpread::new();
//! // The reference configuration, shrunk so that this example runs fast.
//! let cfg = MaddpgConfig { batch: 64, warmup: 128, ..MaddpgConfig::default() };
//! let mut trainer = Maddpg::for_env(&env, cfg, 7).unwrap();
//! let log = train::train(&mut env, &mut trainer, 20, 0, |_, _| {});
//! assert_eq!(log.returns.len(), 20);
//! assert!(trainer.updates() > 0);
//! // Decentralised execution: each agent needs only its own actor.
//! let policy = &trainer.policies()[0];
//! let bytes = policy.to_bytes().unwrap();
//! let loaded = Policy::from_bytes(&bytes).unwrap();
//! let action = loaded.act(&[0.0; 18]).unwrap(); // 5 action probabilities
//! assert!((action.iter().sum::<f32>() - 1.0).abs() < 1e-5);
//! ```
//!
//! # Algorithm notes
//!
//! [`MaddpgConfig::default`] follows openai/maddpg: 2×64 ReLU actors and
//! critics, Adam 1e-2, per-tensor gradient-norm clip 0.5, γ 0.95, τ 0.01,
//! batch 1024, replay 10⁶, warm-up 25,600, one update every 100 steps,
//! actor regulariser 1e-3·mean(logits²), target actions sampled from the
//! target actors, soft Gumbel-softmax at temperature 1 for categorical
//! actions and a learned diagonal Gaussian for continuous ones, and
//! time-limit ends that bootstrap. One deliberate difference: an update round
//! samples one index set for all agents (the reference draws one per agent)
//! and soft-updates every target network at the end of the round, so target
//! actions are computed once per round.
//!
//! An update round runs entirely on buffers allocated at the first round
//! (`dwcp_nn::Workspace` passes, in-place Adam, noise written into reused
//! matrices), so its cost is the matrix products plus a few element-wise
//! passes. Replay rows are stored joint (`[obs…, act…, rew…, next_obs…,
//! done]`), so a sampled row is one block of memory and its first columns
//! are already the centralised critic input; the policy step writes the
//! fresh action into that input and restores it, instead of copying it.
//! The Gumbel noise (about 100k samples per round) comes in bulk from a
//! ChaCha8 stream and goes through branch-free `ln`/`exp` polynomials that
//! run at the CPU's full vector width (see `pulp` below). On NodeAlloc the lab uses [`experiments::nodealloc::tuned_trainer`]
//! (batch 512, one round every 12 steps), chosen on tuning runs.
//!
//! Everything is deterministic from the seeds: initial weights, exploration
//! noise, replay sampling and environment randomness all come from seeded
//! ChaCha20 streams (the update's noise from a ChaCha8 stream keyed by one
//! of them), and the maths is single-threaded.
//!
//! # Dependencies and why
//!
//! - `dwcp-nn`: the shared dense-network library (MLP, backprop with input
//!   gradients for the critic → actor chain, Adam, soft updates, serde
//!   weights), itself on `ndarray` arrays and `gemmkit`'s pure-Rust,
//!   runtime-dispatched SIMD matrix products.
//! - `dwcp-core`: the seeded RNG and the bounded bincode codec.
//! - `serde`: saving policies and configurations.
//! - `rand_chacha`: `ChaCha8Rng` for the update's noise, keyed from the
//!   trainer's seed: the same seeded ChaCha family as `dwcp_core::rng` with
//!   fewer rounds, about 2.5× faster, which matters for ~100k noise samples
//!   per round (statistical quality is not a security property here).
//! - `pulp`: safe runtime dispatch to AVX2 / AVX-512 for the element-wise
//!   noise and softmax loops (the workspace forbids `unsafe`, and the default
//!   build targets baseline x86-64, whose 4-wide SSE2 would otherwise limit
//!   them). The loops are plain Rust that the compiler vectorises; no fused
//!   multiply-adds are introduced, so results are identical on every CPU.

// Index loops over agents, nodes and resources read several parallel
// arrays at once; iterator chains would obscure the maths.
#![allow(clippy::needless_range_loop)]

mod env;
pub mod experiments;
mod maddpg;
pub mod nodealloc;
mod policy;
mod replay;
pub mod space;
mod spread;
pub mod stats;
pub mod train;

pub use env::{MultiAgentEnv, buffers};
pub use maddpg::{
    AgentNets, ClipMode, CriticMode, Maddpg, MaddpgConfig, MaddpgError, UpdateStats,
    actor_loss_grad,
};
pub use nodealloc::NodeAlloc;
pub use policy::Policy;
pub use replay::{Batch, ReplayBuffer};
pub use space::ActionSpace;
pub use spread::SimpleSpread;
pub use train::Controller;
