//! Byzantine behaviour for the simulator (feature `sim`).
//!
//! - [`ByzantineMessage`] for [`Message`]: `corrupt_signature` flips a byte
//!   of a proposal's signature; `mutate` changes a signed or certified field
//!   without re-signing; `equivocate` is `None` (it needs keys: see below).
//! - [`Equivocator`]: a leader holding its own keys that, for each of its
//!   proposals, sends the original to the lower half of the committee and a
//!   conflicting, validly signed block for the same view (an invented extra
//!   transaction) to the upper half.
//! - [`BadShares`]: replaces every vote and timeout share with a share on
//!   other bytes (well-formed, wrong), so combining them fails and
//!   bisection names the sender.
//!
//! Silent leaders use the simulator's `Silent` strategy directly.

use crate::harness::INVENTED_IDS;
use crate::message::{Block, Message, Proposal, Vote, timeout_bytes, vote_bytes};
use crate::replica::HotStuff;
use crate::tx::{Batch, Tx};
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{NodeId, Output, Target, Time, codec};
use dwcp_crypto::{SecretKey, Signature, Signed, ThresholdShare};
use dwcp_sim::{Adversary, AdversaryCtx, ByzantineMessage, OutputOf};

/// A copy of `sig` with one byte changed, still decodable (so it reaches
/// the verifier and fails there).
pub fn corrupt_signature(sig: &Signature) -> Signature {
    let bytes = codec::encode(sig);
    for i in 2..bytes.len() {
        let mut b = bytes.clone();
        if let Some(x) = b.get_mut(i) {
            *x ^= 0x01;
        }
        if let Ok(s) = codec::decode::<Signature>(&b)
            && s != *sig
        {
            return s;
        }
    }
    *sig
}

impl ByzantineMessage for Message {
    fn equivocate(&self, _: &mut Rng) -> Option<Self> {
        None
    }

    fn corrupt_signature(&self) -> Option<Self> {
        match self {
            Message::Propose {
                proposal,
                block,
                tc,
            } => Some(Message::Propose {
                proposal: Signed {
                    body: proposal.body.clone(),
                    signature: corrupt_signature(&proposal.signature),
                },
                block: block.clone(),
                tc: tc.clone(),
            }),
            _ => None,
        }
    }

    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        let bump = 1 + rng.next_u64() % 3;
        let mut m = self.clone();
        match &mut m {
            Message::Propose { block, .. } => block.height = block.height.wrapping_add(bump),
            Message::Vote(v) => v.view = v.view.wrapping_add(bump),
            Message::Timeout { high_qc, .. } => high_qc.view = high_qc.view.wrapping_add(bump),
            Message::Help { view, .. } => *view = view.wrapping_add(bump),
            Message::Forward(txs) => {
                txs.pop()?;
            }
            Message::Fetch { max, .. } => *max = max.wrapping_add(bump as u32),
            Message::Blocks(bs) => {
                bs.first_mut()?.view ^= bump;
            }
        }
        Some(m)
    }
}

/// A conflicting block for the same view as `block` (one invented
/// transaction appended), with its proposal signed by `key`.
pub fn conflicting(block: &Block, key: &SecretKey) -> (Signed<Proposal>, Block) {
    let mut txs: Vec<Tx> = block.txs.txs().to_vec();
    txs.push(Tx::new(INVENTED_IDS + block.view % (1 << 31), vec![0xEE]));
    let other = Block {
        txs: Batch::from(txs),
        ..block.clone()
    };
    let proposal = Signed::sign(
        Proposal {
            view: other.view,
            block: other.digest(),
            author: other.author,
        },
        key,
    );
    (proposal, other)
}

/// An equivocating leader (see the module docs).
#[derive(Clone, Debug)]
pub struct Equivocator {
    key: SecretKey,
    from: Time,
}

impl Equivocator {
    /// Equivocates from `from` on with its own `key`.
    pub fn new(key: SecretKey, from: Time) -> Self {
        Equivocator { key, from }
    }
}

impl Adversary<HotStuff> for Equivocator {
    fn name(&self) -> &'static str {
        "equivocating-leader"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, HotStuff>, output: OutputOf<HotStuff>) {
        let Output::Send {
            to,
            msg:
                Message::Propose {
                    block,
                    tc,
                    proposal,
                },
        } = output
        else {
            ctx.emit(output);
            return;
        };
        if ctx.now < self.from {
            ctx.send(
                to,
                Message::Propose {
                    proposal,
                    block,
                    tc,
                },
            );
            return;
        }
        let (p2, b2) = conflicting(&block, &self.key);
        let half = (ctx.n / 2) as u32;
        let (low, high): (Vec<NodeId>, Vec<NodeId>) =
            ctx.recipients(&to).into_iter().partition(|id| id.0 < half);
        ctx.send(
            Target::many(low),
            Message::Propose {
                proposal,
                block,
                tc: tc.clone(),
            },
        );
        ctx.send(
            Target::many(high),
            Message::Propose {
                proposal: p2,
                block: b2,
                tc,
            },
        );
    }
}

/// A replica whose vote and timeout shares never verify (see the module
/// docs).
#[derive(Clone, Debug)]
pub struct BadShares {
    share: ThresholdShare,
}

impl BadShares {
    /// Signs wrong bytes with the replica's own `share`.
    pub fn new(share: ThresholdShare) -> Self {
        BadShares { share }
    }
}

impl Adversary<HotStuff> for BadShares {
    fn name(&self) -> &'static str {
        "bad-shares"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, HotStuff>, output: OutputOf<HotStuff>) {
        let spoil = |v: Vote| Vote {
            share: self.share.sign(&vote_bytes(v.view ^ 1, &v.block)),
            ..v
        };
        match output {
            Output::Send {
                to,
                msg: Message::Vote(v),
            } => ctx.send(to, Message::Vote(spoil(v))),
            Output::Send {
                to,
                msg:
                    Message::Timeout {
                        view,
                        high_qc,
                        vote,
                        ..
                    },
            } => {
                let share = self.share.sign(&timeout_bytes(view ^ 1));
                let vote = vote.map(spoil);
                ctx.send(
                    to,
                    Message::Timeout {
                        view,
                        high_qc,
                        share,
                        vote,
                    },
                );
            }
            other => ctx.emit(other),
        }
    }
}
