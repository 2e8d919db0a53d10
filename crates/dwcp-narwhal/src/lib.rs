//! # dwcp-narwhal — the Narwhal DAG mempool as a sans-IO engine
//!
//! Narwhal (Danezis, Kokoris-Kogias, Sonnino, Spiegelman, EuroSys 2022)
//! separates data dissemination from ordering: nodes broadcast batches of
//! transactions, and every round each node proposes a *header* naming its
//! new batches and at least `2f + 1` certificates of the previous round.
//! `2f + 1` votes on a header form a *certificate of availability*; the
//! certificates form a DAG, and a consensus protocol ([`Orderer`]) running
//! on the local copy of the DAG orders it with zero extra messages.
//! [`Narwhal`] implements [`dwcp_core::Engine`]; Bullshark and Tusk live in
//! `dwcp-bullshark` and `dwcp-tusk` as orderers.
//!
//! ## How to drive a node
//!
//! 1. **Configure**: [`NarwhalConfig::new`]`(n)` (largest `f`, GC depth 50,
//!    batch and header timers), adjust fields.
//! 2. **Keys**: [`Keys::generate`]`(n, seed)` gives every node an sr25519
//!    key (headers are signed, so equivocation is provable) and a BLS key
//!    (votes aggregate into one signature per certificate).
//! 3. **Construct** with [`Narwhal::new`]`(config, id, keys, orderer, rng)`
//!    (rng from `dwcp_core::rng::derive(seed, id)`). After a crash construct
//!    it the same way and call `restore(now, records)` with every persisted
//!    [`Record`], in order.
//! 4. **Feed** transactions with `handle_request` ([`Transaction`]: opaque
//!    bytes whose first 8 are the id), peer messages with
//!    `handle_message`, and `handle_timeout` at `next_deadline()`.
//! 5. **Drain** `poll_output()` after every input: `Send` a [`Message`],
//!    `Persist` a [`Record`] (durable before any later send; see
//!    [`Record`] for what guards what), `Deliver` a [`Committed`]
//!    certificate (its index in the total order and its transaction ids),
//!    `Evidence` of a peer's fault.
//! 6. **Observe** with [`Narwhal::dag`], [`Narwhal::memory`],
//!    [`Narwhal::stats`].
//!
//! ## The protocol, as implemented
//!
//! - **Batches.** Transactions accumulate until `batch_size` bytes or
//!   `max_batch_delay`; the sealed [`Batch`] is broadcast and its digest
//!   queued for the next header (the worker of the paper, folded in).
//! - **Headers and votes.** A node proposes round `r + 1` once it holds a
//!   quorum of round-`r` certificates (all of them become parents), with its
//!   queued digests, or empty after `max_header_delay`. If the orderer names
//!   steady-state leaders ([`Orderer::steady_leader`], Bullshark) the
//!   proposer also waits, at most `leader_timeout`, for the leader's
//!   certificate (parents of a leader round) or until the leader surely has
//!   the `f + 1` votes that commit it, or surely cannot get them (a quorum
//!   of non-votes; parents of the round after). A node votes for
//!   the first valid header per (author, round) once it holds its parents
//!   and batches (fetched from the author if missing), persisting the vote
//!   first; a second, different signed header for the same slot yields
//!   [`dwcp_core::Fault::Equivocation`] with both encodings.
//! - **Certificates.** `2f + 1` BLS votes aggregate into one signature
//!   ([`dwcp_crypto::aggregate()`]); certificates are broadcast and enter
//!   the DAG only once all their parents are present (missing parents are
//!   fetched from the sender, then from random peers), so the local DAG is
//!   causally complete and the orderer sees certificates in causal order.
//! - **Ordering** ([`Orderer`], [`Committer`]): committed leaders, earlier
//!   leaders linked by paths, each leader's unordered causal history
//!   flattened by round then author. Ordered certificates are delivered
//!   when their batches are here; a batch is delivered once.
//! - **Garbage collection.** Everything below `last committed leader round
//!   - gc_depth` is dropped: DAG rounds, headers, votes, parked
//!   certificates; certificates and batches are archived for
//!   `sync_retention` more rounds to answer lagging peers' fetches. The DAG holds at most about
//!   `n · (gc_depth + rounds since the last commit + 1)` certificates.
//! - **Batch pacing.** At most `max_unproposed_batches` sealed batches wait
//!   for a header, and `batch_uplink_budget` paces broadcasts below the
//!   uplink, so consensus messages do not queue behind batch data
//!   ([`harness::pace_batches`] fits both to an uplink in simulations).
//! - **Bounded memory under spam.** One header and one certificate per
//!   (author, round); nothing more than `max_rounds_ahead` rounds ahead;
//!   batch size and count per author capped; unsolicited batches accepted
//!   only from their author; fetch answers capped at [`MAX_REQUEST`].
//! - **Retransmission.** Every `sync_retry`, missing parents and batches are
//!   requested again, and a node that made no progress re-broadcasts its
//!   uncertified header (to those who did not vote) or its last
//!   certificate; partitions heal without help.
//!
//! ## Limits
//!
//! - Collected certificates and batches stay fetchable for `sync_retention`
//!   more rounds (the archive, [`Dag::fetch`]); a node that fell further
//!   behind than `gc_depth + sync_retention` rounds cannot fetch the history
//!   it misses and needs state sync, which this crate does not do.
//! - Own certificates that no later leader ordered within four rounds of a
//!   commit are treated as orphans and their batches proposed again;
//!   delivery skips a batch already delivered within the GC window, so a
//!   transaction is delivered once unless the copies are further apart.
//! - Batch payloads persisted with `persist_batches` make storage grow with
//!   the load; with it off, a restarted node fetches batches again, which
//!   works while peers still hold them (within the GC window).
//! - Stake is uniform (`n ≥ 3f + 1` nodes of weight 1).
//!
//! ## Dependencies
//!
//! - `dwcp-core`: the engine contract, codec, digests, seeded RNG.
//! - `dwcp-crypto`: sr25519 signed statements for headers, BLS aggregate
//!   signatures for certificates, threshold shares for coin-based orderers.
//! - `serde` (with `rc`): the wire types, with transactions, batches and
//!   certificates `Arc`-shared so a broadcast copies no payload.
//! - `sha2`: streaming batch digests without encoding batches.
//! - `dwcp-sim` (feature `sim`): [`dwcp_sim::ByzantineMessage`] for
//!   [`Message`].

mod certs;
mod config;
pub mod dag;
mod deliver;
pub mod fuzzing;
#[cfg(feature = "sim")]
pub mod harness;
mod headers;
mod message;
mod node;
pub mod order;
mod proposer;
mod restore;
#[cfg(feature = "sim")]
mod sim;
pub mod testing;
#[cfg(test)]
mod tests;
mod types;

pub use config::{Keys, NarwhalConfig};
pub use dag::{Dag, round_robin_leader};
pub use message::{MAX_REQUEST, Message, Record};
pub use node::{ConfigError, Memory, Narwhal, NodeStats};
pub use order::{CommittedSubDag, Committer, NoOrder, Orderer};
pub use types::{
    Batch, Certificate, Committed, Header, Round, SIGNING_CONTEXT, Transaction, Vertex, Vote,
    vote_message,
};
