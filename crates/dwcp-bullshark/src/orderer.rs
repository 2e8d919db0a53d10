//! The partially synchronous Bullshark commit rule.

use dwcp_core::NodeId;
use dwcp_narwhal::{CommittedSubDag, Committer, Dag, Orderer, Round, Vertex, round_robin_leader};

/// Bullshark's steady state on a Narwhal DAG: an anchor (leader) every even
/// round `r ≥ 2`, round-robin; it commits once `f + 1` certificates of round
/// `r + 1` have it as a parent, after every earlier uncommitted anchor it
/// has a path to.
#[derive(Clone, Debug)]
pub struct Bullshark {
    n: usize,
    validity: usize,
    committer: Committer,
}

impl Bullshark {
    /// For `n` nodes tolerating `f` faults, collecting history `gc_depth`
    /// rounds below the last committed anchor.
    pub fn new(n: usize, f: usize, gc_depth: Round) -> Bullshark {
        Bullshark {
            n,
            validity: f + 1,
            committer: Committer::new(gc_depth),
        }
    }

    /// The anchor of round `round`: even rounds from 2 on.
    pub fn leader(&self, round: Round) -> Option<NodeId> {
        (round >= 2 && round.is_multiple_of(2)).then(|| round_robin_leader(round, self.n))
    }

    fn anchor<'a>(&self, dag: &'a Dag, round: Round) -> Option<&'a Vertex> {
        anchor_of(dag, self.n, round)
    }
}

/// The anchor vertex of `round`, if it is an anchor round and present.
fn anchor_of(dag: &Dag, n: usize, round: Round) -> Option<&Vertex> {
    if round >= 2 && round.is_multiple_of(2) {
        dag.get(round, round_robin_leader(round, n))
    } else {
        None
    }
}

impl Orderer for Bullshark {
    fn on_insert(&mut self, dag: &Dag, vertex: &Vertex) -> Vec<CommittedSubDag> {
        // Only a vote (a certificate of the round after an anchor round)
        // can complete an anchor's support.
        let Some(r) = vertex.round().checked_sub(1) else {
            return vec![];
        };
        if r <= self.committer.last_committed_round() {
            return vec![];
        }
        let Some(anchor) = self.anchor(dag, r).cloned() else {
            return vec![];
        };
        // This vertex must vote for the anchor, or it changed nothing.
        if !vertex.parents().contains(&anchor.digest) {
            return vec![];
        }
        if dag.support(&anchor.digest, vertex.round()) < self.validity {
            return vec![];
        }
        let n = self.n;
        let leader_of = |round: Round| anchor_of(dag, n, round).cloned();
        self.committer.commit(dag, &anchor, 2, leader_of)
    }

    fn last_committed_round(&self) -> Round {
        self.committer.last_committed_round()
    }

    fn steady_leader(&self, round: Round) -> Option<NodeId> {
        self.leader(round)
    }

    fn memory(&self) -> usize {
        self.committer.memory()
    }
}
