//! The policy decisions, kept behind one small trait so that variants (trust-
//! weighted quorums, a primary group, collector-based linear voting) extend
//! the engine instead of copying it.

use crate::message::VotePhase;
use dwcp_core::{Committee, Duration, NodeId, Target};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// Who leads, what counts as a quorum, and where votes go.
///
/// Safety needs any two sets accepted by [`Policy::is_quorum`] to intersect
/// in at least one honest replica, and [`Policy::is_weak_quorum`] sets to
/// contain at least one honest replica; liveness needs the honest replicas
/// alone to form a quorum. Implementations must be deterministic.
pub trait Policy: Clone + Debug {
    /// Committee size; replica ids are `0..n`.
    fn n(&self) -> usize;

    /// The primary of `view`.
    fn primary(&self, view: u64) -> NodeId;

    /// Whether `voters` (distinct, valid ids) form a quorum (`2f + 1`).
    fn is_quorum(&self, voters: &BTreeSet<NodeId>) -> bool;

    /// Whether `voters` surely contain an honest replica (`f + 1`).
    fn is_weak_quorum(&self, voters: &BTreeSet<NodeId>) -> bool;

    /// The replica that collects `phase` votes for `(view, seq)` and relays
    /// a [`crate::VoteCertificate`] once it holds a quorum; `None` (the
    /// default) means all-to-all voting.
    fn collector(&self, _phase: VotePhase, _view: u64, _seq: u64) -> Option<NodeId> {
        None
    }

    /// SBFT's fast path (see [`crate::fast`]): how long the prepare
    /// collector, once it holds a quorum of prepares, keeps waiting for a
    /// fast quorum before it falls back to the slow path. `None` (the
    /// default) disables the fast path; it only applies to slots whose
    /// prepares go to a collector.
    fn fast_path_timeout(&self) -> Option<Duration> {
        None
    }

    /// Whether `voters` (distinct, valid ids, counting the primary) form a
    /// fast quorum: a prepare certificate this large decides at once. The
    /// default is every replica, which is safe for any `n ≥ 3f + 1` together
    /// with the default [`Policy::is_fast_witness`] (see [`crate::fast`] for
    /// the exact rule and when a smaller fast quorum is allowed).
    fn is_fast_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        voters.len() >= self.n()
    }

    /// Whether `voters`' own prepare votes for one value, reported in
    /// view-changes, are enough for the new primary to re-propose it (no
    /// prepared certificate from a higher view given). The default is a
    /// weak quorum (`f + 1`), matching the default fast quorum of all `n`.
    fn is_fast_witness(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.is_weak_quorum(voters)
    }

    /// Whether view-changes carry this replica's own prepare votes
    /// ([`crate::VotedProof`], with the signed pre-prepare each accepted)
    /// even without the fast path. Classic PBFT ignores them when computing
    /// the new view, but they relay every pre-prepare a replica accepted, so
    /// a primary that sent conflicting pre-prepares to different replicas
    /// is caught: the replicas that build or check a new-view see both
    /// signed versions and emit `Fault::Equivocation` (transferable
    /// evidence). `false` by default (the paper's view-change).
    fn report_own_votes(&self) -> bool {
        false
    }

    /// Whether backups prepare `view`'s pre-prepares only once the primary
    /// group endorsed them ([`crate::endorse`]). `false` by default.
    fn requires_endorsement(&self, _view: u64) -> bool {
        false
    }

    /// Whether `node` belongs to the group that endorses `view`'s proposals.
    fn is_endorser(&self, _node: NodeId, _view: u64) -> bool {
        false
    }

    /// Whether `shares` (member → share over
    /// [`crate::Endorsement::signing_bytes`]`(view, seq, digest)`, each sent
    /// by its member) form the group's signature on the proposal. Never
    /// called unless [`Policy::requires_endorsement`] holds; the default
    /// accepts nothing.
    fn verify_endorsement(
        &self,
        _view: u64,
        _seq: u64,
        _digest: &dwcp_core::Digest,
        _shares: &std::collections::BTreeMap<NodeId, Vec<u8>>,
    ) -> bool {
        false
    }

    /// Whether `node` belongs to `view`'s consensus group, the replicas that
    /// vote. `true` for everyone by default (PBFT). A replica outside it (a
    /// *follower*) casts no prepare or commit vote, a vote signed by one is
    /// evidence, and a follower decides a slot from the pre-prepare plus a
    /// quorum of matching commit votes (a transferable commit certificate)
    /// instead of preparing itself; [`Policy::vote_targets`] must then send
    /// commit votes to the followers. Safety is unchanged as long as the
    /// quorum rules count followers with no weight: they never count
    /// towards a quorum, so the group's quorums intersect as before.
    fn is_voter(&self, _node: NodeId, _view: u64) -> bool {
        true
    }

    /// Where replica `me` sends its `phase` vote for `(view, seq)`; `None`
    /// when nobody else needs it (it is the collector itself).
    fn vote_targets(&self, me: NodeId, phase: VotePhase, view: u64, seq: u64) -> Option<Target> {
        match self.collector(phase, view, seq) {
            None => Some(Target::all_but(me)),
            Some(c) if c == me => None,
            Some(c) => Some(Target::One(c)),
        }
    }
}

