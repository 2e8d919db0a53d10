//! BLS aggregate decision certificates on the wire
//! ([`super::LinearConfig::bls_certificates`]).
//!
//! Every vote a backup sends to the collector carries, next to its sr25519
//! signature (which the inner PBFT replica keeps for prepared certificates
//! and view-changes), a BLS share over the same vote without the voter id
//! ([`vote_message`]). When the collector relays a **decision
//! certificate** — the fast path's commit proof or the slow path's commit
//! certificate — it sends one [`crate::scheme::BlsAggregate`] certificate
//! (96 bytes plus a signer bitmap) instead of the sr25519 list; receivers
//! check it with one aggregate verification and decide through
//! `dwcp_pbft::Pbft::decide_verified`. Slow-path prepare certificates stay
//! sr25519 lists: they become prepared certificates that view-changes
//! carry and any replica must be able to check.
//!
//! If a share is missing or invalid the collector sends the sr25519 list
//! (and evidence against the bad signer). Limits: a replica that decided
//! from a BLS certificate holds no signatures for that slot, so lagging
//! replicas catch up from replicas that do (the collector); the shares add
//! ~100 bytes to every vote.

use super::engine::LinearPbft;
use super::message::AggMessage;
use crate::scheme::{BlsAggregate, Scheme};
use dwcp_core::{Digest, Fault, NodeId, Target, Time, codec};
use dwcp_crypto::{AggPublicKey, AggSecretKey, AggSignature, AggregateCert};
use dwcp_pbft::{
    Message, Policy, SIGNING_CONTEXT, Signed, Statement, Vote, VoteCertificate, VotePhase,
};
use std::collections::{BTreeMap, BTreeSet};

/// A replica's BLS key and everybody's BLS public keys (registered with a
/// proof of possession, as `dwcp_crypto::AggKeyring` makes them).
#[derive(Clone, Debug)]
pub struct BlsKeys {
    /// This replica's BLS secret key.
    pub secret: AggSecretKey,
    /// Public keys indexed by `NodeId`.
    pub publics: Vec<AggPublicKey>,
}

/// The message a vote's BLS share signs: the vote statement without the
/// voter (same for every signer, so shares aggregate).
pub fn vote_message(phase: VotePhase, view: u64, seq: u64, digest: &Digest) -> Vec<u8> {
    let mut m = vec![Vote::TAG];
    m.extend_from_slice(&codec::encode(&(phase, view, seq, digest)));
    m
}

type ShareKey = (u64, u64, VotePhase);

/// The BLS side of one replica.
#[derive(Clone, Debug)]
pub(crate) struct BlsWire {
    scheme: BlsAggregate,
    secret: AggSecretKey,
    /// Shares received as collector, by (seq, view, phase) and voter.
    shares: BTreeMap<ShareKey, BTreeMap<NodeId, (Digest, AggSignature)>>,
}

impl BlsWire {
    pub(crate) fn new(keys: BlsKeys) -> BlsWire {
        BlsWire {
            scheme: BlsAggregate::new(keys.publics, SIGNING_CONTEXT),
            secret: keys.secret,
            shares: BTreeMap::new(),
        }
    }

    pub(crate) fn collect(&mut self, low: u64) {
        if self
            .shares
            .first_key_value()
            .is_some_and(|(k, _)| k.0 <= low)
        {
            self.shares = self
                .shares
                .split_off(&(low.saturating_add(1), 0, VotePhase::Prepare));
        }
    }

    fn share(&self, v: &Vote) -> AggSignature {
        let msg = vote_message(v.phase, v.view, v.seq, &v.digest);
        self.scheme.sign(&self.secret, &msg)
    }
}

impl LinearPbft {
    /// An own vote for the collector, with its BLS share.
    pub(crate) fn bls_vote_out(&mut self, to: Target, v: Signed<Vote>) -> Option<Signed<Vote>> {
        let Some(bls) = &self.bls else {
            return Some(v);
        };
        let share = bls.share(&v.body);
        self.send(to, AggMessage::BlsVote { vote: v, share });
        None
    }

