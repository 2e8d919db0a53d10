//! Receiving headers and voting; collecting votes for the own header.

use crate::message::{Message, Record};
use crate::node::Narwhal;
use crate::order::Orderer;
use crate::types::{Certificate, Header, Round, Vote, vote_message};
use dwcp_core::{Fault, NodeId, Target, codec};
use dwcp_crypto::{Signed, aggregate};
use std::collections::BTreeSet;
use std::sync::Arc;

impl<O: Orderer> Narwhal<O> {
    /// Structural checks shared by headers and certificates: parents
    /// distinct, between a quorum and `n` of them (round 1: the genesis
    /// set), batch digests distinct and bounded, the orderer's coin field.
    pub(crate) fn header_well_formed(&self, h: &Header, check_coin: bool) -> bool {
        if h.round == 0 || h.author.index() >= self.cfg.n {
            return false;
        }
        let parents: BTreeSet<_> = h.parents.iter().collect();
        let batches: BTreeSet<_> = h.batches.iter().collect();
        parents.len() == h.parents.len()
            && h.parents.len() >= self.quorum()
            && h.parents.len() <= self.cfg.n
            && batches.len() == h.batches.len()
            && h.batches.len() <= self.cfg.max_header_batches
            && (!check_coin || self.orderer.check_coin(h))
    }

    /// The highest round this node accepts from peers right now.
    pub(crate) fn round_limit(&self) -> Round {
        self.round
            .max(self.dag.highest_round())
            .max(self.dag.gc_round())
            .saturating_add(self.cfg.max_rounds_ahead)
    }

    pub(crate) fn on_header(&mut self, from: NodeId, signed: Arc<Signed<Header>>) {
        let h = &signed.body;
        if from != h.author || h.round == 0 {
            return;
        }
        self.note_peer_round(from, h.round);
        if h.round < self.dag.gc_round() {
            return;
        }
        if h.round > self.round_limit() {
            return;
        }
        if !signed.verify(&self.keys.sign_publics) {
            self.evidence(from, Fault::InvalidSignature);
            return;
        }
        let key = (h.round, h.author);
        let digest = h.digest();
        if let Some((d, first)) = self.seen_headers.get(&key) {
            if *d != digest {
                let fault = Fault::Equivocation {
                    first: codec::encode(&**first),
                    second: codec::encode(&*signed),
                };
                self.evidence(from, fault);
            } else {
                // A re-broadcast: answer again if we voted (our vote may
                // have been lost).
                self.try_vote(key);
            }
            return;
        }
        if !self.header_well_formed(h, true) {
            self.evidence(from, Fault::Protocol("malformed header"));
            return;
        }
        self.seen_headers.insert(key, (digest, signed));
        self.try_vote(key);
    }

    /// Votes for the header remembered at `key` once its parents and
    /// batches are here; otherwise asks the author for them.
    pub(crate) fn try_vote(&mut self, key: (Round, NodeId)) {
        let Some((digest, signed)) = self.seen_headers.get(&key).cloned() else {
            self.waiting_headers.remove(&key);
            return;
        };
        let (round, author) = key;
        if let Some(voted) = self.votes_cast.get(&key) {
            if *voted == digest && author != self.me {
                self.waiting_headers.remove(&key);
                self.send_vote(author, round, digest);
            }
            return;
        }
        let h = &signed.body;
        // Parents: certificates of the previous round by distinct authors.
        let mut missing = vec![];
        let mut authors = BTreeSet::new();
        if round.saturating_sub(1) >= self.dag.gc_round() {
            for p in &h.parents {
                match self.dag.get_by_digest(p) {
                    Some(v) if v.round() + 1 == round => {
                        authors.insert(v.author());
                    }
                    Some(_) => {
                        self.seen_headers.remove(&key);
                        self.waiting_headers.remove(&key);
                        self.evidence(author, Fault::Protocol("parent from another round"));
                        return;
                    }
                    None => missing.push(*p),
                }
            }
        }
        let mut missing_batches = vec![];
        for b in &h.batches {
            match self.batches.get(b) {
                Some(s) if s.batch.author == author => {}
                Some(_) => {
                    self.seen_headers.remove(&key);
                    self.waiting_headers.remove(&key);
                    self.evidence(author, Fault::Protocol("references another author's batch"));
                    return;
                }
                None => missing_batches.push(*b),
            }
        }
        if !missing.is_empty() || !missing_batches.is_empty() {
            let fresh = self.waiting_headers.insert(key);
            if fresh {
                self.request_missing(author, missing, missing_batches);
            }
            return;
        }
        self.waiting_headers.remove(&key);
        if round.saturating_sub(1) >= self.dag.gc_round() && authors.len() < self.quorum() {
            self.seen_headers.remove(&key);
            self.evidence(author, Fault::Protocol("parents from too few authors"));
            return;
        }
        for b in &h.batches {
            if let Some(s) = self.batches.get_mut(b) {
                s.round = s.round.max(round);
            }
        }
        self.persist(Record::Vote {
            round,
            author,
            digest,
        });
        self.votes_cast.insert(key, digest);
        self.stats.votes += 1;
        self.send_vote(author, round, digest);
    }

    pub(crate) fn request_missing(
        &mut self,
        to: NodeId,
        certs: Vec<dwcp_core::Digest>,
        batches: Vec<dwcp_core::Digest>,
    ) {
        if !certs.is_empty() {
            self.send(Target::One(to), Message::CertificateRequest(certs));
        }
        if !batches.is_empty() {
            self.requested_batches.extend(batches.iter().copied());
            self.send(Target::One(to), Message::BatchRequest(batches));
        }
    }

    fn send_vote(&mut self, author: NodeId, round: Round, header: dwcp_core::Digest) {
        let sig = self.keys.vote.sign(&vote_message(&header));
        let vote = Vote {
            header,
            round,
            author,
            voter: self.me,
            sig,
        };
        self.send(Target::One(author), Message::Vote(Box::new(vote)));
    }

    pub(crate) fn on_vote(&mut self, from: NodeId, vote: Box<Vote>) {
        let quorum = self.quorum();
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        if vote.header != cur.digest || vote.voter != from || cur.certified {
            return;
        }
        cur.votes.insert(from, vote.sig);
        if cur.votes.len() < quorum {
            return;
        }
        let msg = vote_message(&cur.digest);
        let agg = aggregate(&self.keys.vote_publics, &msg, &cur.votes);
        for bad in &agg.bad_signers {
            cur.votes.remove(bad);
        }
        let certified = agg.cert.signers.len() >= quorum;
        let header = cur.signed.body.clone();
        if certified {
            cur.certified = true;
        }
        for bad in agg.bad_signers {
            self.evidence(bad, Fault::InvalidSignature);
        }
        if !certified {
            return;
        }
        let cert = Arc::new(Certificate {
            header,
            votes: Some(agg.cert),
        });
        self.stats.certificates += 1;
        self.last_cert = Some(cert.clone());
        self.send(Target::all_but(self.me), Message::Certificate(cert.clone()));
        let me = self.me;
        self.accept_certificate(crate::types::Vertex::new(cert), me);
    }
}
