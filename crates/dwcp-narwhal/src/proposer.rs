//! Batching transactions, the round-advance rule (with Bullshark's leader
//! and vote timers when the orderer names steady-state leaders), and the
//! periodic sync (re-requests, re-broadcasts).

use crate::message::{Message, Record};
use crate::node::{Narwhal, OwnHeader};
use crate::order::Orderer;
use crate::types::{Batch, Header, Round, Transaction, vote_message};
use dwcp_core::{Digest, Target, Time};
use dwcp_crypto::Signed;
use std::collections::BTreeMap;
use std::sync::Arc;

impl<O: Orderer> Narwhal<O> {
    pub(crate) fn add_transaction(&mut self, tx: Transaction) {
        if self.pending_txs.len() >= self.cfg.max_pending_txs {
            return;
        }
        self.pending_bytes += tx.len();
        self.pending_txs.push(tx);
        self.pending_since.get_or_insert(self.now);
    }

    /// Seals batches while one is full (`batch_size`) or due
    /// (`max_batch_delay`) and backpressure allows.
    pub(crate) fn seal_batches(&mut self) {
        while self.ready_digests.len() < self.cfg.max_unproposed_batches
            && self.now >= self.next_seal
        {
            let due = self
                .pending_since
                .is_some_and(|t| self.now >= t + self.cfg.max_batch_delay);
            if self.pending_txs.is_empty() || (self.pending_bytes < self.cfg.batch_size && !due) {
                return;
            }
            self.seal_batch();
        }
    }

    /// Seals up to `batch_size` bytes of the pending transactions into a
    /// batch, stores and broadcasts it, and queues its digest for the next
    /// header.
    fn seal_batch(&mut self) {
        let mut bytes = 0;
        let mut take = 0;
        for tx in &self.pending_txs {
            if take > 0 && bytes + tx.len() > self.cfg.batch_size {
                break;
            }
            bytes += tx.len();
            take += 1;
        }
        let txs: Vec<Transaction> = self.pending_txs.drain(..take).collect();
        self.pending_bytes = self.pending_bytes.saturating_sub(bytes);
        if self.pending_txs.is_empty() {
            self.pending_since = None;
        } else if self.pending_bytes < self.cfg.batch_size {
            self.pending_since = Some(self.now);
        }
        let batch = Arc::new(Batch {
            author: self.me,
            seq: self.batch_seq,
            txs,
        });
        self.batch_seq += 1;
        self.stats.batches += 1;
        if let Some(rate) = self.cfg.batch_uplink_budget {
            let cost = batch.wire_size() as u128 * self.cfg.n.saturating_sub(1) as u128;
            let ns = (cost * 1_000_000_000 / u128::from(rate.max(1))).min(u128::from(u64::MAX));
            self.next_seal =
                self.next_seal.max(self.now) + dwcp_core::Duration::from_nanos(ns as u64);
        }
        let digest = batch.digest();
        self.store_batch(digest, batch.clone());
        self.send(Target::all_but(self.me), Message::Batch(batch));
        self.ready_digests.push_back(digest);
    }

    /// The highest round `>= self.round` with a quorum of certificates.
    fn parents_round(&self) -> Option<Round> {
        let q = self.quorum();
        let top = self.dag.highest_round();
        (self.round..=top).rev().find(|r| self.dag.count(*r) >= q)
    }

    /// `Some(deadline)` while the leader/vote rule says "wait" for parents of
    /// round `r`; `None` when the proposer may go ahead.
    fn leader_wait(&self, r: Round, since: Time) -> Option<Time> {
        let deadline = since + self.cfg.leader_timeout;
        if self.now >= deadline {
            return None;
        }
        if let Some(l) = self.orderer.steady_leader(r) {
            // Parents of a leader round: wait for the leader's certificate.
            return self.dag.get(r, l).is_none().then_some(deadline);
        }
        let prev = r.checked_sub(1)?;
        let l = self.orderer.steady_leader(prev)?;
        let lv = self.dag.get(prev, l)?;
        // Parents of a voting round: wait until the leader surely commits
        // (`f + 1` votes among them, the commit rule's threshold) or surely
        // cannot (a quorum of non-votes). Waiting for a quorum of votes
        // instead would wait out the timer whenever one of exactly `2f + 1`
        // running nodes did not vote.
        let yes = self.dag.support(&lv.digest, r);
        let no = self.dag.count(r).saturating_sub(yes);
        (yes < self.committee.validity() && no < self.quorum()).then_some(deadline)
    }

