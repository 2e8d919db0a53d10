//! # dwcp-bullshark — partially synchronous Bullshark on the Narwhal DAG
//!
//! Bullshark (Spiegelman, Giridharan, Sonnino, Kokoris-Kogias, CCS 2022;
//! partially synchronous version arXiv 2209.05633) orders the Narwhal DAG
//! of `dwcp-narwhal` without sending a single message of its own.
//! [`BullsharkNode`] is a Narwhal node with the [`Bullshark`] orderer and
//! implements [`dwcp_core::Engine`]: requests are transactions, values are
//! committed certificates with their transaction ids, in total order.
//!
//! ## How to drive a node
//!
//! 1. **Configure**: `dwcp_narwhal::NarwhalConfig::new(n)`, adjust batching,
//!    header delay, the leader timeout and the GC depth.
//! 2. **Keys**: `dwcp_narwhal::Keys::generate(n, seed)` (one entry per
//!    node).
//! 3. **Construct** with [`node`]`(config, id, keys, rng)` (round-robin
//!    leaders), or `Narwhal::new(config, id, keys,`
//!    [`orderer_with_reputation`]`(&config, Reputation::default()), rng)`
//!    for the reputation-based leader schedule ([`schedule`]); after a
//!    crash construct it the same way and `restore(now, records)` (the
//!    schedule is rebuilt from the replayed commits).
//!    A node that fell too far behind catches up by state sync
//!    (`dwcp_narwhal::sync`): its checkpoints carry the reputation
//!    schedule, and after the jump it delivers a marker value
//!    (`Committed::sync`) telling the application where it resumed.
//! 4. **Feed** transactions (`handle_request`), messages
//!    (`handle_message`) and timeouts (`handle_timeout` at
//!    `next_deadline()`); **drain** `poll_output()` after every input, as
//!    the `dwcp-narwhal` guide says.
//! 5. **Simulate** with [`harness`] (feature `sim`): clusters, checks and
//!    the lab's [`harness::throughput`] run.
//!
//! ## The commit rule, as implemented
//!
//! - Anchor rounds are the even rounds `r ≥ 2`; the anchor of `r` is node
//!   `(r / 2) mod n`'s certificate ([`dwcp_narwhal::round_robin_leader`]).
//! - When a certificate of round `r + 1` enters the DAG with the anchor of
//!   `r` among its parents, and `f + 1` certificates of `r + 1` now do, the
//!   anchor commits (only parent edges count as votes).
//! - Before it, every earlier uncommitted anchor (rounds `r - 2`, `r - 4`,
//!   … down to the last committed one) that the chain reaches by a path is
//!   committed, oldest first; each anchor's not-yet-ordered causal history
//!   is flattened by round, then author ([`dwcp_narwhal::Committer`]).
//! - The proposer waits for the anchor's certificate before leaving an
//!   anchor round, and for `f + 1` votes on it (or `2f + 1` non-votes)
//!   before leaving the voting round, each wait bounded by
//!   `leader_timeout` ([`dwcp_narwhal::Orderer::steady_leader`]).
//! - Optionally ([`Bullshark::with_reputation`], [`schedule`]) leaders
//!   follow a schedule computed from committed history that skips nodes
//!   whose anchors did not make it into recent commits; the lab's runs use
//!   it. Anchors are then committed one at a time, and after a commit that
//!   changes the schedule the next one is looked for under the new
//!   schedule, so the order stays a function of the DAG alone.
//! - Safety: an anchor with `f + 1` votes has a vote in every quorum of the
//!   next round, so every later committed anchor has a path to it; anchors
//!   are committed in the same order everywhere. Certificates more than
//!   `gc_depth` rounds below the anchor being committed are never ordered
//!   (the same rule at every node).
//!
//! The asynchronous fallback (four-round waves with a coin-elected
//! fallback leader) is not implemented; `dwcp-tusk` provides the
//! coin-based ordering.
//!
//! ## Dependencies
//!
//! - `dwcp-narwhal`: the DAG layer and the commit machinery shared with Tusk.
//! - `dwcp-core`, `dwcp-crypto`: the engine contract and keys.
//! - `dwcp-sim` (feature `sim`): the harness.

pub mod fuzzing;
mod orderer;
pub mod schedule;

#[cfg(feature = "sim")]
pub mod harness;

pub use orderer::Bullshark;
pub use schedule::{LeaderSchedule, Reputation};

/// The lab's throughput run (see [`harness::throughput`]).
#[cfg(feature = "sim")]
pub use harness::throughput;

use dwcp_core::NodeId;
use dwcp_core::rng::Rng;
use dwcp_narwhal::{ConfigError, Keys, Narwhal, NarwhalConfig};

/// A Narwhal node ordered by Bullshark: the engine this crate provides.
pub type BullsharkNode = Narwhal<Bullshark>;

/// The Bullshark orderer for `cfg`.
pub fn orderer(cfg: &NarwhalConfig) -> Bullshark {
    Bullshark::new(cfg.n, cfg.f, cfg.gc_depth)
}

/// The Bullshark orderer for `cfg` with the reputation-based leader
/// schedule `rep` ([`schedule`]).
pub fn orderer_with_reputation(cfg: &NarwhalConfig, rep: Reputation) -> Bullshark {
    Bullshark::with_reputation(cfg.n, cfg.f, cfg.gc_depth, rep)
}

/// Node `me` of the committee in `cfg`.
pub fn node(
    cfg: NarwhalConfig,
    me: NodeId,
    keys: Keys,
    rng: Rng,
) -> Result<BullsharkNode, ConfigError> {
    let o = orderer(&cfg);
    Narwhal::new(cfg, me, keys, o, rng)
}
