//! Byzantine behaviour for the simulator (feature `sim`).
//!
//! - [`ByzantineMessage`] for [`Message`]: `corrupt_signature` flips a byte
//!   of the outer signature; `mutate` changes a signed field without
//!   re-signing (so receivers see an invalid signature) or an unsigned one;
//!   `equivocate` only exists for unsigned messages (a request with the same
//!   key and another payload), because the trait has no access to keys.
//! - [`Equivocator`]: the real thing. It holds the Byzantine node's own
//!   secret key and, like the simulator's generic `Equivocate`, sends the
//!   original to the lower half of the committee and a conflicting,
//!   validly re-signed variant ([`conflicting`]) to the upper half: another
//!   batch for a pre-prepare (so an equivocating primary), another digest
//!   for a vote, another state for a checkpoint.
//!
//! Silent primaries and invalid signatures use the simulator's `Silent` and
//! `InvalidSignature` strategies directly.

use crate::message::{Message, Request, Signed, Vote, corrupt_signature};
use crate::policy::Policy;
use crate::replica::Pbft;
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Digest, NodeId, Output, Target, Time};
use dwcp_crypto::SecretKey;
use dwcp_sim::{Adversary, AdversaryCtx, ByzantineMessage, OutputOf};

/// A request with the same `(client, id)` as `r` but another payload: what
/// a Byzantine replica relaying `r` would equivocate with (client signatures
/// are kept, so it fails verification whenever clients are authenticated).
pub fn conflicting_request(r: &Request, rng: &mut Rng) -> Request {
    let mut payload = r.payload.clone();
    payload.push((rng.next_u32() & 0xff) as u8);
    Request {
        payload,
        ..r.clone()
    }
}

impl ByzantineMessage for Message {
    fn equivocate(&self, rng: &mut Rng) -> Option<Self> {
        match self {
            Message::Request(r) => Some(Message::Request(conflicting_request(r, rng))),
            _ => None,
        }
    }

    fn corrupt_signature(&self) -> Option<Self> {
        let mut m = self.clone();
        let sig = m.signature_mut()?;
        *sig = corrupt_signature(sig);
        Some(m)
    }

    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        let bump = 1 + rng.next_u64() % 3;
        let mut m = self.clone();
        match &mut m {
            Message::Request(r) => r.id = r.id.wrapping_add(bump),
            Message::PrePrepare { pre_prepare, .. } => {
                pre_prepare.body.seq = pre_prepare.body.seq.wrapping_add(bump)
            }
            Message::Vote(v) => v.body.view = v.body.view.wrapping_add(bump),
            Message::Certificate(c) => c.seq = c.seq.wrapping_add(bump),
            Message::Checkpoint(c) => c.body.state = Digest::of(&c.body.state.0),
            Message::ViewChange(v) => v.body.view = v.body.view.wrapping_add(bump),
            Message::NewView(v) => v.body.view = v.body.view.wrapping_add(bump),
            Message::Status(s) => s.executed = s.executed.wrapping_add(bump),
            Message::CatchUp(c) => {
                c.decided.pop()?;
            }
            Message::Endorsement(e) => e.seq = e.seq.wrapping_add(bump),
        }
        Some(m)
    }
}

/// A conflicting variant of `msg` for the same slot, validly signed with
/// `key` (the Byzantine sender's own key): a different batch for a
/// pre-prepare (the batch reversed, or the null batch for a single request;
/// `None` for an empty batch), another digest for a vote, another state for
/// a checkpoint. `None` for other messages.
pub fn conflicting(msg: &Message, key: &SecretKey) -> Option<Message> {
    match msg {
        Message::PrePrepare { pre_prepare, batch } => {
            let other: Vec<Request> = match batch.len() {
                0 => return None,
                1 => vec![],
                _ => batch.iter().rev().cloned().collect(),
            };
            let b = &pre_prepare.body;
            Some(Message::pre_prepare(b.view, b.seq, other, key, b.primary))
        }
        Message::Vote(v) => {
            let body = Vote {
                digest: Digest::of(&v.body.digest.0),
                ..v.body.clone()
            };
            Some(Message::Vote(Signed::sign(body, key)))
        }
        Message::Checkpoint(c) => {
            let mut body = c.body.clone();
            body.state = Digest::of(&body.state.0);
            Some(Message::Checkpoint(Signed::sign(body, key)))
        }
        _ => None,
    }
}