/// Classic PBFT: round-robin primary (`view mod n`), [`Committee`] quorums,
/// and either all-to-all votes (the paper) or, with [`ClassicPolicy::linear`],
/// votes collected by the primary, which relays certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicPolicy {
    committee: Committee,
    linear: bool,
    fast: Option<Duration>,
}

impl ClassicPolicy {
    /// All-to-all voting, as in the paper.
    pub fn new(committee: Committee) -> ClassicPolicy {
        ClassicPolicy {
            committee,
            linear: false,
            fast: None,
        }
    }

    /// Votes go to the view's primary, which broadcasts a certificate: O(n)
    /// messages per phase instead of O(n²), one more hop of latency.
    pub fn linear(committee: Committee) -> ClassicPolicy {
        ClassicPolicy {
            committee,
            linear: true,
            fast: None,
        }
    }

    /// Linear voting with SBFT's fast path ([`crate::fast`]): the collector
    /// waits up to `timeout` after a quorum for prepares from all `n`
    /// replicas, and then broadcasts them as a commit proof (three hops,
    /// `3(n − 1)` messages); otherwise it falls back to the slow path.
    pub fn linear_fast(committee: Committee, timeout: Duration) -> ClassicPolicy {
        ClassicPolicy {
            committee,
            linear: true,
            fast: Some(timeout),
        }
    }

    /// The committee.
    pub fn committee(&self) -> Committee {
        self.committee
    }
}

impl Policy for ClassicPolicy {
    fn n(&self) -> usize {
        self.committee.n()
    }

    fn primary(&self, view: u64) -> NodeId {
        // n ≤ u32::MAX (checked by the configuration), so the remainder fits.
        NodeId((view % self.committee.n().max(1) as u64) as u32)
    }

    fn is_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        voters.len() >= self.committee.quorum()
    }

    fn is_weak_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        voters.len() >= self.committee.validity()
    }

    fn collector(&self, _phase: VotePhase, view: u64, _seq: u64) -> Option<NodeId> {
        self.linear.then(|| self.primary(view))
    }

    fn fast_path_timeout(&self) -> Option<Duration> {
        self.fast.filter(|_| self.linear)
    }
}

/// Whether the fast path applies to `(view, seq)` under `policy`.
pub(crate) fn fast_on<P: Policy>(policy: &P, view: u64, seq: u64) -> bool {
    policy.fast_path_timeout().is_some()
        && policy.collector(VotePhase::Prepare, view, seq).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u32]) -> BTreeSet<NodeId> {
        ids.iter().copied().map(NodeId).collect()
    }

    #[test]
    fn quorum_arithmetic() {
        // (n, quorum, weak quorum)
        for (n, q, w) in [
            (4, 3, 2),
            (7, 5, 3),
            (10, 7, 4),
            (31, 21, 11),
            (100, 67, 34),
        ] {
            let p = ClassicPolicy::new(Committee::new(n).unwrap());
            let ids: Vec<u32> = (0..n as u32).collect();
            assert!(p.is_quorum(&set(&ids[..q])), "n={n}");
            assert!(!p.is_quorum(&set(&ids[..q - 1])), "n={n}");
            assert!(p.is_weak_quorum(&set(&ids[..w])), "n={n}");
            assert!(!p.is_weak_quorum(&set(&ids[..w - 1])), "n={n}");
        }
    }

    #[test]
    fn round_robin_and_targets() {
        let p = ClassicPolicy::new(Committee::new(4).unwrap());
        assert_eq!(
            (p.primary(0), p.primary(5), p.primary(u64::MAX)),
            (NodeId(0), NodeId(1), NodeId(3))
        );
        assert_eq!(
            p.vote_targets(NodeId(2), VotePhase::Prepare, 1, 1),
            Some(Target::all_but(NodeId(2)))
        );
        let l = ClassicPolicy::linear(Committee::new(4).unwrap());
        assert_eq!(
            l.vote_targets(NodeId(2), VotePhase::Commit, 1, 1),
            Some(Target::One(NodeId(1)))
        );
        assert_eq!(l.vote_targets(NodeId(1), VotePhase::Commit, 1, 1), None);
    }
}
