//! Byzantine behaviour for the simulator (feature `sim`).
//!
//! - [`ByzantineMessage`] for [`Message`]: `corrupt_signature` damages the
//!   outer signature (dwcp-pbft's `corrupt_signature`, so it still decodes);
//!   `mutate` changes a signed field without re-signing; `equivocate` only
//!   exists for requests, because the trait has no keys.
//! - [`Equivocator`]: a replica holding its own key that sends the original
//!   of each proposal and vote to the lower half of the committee and a
//!   conflicting, validly signed variant to the upper half. As leader it
//!   equivocates on proposals (and its own votes follow each half's value);
//!   as a voter it can only vote for headers the leader signed, so its votes
//!   pass unchanged unless it led the view.
//! - [`WrongProof`]: every vote carries the sender's VRF proof for the other
//!   phase: well formed, validly signed, and wrong.
//! - [`OutsideSample`]: every vote also goes to every replica outside the
//!   sender's sample.
//!
//! Silent replicas and bad signatures use the simulator's `Silent` and
//! `InvalidSignature` strategies.

use crate::message::{Message, Phase, Proposal, Request, Signed, Vote, VoteMsg};
use crate::replica::Probft;
use crate::sample::{Draw, VRF_CONTEXT};
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Digest, NodeId, Output, Target, Time};
use dwcp_crypto::{SecretKey, Signature};
use dwcp_sim::{Adversary, AdversaryCtx, ByzantineMessage, OutputOf};
use std::collections::BTreeMap;

impl ByzantineMessage for Message {
    fn equivocate(&self, rng: &mut Rng) -> Option<Self> {
        match self {
            Message::Request(r) => Some(Message::Request(
                dwcp_pbft::adversary::conflicting_request(r, rng),
            )),
            _ => None,
        }
    }

    fn corrupt_signature(&self) -> Option<Self> {
        let mut m = self.clone();
        let sig = m.signature_mut()?;
        *sig = dwcp_pbft::corrupt_signature(sig);
        Some(m)
    }

    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        let bump = 1 + rng.next_u64() % 3;
        let mut m = self.clone();
        match &mut m {
            Message::Request(r) => r.id = r.id.wrapping_add(bump),
            Message::Propose(p) => p.header.body.slot = p.header.body.slot.wrapping_add(bump),
            Message::Vote(v) => v.vote.body.slot = v.vote.body.slot.wrapping_add(bump),
            Message::ViewChange(v) => v.body.next_slot = v.body.next_slot.wrapping_add(bump),
            Message::NewView(v) => v.body.view = v.body.view.wrapping_add(bump),
            Message::Fetch { slot } => *slot = slot.wrapping_add(bump),
            Message::Decided { batch, .. } => {
                batch.pop()?;
            }
        }
        Some(m)
    }
}

/// A conflicting batch for `batch`: reversed when it holds two or more
/// requests, the null batch for one, `None` when empty.
pub fn conflicting_batch(batch: &[Request]) -> Option<Vec<Request>> {
    match batch.len() {
        0 => None,
        1 => Some(vec![]),
        _ => Some(batch.iter().rev().cloned().collect()),
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct Equivocator {
    key: SecretKey,
    from: Time,
    /// `(view, slot, original digest)` → the variant's digest and the
    /// variant header's signature.
    variants: BTreeMap<(u64, u64, Digest), (Digest, Signature)>,
}

impl Equivocator {
    /// Equivocates from `from` on with `key`, the corrupted node's own key.
    pub fn new(key: SecretKey, from: Time) -> Equivocator {
        Equivocator {
            key,
            from,
            variants: BTreeMap::new(),
        }
    }

    fn variant(&mut self, msg: &Message) -> Option<Message> {
        match msg {
            Message::Propose(p) => {
                let h = &p.header.body;
                let batch = conflicting_batch(&p.batch)?;
                let v = Proposal::new(h.view, h.slot, batch, h.leader, &self.key);
                self.variants.insert(
                    (h.view, h.slot, h.digest),
                    (v.header.body.digest, v.header.signature),
                );
                Some(Message::Propose(v))
            }
            Message::Vote(vm) => {
                let b = &vm.vote.body;
                let (digest, leader_signature) = *self.variants.get(&(b.view, b.slot, b.digest))?;
                let vote = Signed::sign(
                    Vote {
                        digest,
                        ..b.clone()
                    },
                    &self.key,
                );
                Some(Message::Vote(VoteMsg {
                    vote,
                    proof: vm.proof.clone(),
                    leader_signature,
                }))
            }
            _ => None,
        }
    }
}

impl Adversary<Probft> for Equivocator {
    fn name(&self) -> &'static str {
        "probft-equivocator"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, Probft>, output: OutputOf<Probft>) {
        let Output::Send { to, msg } = output else {
            return ctx.emit(output);
        };
        let variant = if ctx.now >= self.from {
            self.variant(&msg)
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

/// See the module docs.
#[derive(Clone, Debug)]
pub struct WrongProof {
    key: SecretKey,
}

impl WrongProof {
    /// Replaces vote proofs using `key`, the corrupted node's own key.
    pub fn new(key: SecretKey) -> WrongProof {
        WrongProof { key }
    }
}

impl Adversary<Probft> for WrongProof {
    fn name(&self) -> &'static str {
        "wrong-vrf-proof"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, Probft>, output: OutputOf<Probft>) {
        match output {
            Output::Send {
                to,
                msg: Message::Vote(mut vm),
            } => {
                let b = &vm.vote.body;
                let other = match b.phase {
                    Phase::Prepare => Phase::Commit,
                    Phase::Commit => Phase::Prepare,
                };
                let draw = Draw {
                    phase: other,
                    view: b.view,
                    slot: b.slot,
                };
                vm.proof = self.key.vrf_prove(VRF_CONTEXT, &draw.input()).1;
                ctx.send(to, Message::Vote(vm));
            }
            other => ctx.emit(other),
        }
    }
}

/// See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutsideSample;

impl Adversary<Probft> for OutsideSample {
    fn name(&self) -> &'static str {
        "votes-outside-sample"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, Probft>, output: OutputOf<Probft>) {
        match output {
            Output::Send {
                to,
                msg: msg @ Message::Vote(_),
            } => {
                let inside = ctx.recipients(&to);
                let mut outside = vec![ctx.me];
                outside.extend(inside.iter().copied());
                ctx.send(Target::AllBut(outside), msg.clone());
                ctx.send(to, msg);
            }
            other => ctx.emit(other),
        }
    }
}
