//! The normal case: Propose → Prepare → Commit, with sampled votes.
//!
//! 1. The leader of view `v` batches pending requests and sends a signed
//!    [`Proposal`] for the next slot to everybody.
//! 2. A replica that accepts it sends a prepare only to its VRF sample for
//!    `(prepare, v, slot)`.
//! 3. A receiver counts a vote only after checking the vote's signature, the
//!    leader's signature on the header it names, the VRF proof and its own
//!    membership in the sender's sample; anything else is dropped with
//!    evidence. With `q` prepares (its own included) for the proposal it
//!    accepted, a replica is *prepared*: it keeps the certificate and sends
//!    a commit to its sample for `(commit, v, slot)`.
//! 4. With `q` commits (its own included) a prepared replica decides and
//!    delivers the batch, slots in order.
//!
//! Two leader-signed headers for one `(v, slot)` (seen in proposals or in
//! votes, which carry the leader's signature) prove that the leader
//! equivocated: the replica outputs the two as evidence, stops committing
//! and deciding in that instance and moves to the next view.

use crate::instance::{Step, VoteAdd};
use crate::message::{
    CertEntry, Header, Message, Phase, PreparedCert, Proposal, Request, Signed, Vote, VoteMsg,
    verify_statement,
};
use crate::persist::Record;
use crate::replica::{DecidedSlot, Probft, Relevance};
use crate::sample::{check_membership, own_sample};
use crate::verify::{check_proposal, leader_of};
use dwcp_core::{Digest, Fault, NodeId, Target, codec};

impl Probft {
    /// A request from a local client.
    pub(crate) fn on_local_request(&mut self, req: Request) {
        if self.delivered.contains(&req.key()) {
            return;
        }
        let max = self.cfg.max_pending;
        if self.requests.insert(req.clone(), self.now, true, max) && !self.is_leader() {
            let leader = self.leader();
            self.send(Target::One(leader), Message::Request(req));
        }
    }

    /// A request forwarded by a peer (the leader orders it; others keep it
    /// in case they lead next).
    pub(crate) fn on_forwarded_request(&mut self, req: Request) {
        if !self.delivered.contains(&req.key()) {
            let max = self.cfg.max_pending;
            self.requests.insert(req, self.now, false, max);
        }
    }

    /// Whether this replica may propose the next slot now (requests aside).
    pub(crate) fn can_propose(&self) -> bool {
        self.active
            && self.is_leader()
            && self.next_slot >= self.view_start
            && !self.guard.proposed(self.view, self.next_slot)
    }

    /// Proposes the next slot if a batch is ready.
    pub(crate) fn maybe_propose(&mut self) {
        if !self.can_propose() || self.requests.waiting() == 0 {
            return;
        }
        let full = self.requests.waiting() >= self.cfg.max_batch;
        let due = self
            .requests
            .oldest_waiting()
            .is_some_and(|t| t + self.cfg.batch_timeout <= self.now);
        if !(full || due) {
            return;
        }
        let batch = self.requests.take_batch(self.cfg.max_batch);
        let p = Proposal::new(self.view, self.next_slot, batch, self.id, &self.key);
        self.propose(p);
    }

    /// Signs, persists and sends a proposal, then handles it locally.
    pub(crate) fn propose(&mut self, p: Proposal) {
        let h = &p.header.body;
        if !self.guard.allow_proposal(h.view, h.slot, h.digest) {
            return;
        }
        self.persist(Record::Proposed(p.clone()));
        self.send(Target::all_but(self.id), Message::Propose(p.clone()));
        self.accept_proposal(p);
    }

    pub(crate) fn on_propose(&mut self, from: NodeId, p: Proposal) {
        let h = p.header.body.clone();
        if from != h.leader {
            return self.evidence(from, Fault::Protocol("proposal not sent by its leader"));
        }
        match self.relevance(h.view, h.slot) {
            Relevance::Stale => return,
            Relevance::Later => {
                // A hint that `from` works ahead (only used to ask for
                // decided batches, which are checked by f + 1 agreement).
                self.catchup.saw(from, h.slot);
                return self.buffer(from, Message::Propose(p));
            }
            Relevance::Now => {}
        }
        if let Err(fault) = check_proposal(&p, &self.params()) {
            return self.evidence(from, fault);
        }
        if h.slot < self.view_start {
            let same = self
                .instances
                .get(&(h.view, h.slot))
                .and_then(|i| i.accepted_digest())
                == Some(h.digest);
            if !same {
                self.evidence(
                    from,
                    Fault::Protocol("fresh proposal below the new view's first slot"),
                );
            }
            return;
        }
        self.catchup.saw(from, h.slot);
        self.accept_proposal(p);
    }

