//! A slow primary for the simulator: it holds back every pre-prepare it
//! sends for a fixed delay, chosen just under the backups' request timeout,
//! so that its views never time out but each of its proposals costs that
//! delay.

use dwcp_core::{Duration, Output, Time};
use dwcp_pbft::{Message, Pbft, Policy};
use dwcp_sim::{Adversary, AdversaryCtx, OutputOf};
use std::collections::VecDeque;

/// Delays its pre-prepares by `delay` (everything else is sent at once).
#[derive(Clone, Debug)]
pub struct SlowPrimary<P: Policy> {
    delay: Duration,
    held: VecDeque<(Time, OutputOf<Pbft<P>>)>,
}

impl<P: Policy> SlowPrimary<P> {
    /// Holds each pre-prepare for `delay`.
    pub fn new(delay: Duration) -> SlowPrimary<P> {
        SlowPrimary {
            delay,
            held: VecDeque::new(),
        }
    }
}

impl<P: Policy + 'static> Adversary<Pbft<P>> for SlowPrimary<P> {
    fn name(&self) -> &'static str {
        "slow-primary"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, Pbft<P>>, output: OutputOf<Pbft<P>>) {
        match &output {
            Output::Send {
                msg: Message::PrePrepare { .. },
                ..
            } => self.held.push_back((ctx.now + self.delay, output)),
            _ => ctx.emit(output),
        }
    }

    fn next_deadline(&self) -> Option<Time> {
        self.held.front().map(|(at, _)| *at)
    }

    fn on_timer(&mut self, ctx: &mut AdversaryCtx<'_, Pbft<P>>) {
        while self.held.front().is_some_and(|(at, _)| *at <= ctx.now) {
            if let Some((_, out)) = self.held.pop_front() {
                ctx.emit(out);
            }
        }
    }
}
