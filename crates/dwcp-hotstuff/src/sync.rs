//! Fetching missing blocks, and the path of a client transaction to an
//! upcoming leader.

use crate::message::{Block, Message};
use crate::replica::{HotStuff, MAX_FETCHING, RECENT_CAP};
use crate::tx::Tx;
use dwcp_core::{Digest, NodeId, Target, Time, codec};

impl HotStuff {
    /// Asks `from` (or, if that is this replica, the next one) for `digest`
    /// and its ancestors, unless already known or asked for.
    pub(crate) fn fetch(&mut self, now: Time, digest: Digest, from: NodeId) {
        if digest == Digest::default()
            || self.store.contains_key(&digest)
            || self.fetching.contains_key(&digest)
            || self.fetching.len() >= MAX_FETCHING
            || self.cfg.n < 2
        {
            return;
        }
        let to = if from == self.id {
            self.next_peer(from)
        } else {
            from
        };
        self.fetching.insert(digest, (now, to));
        self.stats.fetched += 1;
        let max = self.cfg.fetch_batch;
        self.send(Target::One(to), Message::Fetch { block: digest, max });
    }

    fn next_peer(&self, after: NodeId) -> NodeId {
        let n = self.cfg.n as u32;
        let mut p = NodeId((after.0 + 1) % n);
        if p == self.id {
            p = NodeId((p.0 + 1) % n);
        }
        p
    }

    /// Fetches unanswered for `fetch_retry` go to the next peer.
    pub(crate) fn retry_fetches(&mut self, now: Time) {
        let due: Vec<(Digest, NodeId)> = self
            .fetching
            .iter()
            .filter(|(_, (at, _))| *at + self.cfg.fetch_retry <= now)
            .map(|(d, (_, to))| (*d, *to))
            .collect();
        for (d, to) in due {
            let next = self.next_peer(to);
            self.fetching.insert(d, (now, next));
            let max = self.cfg.fetch_batch;
            self.send(Target::One(next), Message::Fetch { block: d, max });
        }
    }

    pub(crate) fn on_fetch(&mut self, from: NodeId, digest: Digest, max: u32) {
        let limit = max.min(self.cfg.fetch_batch) as usize;
        let mut blocks = vec![];
        let mut bytes = 0;
        let mut d = digest;
        while blocks.len() < limit && bytes < codec::MAX_MESSAGE_SIZE / 4 {
            let Some(b) = self.store.get(&d) else {
                break;
            };
            bytes += b.wire_size();
            d = b.parent;
            blocks.push(b.clone());
        }
        if !blocks.is_empty() {
            self.send(Target::One(from), Message::Blocks(blocks));
        }
    }

    /// Blocks are authentic by their digest: only requested ones, and the
    /// parents of those, in chain order, are stored.
    pub(crate) fn on_blocks(&mut self, now: Time, from: NodeId, blocks: Vec<Block>) {
        let mut expect: Option<Digest> = None;
        let mut got = false;
        let mut last_parent = None;
        for b in blocks {
            let d = b.digest();
            let wanted = self.fetching.remove(&d).is_some() || expect == Some(d);
            if !wanted {
                break;
            }
            expect = Some(b.parent);
            if self.store.contains_key(&d)
                || (b.height <= self.committed.0 && d != self.committed.1)
                || b.height == 0
            {
                break;
            }
            last_parent = Some((b.parent, b.height));
            self.store.insert(d, b);
            got = true;
        }
        if let Some((parent, height)) = last_parent
            && height > self.committed.0 + 1
            && !self.store.contains_key(&parent)
        {
            self.fetch(now, parent, from);
        }
        if got {
            self.recheck(now, from);
        }
    }

    // ---- client transactions ------------------------------------------

    pub(crate) fn on_client_tx(&mut self, now: Time, tx: Tx) {
        if !self.cfg.authentic(&tx)
            || self.recent.contains(&tx.id)
            || self.pending.contains_key(&tx.id)
            || self.pending.len() >= self.cfg.max_pending
        {
            return;
        }
        let id = tx.id;
        let to = self.route(now, tx.clone());
        self.pending.insert(id, (tx, now, to));
        if self.resubmit_at.is_none() {
            self.resubmit_at = Some(now + self.cfg.resubmit_timeout);
        }
    }