    /// Accepts a valid proposal of the current view (from the leader or a
    /// new-view) and prepares it if allowed.
    pub(crate) fn accept_proposal(&mut self, p: Proposal) {
        let key = (p.header.body.view, p.header.body.slot);
        let digest = p.header.body.digest;
        let conflict = self
            .instances
            .entry(key)
            .or_default()
            .record_header(digest, p.header.signature);
        if let Some((other, sig)) = conflict {
            self.leader_equivocated(&p.header.body, other, sig, p.header.signature);
        }
        let inst = self.instances.entry(key).or_default();
        if inst.accepted.is_some() || inst.equivocation {
            return;
        }
        self.requests.mark_proposed(&p.batch);
        inst.accepted = Some(p);
        if self.may_vote(key.1, &digest) {
            self.send_vote(Phase::Prepare, key, digest);
        }
        self.check_progress(key);
    }

    /// Votes for slots this replica already decided go only to the decided
    /// digest (it helps re-run the slot in a new view, nothing else).
    fn may_vote(&self, slot: u64, digest: &Digest) -> bool {
        self.decided.get(&slot).is_none_or(|d| d.digest == *digest)
            && (slot >= self.next_slot || self.decided.contains_key(&slot))
    }

    /// Signs, persists and sends this replica's vote to its VRF sample, and
    /// counts it.
    pub(crate) fn send_vote(&mut self, phase: Phase, key: (u64, u64), digest: Digest) {
        let (view, slot) = key;
        let Some(leader_signature) = self
            .instances
            .get(&key)
            .and_then(|i| i.headers.get(&digest))
            .copied()
        else {
            return;
        };
        if !self.guard.allow_vote(phase, view, slot, digest) {
            return;
        }
        let vote = Signed::sign(
            Vote {
                phase,
                view,
                slot,
                digest,
                voter: self.id,
            },
            &self.key,
        );
        let (sample, proof) =
            own_sample(&self.key, self.id, self.n(), self.sample, vote.body.draw());
        self.persist(Record::Vote(vote.clone()));
        let entry = CertEntry {
            voter: self.id,
            signature: vote.signature,
            proof: proof.clone(),
        };
        if let Some(inst) = self.instances.get_mut(&key) {
            inst.sent[phase.index()] = Some(digest);
            inst.add_vote(&vote, entry);
        }
        self.send(
            Target::many(sample),
            Message::Vote(VoteMsg {
                vote,
                proof,
                leader_signature,
            }),
        );
    }

    pub(crate) fn on_vote(&mut self, from: NodeId, vm: VoteMsg) {
        let v = vm.vote.body.clone();
        if from != v.voter {
            return self.evidence(from, Fault::Protocol("vote not sent by its voter"));
        }
        match self.relevance(v.view, v.slot) {
            Relevance::Stale => return,
            Relevance::Later => {
                self.catchup.saw(from, v.slot);
                return self.buffer(from, Message::Vote(vm));
            }
            Relevance::Now => {}
        }
        let key = (v.view, v.slot);
        let (duplicate, header_known) = match self.instances.get(&key) {
            Some(i) => (
                i.voted_digest(v.phase, v.voter) == Some(v.digest),
                i.knows_header(&v.digest, &vm.leader_signature),
            ),
            None => (false, false),
        };
        if duplicate {
            return; // the same vote again
        }
        if !vm.vote.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        let leader = leader_of(v.view, self.n());
        if !header_known
            && !verify_statement(&v.header(leader), &vm.leader_signature, &self.publics)
        {
            return self.evidence(
                from,
                Fault::Protocol("vote carries an invalid leader signature"),
            );
        }
        if let Err(fault) = check_membership(
            &self.publics,
            v.voter,
            self.id,
            self.sample,
            v.draw(),
            &vm.proof,
        ) {
            return self.evidence(from, fault);
        }
        let entry = CertEntry {
            voter: v.voter,
            signature: vm.vote.signature,
            proof: vm.proof.clone(),
        };
        let inst = self.instances.entry(key).or_default();
        match inst.add_vote(&vm.vote, entry) {
            VoteAdd::New => {}
            VoteAdd::Duplicate | VoteAdd::Ignored => return,
            VoteAdd::Equivocation(first) => {
                let fault = Fault::Equivocation {
                    first: codec::encode(&*first),
                    second: codec::encode(&vm.vote),
                };
                return self.evidence(from, fault);
            }
        }
        if let Some((other, sig)) = inst.record_header(v.digest, vm.leader_signature) {
            self.leader_equivocated(&v.header(leader), other, sig, vm.leader_signature);
        }
        self.catchup.saw(from, v.slot);
        self.check_progress(key);
    }