    /// When the proposer next needs a timeout, if it is waiting.
    pub(crate) fn proposal_deadline(&self) -> Option<Time> {
        let r = self.parents_round()?;
        let since = match self.quorum_since {
            Some((qr, t)) if qr == r => t,
            _ => self.now,
        };
        if let Some(t) = self.leader_wait(r, since) {
            return Some(t);
        }
        match self.last_proposal {
            Some(t) if self.ready_digests.is_empty() => Some(t + self.cfg.max_header_delay),
            _ => Some(self.now),
        }
    }

    /// Proposes the next header when the round-advance rule allows it.
    pub(crate) fn try_propose(&mut self) {
        let Some(r) = self.parents_round() else {
            return;
        };
        let since = match self.quorum_since {
            Some((qr, t)) if qr == r => t,
            _ => {
                self.quorum_since = Some((r, self.now));
                self.now
            }
        };
        if self.leader_wait(r, since).is_some() {
            return;
        }
        if self.ready_digests.is_empty()
            && let Some(t) = self.last_proposal
            && self.now < t + self.cfg.max_header_delay
        {
            return;
        }
        self.propose(r + 1);
    }

    fn propose(&mut self, round: Round) {
        let parents: Vec<Digest> = self.dag.round(round - 1).map(|v| v.digest).collect();
        // Batches of an own header that never got certified go again.
        if let Some(cur) = self.current.take()
            && !cur.certified
        {
            for d in cur.signed.body.batches.iter().rev() {
                self.ready_digests.push_front(*d);
            }
        }
        let take = self.ready_digests.len().min(self.cfg.max_header_batches);
        let batches: Vec<Digest> = self.ready_digests.drain(..take).collect();
        let header = Header {
            author: self.me,
            round,
            batches,
            parents,
            coin: self.orderer.coin_share(round),
        };
        let digest = header.digest();
        let signed = Arc::new(Signed::sign(header, &self.keys.sign));
        self.persist(Record::Header(signed.clone()));
        self.install_own_header(signed.clone(), digest);
        self.stats.headers += 1;
        self.last_proposal = Some(self.now);
        Self::log_timing(&mut self.proposal_log, (round, self.now));
        self.send(Target::all_but(self.me), Message::Header(signed));
    }

    /// Makes `signed` the current own header (also on restore).
    pub(crate) fn install_own_header(&mut self, signed: Arc<Signed<Header>>, digest: Digest) {
        let round = signed.body.round;
        self.round = self.round.max(round);
        let mut votes = BTreeMap::new();
        votes.insert(self.me, self.keys.vote.sign(&vote_message(&digest)));
        self.seen_headers
            .insert((round, self.me), (digest, signed.clone()));
        self.votes_cast.insert((round, self.me), digest);
        self.current = Some(OwnHeader {
            signed,
            digest,
            votes,
            certified: false,
        });
    }

    /// Every `sync_retry`: ask again for what is missing and, if this node
    /// made no progress, re-broadcast its header or latest certificate.
    pub(crate) fn sync_tick(&mut self) {
        let stuck = self.round == self.round_at_last_sync;
        self.round_at_last_sync = self.round;
        // Parents of parked certificates, from someone else this time.
        let mut missing: Vec<Digest> = self
            .pending_certs
            .values()
            .flat_map(|p| p.missing.iter().copied())
            .filter(|d| !self.pending_certs.contains_key(d))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing.truncate(crate::message::MAX_REQUEST);
        if !missing.is_empty() {
            let peer = self.random_peer();
            self.send(Target::One(peer), Message::CertificateRequest(missing));
        }
        let waiting: Vec<_> = self.waiting_headers.iter().copied().collect();
        for key in waiting {
            self.waiting_headers.remove(&key);
            self.try_vote(key);
        }
        self.request_undelivered_batches();
        self.state_sync_tick();
        if stuck {
            match &self.current {
                Some(cur) if !cur.certified => {
                    let voters: Vec<_> = dwcp_core::NodeId::all(self.cfg.n)
                        .filter(|id| !cur.votes.contains_key(id))
                        .collect();
                    let msg = Message::Header(cur.signed.clone());
                    self.send(Target::many(voters), msg);
                }
                _ => {
                    if let Some(c) = self.last_cert.clone() {
                        self.send(Target::all_but(self.me), Message::Certificate(c));
                    }
                }
            }
        }
    }
}
