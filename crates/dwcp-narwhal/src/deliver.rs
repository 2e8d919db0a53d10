//! Delivering the total order: ordered certificates become [`Committed`]
//! values once their batches are here (fetched if not), each batch at most
//! once within the GC window.

use crate::message::{MAX_REQUEST, Message, Record};
use crate::node::{Narwhal, ToDeliver};
use crate::order::Orderer;
use crate::types::Committed;
use dwcp_core::{Digest, NodeId, Output, Target};

impl<O: Orderer> Narwhal<O> {
    /// Forgets delivered batch digests of rounds more than `gc_depth` below
    /// `leader_round` (a function of the order alone, so every node
    /// de-duplicates identically).
    fn prune_delivered(&mut self, leader_round: u64) {
        let horizon = leader_round.saturating_sub(self.cfg.gc_depth);
        self.delivered_batches.retain(|_, r| *r >= horizon);
    }

    /// The batch digests of `t` not delivered before.
    fn fresh_batches(&self, t: &ToDeliver) -> Vec<Digest> {
        t.vertex
            .cert
            .header
            .batches
            .iter()
            .filter(|d| !self.delivered_batches.contains_key(d))
            .copied()
            .collect()
    }

    /// Marks the head entry handled without delivering it (replay of what
    /// was delivered before a crash).
    pub(crate) fn skip_delivered(&mut self) {
        while let Some(t) = self.to_deliver.front() {
            if t.index >= self.delivered {
                break;
            }
            let t = t.clone();
            self.prune_delivered(t.leader_round);
            for d in self.fresh_batches(&t) {
                self.delivered_batches.insert(d, t.vertex.round());
            }
            self.to_deliver.pop_front();
        }
    }

    /// Delivers every ordered certificate whose batches are present, in
    /// order; persists the new delivery point first.
    pub(crate) fn flush_deliveries(&mut self) {
        if self.replaying {
            return;
        }
        let mut values = vec![];
        let start = self.delivered;
        while let Some(t) = self.to_deliver.front() {
            let t = t.clone();
            self.prune_delivered(t.leader_round);
            let fresh = self.fresh_batches(&t);
            if fresh.iter().any(|d| !self.batches.contains_key(d)) {
                break;
            }
            let mut txs = vec![];
            for d in &fresh {
                if let Some(s) = self.batches.get(d) {
                    txs.extend(s.batch.txs.iter().map(|tx| tx.id()));
                }
                self.delivered_batches.insert(*d, t.vertex.round());
            }
            self.to_deliver.pop_front();
            self.delivered = t.index + 1;
            if !txs.is_empty() {
                self.stats.delivered_txs += txs.len() as u64;
                values.push(Committed {
                    index: t.index,
                    round: t.vertex.round(),
                    author: t.vertex.author(),
                    txs,
                    sync: None,
                });
            }
        }
        if self.delivered == start {
            if !self.to_deliver.is_empty() {
                // Blocked on batches: make sure someone is asked.
                self.request_head_batches(false);
            }
            return;
        }
        self.persist(Record::Delivered {
            next: self.delivered,
        });
        for v in values {
            self.out.push_back(Output::Deliver(v));
        }
        if !self.to_deliver.is_empty() {
            self.request_head_batches(false);
        }
    }

    /// Asks for the missing batches of the first undelivered certificate:
    /// its author the first time, a random signer on retries.
    fn request_head_batches(&mut self, retry: bool) {
        let Some(t) = self.to_deliver.front().cloned() else {
            return;
        };
        let missing: Vec<Digest> = self
            .fresh_batches(&t)
            .into_iter()
            .filter(|d| !self.batches.contains_key(d))
            .filter(|d| retry || !self.requested_batches.contains(d))
            .take(MAX_REQUEST)
            .collect();
        if missing.is_empty() {
            return;
        }
        let to = if retry {
            let signers: Vec<NodeId> = t
                .vertex
                .cert
                .votes
                .as_ref()
                .map(|v| v.signers.iter().filter(|s| *s != self.me).collect())
                .unwrap_or_default();
            if signers.is_empty() {
                self.random_peer()
            } else {
                use dwcp_core::rng::RngCore;
                let i = (self.rng.next_u64() % signers.len() as u64) as usize;
                signers.get(i).copied().unwrap_or(t.vertex.author())
            }
        } else {
            t.vertex.author()
        };
        if to == self.me {
            return;
        }
        self.requested_batches.extend(missing.iter().copied());
        self.send(Target::One(to), Message::BatchRequest(missing));
    }

    pub(crate) fn request_undelivered_batches(&mut self) {
        self.request_head_batches(true);
    }
}
