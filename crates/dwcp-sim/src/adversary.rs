//! Byzantine nodes.
//!
//! A Byzantine node still runs an honest engine built by the factory (so it
//! has state to lie *about*), but every input first passes through its
//! [`Adversary`] and every output of the engine is handed to the adversary,
//! which decides what the node actually does: pass it on, drop it, rewrite
//! it, or emit anything else of the engine's types.
//!
//! ## What an adversary can and cannot do
//! Following the usual model (as in hbbft's simulator): the adversary fully
//! controls the outputs of the nodes it corrupts, and the network model may
//! reorder and delay traffic within its configured bounds. It **cannot**
//! forge honest nodes' signatures or impersonate them: the simulator stamps
//! every copy with the true sender, so `from` is always authenticated. It can
//! forward (replay) messages it received, signatures included, because that
//! is what a real Byzantine peer can do. Whether it can produce a
//! *conflicting* message, a corrupted signature or a mutated message depends
//! on the protocol: the protocol crate says so by implementing
//! [`ByzantineMessage`] for its message type. Values delivered by Byzantine
//! nodes are excluded from every invariant.

use crate::rand::{chance, index};
pub use dwcp_core::OutputOf;
use dwcp_core::rng::Rng;
use dwcp_core::{Engine, NodeId, Output, Target, Time, WireMessage};
use std::collections::VecDeque;

mod strategies;

pub use strategies::{
    CrashAt, Equivocate, Flood, FnAdversary, InvalidSignature, Mutate, Replay, Silent,
};

/// Protocol-specific powers, implemented by a protocol crate for its message
/// type. Return `None` when a message has no such variant (for example a
/// message without a signature cannot have its signature corrupted).
pub trait ByzantineMessage: WireMessage {
    /// A message for the same slot that conflicts with `self`, signed with
    /// the sender's own key (for example a vote for a different digest).
    fn equivocate(&self, rng: &mut Rng) -> Option<Self>;
    /// `self` with a signature (or share, certificate, proof) that does not
    /// verify.
    fn corrupt_signature(&self) -> Option<Self>;
    /// A well-formed but wrong variant of `self` (a different round, a bogus
    /// field), used by [`Mutate`] and [`Flood`].
    fn mutate(&self, rng: &mut Rng) -> Option<Self>;
}

/// What an adversary sees and may do while handling one event.
pub struct AdversaryCtx<'a, E: Engine> {
    /// Global simulated time.
    pub now: Time,
    /// The node's local time (global time plus its clock offset), which is
    /// what its engine sees.
    pub local_now: Time,
    /// The corrupted node.
    pub me: NodeId,
    /// Committee size.
    pub n: usize,
    /// The adversary's own seeded RNG (one stream per Byzantine node).
    pub rng: &'a mut Rng,
    pub(crate) out: &'a mut Vec<OutputOf<E>>,
}

impl<E: Engine> AdversaryCtx<'_, E> {
    /// Makes the node perform `output` (subject to the usual host rules:
    /// sends wait for earlier persists to be durable).
    pub fn emit(&mut self, output: OutputOf<E>) {
        self.out.push(output);
    }

    /// Sends `msg` to `to` from this node.
    pub fn send(&mut self, to: Target, msg: E::Message) {
        self.out.push(Output::Send { to, msg });
    }

    /// The recipients of `to` in this committee, ascending.
    pub fn recipients(&self, to: &Target) -> Vec<NodeId> {
        let mut v = Vec::with_capacity(to.count(self.n));
        to.for_each(self.n, |id| v.push(id));
        v
    }

    /// A uniformly random node other than this one (this one if `n == 1`).
    pub fn random_peer(&mut self) -> NodeId {
        if self.n <= 1 {
            return self.me;
        }
        let i = index(self.rng, self.n - 1) as u32;
        NodeId(if i >= self.me.0 { i + 1 } else { i })
    }

    /// `true` with probability `p`, from the adversary's RNG.
    pub fn chance(&mut self, p: f64) -> bool {
        chance(self.rng, p)
    }
}

/// A Byzantine strategy wrapped around an honest engine. Every method has a
/// default that behaves honestly, so a strategy overrides only what it
/// corrupts.
pub trait Adversary<E: Engine> {
    /// A short name for reports.
    fn name(&self) -> &'static str;

    /// Sees an incoming message (from an authenticated sender) before the
    /// inner engine. Return `false` to hide it from the inner engine.
    fn on_message(
        &mut self,
        ctx: &mut AdversaryCtx<'_, E>,
        from: NodeId,
        msg: &E::Message,
    ) -> bool {
        let _ = (ctx, from, msg);
        true
    }

    /// Sees a local request before the inner engine. Return `false` to hide
    /// it.
    fn on_request(&mut self, ctx: &mut AdversaryCtx<'_, E>, req: &E::Request) -> bool {
        let _ = (ctx, req);
        true
    }

    /// Receives every output of the inner engine; whatever it emits through
    /// `ctx` is what the node does. The default passes it on unchanged.
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        ctx.emit(output);
    }

    /// The adversary's own next wake-up, in **global** time.
    fn next_deadline(&self) -> Option<Time> {
        None
    }

    /// Called at or after [`Adversary::next_deadline`].
    fn on_timer(&mut self, ctx: &mut AdversaryCtx<'_, E>) {
        let _ = ctx;
    }
}

/// A bounded memory of messages, shared by [`Replay`] and [`Flood`].
#[derive(Clone, Debug)]
pub(crate) struct Stash<M> {
    cap: usize,
    items: VecDeque<M>,
}

impl<M: Clone> Stash<M> {
    pub fn new(cap: usize) -> Self {
        Stash {
            cap: cap.max(1),
            items: VecDeque::new(),
        }
    }
    pub fn push(&mut self, m: M) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(m);
    }
    pub fn pick(&self, rng: &mut Rng) -> Option<M> {
        if self.items.is_empty() {
            None
        } else {
            self.items.get(index(rng, self.items.len())).cloned()
        }
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
}