    /// The leader a transaction should go to: this replica if it leads the
    /// current view (not yet proposed) or the next one; otherwise the
    /// leader two views ahead (it proposes after the transaction arrives),
    /// skipping leaders whose last view timed out.
    fn forward_target(&self) -> NodeId {
        let v = self.view;
        if (self.cfg.leader(v) == self.id && self.last_proposed < v)
            || self.cfg.leader(v + 1) == self.id
        {
            return self.id;
        }
        for k in 2..(2 + self.cfg.n as u64) {
            let l = self.cfg.leader(v + k);
            if l == self.id || !self.suspected.contains(&l) {
                return l;
            }
        }
        self.cfg.leader(v + 2)
    }

    /// Sends a transaction towards its leader; returns that leader.
    fn route(&mut self, now: Time, tx: Tx) -> NodeId {
        let to = self.forward_target();
        if to == self.id {
            self.add_to_mempool(now, tx);
        } else {
            self.outbox.entry(to).or_default().push(tx);
            if self.flush_at.is_none() {
                self.flush_at = Some(now + self.cfg.forward_delay);
            }
        }
        to
    }

    fn add_to_mempool(&mut self, now: Time, tx: Tx) {
        if self.mempool.len() >= self.cfg.max_mempool
            || self.recent.contains(&tx.id)
            || !self.mempool_ids.insert(tx.id)
        {
            return;
        }
        self.mempool.push_back(tx);
        if self.propose_at.is_some() {
            self.schedule_propose(now);
        }
    }

    pub(crate) fn on_forward(&mut self, now: Time, txs: Vec<Tx>) {
        for tx in txs {
            // A relay may only pass on what a client signed.
            if self.cfg.authentic(&tx) {
                self.add_to_mempool(now, tx);
            }
        }
    }

    /// Sends the outbox, in messages of at most a block's size.
    pub(crate) fn flush_outbox(&mut self, _now: Time) {
        let outbox = std::mem::take(&mut self.outbox);
        for (to, txs) in outbox {
            let mut chunk = vec![];
            let mut bytes = 0;
            for tx in txs {
                bytes += tx.payload.len();
                chunk.push(tx);
                if bytes >= self.cfg.max_block_bytes || chunk.len() >= self.cfg.max_block_txs {
                    self.send(
                        Target::One(to),
                        Message::Forward(std::mem::take(&mut chunk)),
                    );
                    bytes = 0;
                }
            }
            if !chunk.is_empty() {
                self.send(Target::One(to), Message::Forward(chunk));
            }
        }
    }

    /// Re-relays pending transactions for which `due` holds.
    fn reroute(&mut self, now: Time, due: impl Fn(&(Tx, Time, NodeId)) -> bool) {
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| due(p))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some((tx, _, _)) = self.pending.get(&id).cloned() else {
                continue;
            };
            let to = self.route(now, tx.clone());
            self.pending.insert(id, (tx, now, to));
        }
    }

    /// A leader's view timed out: what was relayed to it goes elsewhere.
    pub(crate) fn reroute_from(&mut self, now: Time, leader: NodeId) {
        self.reroute(now, |(_, _, to)| *to == leader);
    }

    /// Re-relays transactions still uncommitted after `resubmit_timeout`.
    pub(crate) fn resubmit(&mut self, now: Time) {
        let timeout = self.cfg.resubmit_timeout;
        self.reroute(now, |(_, at, _)| *at + timeout <= now);
        if !self.pending.is_empty() {
            self.resubmit_at = Some(now + timeout / 2);
        }
    }

    pub(crate) fn remember(&mut self, id: u64) {
        if self.recent.insert(id) {
            self.recent_order.push_back(id);
            if self.recent_order.len() > RECENT_CAP
                && let Some(old) = self.recent_order.pop_front()
            {
                self.recent.remove(&old);
            }
        }
    }
}
