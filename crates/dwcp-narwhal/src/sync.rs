//! State sync for a node that fell further behind than its peers keep
//! history (`gc_depth + sync_retention` rounds).
//!
//! - **Checkpoints.** Every node captures, right after committing the first
//!   anchor at or above every multiple of `checkpoint_interval` rounds, a
//!   [`SyncState`]: the orderer's decisions ([`OrdererState`]), the length
//!   and running digest of the total order, and the batch de-duplication
//!   window. It is a function of the committed anchor sequence alone, so
//!   honest nodes capture byte-identical checkpoints at the same anchors.
//!   The last two are kept and served.
//! - **Detecting the lag.** The node remembers the highest round each peer
//!   claimed in a header or certificate; the `(f + 1)`-th highest claim is
//!   a round some honest node reached. If it lies more than `gc_depth +
//!   sync_retention / 2` rounds above everything this node holds, the node
//!   broadcasts [`Message::SyncRequest`] every `sync_retry`.
//! - **Adopting.** Answers ([`Message::SyncResponse`]) are accepted only
//!   while a request is outstanding, shape-checked, and kept one per peer
//!   (the latest, at most [`MAX_SYNC_OFFERS`] states). Every `sync_retry`
//!   the node adopts the highest checkpoint that at least `f + 1` distinct
//!   peers offered byte-identically (so at least one honest node holds it)
//!   and that is still far ahead of it.
//! - **Jumping.** The orderer installs the state; the DAG is collected up to
//!   the new GC floor (`anchor - gc_depth`), so certificates above it are
//!   fetched from peers through the ordinary parent fetching; the total
//!   order resumes at the checkpoint's index. The node persists
//!   [`Record::Synced`] first and delivers a marker value
//!   ([`Committed::sync`]) telling the application where it jumped.

use crate::message::{MAX_SYNC_OFFERS, Message, Record};
use crate::node::Narwhal;
use crate::order::{Orderer, OrdererState};
use crate::types::{Committed, Round, SyncPoint, Vertex};
use dwcp_core::{Digest, NodeId, Output, Target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many checkpoints a node keeps and serves.
const CHECKPOINTS_KEPT: usize = 2;

/// The largest orderer-specific part of a checkpoint accepted from a peer.
const MAX_EXTRA: usize = 1 << 20;

/// A node's ordering state right after committing a checkpoint anchor:
/// what a lagging node adopts once `f + 1` peers offer it identically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The anchor's round.
    pub anchor_round: Round,
    /// The anchor's author.
    pub anchor_author: NodeId,
    /// The anchor's certificate digest.
    pub anchor: Digest,
    /// The total-order length up to and including the anchor.
    pub next_index: u64,
    /// The running digest of the total order ([`SyncPoint::sequence`]).
    pub sequence: Digest,
    /// The batch de-duplication window: batch digests ordered within
    /// `gc_depth` rounds of the anchor, with their certificate's round.
    pub delivered_batches: Vec<(Digest, Round)>,
    /// The orderer's decisions.
    pub orderer: OrdererState,
}

impl SyncState {
    /// Where a node adopting this state jumps to.
    pub fn point(&self) -> SyncPoint {
        SyncPoint {
            anchor_round: self.anchor_round,
            anchor: self.anchor,
            next_index: self.next_index,
            sequence: self.sequence,
        }
    }
}

/// The running digest of the total order after appending `cert`.
pub(crate) fn chain(prev: &Digest, cert: &Digest) -> Digest {
    Digest::of_parts(&[b"dwcp-narwhal/sequence", &prev.0, &cert.0])
}

impl<O: Orderer> Narwhal<O> {
    /// Remembers the highest round `from` claimed (a hint, never trusted
    /// alone: only the `(f + 1)`-th highest claim counts).
    pub(crate) fn note_peer_round(&mut self, from: NodeId, round: Round) {
        let r = self.peer_rounds.entry(from).or_default();
        *r = (*r).max(round);
    }

    /// A round at least one honest peer reached (0 if unknown).
    fn honest_round_estimate(&self) -> Round {
        let mut rounds: Vec<Round> = self.peer_rounds.values().copied().collect();
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        rounds.get(self.cfg.f).copied().unwrap_or(0)
    }

    /// Everything this node holds or decided lies below `round` by more
    /// than peers keep fetchable history for (`gc_depth + sync_retention /
    /// 2` rounds).
    fn far_behind(&self, round: Round) -> bool {
        let mine = self
            .round
            .max(self.dag.highest_round())
            .max(self.dag.gc_round())
            .max(self.orderer.last_committed_round());
        let margin = self
            .cfg
            .gc_depth
            .saturating_add(self.cfg.sync_retention / 2);
        round > mine.saturating_add(margin)
    }

    /// Called once per ordered certificate: the running sequence digest and
    /// the de-duplication mirror at ordering time (what `delivered_batches`
    /// will be once delivery reaches this index).
    pub(crate) fn note_ordered(&mut self, vertex: &Vertex, leader_round: Round) {
        self.sequence = chain(&self.sequence, &vertex.digest);
        let horizon = leader_round.saturating_sub(self.cfg.gc_depth);
        if horizon > self.ordered_horizon {
            self.ordered_horizon = horizon;
            self.ordered_batches.retain(|_, r| *r >= horizon);
        }
        for d in &vertex.cert.header.batches {
            self.ordered_batches.entry(*d).or_insert(vertex.round());
        }
    }

