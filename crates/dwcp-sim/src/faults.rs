//! Scheduled events: requests, load generators, crashes, restarts,
//! pauses, link faults.

use crate::config::{AppLog, FaultEvent};
use crate::host::{Input, T_CRASH, T_PAUSE, T_REQ, T_RESTART, local, nanos};
use crate::partition::LinkEffect;
use crate::queue::Control;
use crate::sim::{Pending, Simulation};
use crate::trace::TraceEvent;
use dwcp_core::{Engine, NodeId, Time};

impl<E: Engine + 'static> Simulation<E> {
    pub(crate) fn control(&mut self, c: Control<E>) {
        match c {
            Control::Submit(node, req) => self.submit_now(node, req),
            Control::Fault(FaultEvent::Crash(node)) => self.crash(node.index()),
            Control::Fault(FaultEvent::Restart(node)) => self.restart(node.index()),
            Control::Fault(FaultEvent::Pause(node, d)) => self.pause(node.index(), nanos(d)),
            Control::Fault(FaultEvent::Partition(p)) => {
                // Only reachable through a manually built control; keep it total.
                self.net.partitions.add(u32::MAX, &p, LinkEffect::Block);
            }
            Control::Fault(FaultEvent::LinkFault(p, e)) => self.net.partitions.add(u32::MAX, &p, e),
            Control::Fault(FaultEvent::Heal) => self.net.partitions.clear(),
            Control::Fault(FaultEvent::SetUplink(node, bw)) => self.set_uplink(node, bw),
            Control::LinkOn(id, p, e) => self.net.partitions.add(id, &p, e),
            Control::LinkOff(id) => self.net.partitions.remove(id),
            Control::Resume(i) => self.resume(i as usize),
            Control::Load(idx) => self.load_tick(idx),
        }
    }

    fn submit_now(&mut self, node: NodeId, req: E::Request) {
        let now = self.now;
        self.submitted.push((Time(now), node, req.clone()));
        let Some(nd) = self.nodes.get_mut(node.index()) else {
            return;
        };
        if nd.engine.is_none() {
            self.stats.dropped_requests += 1;
        } else if nd.paused_until > now {
            nd.pending.push_back(Pending::Req(req));
            self.stats.queued_while_paused += 1;
        } else {
            self.request(node.index(), req);
        }
    }

    fn request(&mut self, i: usize, req: E::Request) {
        let now = self.now;
        self.stats.requests += 1;
        self.trace.event(T_REQ, now, i as u32, 0);
        self.trace.record(|| TraceEvent::Request {
            at: Time(now),
            node: NodeId(i as u32),
        });
        self.feed(i, Input::Request(req));
    }

    fn load_tick(&mut self, idx: usize) {
        let Some(g) = self.loads.get_mut(idx) else {
            return;
        };
        let (node, req) = (g.f)(g.tick, &mut self.load_rng);
        g.tick += 1;
        g.remaining -= 1;
        let next = (g.remaining > 0).then(|| self.now.saturating_add(g.interval));
        self.submit_now(node, req);
        if let Some(at) = next {
            self.push_control(at, Control::Load(idx));
        }
    }

    fn crash(&mut self, i: usize) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        if node.engine.take().is_none() {
            return;
        }
        node.crash_times.push(now);
        node.incarnation += 1;
        // Only what is durable survives: records, and deliveries that were
        // not waiting for an fsync.
        let keep = node.record_durable.partition_point(|d| *d <= now);
        node.records.truncate(keep);
        node.record_durable.truncate(keep);
        node.durable_until = node.durable_until.min(now);
        let keep = node.log_effective.partition_point(|d| *d <= now);
        node.log.truncate(keep);
        node.log_effective.truncate(keep);
        if self.cfg.app_log == AppLog::Volatile {
            let log = std::mem::take(&mut node.log);
            node.log_effective.clear();
            self.archived.push((NodeId(i as u32), log));
        }
        node.pending.clear();
        node.paused_until = 0;
        node.timer_gen = node.timer_gen.wrapping_add(1);
        node.timer_armed = u64::MAX;
        node.timer_queued = u64::MAX;
        if let Some(u) = self.net.uplink_free.get_mut(i) {
            *u = now;
        }
        self.trace.event(T_CRASH, now, i as u32, 0);
        self.trace.record(|| TraceEvent::Crash {
            at: Time(now),
            node: NodeId(i as u32),
        });
    }

    fn restart(&mut self, i: usize) {
        if i >= self.nodes.len() {
            return;
        }
        if self.nodes[i].engine.is_some() {
            self.crash(i);
        }
        let now = self.now;
        let mut engine = (self.factory)(NodeId(i as u32));
        let node = &mut self.nodes[i];
        let records = node.records.clone();
        let count = records.len();
        engine.restore(local(now, node.offset), records);
        node.engine = Some(engine);
        self.trace.event(T_RESTART, now, i as u32, count as u64);
        self.trace.record(|| TraceEvent::Restart {
            at: Time(now),
            node: NodeId(i as u32),
            records: count,
        });
        self.feed(i, Input::Drain);
    }

    fn pause(&mut self, i: usize, d: u64) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        if node.engine.is_none() {
            return;
        }
        let until = now.saturating_add(d);
        if until <= node.paused_until || d == 0 {
            return;
        }
        node.paused_until = until;
        self.trace.event(T_PAUSE, now, i as u32, until);
        self.trace.record(|| TraceEvent::Pause {
            at: Time(now),
            node: NodeId(i as u32),
            until: Time(until),
        });
        self.push_control(until, Control::Resume(i as u32));
    }

    fn resume(&mut self, i: usize) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        if node.paused_until == 0 || node.paused_until > now {
            return; // a longer pause or a crash superseded this one
        }
        node.paused_until = 0;
        self.trace.event(T_PAUSE, now, i as u32, 0);
        self.trace.record(|| TraceEvent::Resume {
            at: Time(now),
            node: NodeId(i as u32),
        });
        while let Some(p) = self.nodes[i].pending.pop_front() {
            match p {
                Pending::Msg {
                    from,
                    msg,
                    kind,
                    size,
                } => {
                    self.count_delivery(i as u32, from, kind, size);
                    self.feed(i, Input::Message(NodeId(from), msg));
                }
                Pending::Req(req) => self.request(i, req),
            }
        }
        // Deadlines that passed during the pause fire now.
        let node = &mut self.nodes[i];
        node.timer_gen = node.timer_gen.wrapping_add(1);
        node.timer_queued = u64::MAX;
        self.rearm(i);
    }
}
