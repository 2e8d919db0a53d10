//! Leader reputation: a leader schedule computed from committed history,
//! so anchors of crashed or unresponsive nodes stop costing a leader
//! timeout each (the idea of Shoal and of Narwhal's later leader schedule;
//! this is its own, simpler rule).
//!
//! ## The rule
//!
//! The schedule is a function of the committed anchor sequence alone, so
//! every honest node that committed the same anchors holds the same one:
//!
//! - For each of the last [`Reputation::window`] committed anchors the
//!   schedule remembers who authored the certificates of its sub-DAG, who
//!   authored the anchor, and whose anchor slots were skipped (anchor
//!   rounds between the previous committed anchor and this one, named by
//!   the schedule in force then).
//! - Once at least [`Reputation::min_history`] anchors are remembered, a
//!   node is *excluded* if it authored no certificate in the window, or if
//!   its anchor slots were skipped and none of its anchors committed. At
//!   most `f` nodes are excluded (the worst by certificates, then
//!   committed anchors, then skipped slots, then id).
//! - Anchor round `r` (even, `r ≥ 2`) is led by `candidates[(r / 2) mod
//!   len]`, the candidates being the nodes not excluded, by id. With no
//!   exclusion this is [`dwcp_narwhal::round_robin_leader`].
//!
//! A new schedule applies to every round above the anchor whose commit
//! produced it; the orderer therefore commits anchors one at a time and
//! looks for the next one under the schedule then in force (see
//! `Bullshark::on_insert`).

use dwcp_core::{NodeId, codec};
use dwcp_narwhal::{CommittedSubDag, Round};
use std::collections::VecDeque;

/// Leader-reputation settings of a [`crate::Bullshark`] orderer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reputation {
    /// How many of the last committed anchors the scores cover.
    pub window: usize,
    /// No node is excluded before this many anchors are remembered.
    pub min_history: usize,
}

impl Default for Reputation {
    /// A window of 8 committed anchors (16 rounds when none is skipped);
    /// exclusions from the second committed anchor on.
    fn default() -> Reputation {
        Reputation {
            window: 8,
            min_history: 2,
        }
    }
}

/// What the schedule remembers of one committed anchor.
#[derive(Clone, Debug)]
struct Entry {
    /// Certificates per author in the anchor's sub-DAG.
    certs: Vec<u32>,
    /// The anchor's author.
    anchor: NodeId,
    /// Authors of the anchor slots skipped just before it.
    skipped: Vec<NodeId>,
}

/// An [`Entry`] on the wire (state-sync checkpoints).
type EntryWire = (Vec<u32>, NodeId, Vec<NodeId>);

/// How many past schedules [`LeaderSchedule::log`] keeps.
const LOG_LEN: usize = 64;

/// The reputation-based leader schedule (see the module docs).
#[derive(Clone, Debug)]
pub struct LeaderSchedule {
    n: usize,
    f: usize,
    cfg: Reputation,
    history: VecDeque<Entry>,
    candidates: Vec<NodeId>,
    log: VecDeque<(Round, Vec<NodeId>)>,
}

impl LeaderSchedule {
    /// Round robin over all `n` nodes until committed history says
    /// otherwise; at most `f` nodes are ever excluded.
    pub fn new(n: usize, f: usize, cfg: Reputation) -> LeaderSchedule {
        LeaderSchedule {
            n,
            f,
            cfg: Reputation {
                window: cfg.window.max(1),
                min_history: cfg.min_history.max(1),
            },
            history: VecDeque::new(),
            candidates: NodeId::all(n).collect(),
            log: VecDeque::new(),
        }
    }

    /// The leader of anchor round `round` under the schedule in force.
    pub fn leader(&self, round: Round) -> Option<NodeId> {
        if round < 2 || !round.is_multiple_of(2) || self.candidates.is_empty() {
            return None;
        }
        let i = (round / 2) % self.candidates.len() as u64;
        self.candidates.get(i as usize).copied()
    }

    /// The nodes leaders are currently drawn from, by id.
    pub fn candidates(&self) -> &[NodeId] {
        &self.candidates
    }

    /// The latest schedule changes, oldest first: the round of the anchor
    /// whose commit produced each, and its candidates. Nodes that committed
    /// the same anchors hold the same log (what the tests compare).
    pub fn log(&self) -> impl Iterator<Item = &(Round, Vec<NodeId>)> {
        self.log.iter()
    }

