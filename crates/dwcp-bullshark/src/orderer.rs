//! The partially synchronous Bullshark commit rule.

use crate::schedule::{LeaderSchedule, Reputation};
use dwcp_core::NodeId;
use dwcp_narwhal::{
    CommittedSubDag, Committer, Dag, Orderer, OrdererState, Round, Vertex, round_robin_leader,
};

/// Bullshark's steady state on a Narwhal DAG: an anchor (leader) every even
/// round `r ≥ 2`; it commits once `f + 1` certificates of round `r + 1`
/// have it as a parent, after every earlier uncommitted anchor it has a
/// path to. Leaders are round-robin ([`Bullshark::new`]) or follow a
/// reputation-based [`LeaderSchedule`] ([`Bullshark::with_reputation`]).
#[derive(Clone, Debug)]
pub struct Bullshark {
    n: usize,
    validity: usize,
    committer: Committer,
    schedule: Option<LeaderSchedule>,
    checkpoints: Vec<OrdererState>,
}

impl Bullshark {
    /// For `n` nodes tolerating `f` faults, collecting history `gc_depth`
    /// rounds below the last committed anchor; round-robin leaders.
    pub fn new(n: usize, f: usize, gc_depth: Round) -> Bullshark {
        Bullshark {
            n,
            validity: f + 1,
            committer: Committer::new(gc_depth),
            schedule: None,
            checkpoints: vec![],
        }
    }

    /// As [`Bullshark::new`], with leaders from a reputation-based
    /// [`LeaderSchedule`] that skips nodes whose anchors did not make it
    /// into recent committed history.
    pub fn with_reputation(n: usize, f: usize, gc_depth: Round, rep: Reputation) -> Bullshark {
        Bullshark {
            schedule: Some(LeaderSchedule::new(n, f, rep)),
            ..Bullshark::new(n, f, gc_depth)
        }
    }

    /// The anchor of round `round` under the schedule in force: even
    /// rounds from 2 on.
    pub fn leader(&self, round: Round) -> Option<NodeId> {
        match &self.schedule {
            Some(s) => s.leader(round),
            None => {
                (round >= 2 && round.is_multiple_of(2)).then(|| round_robin_leader(round, self.n))
            }
        }
    }

    /// The reputation schedule, if enabled.
    pub fn schedule(&self) -> Option<&LeaderSchedule> {
        self.schedule.as_ref()
    }

