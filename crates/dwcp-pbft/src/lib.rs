//! # dwcp-pbft — Practical Byzantine Fault Tolerance as a sans-IO engine
//!
//! Castro and Liskov's PBFT (OSDI '99, TOCS 2002): `n ≥ 3f + 1` replicas
//! agree on a total order of client requests despite `f` Byzantine ones.
//! [`Pbft`] implements [`dwcp_core::Engine`]; it owns no threads, sockets,
//! clock or OS randomness.
//!
//! ## How to drive a replica
//!
//! 1. **Configure**: [`PbftConfig::new(n)`](PbftConfig::new) (largest `f`) or
//!    [`PbftConfig::with_faults`], then adjust batching, checkpoint interval
//!    `K`, watermark window `L` and timeouts; [`PbftConfig::validate`]
//!    refuses inconsistent values.
//! 2. **Construct** with [`Pbft::new`]`(config, id, secret_key, publics,
//!    rng)` (publics indexed by [`NodeId`](dwcp_core::NodeId), rng from
//!    `dwcp_core::rng::derive(seed, id)`), or [`Pbft::with_policy`] for a
//!    custom [`Policy`]. After a crash, construct the same way and call
//!    `restore(now, records)` with every [`Record`] persisted before.
//! 3. **Feed** client requests with `handle_request` (a backup forwards them
//!    to the primary and starts a timer), peer messages with
//!    `handle_message`, and `handle_timeout` at `next_deadline()`.
//! 4. **Drain** `poll_output()` after every input: `Send` a [`Message`],
//!    `Persist` a [`Record`] (durable before any later `Send` leaves — see
//!    [`persist`] for which record guards which message), `Deliver` a
//!    [`Request`] (each at most once, in the same total order at every
//!    correct replica), `Evidence` of a peer's fault (invalid signature,
//!    equivocation, protocol violation).
//! 5. **Observe** with [`Pbft::stats`], [`Pbft::view`], [`Pbft::is_primary`].
//!
//! ## The protocol, as implemented
//!
//! - **Normal case.** The primary batches pending requests (`max_batch`, or
//!   after `batch_timeout`), signs a [`PrePrepare`] per batch and pipelines
//!   them up to the high watermark. Backups prepare, everybody commits once
//!   prepared (pre-prepare + quorum of prepares), and executes committed
//!   batches in sequence order. Votes go where the [`Policy`] says
//!   (all-to-all by default; to a collector that relays a
//!   [`VoteCertificate`] in linear mode). With a collector, the [`Policy`]
//!   may enable SBFT's fast path ([`fast`]): prepares from a fast quorum
//!   (all `n` for `n = 3f + 1`) form a commit proof and decide at once,
//!   three hops like PBFT's all-to-all rounds; otherwise the collector
//!   falls back to the commit phase after a short wait.
//! - **Checkpoints** every `K` executed sequence numbers carry a running hash
//!   of the executed batches ([`state::next_state`]); a quorum of matching
//!   ones is stable, moves the watermarks `(h, h + L]` and garbage-collects
//!   the log.
//! - **View change.** A backup whose pending request does not execute in
//!   time, or that sees `f + 1` replicas ahead, moves to the next view with
//!   a [`ViewChange`] carrying its stable checkpoint proof and prepared
//!   certificates. Its view-change timer starts once a quorum asks for that
//!   view (or a later one) and doubles per failed view. The new primary
//!   gathers a quorum, computes `O` ([`compute_new_view`]: the highest-view
//!   prepared batch per sequence number, null requests in the gaps) and
//!   sends a [`NewView`], which every replica checks by recomputing `O`.
//!   With the fast path, view-changes also carry each replica's own
//!   highest-view prepare vote ([`VotedProof`]) and `O` re-proposes a value
//!   with a witness set of them ([`compute_new_view_with`]).
//! - **Equivocating primaries.** Conflicting signed pre-prepares for one
//!   slot meet in a new-view's view-changes (prepared certificates, and own
//!   votes when [`Policy::report_own_votes`] or the fast path is on); the
//!   new primary and every replica checking the new-view report them as
//!   `Fault::Equivocation` ([`relay`]).
//! - **Endorsed proposals** (off by default): under a [`Policy`] with
//!   [`Policy::requires_endorsement`], primary-group members broadcast a
//!   share ([`Endorsement`], signed by an [`Endorser`]) on each pre-prepare
//!   they accept, and backups prepare only once the policy accepts the
//!   shares as the group's signature ([`endorse`]; T-PBFT's primary group).
//! - **Lossy links.** PBFT assumes retransmission: a replica re-sends its own
//!   pre-prepare/prepare/commit for a slot still uncommitted after
//!   `retransmit_timeout`; while changing views it re-broadcasts its clients'
//!   requests and retransmits its view-change to peers that ask.
//! - **Catch-up.** Replicas exchange periodic [`Status`] probes; a replica
//!   that is behind receives committed batches with commit certificates, the
//!   stable checkpoint proof and the current new-view, all verifiable.
//! - **Signatures and evidence.** Every statement is signed (context
//!   [`SIGNING_CONTEXT`], one tag per statement type) and verified before it
//!   counts; certificates are checked with batch verification. Clients sign
//!   their requests ([`Request::signed`]); with client keys configured
//!   ([`PbftConfig::clients`]) a forged or unsigned request is dropped with
//!   evidence against whoever relayed or proposed it, so nothing a client
//!   never issued is ordered.
//! - **Bounded memory.** Slots exist only inside the window; at most one
//!   vote per replica, phase and slot, one view-change per replica; early
//!   messages wait in a bounded per-peer buffer; stale or far-future ones are
//!   dropped.
//!
//! ## Limits
//!
//! - Requests are not authenticated by clients: a Byzantine primary can
//!   propose requests nobody submitted. Sign requests in the payload if that
//!   matters to the application.
//! - Catch-up replays committed batches kept for `catch_up_retention`
//!   sequence numbers; a replica further behind needs an application-level
//!   snapshot, which this crate does not provide.
//! - Delivery is exactly-once per replica across restarts only if the host
//!   applies delivered requests and the [`Record::Executed`] before them
//!   atomically (the simulator does).
//!
//! ## Extending it
//!
//! T-PBFT and the aggregation layer reuse this crate through [`Policy`]
//! (primary selection, quorum predicates, vote routing and collectors) and
//! [`Pbft::with_policy`]. With the default `sim` feature, `harness` builds a
//! simulated cluster in one call (`harness::cluster_with_policy` for custom
//! policies) and `adversary` provides Byzantine strategies (an equivocating
//! primary holding its own key) and `ByzantineMessage` for [`Message`].
//!
//! ## Dependencies
//! - `dwcp-core`: the engine contract, codec, quorum arithmetic and RNG.
//! - `dwcp-crypto`: sr25519 signatures with deterministic batch verification
//!   (and the insecure mock for very large simulations).
//! - `serde`: derives for the wire format (bincode via `dwcp-core`).
//! - `dwcp-sim` (optional, default feature `sim`): the simulator glue in
//!   `harness` and `adversary`; disable default features to drop it.

#[cfg(feature = "sim")]
pub mod adversary;
mod catchup;
mod checkpoint;
mod config;
pub mod endorse;
pub mod fast;
pub mod fuzzing;
#[cfg(feature = "sim")]
pub mod harness;
mod log;
mod message;
mod normal;
pub mod persist;
mod policy;
pub mod relay;
mod replica;
mod requests;
pub mod state;
mod verify;
mod viewchange;

pub use config::{ConfigError, PbftConfig};
pub use endorse::Endorser;
pub use message::{
    CatchUp, Checkpoint, CheckpointProof, Decided, Endorsement, Message, NewView, PrePrepare,
    PreparedProof, Request, SIGNING_CONTEXT, Signed, Statement, Status, ViewChange, Vote,
    VoteCertificate, VotePhase, VotedProof, batch_digest, corrupt_signature,
};
pub use persist::Record;
pub use policy::{ClassicPolicy, Policy};
pub use replica::{Pbft, PbftOutput, Stats};
pub use viewchange::{NewViewPlan, compute_new_view, compute_new_view_with};

#[cfg(test)]
mod tests;
