//! # dwcp-reputation — EigenTrust over committed protocol observations
//!
//! Kamvar, Schlosser and Garcia-Molina's EigenTrust (WWW 2003): every node
//! `i` holds a local opinion `s_ij` of every other node `j`; normalised rows
//! `c_ij = s_ij / Σ_j s_ij` form a stochastic matrix `C`, and the global
//! trust vector is the fixed point of `t = (1 − a)·Cᵀ·t + a·p`, where `p` is
//! the distribution over pre-trusted peers and `a` the damping weight.
//!
//! ## How to use this crate
//!
//! 1. **Configure** an [`EigenTrustConfig`] (pre-trusted peers, damping `a`,
//!    convergence tolerance, iteration bound) and a [`LedgerConfig`]
//!    (observation weights, decay per epoch).
//! 2. **Record** what the protocol committed: every honest node feeds its
//!    [`Ledger`] the same sequence of [`Observation`]s taken from the
//!    committed log (timely valid votes, invalid signatures, missed
//!    deadlines, quorum-confirmed late proposals), with [`Ledger::observe`].
//! 3. **Mark** proven Byzantine nodes with [`Ledger::mark_byzantine`], which
//!    accepts only [`TransferableEvidence`] that verifies (two validly signed
//!    conflicting statements). The mark is permanent.
//! 4. **Close an epoch** with [`Ledger::end_epoch`] (decays old opinions) and
//!    **compute** [`Ledger::scores`]: a [`TrustScores`] vector, identical at
//!    every honest node because it is a pure function of the committed
//!    observations (fixed iteration order, no clocks, no hashing).
//! 5. **Use** the scores: [`TrustScores::ranking`] (most trusted first) and
//!    [`TrustScores::to_weights`] (integer weights for quorum arithmetic).
//!
//! The raw algorithm is available as [`eigentrust`] over a [`LocalTrust`]
//! matrix.
//!
//! ## Determinism
//!
//! Floating point is used, but every operation happens in a fixed order on
//! IEEE-754 doubles without fused operations, so the same inputs give
//! bit-identical outputs on every platform Rust supports. Integer weights
//! are derived by rounding, so consumers (quorum arithmetic) stay exact.
//!
//! ## Limits, and what this crate does about them
//!
//! - **Collusion.** A group of Byzantine nodes can rate each other highly.
//!   Damping towards the pre-trusted set bounds the trust a closed clique can
//!   keep: trust only enters a clique through edges from honest nodes, and
//!   `a` of it leaks back to `p` every iteration. Pre-trusted peers are the
//!   anchor; if they are Byzantine the guarantee is void.
//! - **Sybils.** EigenTrust does not stop identity creation; this crate runs
//!   over a fixed, permissioned membership (`n` known ids), so Sybils are
//!   excluded by admission, not by the algorithm. Newcomers get trust only
//!   from others' observations or the pre-trusted distribution.
//! - **Slander.** A Byzantine observer can report bad things about honest
//!   nodes. Observations must therefore be *committed* facts checkable by
//!   everybody (a vote present in a commit certificate, a deadline missed as
//!   witnessed by a quorum, a late proposal confirmed by `f + 1` distinct
//!   replicas' signed complaints in the committed log, so that at least one
//!   honest replica measured it), not unverifiable claims; the ledger cannot
//!   tell.
//! - **Proven equivocation** is the only evidence that needs no quorum: it is
//!   verified cryptographically and zeroes the node's trust forever, and the
//!   node's own opinions are discarded.
//!
//! ## Dependencies
//! - `dwcp-core`: [`NodeId`], the shared identifier type.
//! - `proptest` (dev only): randomised checks of the invariants.

mod eigentrust;
mod ledger;

pub use eigentrust::{EigenTrustConfig, LocalTrust, TrustError, TrustScores, eigentrust};
pub use ledger::{Ledger, LedgerConfig, Observation, TransferableEvidence};

pub use dwcp_core::NodeId;
