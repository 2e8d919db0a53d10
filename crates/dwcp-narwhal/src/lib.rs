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
//! 6. **Handle a state-sync jump.** A node that fell further behind than
//!    its peers keep history (more than `gc_depth + sync_retention / 2`
//!    rounds, e.g. down for a few minutes) adopts the ordering state
//!    `f + 1` peers agree on ([`sync`], [`SyncState`]) and
//!    delivers one marker value with [`Committed::sync`]` = Some(point)`:
//!    no certificate, `txs` empty, `index == point.next_index`. Every
//!    value below that index was skipped. The application must then fetch
//!    a snapshot of *its* state at that point out of band (from any
//!    replica, which can check it against [`SyncPoint::sequence`], the
//!    running digest of the total order, and
//!    [`Narwhal::sequence_digest`]), install it, and apply the values that
//!    follow the marker on top. `Record::Synced` is persisted before the
//!    jump, so a restart replays it; nothing else is needed.
//! 7. **Observe** with [`Narwhal::dag`], [`Narwhal::memory`],
//!    [`Narwhal::stats`], [`Narwhal::checkpoints`].
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
//! - **State sync.** After the first committed anchor at or above every
//!   multiple of `checkpoint_interval` rounds, each node captures its
//!   ordering state ([`SyncState`]: the orderer's decisions
//!   ([`OrdererState`]; Bullshark includes its reputation schedule), the
//!   length and running digest of the total order, the batch
//!   de-duplication window); it depends on the committed anchors alone, so
//!   honest nodes capture identical checkpoints. A node whose `(f + 1)`-th
//!   highest peer round claim lies beyond its fetchable history broadcasts
//!   [`Message::SyncRequest`] every `sync_retry` (answered once per half
//!   `sync_retry` per peer with the last two checkpoints,
//!   [`Message::SyncResponse`]), and adopts the highest checkpoint that
//!   `f + 1` distinct peers offered byte-identically. It then collects its
//!   DAG up to the new GC floor (`anchor - gc_depth`), fetches the
//!   certificates above it as missing parents, and resumes ordering: its
//!   delivered sequence from the checkpoint on is the others'.
//! - **Retransmission.** Every `sync_retry`, missing parents and batches are
//!   requested again, and a node that made no progress re-broadcasts its
//!   uncertified header (to those who did not vote) or its last
//!   certificate; partitions heal without help.
//!
//! ## Limits
//!
//! - Collected certificates and batches stay fetchable for `sync_retention`
//!   more rounds (the archive, [`Dag::fetch`]); a node that fell further
//!   behind jumps by state sync and skips the values in between: the
//!   application snapshot it then needs is the application's business
//!   (step 6). State sync needs an orderer that implements
//!   [`Orderer::take_checkpoints`] and [`Orderer::install`] (Bullshark and
//!   Tusk do; [`NoOrder`] does not), and at least `f + 1` honest peers
//!   that hold a common checkpoint.
//! - Storage is not compacted after a jump: the records before
//!   `Record::Synced` are replayed and then collected.
//! - A checkpoint carries the batch digests ordered within `gc_depth`
//!   rounds of its anchor (the de-duplication window), so its size grows
//!   with the batches per header: about `40 B × n × gc_depth × batches per
//!   header`. Authors that fill every header with `max_header_batches`
//!   digests can push large committees' checkpoints past the codec's 8 MiB
//!   message limit, which stops state sync (not the protocol).
//! - A node adopts a checkpoint only when `f + 1` peers offer the same one;
//!   with fewer than `f + 1` honest peers holding a common checkpoint
//!   (they checkpoint every `checkpoint_interval` rounds and serve the last
//!   two) it keeps asking.
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
pub mod sync;
pub mod testing;
#[cfg(test)]
mod tests;
mod types;

pub use config::{Keys, NarwhalConfig};
pub use dag::{Dag, round_robin_leader};
pub use message::{MAX_REQUEST, MAX_SYNC_OFFERS, Message, Record};
pub use node::{AnchorCommit, ConfigError, Memory, Narwhal, NodeStats, TIMING_LOG};
pub use order::{CommittedSubDag, Committer, NoOrder, Orderer, OrdererState};
pub use sync::SyncState;
pub use types::{
    Batch, Certificate, Committed, Header, Round, SIGNING_CONTEXT, SyncPoint, Transaction, Vertex,
    Vote, vote_message,
};
