//! Hand-built DAGs for orderer unit tests: certificates without signatures,
//! inserted in causal order, with the insertion log kept so a test can feed
//! an orderer exactly as a node would.

use crate::dag::Dag;
use crate::types::{Certificate, Header, Round, Vertex};
use dwcp_core::NodeId;
use dwcp_crypto::PartialSig;
use std::sync::Arc;

/// Builds a DAG round by round.
#[derive(Clone, Debug)]
pub struct DagBuilder {
    /// Committee size.
    pub n: usize,
    /// The DAG built so far (genesis included).
    pub dag: Dag,
    /// Every vertex added (genesis excluded), in insertion order.
    pub log: Vec<Vertex>,
}

/// A DAG slot: (round, author).
pub type Slot = (Round, NodeId);

/// Feeds `log` to `orderer` in order and returns the committed leaders'
/// (round, author) and the flattened total order of (round, author).
pub fn feed<O: crate::Orderer>(
    orderer: &mut O,
    dag_n: usize,
    log: &[Vertex],
) -> (Vec<Slot>, Vec<Slot>) {
    let mut dag = Dag::new(dag_n);
    let mut leaders = vec![];
    let mut order = vec![];
    for v in log {
        dag.insert(v.clone());
        for sub in orderer.on_insert(&dag, v) {
            leaders.push((sub.leader.round(), sub.leader.author()));
            order.extend(sub.vertices.iter().map(|x| (x.round(), x.author())));
        }
    }
    (leaders, order)
}

impl DagBuilder {
    /// An `n`-node DAG holding genesis.
    pub fn new(n: usize) -> DagBuilder {
        DagBuilder {
            n,
            dag: Dag::new(n),
            log: vec![],
        }
    }

    /// Adds `author`'s certificate at `round` whose parents are the
    /// certificates of `round - 1` by `parents` (missing ones are skipped).
    pub fn add(&mut self, round: Round, author: u32, parents: &[u32]) -> Vertex {
        self.add_with_coin(round, author, parents, None)
    }

    /// [`DagBuilder::add`] with a header `coin` field.
    pub fn add_with_coin(
        &mut self,
        round: Round,
        author: u32,
        parents: &[u32],
        coin: Option<PartialSig>,
    ) -> Vertex {
        let parents = parents
            .iter()
            .filter_map(|p| self.dag.get(round.saturating_sub(1), NodeId(*p)))
            .map(|v| v.digest)
            .collect();
        let cert = Certificate {
            header: Header {
                author: NodeId(author),
                round,
                batches: vec![],
                parents,
                coin,
            },
            votes: None,
        };
        let v = Vertex::new(Arc::new(cert));
        self.dag.insert(v.clone());
        self.log.push(v.clone());
        v
    }

    /// For every round in `rounds`, every node in `authors` adds a
    /// certificate whose parents are all certificates of the round before.
    pub fn rounds(&mut self, rounds: std::ops::RangeInclusive<Round>, authors: &[u32]) {
        self.rounds_with_coin(rounds, authors, |_, _| None);
    }

    /// [`DagBuilder::rounds`] with header coin fields from `coin(round,
    /// author)`.
    pub fn rounds_with_coin(
        &mut self,
        rounds: std::ops::RangeInclusive<Round>,
        authors: &[u32],
        coin: impl Fn(Round, u32) -> Option<PartialSig>,
    ) {
        for r in rounds {
            let prev: Vec<u32> = self
                .dag
                .round(r.saturating_sub(1))
                .map(|v| v.author().0)
                .collect();
            for a in authors {
                self.add_with_coin(r, *a, &prev, coin(r, *a));
            }
        }
    }
}
