//! Normal-case operation: batching, pre-prepare, prepare, commit, execution.

use crate::log::Place;
use crate::message::{
    Decided, Message, PrePrepare, PreparedProof, Request, Signed, Vote, VoteCertificate, VotePhase,
    batch_digest,
};
use crate::persist::{Record, SignKind};
use crate::policy::Policy;
use crate::replica::Pbft;
use crate::verify::{self, SigBatch};
use dwcp_core::{Digest, Fault, NodeId, Output, Target, Time};

impl<P: Policy> Pbft<P> {
    /// As primary: proposes batches while requests are waiting (a full
    /// batch, or the oldest has waited `batch_timeout`) and the window has
    /// room.
    pub(crate) fn maybe_propose(&mut self, now: Time) {
        if !self.active || !self.is_primary() {
            return;
        }
        while self.next_seq <= self.log.high() && self.next_seq > self.log.low() {
            let full = self.reqs.unproposed() >= self.cfg.max_batch;
            let due = self
                .reqs
                .oldest_unproposed()
                .is_some_and(|t| t + self.cfg.batch_timeout <= now);
            if !full && !due {
                break;
            }
            let batch = self.reqs.take_batch(self.cfg.max_batch);
            let seq = self.next_seq;
            self.next_seq += 1;
            self.propose(now, seq, batch);
        }
    }

    /// Signs, persists and broadcasts a pre-prepare for `batch` at `seq`.
    pub(crate) fn propose(&mut self, now: Time, seq: u64, batch: Vec<Request>) {
        let digest = batch_digest(&batch);
        if !self
            .guard
            .allow(self.view, seq, SignKind::PrePrepare, digest)
        {
            // Only after a restore that lost track of `next_seq`; skip the slot
            // (a view change fills it with a null request if needed).
            self.reqs.requeue_proposed();
            return;
        }
        let pp = Signed::sign(
            PrePrepare {
                view: self.view,
                seq,
                digest,
                primary: self.id,
            },
            &self.key,
        );
        self.persist(Record::PrePrepare {
            pre_prepare: pp.clone(),
            batch: batch.clone(),
        });
        self.log.install(pp.clone(), batch.clone(), now);
        self.note_own_vote(seq, None);
        self.broadcast(Message::PrePrepare {
            pre_prepare: pp,
            batch,
        });
        if self.policy.requires_endorsement(self.view) {
            self.endorse_own(now, self.view, seq, digest);
        }
        self.check_prepared(now, seq);
    }

    pub(crate) fn on_pre_prepare(
        &mut self,
        now: Time,
        from: NodeId,
        pp: Signed<PrePrepare>,
        batch: Vec<Request>,
    ) {
        let b = &pp.body;
        if b.primary != self.policy.primary(b.view) {
            return self.evidence(
                from,
                Fault::Protocol("pre-prepare not signed by the view's primary"),
            );
        }
        match self.place(b.view, b.seq) {
            Place::Drop => return,
            Place::Early => {
                return self.buffer(
                    from,
                    Message::PrePrepare {
                        pre_prepare: pp,
                        batch,
                    },
                );
            }
            Place::Now => {}
        }
        if b.primary == self.id {
            return; // Our own proposal, replayed.
        }
        if !pp.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if batch.len() > self.cfg.max_batch || batch_digest(&batch) != b.digest {
            return self.evidence(
                from,
                Fault::Protocol("pre-prepare batch does not match its digest"),
            );
        }
        if !batch.iter().all(|r| self.request_ok(r)) {
            // A request no client signed: the primary made it up.
            return self.evidence(from, Fault::InvalidSignature);
        }
        let (view, seq, digest) = (b.view, b.seq, b.digest);
        let slot = self.log.slot(seq);
        if let Some((first, _)) = &slot.pre_prepare {
            if first.body.digest != digest {
                let first = first.clone();
                self.equivocation(pp.signer(), &first, &pp);
            }
            return;
        }
        self.log.install(pp, batch, now);
        if self.policy.requires_endorsement(view) {
            // Prepared only once the primary group signed it.
            self.endorse_own(now, view, seq, digest);
            self.check_endorsed(now, seq);
            return;
        }
        self.cast_vote(VotePhase::Prepare, view, seq, digest);
        self.check_prepared(now, seq);
    }

    /// Signs, persists, sends and counts this replica's vote, unless it
    /// already signed a different digest for the same slot and phase.
    pub(crate) fn cast_vote(&mut self, phase: VotePhase, view: u64, seq: u64, digest: Digest) {
        if !self.policy.is_voter(self.id, view) {
            return; // A follower learns decisions from commit certificates.
        }
        if !self.guard.allow(view, seq, SignKind::from(phase), digest) {
            return;
        }
        let vote = Signed::sign(
            Vote {
                phase,
                view,
                seq,
                digest,
                replica: self.id,
            },
            &self.key,
        );
        if phase == VotePhase::Prepare {
            self.note_own_vote(seq, Some(vote.signature));
        }
        self.persist(Record::Vote(vote.clone()));
        if let Some(to) = self.policy.vote_targets(self.id, phase, view, seq) {
            self.send(to, Message::Vote(vote.clone()));
        }
        self.log
            .slot(seq)
            .votes_mut(phase)
            .insert(self.id, (digest, vote.signature));
    }

