//! The local DAG of certificates and the graph utilities both orderers use:
//! support counts, path checks, causal histories and round-robin leaders.
//!
//! The DAG is **causally complete above its GC round**: the node inserts a
//! certificate only once every parent is present (or lies below the GC
//! round), so every walk down from a vertex finds all of its ancestors that
//! have not been collected.

use crate::types::{Certificate, Round, Vertex};
use dwcp_core::{Digest, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Certificates by round and author, with a digest index.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    rounds: BTreeMap<Round, BTreeMap<NodeId, Vertex>>,
    index: BTreeMap<Digest, (Round, NodeId)>,
    gc_round: Round,
    archive: BTreeMap<Digest, Vertex>,
    archive_rounds: BTreeMap<Round, Vec<Digest>>,
}

impl Dag {
    /// A DAG holding the `n` genesis certificates (round 0).
    pub fn new(n: usize) -> Dag {
        let mut dag = Dag::default();
        for v in Dag::genesis(n) {
            dag.insert(v);
        }
        dag
    }

    /// The genesis vertices of an `n`-node committee.
    pub fn genesis(n: usize) -> Vec<Vertex> {
        NodeId::all(n)
            .map(|id| Vertex::new(Arc::new(Certificate::genesis(id))))
            .collect()
    }

    /// Inserts a vertex; `false` (and no change) if its slot (round,
    /// author) is taken or its round was collected.
    pub fn insert(&mut self, v: Vertex) -> bool {
        let (round, author) = (v.round(), v.author());
        if round < self.gc_round || self.index.contains_key(&v.digest) {
            return false;
        }
        let slot = self.rounds.entry(round).or_default();
        if slot.contains_key(&author) {
            return false;
        }
        self.index.insert(v.digest, (round, author));
        slot.insert(author, v);
        true
    }

    /// The vertex of `author` at `round`.
    pub fn get(&self, round: Round, author: NodeId) -> Option<&Vertex> {
        self.rounds.get(&round)?.get(&author)
    }

    /// The vertex with this digest.
    pub fn get_by_digest(&self, digest: &Digest) -> Option<&Vertex> {
        let (round, author) = self.index.get(digest)?;
        self.get(*round, *author)
    }

    /// Whether a vertex with this digest is present.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.index.contains_key(digest)
    }

    /// The vertices of `round`, by author.
    pub fn round(&self, round: Round) -> impl Iterator<Item = &Vertex> {
        self.rounds.get(&round).into_iter().flat_map(|m| m.values())
    }

    /// How many vertices `round` has.
    pub fn count(&self, round: Round) -> usize {
        self.rounds.get(&round).map_or(0, BTreeMap::len)
    }

    /// The highest round with any vertex.
    pub fn highest_round(&self) -> Round {
        self.rounds.keys().next_back().copied().unwrap_or(0)
    }

    /// Rounds below this one have been collected.
    pub fn gc_round(&self) -> Round {
        self.gc_round
    }

    /// Collects every vertex of a round below `round` (never moves
    /// backwards): it leaves the DAG (walks, counts and lookups no longer
    /// see it) but stays in an archive for `retain` more rounds, where
    /// [`Dag::fetch`] still finds it to help lagging peers catch up.
    pub fn gc(&mut self, round: Round, retain: Round) {
        if round <= self.gc_round {
            return;
        }
        self.gc_round = round;
        let keep = self.rounds.split_off(&round);
        for (r, m) in std::mem::replace(&mut self.rounds, keep) {
            for v in m.into_values() {
                self.index.remove(&v.digest);
                if retain > 0 {
                    self.archive_rounds.entry(r).or_default().push(v.digest);
                    self.archive.insert(v.digest, v);
                }
            }
        }
        let floor = round.saturating_sub(retain);
        let keep = self.archive_rounds.split_off(&floor);
        for ds in std::mem::replace(&mut self.archive_rounds, keep).into_values() {
            for d in ds {
                self.archive.remove(&d);
            }
        }
    }

    /// The certificate with this digest, in the DAG or in the archive.
    pub fn fetch(&self, digest: &Digest) -> Option<&Vertex> {
        self.get_by_digest(digest)
            .or_else(|| self.archive.get(digest))
    }

    /// Number of archived (collected but retained) certificates.
    pub fn archived(&self) -> usize {
        self.archive.len()
    }

    /// Number of vertices held (the memory the DAG uses is proportional).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the DAG is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Number of rounds held.
    pub fn rounds_held(&self) -> usize {
        self.rounds.len()
    }

    /// How many vertices of `round` list `target` among their parents: the
    /// votes for a leader, counted on parent (strong) edges only.
    pub fn support(&self, target: &Digest, round: Round) -> usize {
        self.round(round)
            .filter(|v| v.parents().contains(target))
            .count()
    }

    /// Whether there is a path of parent edges from `from` down to `to`.
    pub fn linked(&self, from: &Vertex, to: &Vertex) -> bool {
        if from.round() < to.round() {
            return false;
        }
        let mut frontier: BTreeSet<Digest> = BTreeSet::from([from.digest]);
        let mut round = from.round();
        while round > to.round() {
            let mut next = BTreeSet::new();
            for d in &frontier {
                if let Some(v) = self.get_by_digest(d) {
                    next.extend(v.parents().iter().copied());
                }
            }
            if next.is_empty() {
                return false;
            }
            frontier = next;
            round -= 1;
        }
        frontier.contains(&to.digest)
    }

    /// The causal history of `from` (itself included) restricted to rounds
    /// `>= min_round` and to vertices `skip` does not exclude, flattened
    /// deterministically: by round, then by author.
    pub fn causal_history(
        &self,
        from: &Vertex,
        min_round: Round,
        mut skip: impl FnMut(&Vertex) -> bool,
    ) -> Vec<Vertex> {
        let mut seen: BTreeSet<Digest> = BTreeSet::new();
        let mut out: BTreeMap<(Round, NodeId), Vertex> = BTreeMap::new();
        let mut stack = vec![from.clone()];
        seen.insert(from.digest);
        while let Some(v) = stack.pop() {
            if v.round() < min_round || skip(&v) {
                continue;
            }
            for p in v.parents() {
                if seen.insert(*p)
                    && let Some(pv) = self.get_by_digest(p)
                {
                    stack.push(pv.clone());
                }
            }
            out.insert((v.round(), v.author()), v);
        }
        out.into_values().collect()
    }
}

