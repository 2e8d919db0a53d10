//! The linear PBFT mode: `dwcp_pbft::Pbft` driven through the aggregation
//! layer, collector-based like SBFT's linear PBFT.
//!
//! - **Votes to a collector.** [`AggPolicy`] (a `dwcp_pbft::Policy`) makes
//!   the view's primary the collector: backups send prepares and commits to
//!   it only, and it relays each quorum as one certificate (PBFT's own
//!   `VoteCertificate`, an sr25519 list, which is what the inner replica
//!   verifies). Weighted quorums come from a `WeightedCommittee`.
//! - **Checkpoints to a collector** too (see [`checkpoints`]): without it
//!   PBFT's all-to-all checkpoints (`n²/K` per decision) would dominate the
//!   `O(n)` normal case.
//! - **Fallbacks.** A collector that withholds or forges certificates is
//!   routed around: when PBFT retransmits a vote for a stuck slot the
//!   `fallback_after`-th time, the vote goes to everybody (the slot falls
//!   back to all-to-all voting); a collector receiving a vote for a slot it
//!   already certified sends its certificate to that voter again (once); a
//!   forged certificate is evidence against the collector and is dropped;
//!   a primary that stays faulty is replaced by PBFT's view change.
//! - **Envelopes.** Requests a backup forwards to the primary leave in one
//!   deduplicated [`crate::batch::BatchWire`] per input (or per
//!   `forward.max_delay`), and large pre-prepares are compressed.
//!
//! **Cost, counted on the wire.** Per decision: the pre-prepare `n − 1`,
//! prepares `n − 1`, the prepare certificate `n − 1`, commits `n − 1`, the
//! commit certificate `n − 1`, plus `2(n − 1)/K` for checkpoints: about
//! `5n` against PBFT's `≈ 2n² + n²/K`. Latency: five one-way delays after
//! the request reaches the primary against PBFT's three (each all-to-all
//! round becomes two hops through the collector). `Voting::LinearPrepare`
//! keeps commits all-to-all: one extra delay, `O(n²)` messages.
//!
//! Measured by the lab (`cargo run --release -p dwcp-lab -- run
//! aggregation-messages`; fixed 10 ms one-way latency, one request per
//! instance, insecure mock signatures at n ≥ 256):
//!
//! | n | PBFT msgs/decision | linear | fewer | PBFT bytes | linear bytes | latency PBFT → linear |
//! |---|---|---|---|---|---|---|
//! | 16 | 496 | 77 | 84.4% | 51 131 | 27 559 | 43 → 64 ms |
//! | 64 | 8 317 | 322 | 96.1% | 856 749 | 390 009 | 43 → 64 ms |
//! | 256 | 134 641 | 1 300 | 99.04% | 7.27 M | 1.65 M | 43 → 64 ms |
//! | 500 | 514 595 | 2 527 | 99.51% | 28.3 M | 6.29 M | 43 → 64 ms |
//! | 1000 | 2 060 438 | 5 058 | 99.75% | 114 M | 25.9 M | 43 → 64 ms |
//!
//! The 99.6% target holds at n = 1000, not at n = 500 (it needs about `4n`
//! copies per decision there). Bytes fall by ~77% with sr25519-list
//! certificates; replacing the relayed certificates by BLS aggregates
//! (measured 218 bytes at n = 1000) would make it 99.46% (a projection).
//!
//! **What dwcp-pbft does not let us change.** Its certificates are lists of
//! sr25519 signatures checked inside the replica, so the relayed
//! certificates cannot be BLS aggregates (96 bytes plus a bitmap); and its
//! view change has no notion of a fast path (commit after one round when
//! all `n` sign), so SBFT's three-delay fast path is not available. Both
//! need an extension point in dwcp-pbft (a certificate-scheme hook in
//! `Policy`); the certificate schemes of [`crate::scheme`] are ready for it.

pub mod checkpoints;
mod config;
mod engine;
pub mod harness;
mod message;
mod policy;

pub use config::LinearConfig;
pub use engine::{LinearOutput, LinearPbft, LinearStats};
pub use message::AggMessage;
pub use policy::{AggPolicy, Voting};