    /// A vote with a BLS share: the share is kept (as collector), the vote
    /// goes to the inner replica.
    pub(crate) fn bls_vote_in(
        &mut self,
        now: Time,
        from: NodeId,
        vote: Signed<Vote>,
        share: AggSignature,
    ) {
        let b = &vote.body;
        let low = self.stable();
        let horizon = low.saturating_add(self.cfg.pbft.window.saturating_mul(2));
        if let Some(bls) = &mut self.bls
            && b.replica == from
            && b.seq > low
            && b.seq <= horizon
        {
            bls.shares
                .entry((b.seq, b.view, b.phase))
                .or_default()
                .entry(from)
                .or_insert((b.digest, share));
        }
        self.on_vote_seen(from, &Message::Vote(vote.clone()));
        self.feed(now, from, Message::Vote(vote));
    }

    /// As collector: relays a decision certificate as a BLS aggregate when
    /// every share is in and valid. Returns `c` back if it must go as a list.
    pub(crate) fn bls_cert_out(
        &mut self,
        to: &Target,
        c: VoteCertificate,
    ) -> Option<VoteCertificate> {
        let policy = self.inner.policy();
        let mut voters: BTreeSet<NodeId> = c.votes.iter().map(|(id, _)| *id).collect();
        let decision = match c.phase {
            VotePhase::Commit => true,
            VotePhase::Prepare => {
                voters.insert(policy.primary(c.view));
                policy.fast_path_timeout().is_some() && policy.is_fast_quorum(&voters)
            }
        };
        let me = self.id;
        let Some(bls) = self.bls.as_ref().filter(|_| decision) else {
            return Some(c);
        };
        let held = bls.shares.get(&(c.seq, c.view, c.phase));
        let mut shares = BTreeMap::new();
        for (id, _) in &c.votes {
            let s = if *id == me {
                Some(bls.share(&c.vote_of(me)))
            } else {
                held.and_then(|h| h.get(id))
                    .filter(|(d, _)| *d == c.digest)
                    .map(|(_, s)| *s)
            };
            match s {
                Some(s) => {
                    shares.insert(*id, s);
                }
                None => return Some(c),
            }
        }
        let msg = vote_message(c.phase, c.view, c.seq, &c.digest);
        let bad = match bls.scheme.assemble(&msg, &shares) {
            Ok(a) if a.bad_signers.is_empty() => {
                self.send(
                    to.clone(),
                    AggMessage::BlsCertificate {
                        phase: c.phase,
                        view: c.view,
                        seq: c.seq,
                        digest: c.digest,
                        cert: a.cert,
                    },
                );
                return None;
            }
            Ok(a) => a.bad_signers,
            Err(e) => e.bad_signers,
        };
        for b in bad {
            self.evidence(b, Fault::InvalidSignature);
        }
        Some(c)
    }

    /// A collector's BLS decision certificate.
    pub(crate) fn bls_cert_in(
        &mut self,
        now: Time,
        from: NodeId,
        (phase, view, seq, digest): (VotePhase, u64, u64, Digest),
        cert: AggregateCert,
    ) {
        let Some(bls) = &self.bls else {
            return self.evidence(from, Fault::Protocol("BLS certificate without BLS keys"));
        };
        let n = self.cfg.pbft.n;
        if cert.signers.upper_bound() > n {
            return self.evidence(
                from,
                Fault::Protocol("BLS certificate names an unknown replica"),
            );
        }
        let signers: BTreeSet<NodeId> = cert.signers.iter().collect();
        let low = self.stable();
        let current = view == self.inner.view() && self.inner.is_active();
        if !current || seq <= low || seq > low.saturating_add(self.cfg.pbft.window) {
            return;
        }
        let msg = vote_message(phase, view, seq, &digest);
        if !bls.scheme.verify_certificate(&msg, &cert) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        let c = VoteCertificate {
            phase,
            view,
            seq,
            digest,
            votes: vec![],
        };
        self.inner.decide_verified(now, c, &signers);
    }
}
