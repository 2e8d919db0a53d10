//! Catch-up: status probes and the self-certifying answers to them.
//!
//! PBFT assumes messages are eventually delivered; real networks drop them
//! and partitions cut replicas off while the others move on. A replica
//! therefore periodically sends a [`Status`] to a random peer (and to a
//! specific peer when it learns it is behind). The receiver answers with
//! what the sender lacks, all of it verifiable without trusting the
//! responder: committed batches with commit certificates, its stable
//! checkpoint proof, and the new-view of its current view.

use crate::message::{CatchUp, Message, Status, batch_digest};
use crate::policy::Policy;
use crate::replica::Pbft;
use crate::verify::{self, SigBatch};
use dwcp_core::{Fault, NodeId, Time};

impl<P: Policy> Pbft<P> {
    fn status(&self, probe: bool) -> Status {
        Status {
            view: self.view,
            active: self.active,
            executed: self.exec.last,
            stable: self.log.low(),
            probe,
        }
    }

    /// Sends a status probe to `peer`.
    pub(crate) fn probe(&mut self, peer: NodeId) {
        if peer != self.id {
            let s = self.status(true);
            self.send_to(peer, Message::Status(s));
        }
    }

    /// Sends a status probe to a random peer.
    pub(crate) fn probe_random_peer(&mut self) {
        let others: Vec<NodeId> = NodeId::all(self.cfg.n)
            .filter(|id| *id != self.id)
            .collect();
        if let Some(peer) = self.pick(&others) {
            self.probe(peer);
        }
    }

    pub(crate) fn on_status(&mut self, _now: Time, from: NodeId, s: Status) {
        if s.executed < self.exec.last || s.stable < self.log.low() {
            let decided = self.exec.decided_after(s.executed, self.cfg.catch_up_batch);
            let stable = (s.stable < self.log.low()).then(|| self.log.stable.clone());
            if !decided.is_empty() || stable.is_some() {
                self.send_to(from, Message::CatchUp(CatchUp { stable, decided }));
            }
        }
        let they_lag_view = s.view < self.view || (s.view == self.view && !s.active);
        if self.active
            && they_lag_view
            && let Some(nv) = self.vc.new_view.clone()
        {
            self.send_to(from, Message::NewView(nv));
        }
        // Retransmit our view-change to replicas changing to the same view
        // (or still in an older one): lost view-changes must not stall it.
        let same_or_older = s.view < self.view || (s.view == self.view && !s.active);
        if !self.active
            && same_or_older
            && let Some((vc, _)) = self.vc.latest.get(&self.id)
            && vc.body.view == self.view
        {
            let vc = vc.clone();
            self.send_to(from, Message::ViewChange(vc));
        }
        let we_lag = s.executed > self.exec.last
            || s.stable > self.log.low()
            || s.view > self.view
            || (s.view == self.view && s.active && !self.active);
        if s.probe && we_lag {
            let mine = self.status(false);
            self.send_to(from, Message::Status(mine));
        }
    }

    pub(crate) fn on_catch_up(&mut self, now: Time, from: NodeId, c: CatchUp) {
        let before = self.exec.last;
        // Verify everything we would use in one batch; any bad part taints
        // the whole message (an honest responder never sends one).
        let mut sigs = SigBatch::default();
        let mut usable = vec![];
        let mut want = self.exec.last.saturating_add(1);
        for d in c.decided {
            let cert = &d.certificate;
            if cert.seq < want {
                continue;
            }
            if cert.seq != want {
                break;
            }
            if batch_digest(&d.batch) != cert.digest {
                return self.evidence(
                    from,
                    Fault::Protocol("catch-up batch does not match its certificate"),
                );
            }
            if let Err(why) = crate::fast::decision_certificate(&self.policy, cert, &mut sigs) {
                return self.evidence(from, Fault::Protocol(why));
            }
            want = want.saturating_add(1);
            usable.push(d);
        }
        let stable = c.stable.filter(|p| p.seq > self.log.low());
        if let Some(p) = &stable
            && let Err(why) = verify::checkpoint_proof(&self.policy, p, &mut sigs)
        {
            return self.evidence(from, Fault::Protocol(why));
        }
        if sigs.verify(&self.publics).is_err() {
            return self.evidence(from, Fault::InvalidSignature);
        }
        for d in usable {
            let seq = d.certificate.seq;
            self.stats.caught_up += 1;
            self.execute(now, seq, d);
        }
        if let Some(p) = stable {
            self.adopt_stable(now, p);
        }
        self.try_execute(now);
        let got = self.exec.last.saturating_sub(before);
        if got >= self.cfg.catch_up_batch as u64 || (got > 0 && self.exec.last < self.log.low()) {
            // Probably more where that came from.
            self.probe(from);
        }
    }
}