    pub(crate) fn on_vote(&mut self, now: Time, from: NodeId, v: Signed<Vote>) {
        let b = &v.body;
        if b.replica.index() >= self.cfg.n {
            return self.evidence(from, Fault::InvalidSignature);
        }
        match self.place(b.view, b.seq) {
            Place::Drop => return,
            Place::Early => return self.buffer(from, Message::Vote(v)),
            Place::Now => {}
        }
        if !v.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if b.phase == VotePhase::Prepare && b.replica == self.policy.primary(b.view) {
            return self.evidence(b.replica, Fault::Protocol("the primary sent a prepare"));
        }
        if !self.policy.is_voter(b.replica, b.view) {
            return self.evidence(
                b.replica,
                Fault::Protocol("a vote from outside the consensus group"),
            );
        }
        self.record_vote(&v);
        self.check_prepared(now, v.body.seq);
        self.check_committed(now, v.body.seq);
    }

    /// Counts a verified vote; a second, different vote from the same
    /// replica for the same slot and phase is equivocation.
    fn record_vote(&mut self, v: &Signed<Vote>) {
        let b = &v.body;
        let votes = self.log.slot(b.seq).votes_mut(b.phase);
        match votes.get(&b.replica) {
            None => {
                votes.insert(b.replica, (b.digest, v.signature));
            }
            Some((d, _)) if *d == b.digest => {}
            Some((d, s)) => {
                let first = Signed {
                    body: Vote {
                        digest: *d,
                        ..b.clone()
                    },
                    signature: *s,
                };
                self.equivocation(b.replica, &first, v);
            }
        }
    }

    /// A collector's bundle of votes: verified as a whole, then counted vote
    /// by vote.
    pub(crate) fn on_certificate(&mut self, now: Time, from: NodeId, c: VoteCertificate) {
        match self.place(c.view, c.seq) {
            Place::Drop => return,
            Place::Early => return self.buffer(from, Message::Certificate(c)),
            Place::Now => {}
        }
        let mut sigs = SigBatch::default();
        if let Err(why) = verify::vote_certificate(&self.policy, &c, &mut sigs) {
            return self.evidence(from, Fault::Protocol(why));
        }
        if sigs.verify(&self.publics).is_err() {
            return self.evidence(from, Fault::InvalidSignature);
        }
        for (replica, signature) in &c.votes {
            self.record_vote(&Signed {
                body: c.vote_of(*replica),
                signature: *signature,
            });
        }
        self.check_prepared(now, c.seq);
        self.check_committed(now, c.seq);
    }

    /// Prepared: the pre-prepare plus a quorum (counting the primary) of
    /// matching prepares. Keeps and persists the certificate, then commits.
    pub(crate) fn check_prepared(&mut self, now: Time, seq: u64) {
        let view = self.view;
        if !self.policy.is_voter(self.id, view) {
            // Followers never prepare; the pre-prepare may complete a
            // commit certificate that arrived first.
            return self.check_committed(now, seq);
        }
        let primary = self.policy.primary(view);
        let Some(slot) = self.log.slots.get(&seq) else {
            return;
        };
        let Some((pp, batch)) = &slot.pre_prepare else {
            return;
        };
        if slot.prepared {
            self.check_fast(now, seq);
            return;
        }
        let digest = pp.body.digest;
        let (mut voters, mut prepares) = slot.matching(VotePhase::Prepare, digest);
        prepares.retain(|(id, _)| *id != primary);
        voters.insert(primary);
        if !self.policy.is_quorum(&voters) {
            return;
        }
        let proof = PreparedProof {
            pre_prepare: pp.clone(),
            batch: batch.clone(),
            prepares,
        };
        self.log.slot(seq).prepared = true;
        self.log.keep_prepared(proof.clone());
        self.persist(Record::Prepared(proof.clone()));
        let collector = self.policy.collector(VotePhase::Prepare, view, seq) == Some(self.id);
        if crate::policy::fast_on(&self.policy, view, seq) {
            if self.check_fast(now, seq) {
                return; // Decided on the fast path: no commit phase.
            }
            if collector {
                // Wait a little for a fast quorum before the slow path.
                let wait = self.policy.fast_path_timeout().unwrap_or_default();
                self.log.slot(seq).fast_wait = Some(now + wait);
                self.cast_vote(VotePhase::Commit, view, seq, digest);
                return;
            }
        }
        if collector && !proof.prepares.is_empty() {
            let cert = VoteCertificate {
                phase: VotePhase::Prepare,
                view,
                seq,
                digest,
                votes: proof.prepares,
            };
            self.broadcast(Message::Certificate(cert));
        }
        self.cast_vote(VotePhase::Commit, view, seq, digest);
        self.check_committed(now, seq);
    }

