//! Phase 1 (elections, promises) and phase 2 (pipelined, batched slots) on
//! the leader's side, plus the acceptor's answer to a prepare.

use crate::message::{AcceptedEntry, Ballot, Batch, Message, Record};
use crate::replica::{InFlight, Paxos, Role};
use dwcp_core::rng::RngCore;
use dwcp_core::{Duration, NodeId, Target, Time};
use std::collections::{BTreeMap, BTreeSet};

impl Paxos {
    /// Starts (or retries) an election with a ballot above any seen.
    pub(crate) fn start_election(&mut self, now: Time) {
        if matches!(self.role, Role::Leader { .. }) {
            return;
        }
        self.stats.elections += 1;
        let round = self.max_round.max(self.promised.round) + 1;
        self.max_round = round;
        let ballot = Ballot {
            round,
            leader: self.id,
        };
        self.promised = ballot;
        self.persist(Record::Promised(ballot));
        if self.leader != Some(self.id) {
            self.leader = None;
        }
        let from_slot = self.deliver_next;
        let own = self.accepted_from(from_slot);
        let mut promises = BTreeMap::new();
        promises.insert(self.id, (self.deliver_next, self.floor(), own));
        self.role = Role::Candidate {
            ballot,
            from_slot,
            promises,
        };
        self.broadcast(Message::Prepare { ballot, from_slot });
        let base = self.cfg.election_timeout;
        let spread = u64::try_from(base.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.election_at = Some(now + base + Duration::from_nanos(self.rng.next_u64() % spread));
        self.check_promises(now);
    }

    pub(crate) fn accepted_from(&self, from_slot: u64) -> Vec<AcceptedEntry> {
        self.accepted
            .range(from_slot..)
            .map(|(&slot, (ballot, batch))| AcceptedEntry {
                slot,
                ballot: *ballot,
                batch: batch.clone(),
            })
            .collect()
    }

    /// The acceptor's side of phase 1.
    pub(crate) fn on_prepare(&mut self, now: Time, from: NodeId, ballot: Ballot, from_slot: u64) {
        if ballot.leader != from {
            return;
        }
        self.max_round = self.max_round.max(ballot.round);
        let leased = match self.leader {
            Some(l) if l == self.id => matches!(self.role, Role::Leader { .. }),
            Some(l) => l != from && now < self.last_heard + self.cfg.lease,
            None => false,
        };
        if ballot < self.promised || leased {
            let promised = self.promised;
            self.send(Target::One(from), Message::Reject { ballot, promised });
            return;
        }
        if ballot > self.promised {
            self.promised = ballot;
            self.persist(Record::Promised(ballot));
            if !matches!(self.role, Role::Follower) {
                self.step_down();
            }
            self.leader = None;
            self.reset_election_timer(now);
        }
        let accepted = self.accepted_from(from_slot);
        self.send(
            Target::One(from),
            Message::Promise {
                ballot,
                decided: self.deliver_next,
                retained_from: self.floor(),
                accepted,
            },
        );
    }

    pub(crate) fn on_promise(
        &mut self,
        now: Time,
        from: NodeId,
        ballot: Ballot,
        decided: u64,
        retained_from: u64,
        accepted: Vec<AcceptedEntry>,
    ) {
        let Role::Candidate {
            ballot: mine,
            promises,
            ..
        } = &mut self.role
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        promises.insert(from, (decided, retained_from, accepted));
        self.check_promises(now);
    }

    /// With a majority of promises: catch up first if the candidate is too
    /// far behind, otherwise take over, re-proposing every slot some
    /// acceptor accepted (the highest ballot's value) and filling gaps with
    /// no-ops.
    fn check_promises(&mut self, now: Time) {
        let Role::Candidate {
            ballot,
            from_slot,
            promises,
        } = &self.role
        else {
            return;
        };
        if promises.len() < self.cfg.majority() {
            return;
        }
        let (ballot, from_slot) = (*ballot, *from_slot);
        let Role::Candidate { promises, .. } = std::mem::replace(&mut self.role, Role::Follower)
        else {
            return;
        };
        // Someone forgot slots the candidate has not learned: learn them
        // first (from whoever decided most), then campaign again.
        if promises.values().any(|p| p.1 > from_slot) {
            let ahead = promises
                .iter()
                .max_by_key(|(_, p)| p.0)
                .map_or(self.id, |(id, _)| *id);
            self.request_catch_up(now, ahead, true);
            self.reset_election_timer(now);
            return;
        }
        let mut values: BTreeMap<u64, (Ballot, Batch)> = BTreeMap::new();
        for (_, (_, _, entries)) in promises {
            for e in entries {
                if e.slot < from_slot {
                    continue;
                }
                let better = values.get(&e.slot).is_none_or(|(b, _)| e.ballot > *b);
                if better {
                    values.insert(e.slot, (e.ballot, e.batch));
                }
            }
        }
        self.role = Role::Leader { ballot };
        self.leader = Some(self.id);
        self.election_at = None;
        self.stats.terms_led += 1;
        self.commit = self.commit.max(from_slot);
        self.inflight.clear();
        self.next_slot = from_slot;
        let last = values.keys().next_back().copied();
        if let Some(last) = last {
            for slot in from_slot..=last {
                let batch = match self.decided.get(&slot) {
                    Some(b) => b.clone(),
                    None => values.remove(&slot).map(|(_, b)| b).unwrap_or_default(),
                };
                self.propose(now, slot, batch);
            }
        }
        self.reforward_all(now);
        self.heartbeat_at = Some(now + self.cfg.heartbeat_interval);
        self.commit_dirty = true;
    }

    pub(crate) fn on_reject(&mut self, now: Time, ballot: Ballot, promised: Ballot) {
        self.max_round = self.max_round.max(promised.round);
        let mine = match self.role {
            Role::Candidate { ballot, .. } | Role::Leader { ballot } => ballot,
            Role::Follower => return,
        };
        if ballot == mine && promised > mine {
            self.step_down();
            self.reset_election_timer(now);
        }
    }

    pub(crate) fn step_down(&mut self) {
        self.role = Role::Follower;
        self.inflight.clear();
        self.mempool.clear();
        self.mempool_ids.clear();
        self.mempool_bytes = 0;
        self.batch_at = None;
        self.heartbeat_at = None;
        if self.leader == Some(self.id) {
            self.leader = None;
        }
    }

    /// Phase 2a for one slot: accept it locally (persisted), then send it.
    pub(crate) fn propose(&mut self, now: Time, slot: u64, batch: Batch) {
        let Role::Leader { ballot } = self.role else {
            return;
        };
        self.accepted.insert(slot, (ballot, batch.clone()));
        self.persist(Record::Accepted(AcceptedEntry {
            slot,
            ballot,
            batch: batch.clone(),
        }));
        self.broadcast(Message::Accept {
            ballot,
            slot,
            batch: batch.clone(),
            commit: self.commit,
        });
        let mut acks = BTreeSet::new();
        acks.insert(self.id);
        self.inflight.insert(
            slot,
            InFlight {
                batch,
                acks,
                sent_at: now,
            },
        );
        self.next_slot = self.next_slot.max(slot + 1);
        self.stats.proposed += 1;
        self.advance_commit(now);
    }

    pub(crate) fn on_accepted(&mut self, now: Time, from: NodeId, ballot: Ballot, slot: u64) {
        if self.role_ballot() != Some(ballot) {
            return;
        }
        if let Some(f) = self.inflight.get_mut(&slot) {
            f.acks.insert(from);
            self.advance_commit(now);
        }
    }

    fn role_ballot(&self) -> Option<Ballot> {
        match self.role {
            Role::Leader { ballot } => Some(ballot),
            _ => None,
        }
    }

    /// Moves the commit point over every contiguous chosen slot.
    fn advance_commit(&mut self, now: Time) {
        let majority = self.cfg.majority();
        while self
            .inflight
            .get(&self.commit)
            .is_some_and(|f| f.acks.len() >= majority)
        {
            if let Some(f) = self.inflight.remove(&self.commit) {
                self.decided.insert(self.commit, f.batch);
            }
            self.commit += 1;
            self.commit_dirty = true;
        }
        self.known_commit = self.known_commit.max(self.commit);
        self.deliver(now);
    }

    /// Cuts batches from the mempool while the pipeline has room: full ones
    /// at once, a partial one after `batch_delay` (or when `force`d).
    pub(crate) fn try_propose(&mut self, now: Time, force: bool) {
        if !matches!(self.role, Role::Leader { .. }) {
            return;
        }
        while !self.mempool.is_empty() && (self.inflight.len() as u64) < self.cfg.pipeline {
            let full = self.mempool.len() >= self.cfg.max_batch_txs
                || self.mempool_bytes >= self.cfg.max_batch_bytes;
            if !full && !force && !self.cfg.batch_delay.is_zero() {
                if self.batch_at.is_none() {
                    self.batch_at = Some(now + self.cfg.batch_delay);
                }
                return;
            }
            let mut txs = Vec::new();
            let mut bytes = 0;
            while let Some(tx) = self.mempool.front() {
                if txs.len() >= self.cfg.max_batch_txs
                    || (!txs.is_empty() && bytes + tx.payload.len() > self.cfg.max_batch_bytes)
                {
                    break;
                }
                let Some(tx) = self.mempool.pop_front() else {
                    break;
                };
                bytes += tx.payload.len();
                self.mempool_bytes = self.mempool_bytes.saturating_sub(tx.payload.len());
                self.mempool_ids.remove(&tx.id);
                txs.push(tx);
            }
            let slot = self.next_slot;
            self.propose(now, slot, Batch::from(txs));
        }
    }

    /// The leader's periodic duty: retransmit slots still short of a
    /// majority, announce the commit point.
    pub(crate) fn heartbeat(&mut self, now: Time) {
        let Role::Leader { ballot } = self.role else {
            return;
        };
        // Long enough that a deep send queue is not mistaken for loss.
        let resend = self.cfg.leader_timeout;
        let all: Vec<NodeId> = NodeId::all(self.cfg.n).collect();
        let commit = self.commit;
        let mut resends = vec![];
        for (&slot, f) in self.inflight.iter_mut() {
            if f.sent_at + resend <= now {
                f.sent_at = now;
                let to: Vec<NodeId> = all
                    .iter()
                    .filter(|id| !f.acks.contains(id))
                    .copied()
                    .collect();
                resends.push((to, slot, f.batch.clone()));
            }
        }
        for (to, slot, batch) in resends {
            let msg = Message::Accept {
                ballot,
                slot,
                batch,
                commit,
            };
            self.send(Target::many(to), msg);
        }
        self.broadcast(Message::Heartbeat { ballot, commit });
        self.heartbeat_at = Some(now + self.cfg.heartbeat_interval);
    }
}
