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
//! - **SBFT's fast path** (`dwcp_pbft::fast`, on by default with a 10 ms
//!   wait, [`LinearConfig::fast_path`]): when the collector holds prepares
//!   from a fast quorum (all `n` for `n = 3f + 1`; `n − c` with slack
//!   `c = ⌊(q − 2f − 1)/2⌋` in general, see [`AggPolicy`]) it broadcasts
//!   them as the commit proof and everybody decides: no commit phase. If
//!   the fast quorum is not in within the wait it falls back to the slow
//!   path below. View-changes carry each replica's own signed prepare vote
//!   and the new primary re-proposes a value with `f + c + 1` of them, so a
//!   fast decision survives the view change (argument in `dwcp_pbft::fast`).
//!
//! **Cost, counted on the wire.** Per decision on the fast path: the
//! pre-prepare `n − 1`, prepares `n − 1`, the commit proof `n − 1`, plus
//! `2(n − 1)/K` for checkpoints: about `3n` against PBFT's
//! `≈ 2n² + n²/K`, and three one-way delays after the request reaches the
//! primary, like PBFT. On the slow path: pre-prepare, prepares, prepare
//! certificate, commits, commit certificate, about `5n` and five delays
//! (plus the fast-path wait). `Voting::LinearPrepare` keeps commits
//! all-to-all: one extra delay, `O(n²)` messages.
//!
//! Measured by the lab (`cargo run --release -p dwcp-lab -- run
//! aggregation-messages`; fixed 10 ms one-way latency plus 1 ms fsync per
//! step, one request per instance, insecure mock signatures at n ≥ 256;
//! fast path, slow path in brackets):
//!
//! | n | PBFT msgs/decision | linear | fewer | latency PBFT → linear |
//! |---|---|---|---|---|
//! | 16 | 496 | 47 (77) | 90.5% (84.4%) | 43 → 43 (64) ms |
//! | 64 | 8 317 | 196 (322) | 97.6% (96.1%) | 43 → 43 (64) ms |
//! | 256 | 134 641 | 790 (1 300) | 99.41% (99.03%) | 43 → 43 (64) ms |
//!
//! n = 500 and 1000: see `docs/BENCHMARKS.md`. Bytes: by default the
//! relayed certificates are dwcp-pbft's sr25519 lists (what the inner
//! replica verifies and what view-changes carry). With
//! [`LinearConfig::bls_certificates`] ([`bls`]) votes carry BLS shares and
//! decision certificates travel as one BLS aggregate (136–142 bytes):
//! measured with real BLS at n = 64, 33 491 bytes per decision against
//! PBFT's 861 032 (96.1% fewer; 66.7% with sr25519 lists). Larger n is a
//! projection (real pairings are too slow for the lab's budget): 98.5%
//! fewer at n = 256 with 156-byte aggregates.

pub mod bls;
pub mod checkpoints;
mod config;
mod engine;
pub mod harness;
mod message;
mod policy;

pub use bls::BlsKeys;
pub use config::LinearConfig;
pub use engine::{LinearOutput, LinearPbft, LinearStats};
pub use message::AggMessage;
pub use policy::{AggPolicy, Voting};