/// Splits every send it can equivocate on: the lower half of the committee
/// (`id < n / 2`) gets the original, the upper half a conflicting variant
/// signed with the node's own key. Before `from` it behaves honestly.
#[derive(Clone, Debug)]
pub struct Equivocator {
    key: SecretKey,
    from: Time,
}

impl Equivocator {
    /// Equivocates from `from` on, signing variants with `key` (the
    /// corrupted node's own secret key).
    pub fn new(key: SecretKey, from: Time) -> Equivocator {
        Equivocator { key, from }
    }
}

impl<P: Policy + 'static> Adversary<Pbft<P>> for Equivocator {
    fn name(&self) -> &'static str {
        "pbft-equivocator"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, Pbft<P>>, output: OutputOf<Pbft<P>>) {
        let Output::Send { to, msg } = output else {
            return ctx.emit(output);
        };
        let variant = if ctx.now >= self.from {
            conflicting(&msg, &self.key)
        } else {
            None
        };
        let Some(variant) = variant else {
            return ctx.send(to, msg);
        };
        let half = (ctx.n / 2) as u32;
        let (low, high): (Vec<NodeId>, Vec<NodeId>) =
            ctx.recipients(&to).into_iter().partition(|id| id.0 < half);
        if !low.is_empty() {
            ctx.send(Target::Many(low), msg);
        }
        if !high.is_empty() {
            ctx.send(Target::Many(high), variant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{PrePrepare, batch_digest};
    use dwcp_crypto::Keyring;

    #[test]
    fn conflicting_variants_are_validly_signed_and_differ() {
        let keys = Keyring::sr25519(2, 3);
        let batch = vec![
            Request {
                client: 1,
                id: 1,
                payload: vec![],
                auth: None,
            },
            Request {
                client: 1,
                id: 2,
                payload: vec![],
                auth: None,
            },
        ];
        let pp = Message::pre_prepare(0, 1, batch, &keys.secrets[0], NodeId(0));
        let Some(Message::PrePrepare {
            pre_prepare,
            batch: other,
        }) = conflicting(&pp, &keys.secrets[0])
        else {
            panic!("no variant")
        };
        assert!(pre_prepare.verify(&keys.publics));
        assert_eq!(pre_prepare.body.digest, batch_digest(&other));
        let Message::PrePrepare {
            pre_prepare: orig, ..
        } = &pp
        else {
            unreachable!()
        };
        assert_ne!(orig.body.digest, pre_prepare.body.digest);
        let empty = Message::PrePrepare {
            pre_prepare: Signed::sign(
                PrePrepare {
                    view: 0,
                    seq: 1,
                    digest: batch_digest(&[]),
                    primary: NodeId(0),
                },
                &keys.secrets[0],
            ),
            batch: vec![],
        };
        assert!(conflicting(&empty, &keys.secrets[0]).is_none());
    }

    #[test]
    fn byzantine_message_powers() {
        let keys = Keyring::sr25519(1, 4);
        let mut rng = dwcp_core::rng::seeded(1);
        let pp = Message::pre_prepare(0, 1, vec![], &keys.secrets[0], NodeId(0));
        let bad = pp.corrupt_signature().unwrap();
        let Message::PrePrepare { pre_prepare, .. } = &bad else {
            unreachable!()
        };
        assert!(!pre_prepare.verify(&keys.publics));
        let mutated = pp.mutate(&mut rng).unwrap();
        let Message::PrePrepare { pre_prepare, .. } = &mutated else {
            unreachable!()
        };
        assert!(
            !pre_prepare.verify(&keys.publics),
            "mutated without re-signing"
        );
        assert!(pp.equivocate(&mut rng).is_none());
        let req = Message::Request(Request {
            client: 1,
            id: 1,
            payload: vec![],
            auth: None,
        });
        assert_ne!(req.equivocate(&mut rng), Some(req.clone()));
        assert!(req.corrupt_signature().is_none());
    }
}
