//! The pluggable orderer and the commit machinery Bullshark and Tusk share.
//!
//! An [`Orderer`] is fed every certificate the moment the node inserts it
//! into its DAG (always in causal order) and answers with the sub-DAGs it
//! commits. The two orderers differ only in *which* vertex is the leader of
//! a round and *when* its support is counted; [`Committer`] does the rest:
//! walking back to earlier uncommitted leaders linked by paths, flattening
//! each leader's not-yet-ordered causal history (by round, then author) and
//! garbage collection by depth.

use crate::dag::Dag;
use crate::types::{Header, Round, Vertex};
use dwcp_core::NodeId;
use dwcp_crypto::PartialSig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// An orderer's decision state right after it committed an anchor: what a
/// node that fell too far behind adopts (state sync). Every honest node that
/// committed the same anchors holds the same state at the same anchor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdererState {
    /// The anchor just committed (= the orderer's last committed round).
    pub last_committed_round: Round,
    /// The (round, author) slots already ordered within the GC window
    /// (`last_committed_round - gc_depth ..= last_committed_round`), sorted.
    pub ordered: Vec<(Round, NodeId)>,
    /// Orderer-specific state (Bullshark's leader-reputation schedule),
    /// opaque to the node.
    pub extra: Vec<u8>,
}

/// A committed leader and the vertices it orders, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedSubDag {
    /// The leader (anchor) vertex; also the last of `vertices`.
    pub leader: Vertex,
    /// The leader's causal history not ordered before, by (round, author).
    pub vertices: Vec<Vertex>,
}

/// A consensus protocol running on the local DAG, zero extra messages.
pub trait Orderer {
    /// Called once per certificate inserted into `dag` (its parents are
    /// present). Returns the sub-DAGs it commits, in order.
    fn on_insert(&mut self, dag: &Dag, vertex: &Vertex) -> Vec<CommittedSubDag>;

    /// The round of the last committed leader (0 before any). The node
    /// collects DAG rounds below `last_committed_round - gc_depth`.
    fn last_committed_round(&self) -> Round;

    /// The steady-state leader of `round`, if the orderer has one known in
    /// advance; the proposer then waits (bounded by its timers) for the
    /// leader's certificate and for votes on it before advancing.
    fn steady_leader(&self, round: Round) -> Option<NodeId> {
        let _ = round;
        None
    }

    /// What this node puts in the `coin` field of its own header of
    /// `round` (Tusk: its share of a threshold coin).
    fn coin_share(&self, round: Round) -> Option<PartialSig> {
        let _ = round;
        None
    }

    /// Whether a header's `coin` field is acceptable (checked before
    /// voting). The default accepts only `None`.
    fn check_coin(&self, header: &Header) -> bool {
        header.coin.is_none()
    }

    /// How many entries the orderer keeps (for memory bounds in tests).
    fn memory(&self) -> usize {
        0
    }

    /// Asks the orderer to capture its state ([`Orderer::take_checkpoints`])
    /// after the first committed anchor at or above every multiple of
    /// `every` rounds (0: never). The node calls it once, at construction.
    fn set_checkpoint_interval(&mut self, every: Round) {
        let _ = every;
    }

    /// The states captured since the last call, oldest first, each right
    /// after committing its anchor (taken right after every
    /// [`Orderer::on_insert`]). Orderers that return none cannot be synced.
    fn take_checkpoints(&mut self) -> Vec<OrdererState> {
        vec![]
    }

    /// Replaces the orderer's decisions by `state` (a checkpoint of a
    /// peer's orderer of the same kind); `false` (and no change) if the
    /// state is malformed or the orderer does not support state sync.
    fn install(&mut self, state: &OrdererState) -> bool {
        let _ = state;
        false
    }
}

/// A DAG layer without ordering: nothing is ever committed. For tests of
/// the DAG itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOrder;

impl Orderer for NoOrder {
    fn on_insert(&mut self, _: &Dag, _: &Vertex) -> Vec<CommittedSubDag> {
        vec![]
    }
    fn last_committed_round(&self) -> Round {
        0
    }
}