    /// Committed locally: prepared plus a quorum of matching commits; a
    /// follower (outside the consensus group, see [`Policy::is_voter`])
    /// needs only the pre-prepare and the commits, which form a commit
    /// certificate as transferable as the one catch-up accepts.
    pub(crate) fn check_committed(&mut self, now: Time, seq: u64) {
        let view = self.view;
        let Some(slot) = self.log.slots.get(&seq) else {
            return;
        };
        let Some(digest) = slot.digest() else { return };
        let follower = !self.policy.is_voter(self.id, view);
        if (!slot.prepared && !follower) || slot.committed.is_some() {
            return;
        }
        let (voters, votes) = slot.matching(VotePhase::Commit, digest);
        if !self.policy.is_quorum(&voters) {
            return;
        }
        let cert = VoteCertificate {
            phase: VotePhase::Commit,
            view,
            seq,
            digest,
            votes,
        };
        self.log.slot(seq).committed = Some(cert.clone());
        if self.policy.collector(VotePhase::Commit, view, seq) == Some(self.id) {
            self.broadcast(Message::Certificate(cert));
        }
        self.try_execute(now);
    }

    /// Executes committed slots in sequence order.
    pub(crate) fn try_execute(&mut self, now: Time) {
        loop {
            let next = self.exec.last.saturating_add(1);
            let Some(slot) = self.log.slots.get(&next) else {
                break;
            };
            let (Some(cert), Some((_, batch))) = (&slot.committed, &slot.pre_prepare) else {
                break;
            };
            let d = Decided {
                batch: batch.clone(),
                certificate: cert.clone(),
            };
            self.execute(now, next, d);
        }
    }

    /// Executes one committed batch: persists the progress, delivers the new
    /// requests, checkpoints every `K`.
    pub(crate) fn execute(&mut self, now: Time, seq: u64, d: Decided) {
        let digest = d.certificate.digest;
        let fresh = self.exec.apply(seq, &d.batch, digest);
        for r in &d.batch {
            self.reqs.remove(&r.key());
        }
        let progressed = !fresh.is_empty();
        let keys = fresh.iter().map(Request::key).collect();
        self.persist(Record::Executed {
            seq,
            state: self.exec.state,
            delivered: keys,
        });
        self.stats.delivered += fresh.len() as u64;
        self.out.extend(fresh.into_iter().map(Output::Deliver));
        self.exec
            .retain_decided(seq, d, self.cfg.catch_up_retention);
        if progressed && self.active {
            // A new request executed in this view: the back-off starts over.
            self.vc.backoff = self.cfg.view_change_timeout;
        }
        if self.active && !self.is_primary() {
            self.vc.timer = (!self.reqs.is_empty()).then(|| now + self.request_timeout());
        }
        if seq.is_multiple_of(self.cfg.checkpoint_interval) {
            self.exec.states.insert(seq, self.exec.state);
            self.make_checkpoint(now, seq);
        }
    }

    /// Sends `msg` to one replica.
    pub(crate) fn send_to(&mut self, to: NodeId, msg: Message) {
        self.send(Target::One(to), msg);
    }

    /// When the oldest uncommitted slot is due for retransmission.
    pub(crate) fn retransmit_deadline(&self) -> Option<Time> {
        let every = self.cfg.retransmit_timeout?;
        if !self.active {
            return None;
        }
        self.log
            .slots
            .values()
            .filter(|s| s.pre_prepare.is_some() && s.committed.is_none())
            .map(|s| s.touched + every)
            .min()
    }

    /// Re-sends this replica's own messages for slots stuck uncommitted.
    pub(crate) fn retransmit(&mut self, now: Time) {
        let Some(every) = self.cfg.retransmit_timeout else {
            return;
        };
        if !self.active {
            return;
        }
        let (view, me) = (self.view, self.id);
        let mut msgs = vec![];
        for (seq, slot) in self.log.slots.iter_mut() {
            if slot.committed.is_some() || slot.touched + every > now {
                continue;
            }
            let Some((pp, batch)) = &slot.pre_prepare else {
                continue;
            };
            slot.touched = now;
            if pp.body.primary == me {
                msgs.push((
                    None,
                    Message::PrePrepare {
                        pre_prepare: pp.clone(),
                        batch: batch.clone(),
                    },
                ));
            }
            if let Some((digest, share)) = slot.endorsements.get(&me) {
                msgs.push((
                    None,
                    Message::Endorsement(crate::message::Endorsement {
                        view,
                        seq: *seq,
                        digest: *digest,
                        member: me,
                        share: share.clone(),
                    }),
                ));
            }
            for phase in [VotePhase::Prepare, VotePhase::Commit] {
                if let Some((digest, signature)) = slot.votes(phase).get(&me) {
                    let body = Vote {
                        phase,
                        view,
                        seq: *seq,
                        digest: *digest,
                        replica: me,
                    };
                    msgs.push((
                        Some((phase, *seq)),
                        Message::Vote(Signed {
                            body,
                            signature: *signature,
                        }),
                    ));
                }
            }
        }
        for (route, msg) in msgs {
            let to = match route {
                None => Some(Target::all_but(me)),
                Some((phase, seq)) => self.policy.vote_targets(me, phase, view, seq),
            };
            if let Some(to) = to {
                self.send(to, msg);
            }
        }
    }
}
