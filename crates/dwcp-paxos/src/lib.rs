//! # dwcp-paxos — Multi-Paxos with a stable leader, as a sans-IO engine
//!
//! Lamport's Paxos run for a sequence of slots (Multi-Paxos, "Paxos Made
//! Simple" §3, and the engineering of "Paxos Made Live"): `n` replicas
//! tolerate `f = (n - 1) / 2` **crash** faults. There are no signatures: a
//! crashed node stops, it never lies. Decoding is still bounded, and
//! malformed or out-of-range input is dropped, never trusted.
//! [`Paxos`] implements [`dwcp_core::Engine`].
//!
//! ## How to drive a replica
//!
//! 1. **Configure** with [`PaxosConfig::new`]`(n)` (node 0 campaigns first),
//!    adjust batching, pipeline depth, heartbeats and timeouts;
//!    [`PaxosConfig::validate`] refuses inconsistent values.
//! 2. **Construct** with [`Paxos::new`]`(config, id, rng)`, the RNG from
//!    `dwcp_core::rng::derive(seed, id)` (it jitters election timers).
//!    After a crash construct it the same way and call `restore(now,
//!    records)` with every [`Record`] it persisted.
//! 3. **Feed** client transactions ([`Tx`]: an id and shared bytes) with
//!    `handle_request` at any replica, peer messages with `handle_message`,
//!    and `handle_timeout` at `next_deadline()`.
//! 4. **Drain** `poll_output()` after every input: `Send` a [`Message`],
//!    `Persist` a [`Record`] (durable before any later send leaves: see
//!    [`persist`]), `Deliver` a [`Decision`] (a slot and its transaction
//!    ids, in slot order, each slot once).
//! 5. **Observe** with [`Paxos::is_leader`], [`Paxos::leader`],
//!    [`Paxos::delivered_upto`], [`Paxos::stats`].
//!
//! ## The protocol, as implemented
//!
//! - **Phase 1 once per leader.** A candidate picks a ballot `(round, id)`
//!   above any it has seen and sends `Prepare` for every slot from its
//!   delivery point on. Acceptors promise (persisted) and report what they
//!   accepted; with a majority the candidate leads, re-proposing each
//!   reported slot with the highest ballot's value and filling gaps with
//!   no-ops. A candidate behind an acceptor's retention window catches up
//!   first.
//! - **Phase 2 per slot, pipelined and batched.** The leader cuts batches of
//!   client transactions (`max_batch_txs`/`max_batch_bytes`, or after
//!   `batch_delay`), keeps up to `pipeline` slots in flight, and a slot is
//!   chosen when a majority accepted it (the acceptor persists before it
//!   answers). The commit point rides on every `Accept` and on `Heartbeat`s,
//!   sent at once when it moves.
//! - **Leader lease and takeover.** The leader heartbeats when idle. A
//!   follower that hears nothing for `leader_timeout` (plus jitter) runs
//!   phase 1; while an acceptor heard from its leader within `lease` it
//!   refuses other candidates, so a live leader is not disrupted. A
//!   rejected candidate or a leader that meets a higher ballot steps down.
//! - **Learners deliver in slot order.** A slot below the commit point is
//!   learned from the value accepted in the leader's ballot; gaps (lost
//!   accepts, a restarted or partitioned node) are filled by **catch-up**
//!   from the leader, which keeps `retention` decided slots.
//! - **Clients.** Any replica takes transactions and forwards them (in
//!   batches) to the leader, so the leader's uplink carries every payload to
//!   every replica; the origin re-forwards what is not committed after
//!   `resubmit_timeout` or when the leader changes.
//! - **Bounded memory.** Accepted and decided slots are kept for
//!   `retention` slots behind delivery; accepts far ahead are dropped;
//!   mempool, pending transactions and the duplicate filter are capped.
//!
//! ## Limits
//!
//! - Crash faults only: a Byzantine peer can break safety.
//! - A replica more than `retention` slots behind every peer cannot catch
//!   up (that needs an application snapshot, not provided).
//!
//! ## Dependencies
//! - `dwcp-core`: the engine contract, codec, ids, time and seeded RNG.
//! - `serde`: derives for the wire format (bincode via `dwcp-core`).
//! - `dwcp-sim` (optional, default feature `sim`): `harness`, the simulated
//!   clusters and the throughput run for the lab.

mod config;
pub mod fuzzing;
#[cfg(feature = "sim")]
pub mod harness;
mod leader;
mod learner;
mod message;
pub mod persist;
mod replica;

pub use config::{ConfigError, PaxosConfig};
pub use message::{AcceptedEntry, Ballot, Batch, Decision, Message, Payload, Record, Tx};
pub use replica::{Paxos, PaxosOutput, Stats};

#[cfg(test)]
mod tests;
