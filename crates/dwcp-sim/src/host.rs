//! The host: the event loop and the exact driving rules of the dwcp-core
//! guide (drain after every input, persist, durability, timers, restart).

use crate::adversary::AdversaryCtx;
use crate::network::PlanDrops;
use crate::queue::{Fanout, What};
use crate::sim::{Out, Pending, Simulation};
use crate::trace::TraceEvent;
use dwcp_core::{Engine, NodeId, Output, Target, Time, WireMessage};
use std::collections::binary_heap::PeekMut;

/// Trace tags.
pub(crate) const T_MSG: u8 = 1;
pub(crate) const T_TIMER: u8 = 2;
pub(crate) const T_REQ: u8 = 3;
pub(crate) const T_DELIVER: u8 = 4;
pub(crate) const T_PERSIST: u8 = 5;
pub(crate) const T_EVIDENCE: u8 = 6;
pub(crate) const T_CRASH: u8 = 7;
pub(crate) const T_RESTART: u8 = 8;
pub(crate) const T_PAUSE: u8 = 9;

/// A node sees global time shifted by its clock offset.
#[inline]
pub(crate) fn local(now: u64, offset: i64) -> Time {
    Time(now.saturating_add_signed(offset))
}

/// A node's local deadline in global time.
#[inline]
fn global(t: Time, offset: i64) -> u64 {
    (t.0 as i128 - offset as i128).clamp(0, u64::MAX as i128) as u64
}

/// One input for a node.
pub(crate) enum Input<E: Engine> {
    Message(NodeId, E::Message),
    Request(E::Request),
    Timeout,
    /// Nothing: just drain (after construction or restore).
    Drain,
}

/// How many timeouts may fire for one node at one instant before the
/// simulator decides the engine's deadline never moves forward.
const MAX_FIRES_PER_INSTANT: u32 = 100_000;