    /// Records a checkpoint the orderer captured right after committing
    /// `leader` (the node's counters are those right after it too).
    pub(crate) fn note_checkpoint(&mut self, state: OrdererState, leader: &Vertex) {
        let cp = SyncState {
            anchor_round: leader.round(),
            anchor_author: leader.author(),
            anchor: leader.digest,
            next_index: self.next_index,
            sequence: self.sequence,
            delivered_batches: self.ordered_batches.iter().map(|(d, r)| (*d, *r)).collect(),
            orderer: state,
        };
        self.push_checkpoint(Arc::new(cp));
    }

    fn push_checkpoint(&mut self, cp: Arc<SyncState>) {
        self.checkpoints.push_back(cp);
        while self.checkpoints.len() > CHECKPOINTS_KEPT {
            self.checkpoints.pop_front();
        }
    }

    /// Every `sync_retry`: asks for checkpoints while far behind and adopts
    /// one once `f + 1` peers agree on it.
    pub(crate) fn state_sync_tick(&mut self) {
        if self.cfg.checkpoint_interval == 0 {
            return;
        }
        let estimate = self.honest_round_estimate();
        if self.far_behind(estimate) {
            self.sync_until = Some(self.now + self.cfg.sync_retry * 4);
            let have = self.orderer.last_committed_round();
            self.send(Target::all_but(self.me), Message::SyncRequest(have));
        } else if self.sync_until.is_some_and(|t| self.now > t) {
            self.sync_until = None;
            self.sync_offers.clear();
        }
        if let Some(state) = self.agreed_checkpoint() {
            self.jump(state);
        }
    }

    /// The highest offered checkpoint that `f + 1` distinct peers offered
    /// identically and that is still far ahead of this node.
    fn agreed_checkpoint(&self) -> Option<Arc<SyncState>> {
        let mut votes: BTreeMap<Digest, (Arc<SyncState>, usize)> = BTreeMap::new();
        for offers in self.sync_offers.values() {
            let mut mine: Vec<Digest> = vec![];
            for s in offers {
                let d = Digest::of_value(&**s);
                if mine.contains(&d) {
                    continue;
                }
                mine.push(d);
                votes.entry(d).or_insert_with(|| (s.clone(), 0)).1 += 1;
            }
        }
        votes
            .into_values()
            .filter(|(s, count)| {
                *count >= self.committee.validity() && self.far_behind(s.anchor_round)
            })
            .map(|(s, _)| s)
            .max_by_key(|s| s.anchor_round)
    }

    pub(crate) fn on_sync_request(&mut self, from: NodeId) {
        if let Some(last) = self.sync_served.get(&from)
            && self.now < *last + self.cfg.sync_retry / 2
        {
            return;
        }
        self.sync_served.insert(from, self.now);
        if self.checkpoints.is_empty() {
            return;
        }
        let offers: Vec<Arc<SyncState>> = self.checkpoints.iter().cloned().collect();
        self.send(Target::One(from), Message::SyncResponse(offers));
    }

    pub(crate) fn on_sync_response(&mut self, from: NodeId, states: Vec<Arc<SyncState>>) {
        if self.sync_until.is_none() {
            return;
        }
        let offers: Vec<Arc<SyncState>> = states
            .into_iter()
            .take(MAX_SYNC_OFFERS)
            .filter(|s| self.sync_state_well_formed(s))
            .collect();
        if !offers.is_empty() {
            self.sync_offers.insert(from, offers);
        }
    }

    /// Shape checks of a peer's checkpoint (its truth is what `f + 1`
    /// identical offers vouch for).
    fn sync_state_well_formed(&self, s: &SyncState) -> bool {
        let top = s.anchor_round;
        let floor = top.saturating_sub(self.cfg.gc_depth);
        let window = self.cfg.n.saturating_mul(self.cfg.gc_depth as usize + 1);
        s.orderer.last_committed_round == top
            && top >= 2
            && s.anchor_author.index() < self.cfg.n
            && s.orderer.ordered.len() <= window
            && s.orderer.extra.len() <= MAX_EXTRA
            && s.delivered_batches.len() <= window.saturating_mul(self.cfg.max_header_batches)
            && s.delivered_batches
                .iter()
                .all(|(_, r)| *r >= floor && *r <= top)
    }

    /// Adopts `state`: the orderer installs it, everything below the new
    /// GC floor is collected, and the order resumes at its index.
    pub(crate) fn jump(&mut self, state: Arc<SyncState>) {
        if !self.orderer.install(&state.orderer) {
            return;
        }
        self.persist(Record::Synced(state.clone()));
        self.to_deliver.clear();
        self.own_unordered.clear();
        self.requested_batches.clear();
        self.next_index = state.next_index;
        self.delivered = state.next_index;
        self.stats.ordered = state.next_index;
        self.sequence = state.sequence;
        self.ordered_batches = state.delivered_batches.iter().copied().collect();
        self.ordered_horizon = state.anchor_round.saturating_sub(self.cfg.gc_depth);
        self.delivered_batches = self.ordered_batches.clone();
        self.sync_offers.clear();
        self.sync_until = None;
        self.stats.syncs += 1;
        self.collect_garbage();
        self.push_checkpoint(state.clone());
        if !self.replaying {
            self.out.push_back(Output::Deliver(Committed {
                index: state.next_index,
                round: state.anchor_round,
                author: state.anchor_author,
                txs: vec![],
                sync: Some(state.point()),
            }));
        }
    }

    /// Entries the state-sync machinery holds (checkpoints, offers, per-peer
    /// rate-limit and round marks).
    pub(crate) fn sync_memory(&self) -> usize {
        self.checkpoints.len()
            + self.sync_offers.values().map(Vec::len).sum::<usize>()
            + self.sync_served.len()
            + self.peer_rounds.len()
    }
}
