//! T-PBFT as a [`Policy`] of the PBFT engine.

use crate::certificate::{GroupKey, GroupSigner};
use crate::election::Election;
use dwcp_core::{Digest, NodeId, codec};
use dwcp_crypto::PartialSig;
use dwcp_pbft::endorse::MAX_SHARE;
use dwcp_pbft::{Endorsement, Endorser, Policy};
use std::collections::{BTreeMap, BTreeSet};

/// Trust-weighted quorums and a primary rotating inside the primary group.
///
/// With equal trust it makes exactly PBFT's decisions: round-robin primary
/// and `⌈(n + f + 1)/2⌉`-of-`n` quorums (tested against
/// [`dwcp_pbft::ClassicPolicy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    election: Election,
    group: Option<GroupKey>,
}

impl TrustPolicy {
    /// The policy of one epoch (pre-prepares signed by the primary alone).
    pub fn new(election: Election) -> TrustPolicy {
        TrustPolicy {
            election,
            group: None,
        }
    }

    /// The policy of one epoch whose pre-prepares backups prepare only
    /// once the primary group threshold-signed them (dwcp-pbft's endorsed
    /// proposals): `key` is the epoch's group key from [`crate::deal`], each
    /// member's engine gets a [`crate::ProposalEndorser`].
    pub fn with_group_signature(election: Election, key: GroupKey) -> TrustPolicy {
        TrustPolicy {
            election,
            group: Some(key),
        }
    }

    /// The primary group's key, when proposals are group-signed.
    pub fn group(&self) -> Option<&GroupKey> {
        self.group.as_ref()
    }

    /// The epoch's election.
    pub fn election(&self) -> &Election {
        &self.election
    }

    fn weight(&self, voters: &BTreeSet<NodeId>) -> u64 {
        voters
            .iter()
            .filter(|v| v.index() < self.election.n())
            .map(|v| self.election.committee.weight(v.index()))
            .sum()
    }
}

impl Policy for TrustPolicy {
    fn n(&self) -> usize {
        self.election.n()
    }

    fn primary(&self, view: u64) -> NodeId {
        self.election.primary(view)
    }

    fn is_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.weight(voters) >= self.election.committee.threshold()
    }

    fn is_weak_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.weight(voters) > self.election.committee.faulty()
    }

    /// The consensus group votes; the other members follow by commit
    /// certificate (see [`TrustPolicy::vote_targets`]).
    fn is_voter(&self, node: NodeId, _view: u64) -> bool {
        self.election.is_voter(node)
    }

    /// Prepares go to the consensus group only; commits also go to the
    /// followers, for whom a quorum of them is the commit certificate they
    /// decide from. Followers send no votes. With everyone in the group
    /// this is PBFT's all-to-all voting.
    fn vote_targets(
        &self,
        me: NodeId,
        phase: dwcp_pbft::VotePhase,
        _view: u64,
        _seq: u64,
    ) -> Option<dwcp_core::Target> {
        if !self.election.is_voter(me) {
            return None;
        }
        let group = &self.election.consensus_group;
        if phase == dwcp_pbft::VotePhase::Commit || group.len() >= self.election.n() {
            return Some(dwcp_core::Target::all_but(me));
        }
        let others = group.iter().copied().filter(|m| *m != me).collect();
        Some(dwcp_core::Target::many(others))
    }

    /// View-changes relay the pre-prepares each replica voted for, so that
    /// an equivocating primary's conflicting pair meets in a new-view and
    /// becomes evidence that marks it Byzantine in the ledger.
    fn report_own_votes(&self) -> bool {
        true
    }

    fn requires_endorsement(&self, _view: u64) -> bool {
        self.group.is_some()
    }

    fn is_endorser(&self, node: NodeId, _view: u64) -> bool {
        self.group
            .as_ref()
            .is_some_and(|g| g.members.contains(&node))
    }

    /// The shares (bincode-encoded blsttc `PartialSig`s) must combine into
    /// a threshold signature (`f + 1` of the primary group) on the proposal.
    fn verify_endorsement(
        &self,
        view: u64,
        seq: u64,
        digest: &Digest,
        shares: &BTreeMap<NodeId, Vec<u8>>,
    ) -> bool {
        let Some(group) = &self.group else {
            return false;
        };
        let decoded: BTreeMap<NodeId, PartialSig> = shares
            .iter()
            .filter_map(|(id, bytes)| {
                codec::decode_bounded::<PartialSig>(bytes, MAX_SHARE)
                    .ok()
                    .map(|s| (*id, s))
            })
            .collect();
        group.signs(&Endorsement::signing_bytes(view, seq, digest), &decoded)
    }
}

/// A primary-group member's share signer for dwcp-pbft's endorsed
/// proposals (`Pbft::set_endorser`): blsttc shares, bincode-encoded.
#[derive(Clone, Debug)]
pub struct ProposalEndorser(pub GroupSigner);

impl Endorser for ProposalEndorser {
    fn share(&self, bytes: &[u8]) -> Vec<u8> {
        codec::encode(&self.0.sign_bytes(bytes))
    }
}
