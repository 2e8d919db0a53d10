//! Collected checkpoints: replicas send their signed checkpoint to the
//! collector (the view's primary) instead of everybody; the collector
//! assembles a quorum of matching ones into one certificate (the
//! [`MultiSig`] scheme with signer binding, which is exactly PBFT's
//! checkpoint signature) and relays it. Receivers check the certificate as
//! a whole (one batch verification; an invalid one is evidence against the
//! collector) and hand each signed checkpoint to their PBFT replica.
//!
//! A checkpoint still not stable after `checkpoint_retry` is sent to the
//! collector again, and after twice that to everybody, so a silent or
//! lying collector costs time, never liveness.

use super::config::LinearConfig;
use super::engine::LinearPbft;
use super::message::AggMessage;
use crate::collector::{Added, Certified, CollectorConfig, VoteCollector};
use crate::scheme::{MultiSig, MultiSigCert, verify_quorum};
use dwcp_core::{Digest, Duration, Fault, NodeId, Target, Time, WeightedCommittee, codec};
use dwcp_crypto::{PublicKey, Signature};
use dwcp_pbft::{Checkpoint, Message, SIGNING_CONTEXT, Signed, Statement};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct Own {
    c: Signed<Checkpoint>,
    at: Time,
    sends: u8,
}

/// The checkpoint-collection state of one replica.
#[derive(Clone, Debug)]
pub(crate) struct Checkpoints {
    scheme: MultiSig,
    committee: WeightedCommittee,
    tally: VoteCollector<Signature>,
    own: BTreeMap<u64, Own>,
    retry: Duration,
    interval: u64,
    horizon: u64,
}

/// The message a checkpoint certificate signs: PBFT's checkpoint statement
/// without its trailing replica id (bound per signer by the scheme).
pub fn checkpoint_message(seq: u64, state: &Digest) -> Vec<u8> {
    let mut m = vec![Checkpoint::TAG];
    m.extend_from_slice(&codec::encode(&(seq, state)));
    m
}

impl Checkpoints {
    pub(crate) fn new(
        cfg: &LinearConfig,
        committee: WeightedCommittee,
        publics: Vec<PublicKey>,
    ) -> Self {
        let k = cfg.pbft.checkpoint_interval;
        let horizon = cfg.pbft.window.saturating_mul(2);
        let tally = VoteCollector::new(
            committee.clone(),
            CollectorConfig {
                max_rounds_ahead: horizon,
                max_open_per_sender: (horizon / k.max(1)) as usize + 2,
            },
        );
        Checkpoints {
            scheme: MultiSig::with_signer_binding(publics, SIGNING_CONTEXT),
            committee,
            tally,
            own: BTreeMap::new(),
            retry: cfg.checkpoint_retry,
            interval: k,
            horizon,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Time> {
        self.own.values().map(|o| o.at + self.retry).min()
    }

    pub(crate) fn advance(&mut self, low: u64) {
        self.tally.advance(low);
        if self.own.first_key_value().is_some_and(|(s, _)| *s <= low) {
            self.own = self.own.split_off(&low.saturating_add(1));
        }
    }
}

impl LinearPbft {
    /// Our own checkpoint, which PBFT wanted to broadcast.
    pub(crate) fn ckpt_own(&mut self, now: Time, c: Signed<Checkpoint>) {
        self.ckpt.own.insert(
            c.body.seq,
            Own {
                c: c.clone(),
                at: now,
                sends: 1,
            },
        );
        let collector = self.collector();
        if collector == self.id {
            self.ckpt_add(self.id, &c);
        } else {
            self.send(
                Target::One(collector),
                AggMessage::Pbft(Message::Checkpoint(c)),
            );
        }
    }

    /// A peer's checkpoint: tallied if we collect and the peer sent its own.
    pub(crate) fn ckpt_share(&mut self, from: NodeId, c: &Signed<Checkpoint>) {
        if self.collector() == self.id && c.body.replica == from {
            self.ckpt_add(from, c);
        }
    }

    fn ckpt_add(&mut self, signer: NodeId, c: &Signed<Checkpoint>) {
        let (seq, state) = (c.body.seq, c.body.state);
        if !seq.is_multiple_of(self.ckpt.interval) {
            return;
        }
        let added = self.ckpt.tally.add(signer, seq, 0, state, c.signature);
        if !matches!(added, Added::Counted { quorum: true, .. }) {
            return;
        }
        let outcome = self
            .ckpt
            .tally
            .certify(&self.ckpt.scheme, seq, 0, |d| checkpoint_message(seq, d));
        let bad = match outcome {
            Certified::Done {
                digest,
                cert,
                bad_signers,
            } => {
                self.stats.checkpoint_certs += 1;
                self.send(
                    Target::all_but(self.id),
                    AggMessage::CheckpointCert {
                        seq,
                        state: digest,
                        cert,
                    },
                );
                bad_signers
            }
            Certified::NotYet { bad_signers } => bad_signers,
        };
        for b in bad {
            self.evidence(b, Fault::InvalidSignature);
        }
    }

    /// A collector's checkpoint certificate.
    pub(crate) fn ckpt_cert(
        &mut self,
        now: Time,
        from: NodeId,
        seq: u64,
        state: Digest,
        cert: MultiSigCert,
    ) {
        let low = self.stable();
        if seq <= low || seq > low.saturating_add(self.ckpt.horizon) {
            return;
        }
        if !seq.is_multiple_of(self.ckpt.interval) {
            return self.evidence(
                from,
                Fault::Protocol("checkpoint certificate off the interval"),
            );
        }
        let msg = checkpoint_message(seq, &state);
        if !verify_quorum(&self.ckpt.scheme, &self.ckpt.committee, &msg, &cert) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        for (signer, signature) in cert.signers.iter().zip(cert.signatures) {
            if signer != self.id {
                let body = Checkpoint {
                    seq,
                    state,
                    replica: signer,
                };
                self.feed(now, signer, Message::Checkpoint(Signed { body, signature }));
            }
        }
    }

    /// Re-sends own checkpoints that did not become stable in time.
    pub(crate) fn ckpt_retry(&mut self, now: Time) {
        let low = self.stable();
        let collector = self.collector();
        let retry = self.ckpt.retry;
        let mut sends = vec![];
        for (seq, o) in self.ckpt.own.iter_mut() {
            if *seq <= low || o.at + retry > now {
                continue;
            }
            o.at = now;
            o.sends = o.sends.saturating_add(1);
            let to = if o.sends >= 3 || collector == self.id {
                Target::all_but(self.id)
            } else {
                Target::One(collector)
            };
            sends.push((to, o.c.clone()));
        }
        for (to, c) in sends {
            self.stats.checkpoint_resends += 1;
            self.send(to, AggMessage::Pbft(Message::Checkpoint(c)));
        }
    }
}
