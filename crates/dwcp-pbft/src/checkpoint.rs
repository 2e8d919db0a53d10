//! Checkpoints, stable checkpoints, watermarks and garbage collection.

use crate::message::{Checkpoint, CheckpointProof, Message, Signed};
use crate::persist::Record;
use crate::policy::Policy;
use crate::replica::Pbft;
use dwcp_core::{Fault, NodeId, Time};
use std::collections::BTreeSet;

impl<P: Policy> Pbft<P> {
    /// After executing a multiple of `K`: sign, persist and broadcast a
    /// checkpoint with the state digest.
    pub(crate) fn make_checkpoint(&mut self, now: Time, seq: u64) {
        if seq <= self.log.low() {
            return;
        }
        let state = self.exec.state;
        if !self.guard.allow_checkpoint(seq, state) {
            return;
        }
        let c = Signed::sign(
            Checkpoint {
                seq,
                state,
                replica: self.id,
            },
            &self.key,
        );
        self.persist(Record::Checkpoint(c.clone()));
        self.broadcast(Message::Checkpoint(c.clone()));
        self.checkpoints
            .entry(seq)
            .or_default()
            .insert(self.id, (state, c.signature));
        self.check_stable(now, seq);
    }

    pub(crate) fn on_checkpoint(&mut self, now: Time, from: NodeId, c: Signed<Checkpoint>) {
        let b = &c.body;
        if b.replica.index() >= self.cfg.n {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if b.seq == self.log.low()
            && b.seq > 0
            && b.state == self.log.stable.state
            && !self.vouched_now.contains(&b.replica)
            && c.verify(&self.publics)
        {
            // Late for the quorum, in time for the record.
            self.vouch(b.replica);
        }
        if b.seq <= self.log.low() || !b.seq.is_multiple_of(self.cfg.checkpoint_interval) {
            return;
        }
        if b.seq > self.log.high() {
            // Others are a window ahead: we are lagging. Keep the message for
            // when our watermarks catch up, and ask the sender for help.
            if b.seq <= self.log.high().saturating_add(self.cfg.window) {
                self.buffer(from, Message::Checkpoint(c));
            }
            return self.probe(from);
        }
        if !c.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        let (seq, state, replica) = (b.seq, b.state, b.replica);
        let votes = self.checkpoints.entry(seq).or_default();
        match votes.get(&replica) {
            None => {
                votes.insert(replica, (state, c.signature));
            }
            Some((s, _)) if *s == state => return,
            Some((s, sig)) => {
                let first = Signed {
                    body: Checkpoint {
                        state: *s,
                        ..c.body.clone()
                    },
                    signature: *sig,
                };
                return self.equivocation(replica, &first, &c);
            }
        }
        self.check_stable(now, seq);
    }

    /// A quorum of matching checkpoints for `seq` makes it stable.
    fn check_stable(&mut self, now: Time, seq: u64) {
        let Some(votes) = self.checkpoints.get(&seq) else {
            return;
        };
        let states: BTreeSet<_> = votes.values().map(|(s, _)| *s).collect();
        for state in states {
            let signers: BTreeSet<NodeId> = votes
                .iter()
                .filter(|(_, (s, _))| *s == state)
                .map(|(id, _)| *id)
                .collect();
            if self.policy.is_quorum(&signers) {
                let signatures = votes
                    .iter()
                    .filter(|(_, (s, _))| *s == state)
                    .map(|(id, (_, sig))| (*id, *sig))
                    .collect();
                let proof = CheckpointProof {
                    seq,
                    state,
                    signatures,
                };
                self.adopt_stable(now, proof);
                return;
            }
        }
    }

    /// Makes a verified proof the stable checkpoint: persists it, moves the
    /// watermarks, collects garbage, and catches up if it is ahead of us.
    pub(crate) fn adopt_stable(&mut self, now: Time, proof: CheckpointProof) {
        if self.advance_stable(proof) {
            self.replay_early(now);
            self.maybe_propose(now);
        }
    }

    /// [`Self::adopt_stable`] without re-handling buffered messages; returns
    /// whether the checkpoint was newer.
    pub(crate) fn advance_stable(&mut self, proof: CheckpointProof) -> bool {
        let seq = proof.seq;
        let signers: Vec<NodeId> = proof
            .signatures
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != self.id)
            .collect();
        if !self.log.advance(proof.clone()) {
            return false;
        }
        self.vouched_now.clear();
        let matching: Vec<NodeId> = self
            .checkpoints
            .get(&seq)
            .into_iter()
            .flatten()
            .filter(|(_, (s, _))| *s == proof.state)
            .map(|(id, _)| *id)
            .collect();
        for id in matching {
            self.vouch(id);
        }
        self.persist(Record::Stable(proof));
        self.checkpoints = self.checkpoints.split_off(&seq.saturating_add(1));
        self.guard.collect_below(seq);
        let keep_from = seq.saturating_sub(self.cfg.window);
        self.exec.states = self.exec.states.split_off(&keep_from);
        if self.next_seq <= seq {
            self.next_seq = seq.saturating_add(1);
        }
        if self.exec.last < seq {
            // Certified history we have not executed: fetch it.
            if let Some(peer) = self.pick(&signers) {
                self.probe(peer);
            }
        }
        true
    }

    /// Counts `id`'s checkpoint for the current stable checkpoint (once).
    fn vouch(&mut self, id: NodeId) {
        if self.vouched_now.insert(id)
            && let Some(v) = self.vouched.get_mut(id.index())
        {
            *v += 1;
        }
    }

    /// A pseudo-random element of `ids` (from the seeded RNG).
    pub(crate) fn pick(&mut self, ids: &[NodeId]) -> Option<NodeId> {
        use dwcp_core::rng::RngCore;
        if ids.is_empty() {
            return None;
        }
        let i = (self.rng.next_u64() % ids.len() as u64) as usize;
        ids.get(i).copied()
    }
}
