//! The generic Byzantine strategies.

use super::{Adversary, AdversaryCtx, ByzantineMessage, OutputOf, Stash};
use dwcp_core::{Duration, Engine, NodeId, Output, Target, Time};

/// Behaves honestly until `after`, then drops every output (sends, persists,
/// deliveries, evidence). It keeps receiving, so its engine stays current.
#[derive(Clone, Debug)]
pub struct Silent {
    /// When it falls silent.
    pub after: Time,
}

impl<E: Engine> Adversary<E> for Silent {
    fn name(&self) -> &'static str {
        "silent"
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        if ctx.now < self.after {
            ctx.emit(output);
        }
    }
}

/// Behaves honestly until `at`, then stops for good: it ignores every input
/// and emits nothing (a crash without restart, decided by the adversary).
#[derive(Clone, Debug)]
pub struct CrashAt {
    /// When it stops.
    pub at: Time,
}

impl<E: Engine> Adversary<E> for CrashAt {
    fn name(&self) -> &'static str {
        "crash"
    }
    fn on_message(&mut self, ctx: &mut AdversaryCtx<'_, E>, _: NodeId, _: &E::Message) -> bool {
        ctx.now < self.at
    }
    fn on_request(&mut self, ctx: &mut AdversaryCtx<'_, E>, _: &E::Request) -> bool {
        ctx.now < self.at
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        if ctx.now < self.at {
            ctx.emit(output);
        }
    }
}

/// From `from` on, every send for which the protocol can make a conflicting
/// variant ([`ByzantineMessage::equivocate`]) is split: recipients in the
/// lower half of the committee (`id < n / 2`) get the original, the upper
/// half gets the variant. The split is the same for every send, so each
/// honest node sees one consistent story — the strongest form of the attack.
#[derive(Clone, Debug)]
pub struct Equivocate {
    /// When it starts equivocating.
    pub from: Time,
}

impl<E: Engine> Adversary<E> for Equivocate
where
    E::Message: ByzantineMessage,
{
    fn name(&self) -> &'static str {
        "equivocate"
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        let Output::Send { to, msg } = output else {
            ctx.emit(output);
            return;
        };
        if ctx.now < self.from {
            ctx.send(to, msg);
            return;
        }
        let Some(variant) = msg.equivocate(ctx.rng) else {
            ctx.send(to, msg);
            return;
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

/// Corrupts the signature ([`ByzantineMessage::corrupt_signature`]) of each
/// send with probability `probability` (1.0: all of them).
#[derive(Clone, Debug)]
pub struct InvalidSignature {
    /// Per-send probability.
    pub probability: f64,
}

impl<E: Engine> Adversary<E> for InvalidSignature
where
    E::Message: ByzantineMessage,
{
    fn name(&self) -> &'static str {
        "invalid-signature"
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        match output {
            Output::Send { to, msg } if ctx.chance(self.probability) => {
                let msg = msg.corrupt_signature().unwrap_or(msg);
                ctx.send(to, msg);
            }
            other => ctx.emit(other),
        }
    }
}

/// Replaces each send with a mutated variant ([`ByzantineMessage::mutate`])
/// with probability `probability`.
#[derive(Clone, Debug)]
pub struct Mutate {
    /// Per-send probability.
    pub probability: f64,
}

impl<E: Engine> Adversary<E> for Mutate
where
    E::Message: ByzantineMessage,
{
    fn name(&self) -> &'static str {
        "mutate"
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        match output {
            Output::Send { to, msg } if ctx.chance(self.probability) => {
                let msg = msg.mutate(ctx.rng).unwrap_or(msg);
                ctx.send(to, msg);
            }
            other => ctx.emit(other),
        }
    }
}

/// Behaves honestly, but remembers the last `memory` messages it received or
/// sent, and after each of its own sends, with probability `probability`,
/// also re-sends a random remembered (stale) message to a random peer.
/// Replayed messages keep their original content and signatures; the
/// recipient sees the Byzantine node as the sender.
#[derive(Clone, Debug)]
pub struct Replay<M> {
    /// Per-send probability of an extra stale message.
    pub probability: f64,
    stash: Stash<M>,
}

