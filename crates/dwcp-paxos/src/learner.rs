//! Learning chosen slots, in-order delivery, catch-up, and the path of a
//! client transaction to the leader.

use crate::message::{Ballot, Batch, Decision, Message, Record, Tx};
use crate::replica::{Paxos, RECENT_CAP, Role};
use dwcp_core::{NodeId, Output, Target, Time};

impl Paxos {
    /// The leader of `ballot` says every slot below `commit` is chosen: a
    /// slot this node accepted in that same ballot holds the chosen value
    /// (a leader proposes one value per slot and ballot); any other gap is
    /// filled by catch-up.
    pub(crate) fn learn(&mut self, now: Time, ballot: Ballot, commit: u64) {
        self.known_commit = self.known_commit.max(commit);
        let end = commit.min(self.deliver_next + self.cfg.retention);
        let mut slot = self.deliver_next;
        let mut gap = false;
        while slot < end {
            if !self.decided.contains_key(&slot) {
                match self.accepted.get(&slot) {
                    Some((b, batch)) if *b == ballot => {
                        let batch = batch.clone();
                        self.decided.insert(slot, batch);
                    }
                    _ => {
                        gap = true;
                        break;
                    }
                }
            }
            slot += 1;
        }
        self.deliver(now);
        if gap || self.known_commit > end {
            self.request_catch_up(now, ballot.leader, false);
        }
    }

    /// Asks `to` for decided slots from the delivery point on (at most one
    /// request per `catch_up_interval` unless `force`d).
    pub(crate) fn request_catch_up(&mut self, now: Time, to: NodeId, force: bool) {
        if to == self.id || (!force && now < self.catch_up_ok_at) {
            return;
        }
        self.catch_up_ok_at = now + self.cfg.catch_up_interval;
        self.stats.catch_up_requests += 1;
        let from_slot = self.deliver_next;
        self.send(Target::One(to), Message::CatchUpRequest { from_slot });
    }

    /// Delivers every decided slot in order; the delivery point is
    /// persisted first, so a restart never delivers a slot twice.
    pub(crate) fn deliver(&mut self, _now: Time) {
        let mut decisions = vec![];
        while let Some(batch) = self.decided.get(&self.deliver_next) {
            decisions.push(Decision {
                slot: self.deliver_next,
                txs: batch.ids(),
            });
            self.deliver_next += 1;
        }
        if decisions.is_empty() {
            return;
        }
        self.persist(Record::Delivered(self.deliver_next));
        for d in decisions {
            for &id in &d.txs {
                self.pending.remove(&id);
                self.remember(id);
            }
            if !d.txs.is_empty() {
                self.out.push_back(Output::Deliver(d));
            }
        }
        self.gc();
    }

    /// Forgets slots more than `retention` behind the delivery point.
    pub(crate) fn gc(&mut self) {
        let floor = self.floor();
        self.decided = self.decided.split_off(&floor);
        self.accepted = self.accepted.split_off(&floor);
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

    pub(crate) fn on_catch_up_request(&mut self, from: NodeId, from_slot: u64) {
        let mut batches = vec![];
        let mut slot = from_slot;
        while batches.len() < self.cfg.catch_up_batch {
            match self.decided.get(&slot) {
                Some(b) => batches.push(b.clone()),
                None => break,
            }
            slot += 1;
        }
        if !batches.is_empty() {
            self.send(Target::One(from), Message::CatchUp { from_slot, batches });
        }
    }

    pub(crate) fn on_catch_up(
        &mut self,
        now: Time,
        from: NodeId,
        from_slot: u64,
        batches: Vec<Batch>,
    ) {
        let before = self.deliver_next;
        let horizon = self.deliver_next + self.cfg.retention;
        for (i, batch) in batches.into_iter().enumerate() {
            let slot = from_slot.saturating_add(i as u64);
            if slot >= self.deliver_next && slot < horizon && !self.decided.contains_key(&slot) {
                self.decided.insert(slot, batch);
                self.stats.caught_up += 1;
            }
        }
        self.deliver(now);
        if self.deliver_next > before && self.deliver_next < self.known_commit {
            self.request_catch_up(now, from, true);
        }
    }

    // ---- client transactions ------------------------------------------

    pub(crate) fn on_client_tx(&mut self, now: Time, tx: Tx) {
        if self.recent.contains(&tx.id)
            || self.pending.contains_key(&tx.id)
            || self.pending.len() >= self.cfg.max_pending
        {
            return;
        }
        self.pending.insert(tx.id, (tx.clone(), now));
        self.route(now, tx);
        if self.resubmit_at.is_none() {
            self.resubmit_at = Some(now + self.cfg.resubmit_timeout);
        }
    }

    /// Sends a transaction towards the leader: into the mempool if this node
    /// leads, into the forwarding outbox if it knows the leader, nowhere
    /// otherwise (it stays pending until a leader is known).
    fn route(&mut self, now: Time, tx: Tx) {
        if matches!(self.role, Role::Leader { .. }) {
            self.add_to_mempool(tx);
        } else if self.leader.is_some() {
            self.outbox.push(tx);
            if self.flush_at.is_none() {
                self.flush_at = Some(now + self.cfg.batch_delay);
            }
        }
    }

    fn add_to_mempool(&mut self, tx: Tx) {
        if self.mempool.len() >= self.cfg.max_mempool
            || self.recent.contains(&tx.id)
            || !self.mempool_ids.insert(tx.id)
        {
            return;
        }
        self.mempool_bytes += tx.payload.len();
        self.mempool.push_back(tx);
    }

    pub(crate) fn on_forward(&mut self, _now: Time, txs: Vec<Tx>) {
        if matches!(self.role, Role::Leader { .. }) {
            for tx in txs {
                self.add_to_mempool(tx);
            }
        }
    }

    /// Sends the outbox to the leader, in messages of at most a batch.
    pub(crate) fn flush_outbox(&mut self) {
        let txs = std::mem::take(&mut self.outbox);
        let Some(leader) = self.leader else {
            return;
        };
        if leader == self.id {
            for tx in txs {
                self.add_to_mempool(tx);
            }
            return;
        }
        let mut chunk = vec![];
        let mut bytes = 0;
        for tx in txs {
            bytes += tx.payload.len();
            chunk.push(tx);
            if bytes >= self.cfg.max_batch_bytes || chunk.len() >= self.cfg.max_batch_txs {
                self.send(
                    Target::One(leader),
                    Message::Forward(std::mem::take(&mut chunk)),
                );
                bytes = 0;
            }
        }
        if !chunk.is_empty() {
            self.send(Target::One(leader), Message::Forward(chunk));
        }
    }

    /// A new leader: send it every pending transaction.
    pub(crate) fn reforward_all(&mut self, now: Time) {
        let txs: Vec<Tx> = self
            .pending
            .values_mut()
            .map(|(tx, at)| {
                *at = now;
                tx.clone()
            })
            .collect();
        for tx in txs {
            self.route(now, tx);
        }
    }

    /// Re-forwards transactions still uncommitted after `resubmit_timeout`.
    pub(crate) fn resubmit(&mut self, now: Time) {
        let timeout = self.cfg.resubmit_timeout;
        let due: Vec<Tx> = self
            .pending
            .values_mut()
            .filter(|(_, at)| *at + timeout <= now)
            .map(|(tx, at)| {
                *at = now;
                tx.clone()
            })
            .collect();
        for tx in due {
            self.route(now, tx);
        }
        if !self.pending.is_empty() {
            self.resubmit_at = Some(now + timeout / 2);
        }
    }
}
