//! T-PBFT as a [`Policy`] of the PBFT engine.

use crate::election::Election;
use dwcp_core::NodeId;
use dwcp_pbft::Policy;
use std::collections::BTreeSet;

/// Trust-weighted quorums and a primary rotating inside the primary group.
///
/// With equal trust it makes exactly PBFT's decisions: round-robin primary
/// and `⌈(n + f + 1)/2⌉`-of-`n` quorums (tested against
/// [`dwcp_pbft::ClassicPolicy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    election: Election,
}

impl TrustPolicy {
    /// The policy of one epoch.
    pub fn new(election: Election) -> TrustPolicy {
        TrustPolicy { election }
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

    /// View-changes relay the pre-prepares each replica voted for, so that
    /// an equivocating primary's conflicting pair meets in a new-view and
    /// becomes evidence that marks it Byzantine in the ledger.
    fn report_own_votes(&self) -> bool {
        true
    }
}
