//! # dwcp-probft — ProBFT as a sans-IO engine
//!
//! ProBFT (Avelãs, Heydari, Alchieri, Distler, Bessani, "Probabilistic
//! Byzantine Fault Tolerance", PODC '24, arXiv 2405.04606): a leader-based,
//! partially synchronous BFT protocol with PBFT's three steps
//! (Propose → Prepare → Commit) in which every replica sends its prepare and
//! commit only to a VRF-selected sample of `o·√n` replicas and decides on a
//! *probabilistic quorum* of `l·√n` matching messages: `O(n√n)` messages per
//! decision instead of PBFT's `O(n²)`, agreement with high probability.
//! [`Probft`] implements [`dwcp_core::Engine`].
//!
//! ## How to drive a replica
//!
//! 1. **Configure**: [`ProbftConfig::new(n)`](ProbftConfig::new) (largest
//!    `f`, default `o = 2`, `l = 1`), [`ProbftConfig::with_faults`] or
//!    [`ProbftConfig::with_params`]; adjust batching, timers and bounds.
//!    [`ProbftConfig::validate`] refuses `(o, l)` for which correct replicas
//!    would usually not reach the quorum, or faulty ones alone would.
//! 2. **Construct** with [`Probft::new`]`(config, id, secret_key, publics,
//!    rng)`: publics indexed by `NodeId`, sr25519 keys from
//!    `dwcp_crypto::Keyring` (the same key signs and evaluates the VRF), rng
//!    from `dwcp_core::rng::derive(seed, id)`. After a crash, construct the
//!    same way and call `restore(now, records)` with every [`Record`]
//!    persisted before.
//! 3. **Feed** client requests with `handle_request` (forwarded to the
//!    leader), peer messages with `handle_message` (decode with
//!    `dwcp_core::codec::decode::<Message>`), and `handle_timeout` at
//!    `next_deadline()`.
//! 4. **Drain** `poll_output()` after every input: `Send` a [`Message`] (a
//!    vote goes to its VRF sample only), `Persist` a [`Record`] (durable
//!    before any later send leaves — see [`persist`]), `Deliver` a
//!    [`Request`] (at most once, in slot order), `Evidence` of a peer's
//!    fault (bad signature or VRF proof, a vote from outside the sender's
//!    sample, equivocation).
//! 5. **Observe** with [`Probft::stats`], [`Probft::view`],
//!    [`Probft::next_slot`], [`Probft::decided_digest`]; compute the risk of
//!    your parameters with [`safety_bound`].
//!
//! ## The protocol, as implemented (what is the paper's, what is ours)
//!
//! Verified from the paper's abstract and summary: leader-based, partially
//! synchronous, permissioned, three communication steps, probabilistic
//! quorums of size `q = l√n`, VRFs so that faulty replicas cannot choose who
//! receives their messages, no threshold signatures, safety with probability
//! `1 − exp(−Θ(√n))`, termination with probability 1 after GST, `O(n√n)`
//! messages, "a fraction (e.g., 20%)" of PBFT's messages. The full text
//! could not be retrieved, so where a rule could not be checked the module
//! says so and implements the conservative PBFT-style rule:
//!
//! - **Normal case**: one slot at a time; the leader (`view mod n`) proposes a batch to all;
//!   prepares and commits go to samples `sortition(VRF(phase ‖ view ‖ slot))`
//!   of size `s = ⌈o√n⌉` ([`sample`]); receivers check the proof and their
//!   membership ([`sample::check_membership`]); `q` matching prepares
//!   prepare, `q` matching commits decide.
//! - **Equivocation check (ours).** Votes carry the leader's signature on
//!   the proposal they support; two signed proposals for one slot are proof
//!   of equivocation, after which a replica stops committing and deciding in
//!   that view and moves on. It costs one signature per vote and is what
//!   makes [`safety_bound`] small when the leader splits correct replicas.
//! - **View change** ([`compute_plan`]): PBFT's (view-changes to all, `n − f`
//!   quorum, `f + 1` join rule, timer running once the change is viable),
//!   with prepared certificates (`q` sampled prepares, verifiable by anyone)
//!   carried over. Ours on top: the new leader also waits briefly for late
//!   view-changes, same-view conflicts are broken by non-equivocating
//!   support, any replica may relay a new-view, and a replica suspecting the
//!   leader re-sends its clients' requests to all (as a PBFT client would).
//! - **Catch-up (ours)**: probabilistic quorums leave the odd correct
//!   replica without a decision; it asks everybody and adopts a batch from
//!   `f + 1` matching answers (also after a restart, and before suspecting
//!   the leader).
//! - **Persistence** ([`persist`]): a restarted replica never signs a second
//!   vote, proposal, view-change or new-view for the same position.
//!
//! ## Safety, honestly
//!
//! Probabilistic quorums trade certainty for messages. At
//! `f = ⌊(n−1)/3⌋` the faulty replicas can, on average, supply a third of
//! every sample, and `q` must sit between what they can deliver and what the
//! correct ones do: [`bound`] derives the resulting bound and its limits
//! (about 0.24 per faulty-leader view at `n = 100` with `o = 2, l = 1`, 0.02 at
//! `n = 1024`), and the lab's `probft-safety` experiment measures the actual
//! violation rate of this engine's code under an equivocating leader and
//! colluding voters.
//!
//! ## Modules for tools
//!
//! With the default `sim` feature: `harness` builds simulated clusters,
//! `adversary` holds the Byzantine strategies (equivocating leader, wrong
//! VRF proofs, votes outside the sample) and `ByzantineMessage`, `model` is
//! the fast single-decision safety model and `experiment` computes the rows
//! of the lab's `probft-messages` and `probft-safety`. [`fuzzing`] holds the
//! fuzz entry points.
//!
//! ## Dependencies
//! - `dwcp-core`: the engine contract, codec, digests, RNG.
//! - `dwcp-crypto`: sr25519 signatures (batch verification for
//!   certificates), schnorrkel's VRF and its unbiased sortition — the
//!   samples — and the insecure mock for very large simulations.
//! - `dwcp-pbft`: the [`Request`] type and batch digest (so both engines
//!   order the same requests), and with `sim` its harness as the baseline of
//!   the message-count comparison.
//! - `serde`: derives for the wire format (bincode via `dwcp-core`).
//! - `dwcp-sim` (optional, default feature `sim`): the simulator glue.

pub mod bound;
mod catchup;
pub mod config;
pub mod fuzzing;
pub mod instance;
pub mod message;
mod normal;
pub mod persist;
mod replica;
mod requests;
pub mod sample;
mod verify;
mod viewchange;

#[cfg(feature = "sim")]
pub mod adversary;
#[cfg(feature = "sim")]
pub mod experiment;
#[cfg(feature = "sim")]
pub mod harness;
#[cfg(feature = "sim")]
pub mod model;

pub use bound::{SafetyAnalysis, safety_analysis, safety_bound};
pub use config::{ConfigError, ProbftConfig};
pub use message::{
    CertEntry, Header, Message, NewView, Phase, PreparedCert, Proposal, Request, SIGNING_CONTEXT,
    Signed, Statement, ViewChange, Vote, VoteMsg, batch_digest,
};
pub use persist::Record;
pub use replica::{Probft, ProbftOutput, Stats};
pub use verify::leader_of;
pub use viewchange::{Plan, compute_plan};

#[cfg(test)]
mod tests;
