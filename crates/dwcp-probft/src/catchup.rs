//! Catch-up of a lagging replica.
//!
//! With probabilistic quorums a correct replica may miss a decision that
//! others reached (too few votes happened to reach it). It notices when
//! `f + 1` peers work on slots beyond its next undecided one; after
//! `fetch_delay` (so that ordinary stragglers are not counted), it asks
//! everybody for the decided batches from its next slot on, and adopts a
//! batch once `f + 1` distinct replicas sent the same one: at least one of
//! them is correct and decided it. The deterministic `f + 1` rule is ours
//! (the paper's catch-up, if any, could not be checked); it costs `O(n)`
//! messages per lagging replica and nothing when nobody lags.
//!
//! A replica also asks once when its progress timer fires, before it
//! suspects the leader (after the last decision of a quiet period nobody is
//! "ahead" to notice), and a replica that receives a view-change from one
//! that is behind sends it the decided batches it lacks.

use crate::message::{Message, Request, batch_digest};
use crate::replica::Probft;
use dwcp_core::{Digest, NodeId, Target, Time};
use std::collections::BTreeMap;

/// Catch-up bookkeeping of one replica.
#[derive(Clone, Debug)]
pub(crate) struct CatchUp {
    /// Highest slot each peer was seen working on.
    peer_slot: Vec<u64>,
    /// When to ask, once armed.
    pub deadline: Option<Time>,
    /// The next slot when the timer was armed.
    pub armed_for: Option<u64>,
    last_fetch: Option<Time>,
    /// Answers: slot → sender → digest (first answer per sender counts).
    replies: BTreeMap<u64, BTreeMap<NodeId, Digest>>,
    batches: BTreeMap<(u64, Digest), Vec<Request>>,
    /// Last request served per peer, for rate limiting.
    served: BTreeMap<NodeId, (u64, Time)>,
    /// Set when the progress timer fired once and a fetch went out; the
    /// next expiry suspects the leader.
    pub asked_before_suspecting: bool,
}

impl CatchUp {
    pub(crate) fn new(n: usize) -> CatchUp {
        CatchUp {
            peer_slot: vec![0; n],
            deadline: None,
            armed_for: None,
            last_fetch: None,
            replies: BTreeMap::new(),
            batches: BTreeMap::new(),
            served: BTreeMap::new(),
            asked_before_suspecting: false,
        }
    }

    /// `from` was seen working on `slot`.
    pub(crate) fn saw(&mut self, from: NodeId, slot: u64) {
        if let Some(s) = self.peer_slot.get_mut(from.index()) {
            *s = (*s).max(slot);
        }
    }

    /// Peers seen working beyond `next_slot`.
    pub(crate) fn peers_ahead(&self, next_slot: u64) -> usize {
        self.peer_slot.iter().filter(|s| **s > next_slot).count()
    }

    pub(crate) fn forget_below(&mut self, slot: u64) {
        self.replies = self.replies.split_off(&slot);
        self.batches = self.batches.split_off(&(slot, Digest::default()));
    }
}

impl Probft {
    /// Arms the fetch timer when `f + 1` peers are ahead.
    ///
    /// Two hints: `f + 1` peers work *beyond* our next slot (they decided
    /// it: ask after `fetch_delay`), or our next slot saw a leader-signed
    /// proposal or vote in this view but we did not decide it (ask after
    /// `request_timeout`: at the end of a busy period nobody moves beyond the
    /// last slot, so the first hint never comes). The timer is for the slot it
    /// was armed at; any progress disarms it.
    pub(crate) fn arm_catch_up(&mut self) {
        if self.catchup.armed_for != Some(self.next_slot) {
            self.catchup.deadline = None;
            self.catchup.armed_for = None;
        }
        if self.catchup.deadline.is_some() {
            return;
        }
        let active = self
            .instances
            .get(&(self.view, self.next_slot))
            .is_some_and(|i| !i.headers.is_empty() && !i.decided);
        let delay = if self.catchup.peers_ahead(self.next_slot) > self.cfg.f {
            self.cfg.fetch_delay
        } else if active && self.active {
            self.cfg.request_timeout
        } else {
            return;
        };
        let not_before = self
            .catchup
            .last_fetch
            .map_or(self.now, |t| t + self.cfg.fetch_delay);
        self.catchup.deadline = Some((self.now + delay).max(not_before));
        self.catchup.armed_for = Some(self.next_slot);
    }

    /// Asks everybody for the decided batches from the next slot on.
    pub(crate) fn send_fetch(&mut self) {
        if self
            .catchup
            .last_fetch
            .is_some_and(|t| t + self.cfg.fetch_delay > self.now)
        {
            return;
        }
        self.catchup.last_fetch = Some(self.now);
        self.stats.fetches += 1;
        self.send(
            Target::all_but(self.id),
            Message::Fetch {
                slot: self.next_slot,
            },
        );
    }

    pub(crate) fn on_fetch(&mut self, from: NodeId, slot: u64) {
        if self
            .catchup
            .served
            .get(&from)
            .is_some_and(|(s, t)| *s == slot && *t + self.cfg.fetch_delay > self.now)
        {
            return;
        }
        self.catchup.served.insert(from, (slot, self.now));
        let end = slot.saturating_add(self.cfg.fetch_batch as u64);
        let answers: Vec<(u64, Vec<Request>)> = self
            .decided
            .range(slot..end)
            .map(|(s, d)| (*s, d.batch.clone()))
            .collect();
        for (slot, batch) in answers {
            let next = self.next_slot;
            self.send(Target::One(from), Message::Decided { slot, batch, next });
        }
    }

    pub(crate) fn on_decided(&mut self, from: NodeId, slot: u64, batch: Vec<Request>, next: u64) {
        // The sender works on `next`: ahead of us if beyond our next slot.
        self.catchup.saw(from, next);
        if slot < self.next_slot || slot >= self.next_slot.saturating_add(self.cfg.retention) {
            return;
        }
        if batch.len() > self.cfg.max_batch || self.decided.contains_key(&slot) {
            return;
        }
        let digest = batch_digest(&batch);
        let replies = self.catchup.replies.entry(slot).or_default();
        if replies.contains_key(&from) {
            return;
        }
        replies.insert(from, digest);
        let agreeing = replies.values().filter(|d| **d == digest).count();
        self.catchup.batches.entry((slot, digest)).or_insert(batch);
        if agreeing > self.cfg.f
            && let Some(batch) = self.catchup.batches.get(&(slot, digest)).cloned()
        {
            self.decide(slot, digest, batch, None);
        }
    }
}