    /// Records the commit of `sub`, whose predecessor was the anchor of
    /// round `previous` (0 for none), and recomputes the schedule. Returns
    /// whether the leaders changed.
    pub fn record(&mut self, previous: Round, sub: &CommittedSubDag) -> bool {
        let round = sub.leader.round();
        let mut skipped = vec![];
        let mut r = previous + 2 - previous % 2;
        while r < round {
            if let Some(l) = self.leader(r) {
                skipped.push(l);
            }
            r += 2;
        }
        let mut certs = vec![0u32; self.n];
        for v in &sub.vertices {
            if let Some(c) = certs.get_mut(v.author().index()) {
                *c = c.saturating_add(1);
            }
        }
        self.history.push_back(Entry {
            certs,
            anchor: sub.leader.author(),
            skipped,
        });
        while self.history.len() > self.cfg.window {
            self.history.pop_front();
        }
        let next = self.compute();
        if next == self.candidates {
            return false;
        }
        self.candidates = next.clone();
        self.log.push_back((round, next));
        while self.log.len() > LOG_LEN {
            self.log.pop_front();
        }
        true
    }

    fn compute(&self) -> Vec<NodeId> {
        if self.history.len() < self.cfg.min_history {
            return NodeId::all(self.n).collect();
        }
        let mut certs = vec![0u64; self.n];
        let mut anchors = vec![0u64; self.n];
        let mut skipped = vec![0u64; self.n];
        for e in &self.history {
            for (c, x) in certs.iter_mut().zip(&e.certs) {
                *c += u64::from(*x);
            }
            if let Some(a) = anchors.get_mut(e.anchor.index()) {
                *a += 1;
            }
            for s in &e.skipped {
                if let Some(k) = skipped.get_mut(s.index()) {
                    *k += 1;
                }
            }
        }
        let mut bad: Vec<(u64, u64, std::cmp::Reverse<u64>, usize)> = (0..self.n)
            .filter(|&i| certs[i] == 0 || (skipped[i] > 0 && anchors[i] == 0))
            .map(|i| (certs[i], anchors[i], std::cmp::Reverse(skipped[i]), i))
            .collect();
        bad.sort_unstable();
        bad.truncate(self.f);
        let excluded: Vec<usize> = bad.iter().map(|b| b.3).collect();
        NodeId::all(self.n)
            .filter(|id| !excluded.contains(&id.index()))
            .collect()
    }

    /// The schedule's state (history, candidates, log) as bytes, for a
    /// state-sync checkpoint ([`dwcp_narwhal::OrdererState::extra`]).
    pub fn export(&self) -> Vec<u8> {
        let history: Vec<EntryWire> = self
            .history
            .iter()
            .map(|e| (e.certs.clone(), e.anchor, e.skipped.clone()))
            .collect();
        let log: Vec<(Round, Vec<NodeId>)> = self.log.iter().cloned().collect();
        codec::encode(&(history, &self.candidates, log))
    }

    /// Adopts a state [`LeaderSchedule::export`] produced for the same
    /// committee and settings; `false` (and no change) if the bytes are
    /// malformed or out of range.
    pub fn import(&mut self, bytes: &[u8]) -> bool {
        type Wire = (Vec<EntryWire>, Vec<NodeId>, Vec<(Round, Vec<NodeId>)>);
        let Ok((history, candidates, log)) = codec::decode::<Wire>(bytes) else {
            return false;
        };
        let ids_ok = |ids: &[NodeId]| ids.iter().all(|id| id.index() < self.n);
        let ok = history.len() <= self.cfg.window
            && history
                .iter()
                .all(|(c, a, s)| c.len() == self.n && a.index() < self.n && ids_ok(s))
            && !candidates.is_empty()
            && candidates.len() <= self.n
            && ids_ok(&candidates)
            && log.len() <= LOG_LEN
            && log.iter().all(|(_, c)| c.len() <= self.n && ids_ok(c));
        if !ok {
            return false;
        }
        self.history = history
            .into_iter()
            .map(|(certs, anchor, skipped)| Entry {
                certs,
                anchor,
                skipped,
            })
            .collect();
        self.candidates = candidates;
        self.log = log.into_iter().collect();
        true
    }

    /// How many entries the schedule keeps.
    pub fn memory(&self) -> usize {
        self.history.len() * (self.n + 1) + self.log.len()
    }
}
