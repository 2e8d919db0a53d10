//! # dwcp-tpbft — T-PBFT on the dwcp-pbft engine
//!
//! Gao, Yu, Zhu and Cai's T-PBFT (China Communications, 2019): EigenTrust
//! scores computed from committed behaviour elect the nodes that lead and
//! vote, so that nodes that failed as primary stop being chosen.
//!
//! ## How to use this crate
//!
//! 1. **Score** members with a [`dwcp_reputation::Ledger`] fed from the
//!    committed log only: each replica's host submits a signed
//!    [`attest::Attestation`] of what its engine saw at the end of an epoch
//!    (`Pbft::checkpoint_votes`, views it left without preparing, invalid
//!    signatures, conflicting statements), and every node reads the committed
//!    ones with [`attest::Attestations`] (plus [`timeliness`] complaints);
//!    [`epochs`] drives this loop.
//! 2. **Elect** each epoch with [`Election::elect`]`(&scores, &params,
//!    epoch)`: a ranking, a consensus group (the
//!    [`ElectionParams::consensus_group`] most trusted, at least `3f + 1`;
//!    everyone while trust is equal), a primary group inside it (the most
//!    trusted, rotating the primary among them) and a trust-weighted
//!    [`dwcp_core::WeightedCommittee`] (weight 0 outside the consensus
//!    group) whose threshold is checked so that two quorums intersect in
//!    weight beyond the `f` heaviest members.
//! 3. **Run** the epoch on the PBFT engine with
//!    `dwcp_pbft::Pbft::with_policy(config, policy, ..)`, where `policy` is
//!    [`TrustPolicy::with_group_signature`]`(election, group_key)` (the key
//!    from [`deal`]; give each primary-group member's engine its
//!    [`ProposalEndorser`] with `Pbft::set_endorser`) or, for proposals
//!    signed by the primary alone, [`TrustPolicy::new`]`(election)`.
//! 4. **Certify** decisions for nodes outside the group: [`deal`] the primary
//!    group's threshold keys, collect [`GroupSigner::sign`] shares,
//!    [`GroupKey::combine`] them into a [`DecisionCertificate`] and let a
//!    [`Follower`] accept them.
//! 5. **Re-elect** at the epoch boundary from the updated ledger
//!    ([`epochs::run`] drives the whole loop in the simulator).
//!
//! With equal trust, [`Election`] yields a round-robin primary over all
//! members and `⌈(n + f + 1)/2⌉` quorums: exactly PBFT.
//!
//! ## What is and is not implemented
//!
//! - The primary group signs *proposals*: with
//!   [`TrustPolicy::with_group_signature`] (what [`epochs::run`] uses once
//!   trust singles out a primary group) backups prepare the view primary's
//!   pre-prepare only once `f + 1` group members' blsttc shares on it
//!   combine into a valid threshold signature (dwcp-pbft's endorsed
//!   proposals, `dwcp_pbft::endorse`; each member's engine signs with a
//!   [`ProposalEndorser`]). This costs one message delay per decision and
//!   one combine per backup and slot. Pre-prepares re-issued in a new-view
//!   are justified by the view-changes in it and are not group-signed.
//! - The primary group also signs *decisions* for followers: at the end of
//!   every simulated epoch its honest members threshold-sign the digest of
//!   the epoch's committed log and a [`Follower`] checks the combined
//!   signature ([`certify_log`]; `EpochReport::certified`).
//! - The consensus group votes, weighted by trust; the other members are
//!   followers ([`TrustPolicy`] implements dwcp-pbft's `Policy::is_voter`
//!   and `Policy::vote_targets`): prepares and endorsement shares go to the
//!   group only, commits to everyone, and a follower decides a slot from the
//!   pre-prepare plus a quorum of commit votes, a transferable commit
//!   certificate (the same kind catch-up hands to lagging replicas); a vote
//!   signed by a follower is evidence. The group has at least `3f + 1`
//!   members because any `f` members may be Byzantine whatever their trust:
//!   trust decides who is *likely* honest, never what safety rests on. With
//!   `n = 10`, `f = 2` and a group of 7, a steady-state epoch sends about a
//!   quarter fewer messages than with everyone voting (tested). Followers
//!   still sign checkpoints, so they keep earning trust and re-enter the
//!   group when a member loses its place. Each epoch's committed log is
//!   also threshold-signed by the primary group ([`certify_log`]).
//! - Equivocating primaries are caught through dwcp-pbft's relay
//!   ([`TrustPolicy`] turns on `Policy::report_own_votes`): view-changes
//!   carry the signed pre-prepare each replica voted for, so the conflicting
//!   pair meets in the next new-view; the new primary and every replica
//!   checking it emit `Fault::Equivocation`, which [`PbftEquivocation`]
//!   verifies and the ledger turns into a permanent Byzantine mark (trust 0,
//!   out of the groups from the next election on). An equivocation whose
//!   slot never reaches a view change (because one side decided it and no
//!   replica asked for a new view) stays unseen.
//! - Slow primaries ([`slow::SlowPrimary`], just under the request timeout)
//!   never lose a view, and certificates hold no proposal times; they are
//!   caught by [`timeliness`]: each replica measures, with its own clock,
//!   how long the primary took to propose the requests it received, signs a
//!   late-proposal [`timeliness::Complaint`] above half the request timeout
//!   and submits it as an ordinary request, so that it is ordered in the
//!   committed log; the ledger charges the primary only when `f + 1`
//!   distinct replicas' valid complaints about the same view are committed,
//!   so the `f` Byzantine replicas cannot frame an honest primary (the
//!   argument is in [`timeliness`]). Complaints are submitted when the epoch
//!   closes, with the attestations, so a slow primary is charged before the
//!   next election. Slowness below the bound goes unpunished.
//! - Trust comes from committed data only ([`attest`]): the epoch closes
//!   with every replica's signed attestation ordered in the log, which
//!   costs one more consensus round per epoch (measured in
//!   `tpbft-throughput`: the no-fault throughput ratio is about 0.7 with
//!   20-request epochs and 0.93 with 200-request ones). Byzantine
//!   attesters can credit each other and withhold credit (EigenTrust's
//!   collusion limit, bounded by pre-trust and damping); framing a
//!   primary for a failed view takes `f + 1` attesters.
//! - Re-election happens between epochs, each epoch being a fresh engine
//!   instance (dwcp-pbft's policy is fixed per instance). In-place
//!   re-election would need the switch keyed to the committed log (the new
//!   policy applying to sequence numbers above an agreed stable
//!   checkpoint, so that no replica judges a peer under the other epoch's
//!   primary or quorums) and, in the simulator, a way to reach running
//!   engines; neither exists yet.
//!
//! ## Dependencies
//! - `dwcp-pbft`: the engine extended here through `Policy` (plus its
//!   simulator harness and adversaries).
//! - `dwcp-reputation`: EigenTrust scores.
//! - `dwcp-crypto`: blsttc threshold signatures for the primary group.
//! - `dwcp-core`: ids, digests, weighted-quorum arithmetic, codec.
//! - `dwcp-sim`: the simulator used by [`epochs`].
//! - `serde`: wire format of certificates.

pub mod attest;
mod certificate;
mod election;
pub mod epochs;
mod evidence;
pub mod fuzzing;
mod policy;
pub mod slow;
pub mod timeliness;

pub use certificate::{
    Decision, DecisionCertificate, FollowError, Follower, GroupKey, GroupSigner, certify_log, deal,
};
pub use election::{Election, ElectionParams, checked_committee, heaviest};
pub use evidence::PbftEquivocation;
pub use policy::{ProposalEndorser, TrustPolicy};

#[cfg(test)]
mod tests;