    /// Evidence of two signed headers for one slot, and suspicion.
    fn leader_equivocated(
        &mut self,
        header: &Header,
        other: Digest,
        other_sig: dwcp_crypto::Signature,
        sig: dwcp_crypto::Signature,
    ) {
        self.stats.equivocations_seen += 1;
        let first = Signed {
            body: Header {
                digest: other,
                ..header.clone()
            },
            signature: other_sig,
        };
        let second = Signed {
            body: header.clone(),
            signature: sig,
        };
        let fault = Fault::Equivocation {
            first: codec::encode(&first),
            second: codec::encode(&second),
        };
        self.evidence(header.leader, fault);
        if header.view == self.view {
            self.suspect_leader = true;
        }
    }

    /// Prepared → commit; prepared with `q` commits → decide.
    pub(crate) fn check_progress(&mut self, key: (u64, u64)) {
        loop {
            let Some(inst) = self.instances.get_mut(&key) else {
                return;
            };
            match inst.advance(self.quorum) {
                Step::Wait => return,
                Step::Commit(cert) => {
                    let digest = cert.header().digest;
                    self.keep_cert((*cert).clone());
                    self.persist(Record::Prepared(*cert));
                    if self.may_vote(key.1, &digest) {
                        self.send_vote(Phase::Commit, key, digest);
                    }
                }
                Step::Decide => {
                    let Some(p) = inst.accepted.clone() else {
                        return;
                    };
                    let digest = p.header.body.digest;
                    let cert = self
                        .certs
                        .get(&key.1)
                        .filter(|c| c.header().digest == digest)
                        .cloned();
                    self.decide(key.1, digest, p.batch, cert);
                }
            }
        }
    }

    /// Keeps `cert` if it is from a higher view than the one held for its slot.
    pub(crate) fn keep_cert(&mut self, cert: PreparedCert) {
        let slot = cert.header().slot;
        if self
            .certs
            .get(&slot)
            .is_none_or(|c| c.header().view < cert.header().view)
        {
            self.certs.insert(slot, cert);
        }
    }

    /// Records a decision (unless the slot is already decided) and delivers
    /// what is now contiguous.
    pub(crate) fn decide(
        &mut self,
        slot: u64,
        digest: Digest,
        batch: Vec<Request>,
        cert: Option<PreparedCert>,
    ) {
        if slot < self.next_slot || self.decided.contains_key(&slot) {
            return;
        }
        if cert.is_some() {
            self.stats.decided_slots += 1;
        } else {
            self.stats.adopted_slots += 1;
        }
        self.persist(Record::Decided {
            slot,
            batch: batch.clone(),
        });
        self.decided.insert(
            slot,
            DecidedSlot {
                digest,
                batch,
                cert,
            },
        );
        self.deliver_ready();
    }

    /// Delivers decided slots in order, each request at most once.
    pub(crate) fn deliver_ready(&mut self) {
        let mut moved = false;
        while let Some(batch) = self.decided.get(&self.next_slot).map(|d| d.batch.clone()) {
            for r in batch {
                self.requests.remove(&r.key());
                if self.delivered.insert(r.key()) {
                    self.deliver(r);
                }
            }
            self.next_slot += 1;
            moved = true;
        }
        if moved {
            self.moved = true;
            self.progress_since = None;
            self.vc.attempts = 0;
            self.catchup.asked_before_suspecting = false;
            self.collect_garbage();
        }
    }

    /// Forgets what no longer matters below the next slot.
    pub(crate) fn collect_garbage(&mut self) {
        let low = self.next_slot.saturating_sub(self.cfg.history);
        let view = self.view;
        self.instances.retain(|(v, s), _| *v >= view && *s >= low);
        self.certs.retain(|s, _| *s >= low);
        let keep = self.next_slot.saturating_sub(self.cfg.retention);
        self.decided.retain(|s, _| *s >= keep);
        self.catchup.forget_below(self.next_slot);
    }
}