/// The state every leader-based DAG orderer keeps: which vertices are
/// ordered, the last committed leader round, the GC depth.
#[derive(Clone, Debug)]
pub struct Committer {
    gc_depth: Round,
    last_committed_round: Round,
    ordered: BTreeSet<(Round, NodeId)>,
    checkpoint_every: Round,
    last_checkpoint: Round,
}

impl Committer {
    /// A committer that never orders vertices more than `gc_depth` rounds
    /// below the leader being committed.
    pub fn new(gc_depth: Round) -> Committer {
        Committer {
            gc_depth: gc_depth.max(1),
            last_committed_round: 0,
            ordered: BTreeSet::new(),
            checkpoint_every: 0,
            last_checkpoint: 0,
        }
    }

    /// Checkpoints are due after the first committed anchor at or above
    /// every multiple of `every` rounds (0: never).
    pub fn set_checkpoint_interval(&mut self, every: Round) {
        self.checkpoint_every = every;
    }

    /// Whether the anchor just ordered is a checkpoint (true once per
    /// multiple of the interval crossed); the same anchors at every node
    /// that commits the same anchors. Call it after every
    /// [`Committer::order`].
    pub fn checkpoint_due(&mut self) -> bool {
        let every = self.checkpoint_every;
        if every == 0 || self.last_committed_round / every <= self.last_checkpoint / every {
            return false;
        }
        self.last_checkpoint = self.last_committed_round;
        true
    }

    /// The committer's part of a checkpoint, with the orderer's `extra`.
    pub fn state(&self, extra: Vec<u8>) -> OrdererState {
        OrdererState {
            last_committed_round: self.last_committed_round,
            ordered: self.ordered.iter().copied().collect(),
            extra,
        }
    }

    /// Whether `state`'s committer part is well formed for a committee of
    /// `n`: every ordered slot within the GC window below its anchor, at
    /// most `n` per round.
    pub fn state_well_formed(&self, state: &OrdererState, n: usize) -> bool {
        let top = state.last_committed_round;
        let floor = top.saturating_sub(self.gc_depth);
        state.ordered.len() <= n.saturating_mul(self.gc_depth as usize + 1)
            && state
                .ordered
                .iter()
                .all(|(r, a)| *r >= floor && *r <= top && a.index() < n)
    }

    /// Adopts the committer part of `state` (see
    /// [`Committer::state_well_formed`]; `false` and no change if not).
    pub fn install(&mut self, state: &OrdererState, n: usize) -> bool {
        if !self.state_well_formed(state, n) {
            return false;
        }
        self.last_committed_round = state.last_committed_round;
        self.ordered = state.ordered.iter().copied().collect();
        self.last_checkpoint = state.last_committed_round;
        true
    }

    /// The round of the last committed leader.
    pub fn last_committed_round(&self) -> Round {
        self.last_committed_round
    }

    /// The GC depth.
    pub fn gc_depth(&self) -> Round {
        self.gc_depth
    }

    /// How many ordered (round, author) marks are remembered (bounded by
    /// `gc_depth` rounds).
    pub fn memory(&self) -> usize {
        self.ordered.len()
    }

    /// Commits `leader`: first every earlier uncommitted leader linked to it
    /// (`leader_at(round)` names the leader vertex of a candidate round;
    /// candidates are `step` rounds apart, down to the last committed
    /// round), oldest first, then `leader` itself. Each yields the
    /// flattening of its causal history not yet ordered.
    pub fn commit(
        &mut self,
        dag: &Dag,
        leader: &Vertex,
        step: Round,
        leader_at: impl FnMut(Round) -> Option<Vertex>,
    ) -> Vec<CommittedSubDag> {
        self.chain(dag, leader, step, leader_at)
            .into_iter()
            .map(|l| self.order(dag, l))
            .collect()
    }

    /// The leaders [`Committer::commit`] would order for `leader`, oldest
    /// first, without ordering anything: every earlier uncommitted leader
    /// linked to it (candidates `step` rounds apart, named by `leader_at`),
    /// then `leader` itself. Empty if `leader` is not above the last
    /// committed round. An orderer whose leader schedule depends on what
    /// was committed orders the first of them ([`Committer::order`]) and
    /// looks again.
    pub fn chain(
        &self,
        dag: &Dag,
        leader: &Vertex,
        step: Round,
        mut leader_at: impl FnMut(Round) -> Option<Vertex>,
    ) -> Vec<Vertex> {
        if leader.round() <= self.last_committed_round {
            return vec![];
        }
        let step = step.max(1);
        let mut chain = vec![leader.clone()];
        let mut current = leader.clone();
        let mut r = leader.round().saturating_sub(step);
        while r > self.last_committed_round {
            if let Some(prev) = leader_at(r)
                && dag.linked(&current, &prev)
            {
                chain.push(prev.clone());
                current = prev;
            }
            r = r.saturating_sub(step);
        }
        chain.reverse();
        chain
    }