/// The round-robin leader of `round` among `n` nodes (Bullshark's steady
/// state: one leader per even round, rotating).
pub fn round_robin_leader(round: Round, n: usize) -> NodeId {
    let n = n.max(1) as u64;
    NodeId(((round / 2) % n) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::DagBuilder;

    #[test]
    fn insert_gc_and_index() {
        let mut b = DagBuilder::new(4);
        b.rounds(1..=5, &[0, 1, 2, 3]);
        let dag = &mut b.dag;
        assert_eq!(dag.len(), 24);
        assert_eq!(dag.highest_round(), 5);
        let v = dag.get(3, NodeId(2)).unwrap().clone();
        assert!(!dag.insert(v.clone()));
        let old = dag.get(1, NodeId(1)).unwrap().clone();
        dag.gc(3, 2);
        assert_eq!(dag.len(), 12);
        assert!(dag.get_by_digest(&v.digest).is_some());
        assert!(dag.get(2, NodeId(0)).is_none());
        assert!(dag.get_by_digest(&old.digest).is_none());
        assert_eq!(dag.fetch(&old.digest), Some(&old));
        assert_eq!(dag.archived(), 8);
        dag.gc(1, 2);
        assert_eq!(dag.gc_round(), 3);
        dag.gc(4, 1);
        assert_eq!(dag.archived(), 4);
        assert!(dag.fetch(&old.digest).is_none());
    }

    #[test]
    fn linked_and_history() {
        let mut b = DagBuilder::new(4);
        b.rounds(1..=2, &[0, 1, 2, 3]);
        // Round 3 without node 3; round 4 by everybody but node 3.
        b.rounds(3..=4, &[0, 1, 2]);
        let dag = &b.dag;
        let top = dag.get(4, NodeId(0)).unwrap();
        let r2 = dag.get(2, NodeId(3)).unwrap();
        assert!(dag.linked(top, r2));
        let hist = dag.causal_history(top, 0, |_| false);
        // 4 genesis + 4 + 4 + 3 + itself.
        assert_eq!(hist.len(), 4 + 4 + 4 + 3 + 1);
        assert!(
            hist.windows(2)
                .all(|w| (w[0].round(), w[0].author()) < (w[1].round(), w[1].author()))
        );
        let hist = dag.causal_history(top, 3, |_| false);
        assert_eq!(hist.len(), 4);
        assert_eq!(dag.support(&r2.digest, 3), 3);
    }

    #[test]
    fn leaders_rotate() {
        assert_eq!(round_robin_leader(2, 4), NodeId(1));
        assert_eq!(round_robin_leader(8, 4), NodeId(0));
    }
}
