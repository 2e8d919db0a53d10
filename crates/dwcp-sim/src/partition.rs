//! Partitions and other link faults: sets of directed links that are
//! blocked, slowed down or made lossy while in force.

use dwcp_core::{Duration, NodeId};
use std::collections::BTreeSet;

/// What a link fault does to the copies crossing its links.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinkEffect {
    /// Copies are dropped (a partition).
    Block,
    /// Copies take this much longer (clogging: a slow or congested path, or
    /// an adversary delaying a victim's traffic).
    Delay(Duration),
    /// Copies are additionally lost with this probability.
    Loss(f64),
}

/// A set of directed links. Build one with the constructors and schedule it
/// as a partition with [`crate::FaultEvent::Partition`] or
/// [`crate::Simulation::partition_between`], or with another
/// [`LinkEffect`] with [`crate::FaultEvent::LinkFault`] or
/// [`crate::Simulation::link_fault_between`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// Nodes in different groups cannot talk (both directions). Nodes not
    /// listed form one extra group together.
    Groups(Vec<Vec<NodeId>>),
    /// Links from any node of `from` to any node of `to` are blocked.
    OneWay { from: Vec<NodeId>, to: Vec<NodeId> },
    /// Exactly these directed links are blocked.
    Links(Vec<(NodeId, NodeId)>),
}

impl Partition {
    /// A symmetric split: nodes in different groups cannot reach each other in
    /// either direction. Nodes not listed form one more group together.
    pub fn split(groups: Vec<Vec<NodeId>>) -> Partition {
        Partition {
            kind: Kind::Groups(groups),
        }
    }

    /// Cuts `nodes` off from everybody else in both directions (they can still
    /// talk among themselves).
    pub fn isolate(nodes: Vec<NodeId>) -> Partition {
        Partition::split(vec![nodes])
    }

    /// An asymmetric partition: copies from any node in `from` to any node in
    /// `to` are dropped; the reverse direction still works.
    pub fn one_way(from: Vec<NodeId>, to: Vec<NodeId>) -> Partition {
        Partition {
            kind: Kind::OneWay { from, to },
        }
    }

    /// Exactly the listed directed links `(from, to)` are blocked.
    pub fn links(links: Vec<(NodeId, NodeId)>) -> Partition {
        Partition {
            kind: Kind::Links(links),
        }
    }

    fn compile(&self, n: usize) -> Compiled {
        let mark = |nodes: &[NodeId]| {
            let mut v = vec![false; n];
            for id in nodes {
                if let Some(slot) = v.get_mut(id.index()) {
                    *slot = true;
                }
            }
            v
        };
        match &self.kind {
            Kind::Groups(groups) => {
                let rest = groups.len() as u32;
                let mut g = vec![rest; n];
                for (i, group) in groups.iter().enumerate() {
                    for id in group {
                        if let Some(slot) = g.get_mut(id.index()) {
                            *slot = i as u32;
                        }
                    }
                }
                Compiled::Groups(g)
            }
            Kind::OneWay { from, to } => Compiled::OneWay {
                from: mark(from),
                to: mark(to),
            },
            Kind::Links(links) => Compiled::Links(links.iter().map(|(a, b)| (a.0, b.0)).collect()),
        }
    }
}

enum Compiled {
    Groups(Vec<u32>),
    OneWay { from: Vec<bool>, to: Vec<bool> },
    Links(BTreeSet<(u32, u32)>),
}

impl Compiled {
    fn blocks(&self, from: u32, to: u32) -> bool {
        let (f, t) = (from as usize, to as usize);
        match self {
            Compiled::Groups(g) => g.get(f) != g.get(t),
            Compiled::OneWay { from, to } => {
                from.get(f).copied().unwrap_or(false) && to.get(t).copied().unwrap_or(false)
            }
            Compiled::Links(set) => set.contains(&(from, to)),
        }
    }
}

/// The combined effect of the link faults on one link.
#[derive(Default)]
pub(crate) struct Verdict {
    pub blocked: bool,
    pub delay: u64,
    pub loss: f64,
}

/// The link faults in force, each with the id it was scheduled under.
pub(crate) struct Partitions {
    n: usize,
    active: Vec<(u32, Compiled, LinkEffect)>,
}

impl Partitions {
    pub fn new(n: usize) -> Partitions {
        Partitions {
            n,
            active: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    pub fn add(&mut self, id: u32, p: &Partition, effect: LinkEffect) {
        self.active.push((id, p.compile(self.n), effect));
    }

    pub fn remove(&mut self, id: u32) {
        self.active.retain(|(i, _, _)| *i != id);
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    pub fn verdict(&self, from: u32, to: u32) -> Verdict {
        let mut v = Verdict::default();
        for (_, c, effect) in &self.active {
            if !c.blocks(from, to) {
                continue;
            }
            match effect {
                LinkEffect::Block => v.blocked = true,
                LinkEffect::Delay(d) => {
                    v.delay = v
                        .delay
                        .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
                }
                LinkEffect::Loss(p) => v.loss = 1.0 - (1.0 - v.loss) * (1.0 - p.clamp(0.0, 1.0)),
            }
        }
        v
    }

    #[cfg(test)]
    fn blocked(&self, from: u32, to: u32) -> bool {
        self.verdict(from, to).blocked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().map(|i| NodeId(*i)).collect()
    }

    #[test]
    fn split_one_way_and_links() {
        let mut p = Partitions::new(5);
        p.add(
            1,
            &Partition::split(vec![ids(&[0, 1]), ids(&[2])]),
            LinkEffect::Block,
        );
        assert!(!p.blocked(0, 1));
        assert!(p.blocked(0, 2) && p.blocked(2, 0));
        assert!(
            p.blocked(1, 3) && !p.blocked(3, 4),
            "unlisted nodes form one group"
        );
        p.clear();
        p.add(
            2,
            &Partition::one_way(ids(&[0]), ids(&[1, 2])),
            LinkEffect::Block,
        );
        assert!(p.blocked(0, 1) && !p.blocked(1, 0) && !p.blocked(0, 3));
        p.add(
            3,
            &Partition::links(vec![(NodeId(4), NodeId(3))]),
            LinkEffect::Block,
        );
        assert!(p.blocked(4, 3) && !p.blocked(3, 4));
        p.remove(2);
        assert!(!p.blocked(0, 1) && p.blocked(4, 3));
        p.add(
            4,
            &Partition::isolate(ids(&[1])),
            LinkEffect::Delay(Duration::from_millis(5)),
        );
        p.add(5, &Partition::isolate(ids(&[1])), LinkEffect::Loss(0.5));
        p.add(6, &Partition::isolate(ids(&[1])), LinkEffect::Loss(0.5));
        let v = p.verdict(1, 0);
        assert!(!v.blocked && v.delay == 5_000_000 && v.loss == 0.75);
        assert_eq!(p.verdict(0, 2).delay, 0);
    }
}
