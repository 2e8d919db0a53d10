//! Simulator glue: what the generic Byzantine strategies of `dwcp-sim` can
//! do to Narwhal messages. Equivocation needs the author's key, so it is
//! not offered here; tests build conflicting signed headers themselves.

use crate::message::Message;
use crate::types::{Batch, Certificate};
use dwcp_core::Digest;
use dwcp_core::rng::{Rng, RngCore};
use dwcp_crypto::SignerSet;
use dwcp_sim::ByzantineMessage;
use std::sync::Arc;

impl ByzantineMessage for Message {
    fn equivocate(&self, _rng: &mut Rng) -> Option<Self> {
        None
    }

    fn corrupt_signature(&self) -> Option<Self> {
        match self {
            Message::Certificate(c) => {
                let mut c: Certificate = (**c).clone();
                let votes = c.votes.as_mut()?;
                // Claim one signer fewer: the aggregate no longer matches.
                let signers: SignerSet = votes.signers.iter().skip(1).collect();
                votes.signers = signers;
                Some(Message::Certificate(Arc::new(c)))
            }
            Message::Header(h) => {
                let mut h = (**h).clone();
                h.body.batches.push(Digest::of(b"forged"));
                Some(Message::Header(Arc::new(h)))
            }
            _ => None,
        }
    }

    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        let bump = 1 + rng.next_u64() % 3;
        Some(match self {
            Message::Batch(b) => {
                let mut b: Batch = (**b).clone();
                b.seq = b.seq.wrapping_add(bump);
                Message::Batch(Arc::new(b))
            }
            Message::Header(h) => {
                let mut h = (**h).clone();
                h.body.round = h.body.round.wrapping_add(bump);
                Message::Header(Arc::new(h))
            }
            Message::Vote(v) => {
                let mut v = v.clone();
                v.round = v.round.wrapping_add(bump);
                Message::Vote(v)
            }
            Message::Certificate(c) => {
                let mut c: Certificate = (**c).clone();
                c.header.round = c.header.round.wrapping_add(bump);
                Message::Certificate(Arc::new(c))
            }
            Message::CertificateRequest(d) => {
                let mut d = d.clone();
                d.push(Digest::of(&bump.to_le_bytes()));
                Message::CertificateRequest(d)
            }
            Message::BatchRequest(d) => {
                let mut d = d.clone();
                d.push(Digest::of(&bump.to_le_bytes()));
                Message::BatchRequest(d)
            }
            Message::SyncRequest(r) => Message::SyncRequest(r.wrapping_add(bump)),
            Message::SyncResponse(states) => {
                let mut states = states.clone();
                let first = states.first_mut()?;
                let mut s = (**first).clone();
                s.next_index = s.next_index.wrapping_add(bump);
                *first = Arc::new(s);
                Message::SyncResponse(states)
            }
        })
    }
}
