//! Certificates: verification, waiting for parents (with fetching),
//! insertion into the DAG, the orderer hook, garbage collection, and the
//! answers to fetch requests.

use crate::message::{MAX_REQUEST, Message, Record};
use crate::node::{Narwhal, PendingCert, StoredBatch, ToDeliver};
use crate::order::Orderer;
use crate::types::{Batch, Certificate, Vertex, vote_message};
use dwcp_core::{Digest, Fault, NodeId, Target};
use dwcp_crypto::verify_aggregate;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Rounds between a committed leader and an older own certificate it did
/// not order before the certificate counts as an orphan.
const ORPHAN_AFTER: u64 = 4;

impl<O: Orderer> Narwhal<O> {
    pub(crate) fn on_certificate(&mut self, from: NodeId, cert: Arc<Certificate>) {
        let round = cert.round();
        self.note_peer_round(from, round);
        if round == 0 || round < self.dag.gc_round() || round > self.round_limit() {
            return;
        }
        let v = Vertex::new(cert);
        let slot = (round, v.author());
        if self.dag.contains(&v.digest)
            || self.pending_certs.contains_key(&v.digest)
            || self.dag.get(round, v.author()).is_some()
            || self.pending_slots.contains(&slot)
        {
            return;
        }
        if !self.certificate_valid(&v) {
            self.evidence(from, Fault::InvalidSignature);
            return;
        }
        self.accept_certificate(v, from);
    }

    /// A well-formed header and an aggregate of a quorum of valid votes.
    pub(crate) fn certificate_valid(&self, v: &Vertex) -> bool {
        let Some(votes) = &v.cert.votes else {
            return false;
        };
        self.header_well_formed(&v.cert.header, false)
            && votes.signers.len() >= self.quorum()
            && verify_aggregate(&self.keys.vote_publics, &vote_message(&v.digest), votes)
    }

    /// Inserts a verified certificate, or parks it until its parents are
    /// here (asking `from`, who must have them).
    pub(crate) fn accept_certificate(&mut self, v: Vertex, from: NodeId) {
        let missing: BTreeSet<Digest> = if v.round().saturating_sub(1) < self.dag.gc_round() {
            BTreeSet::new()
        } else {
            v.parents()
                .iter()
                .filter(|p| !self.dag.contains(p))
                .copied()
                .collect()
        };
        if missing.is_empty() {
            self.insert_vertex(v);
            return;
        }
        let unknown: Vec<Digest> = missing
            .iter()
            .filter(|d| !self.pending_certs.contains_key(d))
            .copied()
            .collect();
        for d in &missing {
            self.waiting_on.entry(*d).or_default().insert(v.digest);
        }
        self.pending_slots.insert((v.round(), v.author()));
        self.pending_certs
            .insert(v.digest, PendingCert { vertex: v, missing });
        if !unknown.is_empty() && from != self.me {
            self.send(Target::One(from), Message::CertificateRequest(unknown));
        }
    }

    /// Inserts `v` (parents present), feeds the orderer, queues what it
    /// commits, collects garbage, and inserts every parked certificate that
    /// was waiting only for it.
    pub(crate) fn insert_vertex(&mut self, v: Vertex) {
        let mut work = vec![v];
        while let Some(v) = work.pop() {
            self.pending_slots.remove(&(v.round(), v.author()));
            if !self.dag.insert(v.clone()) {
                continue;
            }
            self.persist(Record::Certificate(v.cert.clone()));
            if v.author() == self.me {
                self.own_unordered.insert(v.round(), v.clone());
            }
            for b in &v.cert.header.batches {
                if let Some(s) = self.batches.get_mut(b) {
                    s.round = s.round.max(v.round());
                }
            }
            let subs = self.orderer.on_insert(&self.dag, &v);
            let mut checkpoints = self.orderer.take_checkpoints().into_iter().peekable();
            for sub in subs {
                let leader_round = sub.leader.round();
                if !self.replaying {
                    let entry = crate::node::AnchorCommit {
                        round: leader_round,
                        author: sub.leader.author(),
                        committed_at: self.now,
                        dag_round: self.dag.highest_round(),
                    };
                    Self::log_timing(&mut self.anchor_log, entry);
                }
                for vertex in sub.vertices {
                    if vertex.author() == self.me {
                        self.own_unordered.remove(&vertex.round());
                    }
                    self.note_ordered(&vertex, leader_round);
                    self.to_deliver.push_back(ToDeliver {
                        index: self.next_index,
                        leader_round,
                        vertex,
                    });
                    self.next_index += 1;
                    self.stats.ordered += 1;
                }
                if let Some(cp) = checkpoints.next_if(|c| c.last_committed_round == leader_round) {
                    self.note_checkpoint(cp, &sub.leader);
                }
            }
            self.requeue_orphans();
            self.collect_garbage();
            if let Some(children) = self.waiting_on.remove(&v.digest) {
                for c in children {
                    let ready = match self.pending_certs.get_mut(&c) {
                        Some(p) => {
                            p.missing.remove(&v.digest);
                            p.missing.is_empty()
                        }
                        None => false,
                    };
                    if ready && let Some(p) = self.pending_certs.remove(&c) {
                        work.push(p.vertex);
                    }
                }
            }
            self.retry_waiting_headers();
        }
    }

