//! Where votes go and what counts as a quorum: a [`dwcp_pbft::Policy`]
//! with weighted quorums and collector-based voting.

use dwcp_core::{Duration, NodeId, WeightedCommittee};
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
/// construction), the primary as the vote collector, and optionally SBFT's
/// fast path (`dwcp_pbft::fast`).
///
/// Fast path rule, in weight units with quorum threshold `q`, total `W`
/// and faulty bound `f`: slack `c = ⌊(q − 2f − 1)/2⌋`, fast quorum
/// `W − c`, and re-proposal after a view change needs reported own votes
/// of weight `≥ f + c + 1`. For `n = 3f + 1` unit weights that is all `n`
/// replicas and `f + 1` votes; `n = 3f + 4` tolerates one silent replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggPolicy {
    committee: WeightedCommittee,
    voting: Voting,
    fast: Option<Duration>,
}

impl AggPolicy {
    /// A policy over `committee` voting as `voting`, without the fast path.
    pub fn new(committee: WeightedCommittee, voting: Voting) -> AggPolicy {
        AggPolicy {
            committee,
            voting,
            fast: None,
        }
    }

    /// The same with SBFT's fast path: the prepare collector waits up to
    /// `timeout` for a fast quorum (`None`: no fast path). Ignored with
    /// all-to-all voting.
    pub fn with_fast_path(mut self, timeout: Option<Duration>) -> AggPolicy {
        self.fast = timeout;
        self
    }

    /// The fast path's slack `c` (weight that may miss a fast quorum).
    pub fn fast_slack(&self) -> u64 {
        let c = &self.committee;
        c.threshold()
            .saturating_sub(2 * c.faulty() + 1)
            .checked_div(2)
            .unwrap_or(0)
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

    fn fast_path_timeout(&self) -> Option<Duration> {
        self.fast.filter(|_| self.voting != Voting::AllToAll)
    }

    fn is_fast_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        let w = self.committee.weight_of(voters.iter().map(|v| v.index()));
        w >= self.committee.total().saturating_sub(self.fast_slack())
    }

    fn is_fast_witness(&self, voters: &BTreeSet<NodeId>) -> bool {
        let w = self.committee.weight_of(voters.iter().map(|v| v.index()));
        w > self.committee.faulty() + self.fast_slack()
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

    #[test]
    fn fast_path_rule() {
        let set = |n: u32| (0..n).map(NodeId).collect::<BTreeSet<_>>();
        // (n, f, slack c, fast quorum, witness)
        for (n, f, c, fq, wit) in [
            (4, 1, 0, 4, 2),
            (7, 2, 0, 7, 3),
            (100, 33, 0, 100, 34),
            (10, 2, 1, 9, 4),
            (13, 2, 1, 12, 4),
            (16, 2, 2, 14, 5),
        ] {
            let p = AggPolicy::new(
                WeightedCommittee::new(vec![1; n], f as u64).unwrap(),
                Voting::Linear,
            )
            .with_fast_path(Some(Duration::from_millis(1)));
            assert_eq!(p.fast_slack(), c, "n={n} f={f}");
            // Safety condition of the rule: q >= 2f + 2c + 1.
            assert!(p.committee().threshold() > 2 * f as u64 + 2 * c);
            assert!(p.is_fast_quorum(&set(fq)) && !p.is_fast_quorum(&set(fq - 1)));
            assert!(p.is_fast_witness(&set(wit)) && !p.is_fast_witness(&set(wit - 1)));
            assert!(p.fast_path_timeout().is_some());
        }
        let c = WeightedCommittee::new(vec![1; 4], 1).unwrap();
        let all = AggPolicy::new(c, Voting::AllToAll).with_fast_path(Some(Duration::ZERO));
        assert_eq!(all.fast_path_timeout(), None);
    }
}
