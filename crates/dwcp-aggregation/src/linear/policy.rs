//! Where votes go and what counts as a quorum: a [`dwcp_pbft::Policy`]
//! with weighted quorums and collector-based voting.

use dwcp_core::{NodeId, WeightedCommittee};
use dwcp_pbft::{Policy, VotePhase};
use std::collections::BTreeSet;

/// How replicas vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voting {
    /// Every vote to everybody (classic PBFT, O(n²) messages per decision).
    AllToAll,
    /// Prepare and commit votes to the view's primary, which relays a
    /// certificate (O(n) messages per decision, two extra one-way delays).
    Linear,
    /// Prepare votes to the primary, commit votes to everybody (O(n²)
    /// messages, one extra one-way delay).
    LinearPrepare,
}

/// Round-robin primary (`view mod n`), weighted quorums from a
/// [`WeightedCommittee`] (any two quorums share honest weight, checked at
/// construction), and the primary as the vote collector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggPolicy {
    committee: WeightedCommittee,
    voting: Voting,
}

impl AggPolicy {
    /// A policy over `committee` voting as `voting`.
    pub fn new(committee: WeightedCommittee, voting: Voting) -> AggPolicy {
        AggPolicy { committee, voting }
    }

    /// The committee.
    pub fn committee(&self) -> &WeightedCommittee {
        &self.committee
    }

    /// The voting mode.
    pub fn voting(&self) -> Voting {
        self.voting
    }
}

impl Policy for AggPolicy {
    fn n(&self) -> usize {
        self.committee.len()
    }

    fn primary(&self, view: u64) -> NodeId {
        NodeId((view % self.committee.len().max(1) as u64) as u32)
    }

    fn is_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.committee.is_quorum(voters.iter().map(|v| v.index()))
    }

    fn is_weak_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.committee.weight_of(voters.iter().map(|v| v.index())) > self.committee.faulty()
    }

    fn collector(&self, phase: VotePhase, view: u64, _seq: u64) -> Option<NodeId> {
        match (self.voting, phase) {
            (Voting::AllToAll, _) | (Voting::LinearPrepare, VotePhase::Commit) => None,
            _ => Some(self.primary(view)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::Target;

    #[test]
    fn routing_and_weights() {
        let c = WeightedCommittee::new(vec![1; 4], 1).unwrap();
        let lin = AggPolicy::new(c.clone(), Voting::Linear);
        assert_eq!(
            lin.vote_targets(NodeId(2), VotePhase::Commit, 1, 3),
            Some(Target::One(NodeId(1)))
        );
        assert_eq!(lin.vote_targets(NodeId(1), VotePhase::Prepare, 1, 3), None);
        let half = AggPolicy::new(c.clone(), Voting::LinearPrepare);
        assert_eq!(
            half.vote_targets(NodeId(2), VotePhase::Commit, 1, 3),
            Some(Target::all_but(NodeId(2)))
        );
        assert_eq!(half.collector(VotePhase::Prepare, 5, 1), Some(NodeId(1)));
        assert_eq!(
            AggPolicy::new(c, Voting::AllToAll).collector(VotePhase::Prepare, 0, 1),
            None
        );
        let w = AggPolicy::new(
            WeightedCommittee::new(vec![5, 1, 1, 1], 2).unwrap(),
            Voting::Linear,
        );
        let set = |ids: &[u32]| ids.iter().map(|i| NodeId(*i)).collect::<BTreeSet<_>>();
        assert!(w.is_quorum(&set(&[0, 1])));
        assert!(!w.is_quorum(&set(&[1, 2, 3])));
        assert!(w.is_weak_quorum(&set(&[0])));
        assert!(!w.is_weak_quorum(&set(&[1, 2])));
    }
}