    /// Own certificates still unordered four rounds after a later leader
    /// committed are probably orphans (no later certificate links to
    /// them): their batches go into a new header. Should the old
    /// certificate be ordered after all, delivery de-duplicates batches.
    fn requeue_orphans(&mut self) {
        let committed = self.orderer.last_committed_round();
        while let Some((&r, _)) = self.own_unordered.first_key_value() {
            if r.saturating_add(ORPHAN_AFTER) > committed {
                break;
            }
            if let Some(v) = self.own_unordered.remove(&r) {
                for d in v.cert.header.batches.iter().rev() {
                    if !self.delivered_batches.contains_key(d) {
                        self.ready_digests.push_front(*d);
                    }
                }
            }
        }
    }

    pub(crate) fn retry_waiting_headers(&mut self) {
        if self.replaying {
            return;
        }
        let keys: Vec<_> = self.waiting_headers.iter().copied().collect();
        for k in keys {
            self.try_vote(k);
        }
    }

    /// Drops everything below `last committed leader round - gc_depth`.
    pub(crate) fn collect_garbage(&mut self) {
        let gc = self
            .orderer
            .last_committed_round()
            .saturating_sub(self.cfg.gc_depth);
        if gc <= self.dag.gc_round() {
            return;
        }
        self.dag.gc(gc, self.cfg.sync_retention);
        let keep = |r: u64| r >= gc;
        let batch_floor = gc.saturating_sub(self.cfg.sync_retention);
        self.seen_headers.retain(|(r, _), _| keep(*r));
        self.votes_cast.retain(|(r, _), _| keep(*r));
        self.waiting_headers.retain(|(r, _)| keep(*r));
        self.pending_slots.retain(|(r, _)| keep(*r));
        let mut ready = vec![];
        self.pending_certs.retain(|_, p| {
            if !keep(p.vertex.round()) {
                return false;
            }
            if p.vertex.round().saturating_sub(1) < gc {
                ready.push(p.vertex.clone());
                return false;
            }
            true
        });
        let pending = &self.pending_certs;
        self.waiting_on
            .retain(|_, cs| cs.iter().any(|c| pending.contains_key(c)));
        let needed: BTreeSet<Digest> = self
            .to_deliver
            .iter()
            .flat_map(|t| t.vertex.cert.header.batches.iter().copied())
            .collect();
        let mut dropped = vec![];
        self.batches.retain(|d, s| {
            let k = s.round >= batch_floor || needed.contains(d);
            if !k {
                dropped.push(s.batch.author);
            }
            k
        });
        for a in dropped {
            if let Some(c) = self.batches_per_author.get_mut(&a) {
                *c = c.saturating_sub(1);
            }
        }
        self.requested_batches
            .retain(|d| !self.batches.contains_key(d) && needed.contains(d));
        for v in ready {
            self.pending_slots.insert((v.round(), v.author()));
            self.insert_vertex(v);
        }
    }

    pub(crate) fn on_certificate_request(&mut self, from: NodeId, digests: Vec<Digest>) {
        let found: Vec<Arc<Certificate>> = digests
            .iter()
            .take(MAX_REQUEST)
            .filter_map(|d| self.dag.fetch(d))
            .filter(|v| v.round() > 0)
            .map(|v| v.cert.clone())
            .collect();
        for c in found {
            self.send(Target::One(from), Message::Certificate(c));
        }
    }

    pub(crate) fn on_batch_request(&mut self, from: NodeId, digests: Vec<Digest>) {
        let found: Vec<Arc<Batch>> = digests
            .iter()
            .take(MAX_REQUEST)
            .filter_map(|d| self.batches.get(d))
            .map(|s| s.batch.clone())
            .collect();
        for b in found {
            self.send(Target::One(from), Message::Batch(b));
        }
    }

    pub(crate) fn on_batch(&mut self, from: NodeId, batch: Arc<Batch>) {
        if batch.author.index() >= self.cfg.n {
            return;
        }
        if batch.payload_bytes() > self.cfg.max_batch_bytes {
            self.evidence(from, Fault::Spam);
            return;
        }
        let digest = batch.digest();
        let requested = self.requested_batches.remove(&digest);
        if self.batches.contains_key(&digest) || (batch.author != from && !requested) {
            return;
        }
        let count = self
            .batches_per_author
            .get(&batch.author)
            .copied()
            .unwrap_or(0);
        if count >= self.cfg.max_batches_per_author && !requested {
            return;
        }
        self.store_batch(digest, batch);
        self.retry_waiting_headers();
    }

    pub(crate) fn store_batch(&mut self, digest: Digest, batch: Arc<Batch>) {
        if self.cfg.persist_batches {
            self.persist(Record::Batch(batch.clone()));
        }
        *self.batches_per_author.entry(batch.author).or_default() += 1;
        let round = self.round.max(self.dag.gc_round());
        self.batches.insert(digest, StoredBatch { batch, round });
    }
}