impl<E: Engine + 'static> Simulation<E> {
    fn start(&mut self) {
        self.started = true;
        for i in 0..self.nodes.len() {
            self.feed(i, Input::Drain);
        }
    }

    /// Processes the next event if its time is at most `limit`.
    pub(crate) fn step_until(&mut self, limit: u64) -> bool {
        if !self.started {
            self.start();
        }
        let Some(mut top) = self.heap.peek_mut() else {
            return false;
        };
        let t = top.time();
        if t > limit {
            return false;
        }
        self.now = t;
        match top.what {
            What::Fanout(slot) => {
                let Some(f) = self.fanouts.get_mut(slot as usize) else {
                    PeekMut::pop(top);
                    return true;
                };
                let from = f.from as usize;
                // A copy whose sender crashed before it departed is never sent.
                let sender = &self.nodes[from];
                if f.incarnation != sender.incarnation
                    && sender
                        .crash_times
                        .get(f.incarnation as usize)
                        .is_some_and(|c| f.depart > *c)
                {
                    self.stats.dropped_sender_crashed +=
                        (f.arrivals.len() - f.cursor as usize) as u64;
                    PeekMut::pop(top);
                    f.msg = None;
                    self.free_fanouts.push(slot);
                    return true;
                }
                let a = f.arrivals[f.cursor as usize];
                f.cursor += 1;
                let (kind, size) = (f.kind, f.size);
                let msg = if f.cursor as usize == f.arrivals.len() {
                    PeekMut::pop(top);
                    self.free_fanouts.push(slot);
                    f.msg.take()
                } else {
                    top.set_time(f.arrivals[f.cursor as usize].at);
                    drop(top);
                    f.msg.clone()
                };
                if let Some(msg) = msg {
                    self.deliver(a.to, f_from(from), msg, kind, size);
                }
            }
            What::Timer { node, generation } => {
                PeekMut::pop(top);
                self.timer(node as usize, generation);
            }
            What::Control(idx) => {
                PeekMut::pop(top);
                let c = self.controls.get_mut(idx as usize).and_then(Option::take);
                self.free_controls.push(idx);
                if let Some(c) = c {
                    self.control(c);
                }
            }
        }
        true
    }

    fn deliver(&mut self, to: u32, from: u32, msg: E::Message, kind: u16, size: u32) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(to as usize) else {
            return;
        };
        if node.engine.is_none() {
            self.stats.dropped_at_crashed += 1;
            return;
        }
        if node.paused_until > now {
            node.pending.push_back(Pending::Msg {
                from,
                msg,
                kind,
                size,
            });
            self.stats.queued_while_paused += 1;
            return;
        }
        self.count_delivery(to, from, kind, size);
        self.feed(to as usize, Input::Message(NodeId(from), msg));
    }

    #[inline]
    pub(crate) fn count_delivery(&mut self, to: u32, from: u32, kind: u16, size: u32) {
        let s = &mut self.stats;
        s.delivered_events += 1;
        if let Some(k) = s.kinds.get_mut(kind as usize) {
            k.delivered += 1;
            k.delivered_bytes += size as u64;
        }
        if let Some(n) = s.nodes.get_mut(to as usize) {
            n.received += 1;
            n.received_bytes += size as u64;
        }
        let tr = &mut self.trace;
        tr.mix(self.now);
        tr.mix(((from as u64) << 32) | to as u64);
        tr.mix(((T_MSG as u64) << 56) | ((kind as u64) << 32) | size as u64);
        if tr.events.is_some() {
            let kind = self.stats.kinds.get(kind as usize).map_or("?", |k| k.kind);
            let at = Time(self.now);
            tr.record(|| TraceEvent::Message {
                at,
                from: NodeId(from),
                to: NodeId(to),
                kind,
                size,
            });
        }
    }

    /// Feeds one input to node `i`, drains its outputs (through its
    /// adversary if it is Byzantine), applies them and re-arms its timer.
    pub(crate) fn feed(&mut self, i: usize, input: Input<E>) {
        let now = self.now;
        let n = self.nodes.len();
        let mut buf = std::mem::take(&mut self.out_buf);
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        let lnow = local(now, node.offset);
        let Some(engine) = node.engine.as_mut() else {
            self.out_buf = buf;
            return;
        };
        match node.byz.as_deref_mut() {
            None => {
                match input {
                    Input::Message(from, msg) => engine.handle_message(lnow, from, msg),
                    Input::Request(req) => engine.handle_request(lnow, req),
                    Input::Timeout => engine.handle_timeout(lnow),
                    Input::Drain => {}
                }
                while let Some(o) = engine.poll_output() {
                    buf.push(o);
                }
            }
            Some(byz) => {
                let mut ctx = AdversaryCtx {
                    now: Time(now),
                    local_now: lnow,
                    me: NodeId(i as u32),
                    n,
                    rng: &mut byz.rng,
                    out: &mut buf,
                };
                let adv = &mut byz.adversary;
                match input {
                    Input::Message(from, msg) => {
                        if adv.on_message(&mut ctx, from, &msg) {
                            engine.handle_message(lnow, from, msg);
                        }
                    }
                    Input::Request(req) => {
                        if adv.on_request(&mut ctx, &req) {
                            engine.handle_request(lnow, req);
                        }
                    }
                    Input::Timeout => {
                        if engine.next_deadline().is_some_and(|d| d <= lnow) {
                            engine.handle_timeout(lnow);
                        }
                        if adv.next_deadline().is_some_and(|d| d.0 <= now) {
                            adv.on_timer(&mut ctx);
                        }
                    }
                    Input::Drain => {}
                }
                while let Some(o) = engine.poll_output() {
                    adv.on_output(&mut ctx, o);
                }
            }
        }
        self.apply(i, &mut buf);
        self.out_buf = buf;
        self.rearm(i);
    }

    fn apply(&mut self, i: usize, buf: &mut Vec<Out<E>>) {
        for o in buf.drain(..) {
            match o {
                Output::Send { to, msg } => self.send(i, to, msg),
                Output::Persist(r) => {
                    let now = self.now;
                    let durable = now.saturating_add(nanos(self.cfg.fsync));
                    self.trace.event(T_PERSIST, now, i as u32, 0);
                    self.trace.mix_debug(&r);
                    self.trace.record(|| TraceEvent::Persist {
                        at: Time(now),
                        node: NodeId(i as u32),
                    });
                    self.stats.nodes[i].persisted += 1;
                    let node = &mut self.nodes[i];
                    node.records.push(r);
                    node.record_durable.push(durable);
                    node.durable_until = node.durable_until.max(durable);
                }
                Output::Deliver(v) => {
                    let now = self.now;
                    let node = &mut self.nodes[i];
                    let index = node.log.len();
                    self.trace.event(T_DELIVER, now, i as u32, index as u64);
                    self.trace.mix_debug(&v);
                    self.trace.record(|| TraceEvent::Deliver {
                        at: Time(now),
                        node: NodeId(i as u32),
                        index,
                    });
                    node.log.push(v);
                    node.log_effective.push(now.max(node.durable_until));
                    self.stats.nodes[i].delivered_values += 1;
                    self.deliver_count += 1;
                }
                Output::Evidence(e) => {
                    let now = self.now;
                    self.trace
                        .event(T_EVIDENCE, now, i as u32, e.culprit.0 as u64);
                    let culprit = e.culprit;
                    self.trace.record(|| TraceEvent::Evidence {
                        at: Time(now),
                        node: NodeId(i as u32),
                        culprit,
                    });
                    self.stats.evidence += 1;
                    self.evidence.push((Time(now), NodeId(i as u32), e));
                }
            }
        }
    }

    fn send(&mut self, i: usize, to: Target, msg: E::Message) {
        let n = self.nodes.len();
        let node = &self.nodes[i];
        // Durability rule: a send leaves once every earlier persist is durable.
        let depart = self.now.max(node.durable_until);
        let incarnation = node.incarnation;
        let kind = self.stats.kind_index(msg.kind());
        let size = msg.wire_size().min(u32::MAX as usize) as u32;
        self.stats.sends += 1;
        let mut rec = std::mem::take(&mut self.recipients);
        rec.clear();
        to.for_each(n, |id| rec.push(id.0));
        if rec.is_empty() {
            self.recipients = rec;
            return;
        }
        let copies = rec.len() as u64;
        let bytes = copies * size as u64;
        if let Some(k) = self.stats.kinds.get_mut(kind as usize) {
            k.sent += copies;
            k.sent_bytes += bytes;
        }
        let ns = &mut self.stats.nodes[i];
        ns.sent += copies;
        ns.sent_bytes += bytes;
        let slot = match self.free_fanouts.pop() {
            Some(s) => s,
            None => {
                self.fanouts.push(Fanout {
                    from: 0,
                    incarnation: 0,
                    depart: 0,
                    kind: 0,
                    size: 0,
                    msg: None,
                    arrivals: Vec::new(),
                    cursor: 0,
                });
                (self.fanouts.len() - 1) as u32
            }
        };
        let f = &mut self.fanouts[slot as usize];
        f.arrivals.clear();
        let mut drops = PlanDrops::default();
        self.net.plan(
            i as u32,
            depart,
            size as u64,
            &rec,
            &mut f.arrivals,
            &mut drops,
        );
        self.recipients = rec;
        self.stats.lost += drops.lost;
        self.stats.partitioned += drops.partitioned;
        self.stats.duplicated += drops.duplicated;
        if f.arrivals.is_empty() {
            self.free_fanouts.push(slot);
            return;
        }
        f.arrivals.sort_unstable();
        f.from = i as u32;
        f.incarnation = incarnation;
        f.depart = depart;
        f.kind = kind;
        f.size = size;
        f.msg = Some(msg);
        f.cursor = 0;
        let first = f.arrivals[0].at;
        self.push(first, What::Fanout(slot));
    }

    /// Keeps exactly one live timer event per node, at its earliest deadline
    /// (the engine's, converted to global time, or its adversary's).
    pub(crate) fn rearm(&mut self, i: usize) {
        let now = self.now;
        let node = &mut self.nodes[i];
        let Some(engine) = &node.engine else { return };
        let mut d = engine
            .next_deadline()
            .map_or(u64::MAX, |t| global(t, node.offset));
        if let Some(b) = &node.byz
            && let Some(t) = b.adversary.next_deadline()
        {
            d = d.min(t.0);
        }
        if d != u64::MAX {
            d = d.max(now);
        }
        node.timer_armed = d;
        if d < node.timer_queued {
            node.timer_gen = node.timer_gen.wrapping_add(1);
            node.timer_queued = d;
            let generation = node.timer_gen;
            self.push(
                d,
                What::Timer {
                    node: i as u32,
                    generation,
                },
            );
        }
    }

    fn timer(&mut self, i: usize, generation: u32) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        if generation != node.timer_gen {
            return; // stale
        }
        node.timer_queued = u64::MAX;
        if node.engine.is_none() || node.paused_until > now {
            return; // resume or restart re-arms
        }
        if node.timer_armed > now {
            let armed = node.timer_armed;
            if armed != u64::MAX {
                node.timer_gen = node.timer_gen.wrapping_add(1);
                node.timer_queued = armed;
                let generation = node.timer_gen;
                self.push(
                    armed,
                    What::Timer {
                        node: i as u32,
                        generation,
                    },
                );
            }
            return;
        }
        if node.last_fire == now {
            node.fires_at_instant += 1;
            assert!(
                node.fires_at_instant < MAX_FIRES_PER_INSTANT,
                "SEED={}: n{i}'s next_deadline stays at or before {} after handle_timeout ({} fires at one instant)",
                self.cfg.seed,
                Time(now),
                MAX_FIRES_PER_INSTANT
            );
        } else {
            node.last_fire = now;
            node.fires_at_instant = 0;
        }
        self.stats.timer_events += 1;
        self.trace.event(T_TIMER, now, i as u32, 0);
        self.trace.record(|| TraceEvent::Timer {
            at: Time(now),
            node: NodeId(i as u32),
        });
        self.feed(i, Input::Timeout);
    }
}

#[inline]
fn f_from(from: usize) -> u32 {
    from as u32
}

pub(crate) fn nanos(d: dwcp_core::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