impl<M: Clone> Replay<M> {
    /// Replays with the given probability from a memory of `memory` messages.
    pub fn new(probability: f64, memory: usize) -> Self {
        Replay {
            probability,
            stash: Stash::new(memory),
        }
    }
}

impl<E: Engine> Adversary<E> for Replay<E::Message> {
    fn name(&self) -> &'static str {
        "replay"
    }
    fn on_message(&mut self, _: &mut AdversaryCtx<'_, E>, _: NodeId, msg: &E::Message) -> bool {
        self.stash.push(msg.clone());
        true
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        let is_send = matches!(output, Output::Send { .. });
        if let Output::Send { msg, .. } = &output {
            self.stash.push(msg.clone());
        }
        ctx.emit(output);
        if is_send
            && ctx.chance(self.probability)
            && let Some(old) = self.stash.pick(ctx.rng)
        {
            let peer = ctx.random_peer();
            ctx.send(Target::One(peer), old);
        }
    }
}

/// Behaves honestly and, from `start` on, every `interval` sends `burst`
/// extra messages to `victim` (or to everybody else when `None`): copies of
/// remembered messages, each mutated ([`ByzantineMessage::mutate`]) when
/// `mutate` is set. Bound-tests per-peer memory and rate limits.
#[derive(Clone, Debug)]
pub struct Flood<M> {
    /// Time between bursts.
    pub interval: Duration,
    /// Messages per burst.
    pub burst: usize,
    /// Mutate each copy (junk) instead of sending exact copies.
    pub mutate: bool,
    /// The single target, or everybody else.
    pub victim: Option<NodeId>,
    next: Time,
    stash: Stash<M>,
}

impl<M: Clone> Flood<M> {
    /// Floods from `start` on with `burst` messages every `interval`.
    pub fn new(start: Time, interval: Duration, burst: usize) -> Self {
        Flood {
            interval: interval.max(Duration::from_nanos(1)),
            burst,
            mutate: false,
            victim: None,
            next: start,
            stash: Stash::new(64),
        }
    }

    /// Sends mutated junk instead of exact copies.
    pub fn with_mutation(mut self) -> Self {
        self.mutate = true;
        self
    }

    /// Floods one node only.
    pub fn at_victim(mut self, victim: NodeId) -> Self {
        self.victim = Some(victim);
        self
    }
}

impl<E: Engine> Adversary<E> for Flood<E::Message>
where
    E::Message: ByzantineMessage,
{
    fn name(&self) -> &'static str {
        "flood"
    }
    fn on_message(&mut self, _: &mut AdversaryCtx<'_, E>, _: NodeId, msg: &E::Message) -> bool {
        self.stash.push(msg.clone());
        true
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        if let Output::Send { msg, .. } = &output {
            self.stash.push(msg.clone());
        }
        ctx.emit(output);
    }
    fn next_deadline(&self) -> Option<Time> {
        Some(self.next)
    }
    fn on_timer(&mut self, ctx: &mut AdversaryCtx<'_, E>) {
        if ctx.now < self.next {
            return;
        }
        self.next = ctx.now + self.interval;
        if self.stash.len() == 0 {
            return;
        }
        let to = match self.victim {
            Some(v) => Target::One(v),
            None => Target::all_but(ctx.me),
        };
        for _ in 0..self.burst {
            let Some(m) = self.stash.pick(ctx.rng) else {
                break;
            };
            let m = if self.mutate {
                m.mutate(ctx.rng).unwrap_or(m)
            } else {
                m
            };
            ctx.send(to.clone(), m);
        }
    }
}

/// An adversary from a closure over the inner engine's outputs, for one-off
/// strategies in tests.
pub struct FnAdversary<F> {
    name: &'static str,
    f: F,
}

impl<F> FnAdversary<F> {
    /// Wraps `f`, which decides what the node does with each output.
    pub fn new(name: &'static str, f: F) -> Self {
        FnAdversary { name, f }
    }
}

impl<E: Engine, F: FnMut(&mut AdversaryCtx<'_, E>, OutputOf<E>)> Adversary<E> for FnAdversary<F> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, E>, output: OutputOf<E>) {
        (self.f)(ctx, output);
    }
}
