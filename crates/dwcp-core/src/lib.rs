//! # dwcp-core — the contract every dwcp engine follows
//!
//! Every protocol crate in dwcp exposes one synchronous, deterministic state
//! machine implementing [`Engine`]. It owns no threads, sockets, clocks or OS
//! randomness: you bring the network and the time.
//!
//! ## How to drive an engine
//!
//! 1. **Construct** it with its configuration, its [`NodeId`], its keys and a
//!    seeded RNG from [`rng::seeded`] (never the OS RNG: the same seed must give
//!    the same trace, bit for bit).
//! 2. **After a crash**, construct it the same way and call
//!    [`Engine::restore`] with every record it emitted as
//!    [`Output::Persist`] before the crash, in order, before any other input.
//! 3. **Feed one input at a time**, always with the current [`Time`]:
//!    [`Engine::handle_message`] for an authenticated peer message (decode it
//!    with [`codec::decode`], which bounds size and never panics),
//!    [`Engine::handle_request`] for a local request (a client transaction),
//!    [`Engine::handle_timeout`] when the deadline has passed.
//! 4. **Drain** [`Engine::poll_output`] until it returns `None` after *every*
//!    input. Outputs come in the order the engine produced them:
//!    - [`Output::Send`]: encode with [`codec::encode`] and send to the
//!      [`Target`] (one node, a list, or everyone but a list);
//!    - [`Output::Persist`]: append the record to durable storage;
//!    - [`Output::Deliver`]: hand the committed value to your application;
//!    - [`Output::Evidence`]: a peer misbehaved; log it, feed your reputation
//!      system, alert.
//! 5. **Durability rule.** A `Send` that follows a `Persist` may leave the host
//!    only once that `Persist` is durable (fsync'd). Holding sends in a queue
//!    until the write completes is enough; sends before the first `Persist` of
//!    a drain may leave at once. This is what keeps a restarted node from
//!    contradicting what it already told others.
//! 6. **Sleep** until [`Engine::next_deadline`] or the next message, whichever
//!    comes first, then go to step 3.
//!
//! The simulator in `dwcp-sim` is a host that follows exactly these steps, and
//! `docs/ARCHITECTURE.md` explains the reasoning.
//!
//! ## What else lives here
//! - [`NodeId`], [`Time`] and durations ([`core::time::Duration`]).
//! - [`quorum`]: committee arithmetic (n, f, quorum sizes) and weighted
//!   quorums whose intersection property is checked at construction.
//! - [`codec`]: the serde + bincode 2.0.1 wire codec with an explicit size
//!   limit, and [`Digest`] (SHA-256).
//! - [`rng`]: the seeded ChaCha20 RNG every engine takes.
//! - [`tx`]: opaque client transactions with shared (reference-counted)
//!   payloads and batches, for engines that order bytes they do not read.
//!
//! ## Dependencies
//! - `bincode` 2.0.1 (pinned; 3.0.0 is an empty release) with `serde`: a
//!   compact, well-specified, fuzzed binary format with a built-in decode limit.
//! - `rand_chacha` 0.3: a portable, seedable RNG sharing `rand_core` 0.6 with
//!   schnorrkel and blsttc.
//! - `sha2`: the digest, already in the tree through schnorrkel.

pub mod codec;
mod engine;
pub mod fuzz;
mod id;
pub mod quorum;
pub mod rng;
mod time;
pub mod tx;

pub use codec::{CodecError, Digest, WireMessage};
pub use engine::{Engine, Evidence, Fault, Output, OutputOf, Target};
pub use id::NodeId;
pub use quorum::{Committee, QuorumError, WeightedCommittee};
pub use time::Time;

/// Re-exported so hosts and engines name the same `Duration`.
pub use core::time::Duration;
