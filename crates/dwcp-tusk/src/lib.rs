//! # dwcp-tusk — Tusk ordering on the Narwhal DAG
//!
//! Tusk (Danezis, Kokoris-Kogias, Sonnino, Spiegelman, "Narwhal and Tusk",
//! EuroSys 2022, arXiv 2105.11827) orders the Narwhal DAG asynchronously:
//! leaders are elected after the fact by a shared random coin, so no
//! adversary can target them. [`TuskNode`] is a Narwhal node with the
//! [`Tusk`] orderer and implements [`dwcp_core::Engine`]; it is the
//! coin-based baseline Bullshark (`dwcp-bullshark`) is compared with.
//!
//! ## How to drive a node
//!
//! 1. **Configure**: `dwcp_narwhal::NarwhalConfig::new(n)`.
//! 2. **Keys**: `dwcp_narwhal::Keys::generate(n, seed)` and a coin setup
//!    with threshold `f + 1`: [`coin_setup`]`(n, f, seed)` (a trusted
//!    dealer; a deployment runs a DKG).
//! 3. **Construct** with [`node`]`(config, id, keys, coin_public,
//!    coin_share, rng)`; after a crash the same way, then
//!    `restore(now, records)`.
//! 4. **Feed and drain** as the `dwcp-narwhal` guide says, including its
//!    state-sync step: a node that fell too far behind adopts a checkpoint
//!    `f + 1` peers agree on (Tusk's part is the committer's decisions;
//!    coins are derived again from the DAG) and delivers a marker value
//!    (`Committed::sync`) where it resumed.
//! 5. **Simulate** with [`harness`] (feature `sim`).
//!
//! ## The commit rule, as implemented
//!
//! - Every even round `L ≥ 2` is a leader round. Headers of round `L + 2`
//!   carry their author's share of a threshold signature (blsttc, threshold
//!   `f + 1`) on "coin of `L`" (voters check that the share is there,
//!   [`dwcp_narwhal::Orderer::check_coin`]; its validity is checked when
//!   the coin is combined: optimistically once per wave, bad shares found
//!   by bisection and skipped, so a Byzantine share cannot bias or block
//!   the coin while `f + 1` honest shares are present).
//! - The wave of `L` ends when the node holds a quorum (`2f + 1`) of
//!   round-`L + 2` certificates, i.e. when it may enter round `L + 3` (the
//!   paper's rule); they carry enough shares: the coin is combined (the
//!   signature is unique, whichever shares are used), hashed, and names
//!   the leader of `L`. The first certificate of round `L + 3` checks the
//!   wave again (a quorum of `L + 2` lies below it).
//! - The leader commits if `f + 1` certificates of round `L + 1` have it
//!   as a parent; earlier uncommitted leaders reachable by a path commit
//!   first, and each leader's unordered causal history is flattened by
//!   round, then author (the machinery shared with Bullshark,
//!   [`dwcp_narwhal::Committer`]).
//! - Compared with Bullshark, a leader of round `L` commits no earlier
//!   than the end of round `L + 2` (Bullshark: `L + 1`), which is where Tusk's extra
//!   latency comes from. There are no leader timers: the proposer advances
//!   as soon as it has a quorum of parents.
//!
//! ## Dependencies
//!
//! - `dwcp-narwhal`: the DAG layer and the shared commit machinery.
//! - `dwcp-crypto`: blsttc threshold signatures for the coin.
//! - `dwcp-core`: the engine contract. `dwcp-sim` (feature `sim`): the
//!   harness.

mod orderer;

#[cfg(feature = "sim")]
pub mod harness;

pub use orderer::{Tusk, coin_message, is_leader_round};

/// The lab's throughput run (see [`harness::throughput`]).
#[cfg(feature = "sim")]
pub use harness::throughput;

use dwcp_core::NodeId;
use dwcp_core::rng::Rng;
use dwcp_crypto::{ThresholdPublic, ThresholdSetup, ThresholdShare};
use dwcp_narwhal::{ConfigError, Keys, Narwhal, NarwhalConfig};
use std::sync::Arc;

/// A Narwhal node ordered by Tusk: the engine this crate provides.
pub type TuskNode = Narwhal<Tusk>;

/// A trusted-dealer coin setup for `n` nodes tolerating `f` (threshold
/// `f + 1`), deterministic in `seed`.
pub fn coin_setup(n: usize, f: usize, seed: u64) -> ThresholdSetup {
    ThresholdSetup::generate(n, f + 1, seed)
}

/// Node `me` of the committee in `cfg`, with its coin share.
pub fn node(
    cfg: NarwhalConfig,
    me: NodeId,
    keys: Keys,
    coin_public: Arc<ThresholdPublic>,
    coin_share: ThresholdShare,
    rng: Rng,
) -> Result<TuskNode, ConfigError> {
    let o = Tusk::new(cfg.n, cfg.f, cfg.gc_depth, coin_public, coin_share);
    Narwhal::new(cfg, me, keys, o, rng)
}