    /// Orders one leader (above the last committed round, with every
    /// earlier linked leader already ordered): its causal history not
    /// ordered before, flattened by (round, author), leader last.
    pub fn order(&mut self, dag: &Dag, leader: Vertex) -> CommittedSubDag {
        let min_round = leader.round().saturating_sub(self.gc_depth);
        let ordered = &self.ordered;
        let vertices = dag.causal_history(&leader, min_round.max(1), |v| {
            ordered.contains(&(v.round(), v.author()))
        });
        for v in &vertices {
            self.ordered.insert((v.round(), v.author()));
        }
        self.last_committed_round = leader.round();
        let keep_from = self.last_committed_round.saturating_sub(self.gc_depth);
        self.ordered = self.ordered.split_off(&(keep_from, NodeId(0)));
        CommittedSubDag { leader, vertices }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::DagBuilder;

    #[test]
    fn checkpoints_are_due_once_per_interval_and_install_checks_the_window() {
        let mut b = DagBuilder::new(4);
        b.rounds(1..=12, &[0, 1, 2, 3]);
        let mut c = Committer::new(4);
        c.set_checkpoint_interval(4);
        let mut due = vec![];
        for r in [2, 4, 6, 8, 10, 12] {
            let l = b.dag.get(r, NodeId((r / 2 % 4) as u32)).unwrap().clone();
            c.order(&b.dag, l);
            if c.checkpoint_due() {
                due.push(r);
            }
        }
        assert_eq!(due, vec![4, 8, 12]);
        let state = c.state(vec![7]);
        assert_eq!(state.last_committed_round, 12);
        assert!(state.ordered.iter().all(|(r, _)| *r >= 8));
        let mut fresh = Committer::new(4);
        assert!(fresh.install(&state, 4));
        assert_eq!(fresh.last_committed_round(), 12);
        assert_eq!(fresh.state(vec![7]), state);
        // The next checkpoint is due at the next multiple, as at the source.
        assert!(!fresh.checkpoint_due());
        let mut bad = state.clone();
        bad.ordered.push((3, NodeId(0)));
        assert!(!Committer::new(4).install(&bad, 4), "slot below the window");
        let mut bad = state;
        bad.ordered.push((12, NodeId(9)));
        assert!(!Committer::new(4).install(&bad, 4), "author out of range");
    }

    #[test]
    fn commit_orders_history_once_and_links_earlier_leaders() {
        let mut b = DagBuilder::new(4);
        b.rounds(1..=6, &[0, 1, 2, 3]);
        let mut c = Committer::new(50);
        let l2 = b.dag.get(2, NodeId(1)).unwrap().clone();
        let l4 = b.dag.get(4, NodeId(2)).unwrap().clone();
        let subs = c.commit(&b.dag, &l4, 2, |r| b.dag.get(r, NodeId(1)).cloned());
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].leader, l2);
        // Round 1 (4 vertices) and l2 itself.
        assert_eq!(subs[0].vertices.len(), 5);
        assert_eq!(subs[1].vertices.last(), Some(&l4));
        assert_eq!(c.last_committed_round(), 4);
        // Committing again is a no-op; a later leader orders only new vertices.
        assert!(c.commit(&b.dag, &l4, 2, |_| None).is_empty());
        let l6 = b.dag.get(6, NodeId(3)).unwrap().clone();
        let later = c.commit(&b.dag, &l6, 2, |_| None);
        let mut all = std::collections::BTreeSet::new();
        for v in subs.iter().chain(&later).flat_map(|s| &s.vertices) {
            assert!(all.insert((v.round(), v.author())), "ordered twice");
        }
        // Rounds 1..=5 in full, then l6.
        assert_eq!(all.len(), 21);
    }
}