    fn anchor<'a>(&self, dag: &'a Dag, round: Round) -> Option<&'a Vertex> {
        dag.get(round, self.leader(round)?)
    }

    /// The anchor of `round` if `f + 1` certificates of the next round in
    /// `dag` have it as a parent.
    fn directly_committed(&self, dag: &Dag, round: Round) -> Option<Vertex> {
        let a = self.anchor(dag, round)?;
        (dag.support(&a.digest, round + 1) >= self.validity).then(|| a.clone())
    }

    /// Commits `anchor` (directly committed under the schedule in force)
    /// and the earlier anchors linked to it, one at a time; when a commit
    /// changes the schedule, the rest is re-derived under the new one from
    /// the highest directly committed anchor it names.
    fn commit_scheduled(&mut self, dag: &Dag, anchor: Vertex) -> Vec<CommittedSubDag> {
        let mut out = vec![];
        let mut target = Some(anchor);
        while let Some(a) = target.take() {
            let chain = self
                .committer
                .chain(dag, &a, 2, |r| self.anchor(dag, r).cloned());
            for v in chain {
                let previous = self.committer.last_committed_round();
                let sub = self.committer.order(dag, v);
                let changed = self
                    .schedule
                    .as_mut()
                    .is_some_and(|s| s.record(previous, &sub));
                self.maybe_checkpoint();
                out.push(sub);
                if changed {
                    let from = self.committer.last_committed_round();
                    let top = dag.highest_round();
                    target = (from + 1..top)
                        .rev()
                        .find_map(|r| self.directly_committed(dag, r));
                    break;
                }
            }
        }
        out
    }

    /// Commits `anchor` and the earlier round-robin anchors linked to it,
    /// oldest first, checkpointing after each.
    fn commit_round_robin(&mut self, dag: &Dag, anchor: &Vertex) -> Vec<CommittedSubDag> {
        let n = self.n;
        let chain = self
            .committer
            .chain(dag, anchor, 2, |round| anchor_of(dag, n, round).cloned());
        let mut out = vec![];
        for v in chain {
            out.push(self.committer.order(dag, v));
            self.maybe_checkpoint();
        }
        out
    }

    fn maybe_checkpoint(&mut self) {
        if self.committer.checkpoint_due() {
            let extra = self
                .schedule
                .as_ref()
                .map_or_else(Vec::new, LeaderSchedule::export);
            self.checkpoints.push(self.committer.state(extra));
        }
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
        if self.schedule.is_some() {
            return self.commit_scheduled(dag, anchor);
        }
        self.commit_round_robin(dag, &anchor)
    }

    fn last_committed_round(&self) -> Round {
        self.committer.last_committed_round()
    }

    fn steady_leader(&self, round: Round) -> Option<NodeId> {
        self.leader(round)
    }

    fn memory(&self) -> usize {
        self.committer.memory()
            + self.schedule.as_ref().map_or(0, LeaderSchedule::memory)
            + self.checkpoints.len()
    }

    fn set_checkpoint_interval(&mut self, every: Round) {
        self.committer.set_checkpoint_interval(every);
    }

    fn take_checkpoints(&mut self) -> Vec<OrdererState> {
        std::mem::take(&mut self.checkpoints)
    }

    fn install(&mut self, state: &OrdererState) -> bool {
        if !self.committer.state_well_formed(state, self.n) {
            return false;
        }
        match self.schedule.as_mut() {
            Some(s) => {
                if !s.import(&state.extra) {
                    return false;
                }
            }
            None => {
                if !state.extra.is_empty() {
                    return false;
                }
            }
        }
        self.checkpoints.clear();
        self.committer.install(state, self.n)
    }
}

