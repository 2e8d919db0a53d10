//! # dwcp-hotstuff — chained HotStuff with threshold QCs, as a sans-IO engine
//!
//! Chained HotStuff (Yin, Malkhi, Reiter, Gueta, Abraham, PODC 2019) with
//! the round-based safety rules of its LibraBFT/DiemBFT descendants: `n >=
//! 3f + 1` replicas agree on one chain of blocks despite `f` Byzantine
//! ones. Votes are threshold signature shares (blsttc through
//! `dwcp_crypto::threshold`), so a quorum certificate is one 96-byte
//! signature. [`HotStuff`] implements [`dwcp_core::Engine`].
//!
//! ## How to drive a replica
//!
//! 1. **Configure** with [`HotStuffConfig::new`]`(n)` (largest `f`), adjust
//!    block limits and timeouts; [`HotStuffConfig::validate`] refuses
//!    inconsistent values.
//! 2. **Keys**: every replica needs an sr25519 key (it signs proposals) and
//!    a share of a threshold key needing `n - f` shares
//!    (`ThresholdSetup::generate(n, n - f, seed)` or a DKG); see [`Keys`]
//!    (the `harness` builds them for simulations).
//! 3. **Construct** with [`HotStuff::new`]`(config, id, keys)`. After a
//!    crash construct it the same way and call `restore(now, records)` with
//!    every [`Record`] it persisted.
//! 4. **Feed** client transactions ([`Tx`]: an id and shared bytes) with
//!    `handle_request` at any replica, peer messages with `handle_message`,
//!    and `handle_timeout` at `next_deadline()`. With client keys in
//!    [`HotStuffConfig::clients`], transactions must be signed by their
//!    client ([`client::sign_tx`]); unsigned or forged ones are dropped, and
//!    a proposal carrying one is evidence against its leader.
//! 5. **Drain** `poll_output()` after every input: `Send` a [`Message`],
//!    `Persist` a [`Record`] (durable before any later send: see
//!    [`persist`]), `Deliver` a [`Committed`] block (height, digest, tx ids;
//!    in chain order, each once), `Evidence` against a peer (invalid
//!    signature or share, equivocating proposal, double vote, protocol
//!    violation).
//! 6. **Observe** with [`HotStuff::view`], [`HotStuff::high_qc`],
//!    [`HotStuff::locked_qc`], [`HotStuff::committed_tip`],
//!    [`HotStuff::stats`].
//!
//! ## The protocol, as implemented
//!
//! - **Views and leaders.** View `v` is led by replica `v mod n` (round
//!   robin). The leader proposes one block extending its highest QC (the
//!   block's parent is always the block that QC certifies), signed with its
//!   sr25519 key, entering the view through a QC for `v - 1` or a timeout
//!   certificate (TC) for `v - 1` carried in the proposal.
//! - **Votes and QCs.** A replica votes for the view's first valid proposal
//!   if `v > last_voted` and the block's QC is at least as high as its lock
//!   (the safe-node rule in its round form), persisting the vote first. The
//!   share goes to the leader of `v + 1`, which combines `n - f` shares
//!   optimistically; if that fails, bisection names the bad signers
//!   (evidence) and it waits for more.
//! - **Lock and commit.** On a QC for block `b2` with parent `b1` and
//!   grandparent `b0`: the lock moves to `b2`'s own QC (certifying `b1`),
//!   and if `b0, b1, b2` have consecutive views, `b0` and all its
//!   uncommitted ancestors commit (the three-chain rule).
//! - **Pacemaker.** A view timer (`base_timeout`, doubling per consecutive
//!   timeout up to `max_timeout`, reset by a new QC) makes a replica
//!   broadcast a timeout share with its high QC. `f + 1` timeouts for a view
//!   make others join; `n - f` combine into a TC that moves everyone to the
//!   next view, whose leader extends the highest QC it has seen. A timeout
//!   carries the sender's vote of that view, so a QC still forms when the
//!   next leader (who should have collected the votes) is down. A replica
//!   already past a view answers a timeout for it with `Help` (its high QC
//!   and a timeout share), so a restarted or partitioned laggard catches up.
//! - **Payload.** Blocks carry up to `max_block_txs`/`max_block_bytes` of
//!   client transactions. A replica relays its clients' transactions to the
//!   leader two views ahead (skipping leaders that just timed out), so every
//!   payload crosses the leader's uplink to every replica. An idle leader
//!   waits `idle_block_delay` before an empty block.
//! - **Fetching.** A proposal whose parent is unknown waits while the block
//!   and its ancestors are fetched from the proposer (then other peers);
//!   blocks are authenticated by their digest chain. Committed blocks are
//!   kept for `retention` heights to serve others.
//! - **Bounded memory.** Votes and timeouts only for views within
//!   `view_window`, one per replica and view; few proposals wait for
//!   parents; fetches, mempool and pending transactions are capped.
//!
//! ## Limits
//!
//! - Round-robin leaders without reputation: every crashed leader costs a
//!   view timeout and breaks the consecutive views the commit rule needs.
//! - Client transactions are not signed: a Byzantine leader can propose
//!   transactions nobody submitted (sign them in the payload if that
//!   matters).
//! - Payloads travel only through leaders (no shared mempool), so a
//!   transaction that reaches a leader after its turn waits for its next.
//! - A replica more than `retention` blocks behind every peer cannot catch
//!   up (that needs state transfer, not provided).
//!
//! ## Dependencies
//! - `dwcp-core`: the engine contract, codec, digests and ids.
//! - `dwcp-crypto`: sr25519 proposal signatures and blsttc threshold
//!   shares and certificates (optimistic combine with bisection); its
//!   insecure mock behind this crate's `insecure-mock-crypto` feature.
//! - `serde`: derives for the wire format (bincode via `dwcp-core`).
//! - `dwcp-sim` (optional, default feature `sim`): `harness` (clusters,
//!   the throughput run for the lab) and `adversary` (Byzantine leaders and
//!   voters).

#[cfg(feature = "sim")]
pub mod adversary;
pub mod client;
mod config;
mod consensus;
pub mod fuzzing;
#[cfg(feature = "sim")]
pub mod harness;
mod message;
mod pacemaker;
pub mod persist;
mod replica;
mod sync;
mod tx;

pub use config::{ConfigError, HotStuffConfig};
pub use message::{
    Block, Committed, Message, Proposal, Qc, Record, SIGNING_CONTEXT, Tc, Vote, timeout_bytes,
    vote_bytes,
};
pub use replica::{HotStuff, HotStuffOutput, Keys, Stats};
pub use tx::{Batch, Payload, Tx};

#[cfg(test)]
mod tests;