/// The round-robin anchor vertex of `round`, if it is an anchor round and
/// present.
fn anchor_of(dag: &Dag, n: usize, round: Round) -> Option<&Vertex> {
    if round >= 2 && round.is_multiple_of(2) {
        dag.get(round, round_robin_leader(round, n))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_narwhal::testing::{DagBuilder, feed};
    use std::collections::BTreeSet;

    const N: usize = 4;

    fn bullshark() -> Bullshark {
        Bullshark::new(N, 1, 50)
    }

    fn no_duplicates(order: &[(Round, NodeId)]) {
        let set: BTreeSet<_> = order.iter().collect();
        assert_eq!(set.len(), order.len(), "a vertex was ordered twice");
    }

    #[test]
    fn anchor_commits_with_f_plus_one_votes() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        // Only node 0 has voted so far: no commit.
        b.add(3, 0, &[0, 1, 2, 3]);
        let (leaders, _) = feed(&mut bullshark(), N, &b.log);
        assert!(leaders.is_empty());
        // The second vote commits the anchor of round 2 (node 1).
        b.add(3, 2, &[0, 1, 2, 3]);
        let mut o = bullshark();
        let (leaders, order) = feed(&mut o, N, &b.log);
        assert_eq!(leaders, vec![(2, NodeId(1))]);
        // Round 1 in author order, then the anchor.
        let mut expected: Vec<_> = (0..4).map(|a| (1, NodeId(a))).collect();
        expected.push((2, NodeId(1)));
        assert_eq!(order, expected);
        assert_eq!(o.last_committed_round(), 2);
    }

    #[test]
    fn dead_node_everything_else_is_ordered_once() {
        // Node 3 never produces anything; it would lead round 6.
        let mut b = DagBuilder::new(N);
        b.rounds(1..=9, &[0, 1, 2]);
        let (leaders, order) = feed(&mut bullshark(), N, &b.log);
        assert_eq!(
            leaders,
            vec![(2, NodeId(1)), (4, NodeId(2)), (8, NodeId(0))]
        );
        no_duplicates(&order);
        // Everything up to the last anchor (rounds 1..=7 and the anchor).
        assert_eq!(order.len(), 7 * 3 + 1);
        assert_eq!(order.last(), Some(&(8, NodeId(0))));
    }

    #[test]
    fn missing_leader_is_skipped_and_ordered_by_the_next() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=1, &[0, 1, 2, 3]);
        // Round 2 without its anchor (node 1).
        b.rounds(2..=2, &[0, 2, 3]);
        b.rounds(3..=5, &[0, 1, 2, 3]);
        let (leaders, order) = feed(&mut bullshark(), N, &b.log);
        assert_eq!(leaders, vec![(4, NodeId(2))]);
        assert_eq!(order.len(), 4 + 3 + 4 + 1);
        assert_eq!(order.last(), Some(&(4, NodeId(2))));
    }

    #[test]
    fn leader_without_enough_support_commits_later_through_a_path() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        // Round 3: only node 1 votes for the anchor of round 2.
        b.add(3, 0, &[0, 2, 3]);
        b.add(3, 1, &[1, 2, 3]);
        b.add(3, 2, &[0, 2, 3]);
        b.add(3, 3, &[0, 2, 3]);
        let (leaders, _) = feed(&mut bullshark(), N, &b.log);
        assert!(leaders.is_empty(), "one vote is not f + 1");
        b.rounds(4..=5, &[0, 1, 2, 3]);
        let (leaders, order) = feed(&mut bullshark(), N, &b.log);
        // Anchor 4 commits, and anchor 2 before it: node 1's round-3
        // vertex links them.
        assert_eq!(leaders, vec![(2, NodeId(1)), (4, NodeId(2))]);
        no_duplicates(&order);
    }

    #[test]
    fn unlinked_earlier_anchor_is_never_ordered() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        // Nobody in round 3 links to the anchor of round 2.
        for a in 0..4 {
            b.add(3, a, &[0, 2, 3]);
        }
        b.rounds(4..=5, &[0, 1, 2, 3]);
        let (leaders, order) = feed(&mut bullshark(), N, &b.log);
        assert_eq!(leaders, vec![(4, NodeId(2))]);
        assert!(!order.contains(&(2, NodeId(1))));
        no_duplicates(&order);
    }

    #[test]
    fn linked_earlier_anchors_are_ordered_oldest_first() {
        // Anchors 2 and 4 each get a single vote (not enough); anchor 6
        // commits and orders both before itself.
        let mut b = DagBuilder::new(N);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        b.add(3, 0, &[0, 2, 3]);
        b.add(3, 1, &[1, 2, 3]);
        b.add(3, 2, &[0, 2, 3]);
        b.add(3, 3, &[0, 2, 3]);
        b.rounds(4..=4, &[0, 1, 2, 3]);
        b.add(5, 0, &[0, 1, 3]);
        b.add(5, 1, &[0, 1, 3]);
        b.add(5, 2, &[0, 2, 3]);
        b.add(5, 3, &[0, 1, 3]);
        b.rounds(6..=7, &[0, 1, 2, 3]);
        let (leaders, order) = feed(&mut bullshark(), N, &b.log);
        assert_eq!(
            leaders,
            vec![(2, NodeId(1)), (4, NodeId(2)), (6, NodeId(3))]
        );
        no_duplicates(&order);
    }

    #[test]
    fn order_does_not_depend_on_arrival_order() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=12, &[0, 1, 2, 3]);
        let (l1, o1) = feed(&mut bullshark(), N, &b.log);
        // Same DAG, authors reversed within each round (still causal).
        let mut log = b.log.clone();
        log.sort_by_key(|v| (v.round(), std::cmp::Reverse(v.author())));
        let (l2, o2) = feed(&mut bullshark(), N, &log);
        assert_eq!(o1, o2);
        assert_eq!(l1, l2);
    }

    /// An order and the checkpoints taken, with the order length at each.
    type Run = (Vec<(Round, NodeId)>, Vec<(OrdererState, usize)>);

    /// Feeds `log` (vertices of rounds below `floor` skipped) into `o`
    /// over a DAG collected below `floor`; returns the order and the
    /// checkpoints with the order length at each.
    fn run(o: &mut Bullshark, log: &[Vertex], floor: Round) -> Run {
        let mut dag = Dag::new(N);
        dag.gc(floor, 0);
        let (mut order, mut cps) = (vec![], vec![]);
        for v in log.iter().filter(|v| v.round() >= floor) {
            dag.insert(v.clone());
            let subs = o.on_insert(&dag, v);
            let mut taken = o.take_checkpoints().into_iter();
            for sub in subs {
                order.extend(sub.vertices.iter().map(|x| (x.round(), x.author())));
                let r = sub.leader.round();
                if let Some(cp) = taken.by_ref().find(|c| c.last_committed_round == r) {
                    cps.push((cp, order.len()));
                }
            }
        }
        (order, cps)
    }

    #[test]
    fn an_installed_checkpoint_continues_the_same_order_and_schedule() {
        // Node 3 dies at round 9 and node 1 skips a stretch: the schedule
        // changes, and with GC depth 4 the ordered window matters.
        let mut b = DagBuilder::new(N);
        b.rounds(1..=8, &[0, 1, 2, 3]);
        b.rounds(9..=20, &[0, 1, 2]);
        b.rounds(21..=24, &[0, 2, 3]);
        b.rounds(25..=40, &[0, 1, 2, 3]);
        let rep = crate::Reputation {
            window: 3,
            min_history: 1,
        };
        let make = || {
            let mut o = Bullshark::with_reputation(N, 1, 4, rep);
            o.set_checkpoint_interval(4);
            o
        };
        let (order, cps) = run(&mut make(), &b.log, 0);
        assert!(cps.len() >= 5, "{} checkpoints", cps.len());
        for (cp, at) in &cps[1..cps.len() - 1] {
            let mut synced = make();
            assert!(synced.install(cp));
            let floor = cp.last_committed_round - 4;
            let (rest, later) = run(&mut synced, &b.log, floor);
            assert_eq!(
                rest[..],
                order[*at..],
                "order after {}",
                cp.last_committed_round
            );
            let expected: Vec<_> = cps
                .iter()
                .filter(|(c, _)| c.last_committed_round > cp.last_committed_round)
                .map(|(c, _)| c.clone())
                .collect();
            let got: Vec<_> = later.into_iter().map(|(c, _)| c).collect();
            assert_eq!(got, expected, "later checkpoints (schedule included)");
        }
        // A round-robin orderer refuses a reputation checkpoint.
        let mut rr = Bullshark::new(N, 1, 4);
        assert!(!rr.install(&cps[1].0));
        assert!(!make().install(&OrdererState {
            extra: vec![0xff; 3],
            ..cps[1].0.clone()
        }));
    }

    #[test]
    fn gc_depth_bounds_what_is_ordered_and_remembered() {
        let mut b = DagBuilder::new(N);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        // Node 3 keeps a private chain from round 1 that joins late.
        for r in 3..=30 {
            b.rounds(r..=r, &[0, 1, 2]);
        }
        let mut o = Bullshark::new(N, 1, 4);
        let (_, order) = feed(&mut o, N, &b.log);
        no_duplicates(&order);
        assert!(o.memory() <= (4 + 1) * N);
    }
}
