//! The simulation: construction, scheduling, running, reading results.

use crate::adversary::Adversary;
use crate::config::{AppLog, FaultEvent, SimConfig};
use crate::invariants::{self, Log, Violation, ViolationKind};
use crate::network::Network;
use crate::partition::{LinkEffect, Partition};
use crate::queue::{Control, Entry, Fanout, What};
use crate::stats::Stats;
use crate::trace::{Trace, TraceEvent};
use dwcp_core::rng::{Rng, derive};
use dwcp_core::{Duration, Engine, Evidence, NodeId, Output, Time};
use std::collections::{BinaryHeap, VecDeque};

pub(crate) type Out<E> =
    Output<<E as Engine>::Message, <E as Engine>::Record, <E as Engine>::Value>;

/// A load generator: called once per tick with the tick number.
pub(crate) type LoadFn<E> = Box<dyn FnMut(u64, &mut Rng) -> (NodeId, <E as Engine>::Request)>;

pub(crate) struct LoadGen<E: Engine> {
    pub f: LoadFn<E>,
    pub interval: u64,
    pub remaining: u64,
    pub tick: u64,
}

/// An input waiting for a paused node.
pub(crate) enum Pending<E: Engine> {
    Msg {
        from: u32,
        msg: E::Message,
        kind: u16,
        size: u32,
    },
    Req(E::Request),
}

pub(crate) struct Byz<E: Engine> {
    pub adversary: Box<dyn Adversary<E>>,
    pub rng: Rng,
}

pub(crate) struct Node<E: Engine> {
    pub engine: Option<E>,
    pub byz: Option<Box<Byz<E>>>,
    pub offset: i64,
    /// Global time (ns) until which the node is paused; 0 when running.
    pub paused_until: u64,
    pub timer_armed: u64,
    pub timer_queued: u64,
    pub timer_gen: u32,
    pub incarnation: u32,
    /// When the latest `Persist` becomes durable.
    pub durable_until: u64,
    pub records: Vec<E::Record>,
    pub record_durable: Vec<u64>,
    pub log: Vec<E::Value>,
    pub log_effective: Vec<u64>,
    pub crash_times: Vec<u64>,
    pub pending: VecDeque<Pending<E>>,
    pub last_fire: u64,
    pub fires_at_instant: u32,
}

/// A deterministic discrete-event simulation of `n` nodes running engine `E`.
/// See the crate docs for the numbered guide.
pub struct Simulation<E: Engine> {
    pub(crate) cfg: SimConfig,
    pub(crate) factory: Box<dyn FnMut(NodeId) -> E>,
    pub(crate) nodes: Vec<Node<E>>,
    pub(crate) net: Network,
    pub(crate) heap: BinaryHeap<Entry>,
    pub(crate) seq: u64,
    pub(crate) fanouts: Vec<Fanout<E::Message>>,
    pub(crate) free_fanouts: Vec<u32>,
    pub(crate) controls: Vec<Option<Control<E>>>,
    pub(crate) free_controls: Vec<u32>,
    pub(crate) now: u64,
    pub(crate) stats: Stats,
    pub(crate) trace: Trace,
    pub(crate) evidence: Vec<(Time, NodeId, Evidence)>,
    pub(crate) submitted: Vec<(Time, NodeId, E::Request)>,
    pub(crate) archived: Vec<(NodeId, Vec<E::Value>)>,
    pub(crate) loads: Vec<LoadGen<E>>,
    pub(crate) load_rng: Rng,
    pub(crate) out_buf: Vec<Out<E>>,
    pub(crate) recipients: Vec<u32>,
    pub(crate) started: bool,
    pub(crate) next_partition: u32,
    pub(crate) deliver_count: u64,
}

impl<E: Engine + 'static> Simulation<E> {
    /// Builds `config.n` engines with `factory` (which is called again, with
    /// the same id, for every restart).
    ///
    /// # Panics
    /// If the network configuration is invalid ([`crate::NetworkConfig::validate`])
    /// or `n` is zero or above `u32::MAX`.
    pub fn new(config: SimConfig, factory: impl FnMut(NodeId) -> E + 'static) -> Self {
        if let Err(e) = config.network.validate() {
            panic!("invalid network configuration: {e}");
        }
        assert!(
            config.n > 0 && config.n < u32::MAX as usize,
            "n must be in 1..u32::MAX"
        );
        let mut factory: Box<dyn FnMut(NodeId) -> E> = Box::new(factory);
        let n = config.n;
        let nodes = NodeId::all(n)
            .map(|id| Node {
                engine: Some(factory(id)),
                byz: None,
                offset: config.clock_offsets.get(id.index()).copied().unwrap_or(0),
                paused_until: 0,
                timer_armed: u64::MAX,
                timer_queued: u64::MAX,
                timer_gen: 0,
                incarnation: 0,
                durable_until: 0,
                records: Vec::new(),
                record_durable: Vec::new(),
                log: Vec::new(),
                log_effective: Vec::new(),
                crash_times: Vec::new(),
                pending: VecDeque::new(),
                last_fire: u64::MAX,
                fires_at_instant: 0,
            })
            .collect();
        let seed = config.seed;
        Simulation {
            net: Network::new(config.network.clone(), n, derive(seed, u64::MAX)),
            trace: Trace::new(seed, config.record_trace),
            stats: Stats::new(n),
            load_rng: derive(seed, u64::MAX - 1),
            cfg: config,
            factory,
            nodes,
            heap: BinaryHeap::new(),
            seq: 0,
            fanouts: Vec::new(),
            free_fanouts: Vec::new(),
            controls: Vec::new(),
            free_controls: Vec::new(),
            now: 0,
            evidence: Vec::new(),
            submitted: Vec::new(),
            archived: Vec::new(),
            loads: Vec::new(),
            out_buf: Vec::new(),
            recipients: Vec::new(),
            started: false,
            next_partition: 0,
            deliver_count: 0,
        }
    }

    /// Corrupts `node`: from now on its inputs and outputs pass through
    /// `adversary` (see [`crate::adversary`]). Its values are excluded from
    /// the invariants. Usually called before running.
    pub fn make_byzantine(&mut self, node: NodeId, adversary: impl Adversary<E> + 'static) {
        let rng = derive(self.cfg.seed, (1 << 32) | node.0 as u64);
        if let Some(nd) = self.nodes.get_mut(node.index()) {
            nd.byz = Some(Box::new(Byz {
                adversary: Box::new(adversary),
                rng,
            }));
        }
        if self.started {
            self.rearm(node.index());
        }
    }

    /// Hands `req` to `node`'s engine at time `at` (queued if it is paused,
    /// dropped if it is down). Every submission is recorded
    /// ([`Simulation::submitted`]).
    pub fn submit(&mut self, at: Time, node: NodeId, req: E::Request) {
        self.push_control(at.as_nanos(), Control::Submit(node, req));
    }

    /// [`Simulation::submit`] for many requests.
    pub fn submit_many(&mut self, reqs: impl IntoIterator<Item = (Time, NodeId, E::Request)>) {
        for (at, node, req) in reqs {
            self.submit(at, node, req);
        }
    }

    /// A load generator: from `start`, every `interval`, `count` times in
    /// all, calls `generate(tick, rng)` and submits the request it returns to
    /// the node it names. The RNG is a dedicated seeded stream.
    pub fn load(
        &mut self,
        start: Time,
        interval: Duration,
        count: u64,
        generate: impl FnMut(u64, &mut Rng) -> (NodeId, E::Request) + 'static,
    ) {
        if count == 0 {
            return;
        }
        let interval = u64::try_from(interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        self.loads.push(LoadGen {
            f: Box::new(generate),
            interval,
            remaining: count,
            tick: 0,
        });
        let idx = self.loads.len() - 1;
        self.push_control(start.as_nanos(), Control::Load(idx));
    }

    /// Schedules a fault (crash, restart, pause, partition, heal, bandwidth
    /// change) at time `at` (now, if `at` is in the past).
    pub fn schedule(&mut self, at: Time, fault: FaultEvent) {
        let c = match fault {
            FaultEvent::Partition(p) => {
                let id = self.alloc_partition();
                Control::LinkOn(id, p, LinkEffect::Block)
            }
            FaultEvent::LinkFault(p, e) => {
                let id = self.alloc_partition();
                Control::LinkOn(id, p, e)
            }
            other => Control::Fault(other),
        };
        self.push_control(at.as_nanos(), c);
    }

    /// A partition in force on `[start, end)`; other partitions are not
    /// affected when it ends.
    pub fn partition_between(&mut self, start: Time, end: Time, partition: Partition) {
        self.link_fault_between(start, end, partition, LinkEffect::Block);
    }

    /// A link fault in force on `[start, end)`: the links selected by
    /// `links` are blocked, slowed down or made lossy (clogging). Other link
    /// faults are not affected when it ends.
    pub fn link_fault_between(
        &mut self,
        start: Time,
        end: Time,
        links: Partition,
        effect: LinkEffect,
    ) {
        let id = self.alloc_partition();
        self.push_control(start.as_nanos(), Control::LinkOn(id, links, effect));
        self.push_control(end.as_nanos(), Control::LinkOff(id));
    }

    /// Sets one node's uplink bandwidth now (bytes/s, `None` for infinite).
    pub fn set_uplink(&mut self, node: NodeId, bytes_per_sec: Option<u64>) {
        if let Some(b) = self.net.uplink_bw.get_mut(node.index()) {
            *b = bytes_per_sec.unwrap_or(0);
        }
    }

    /// Sets one node's clock offset in nanoseconds. Call it before running:
    /// moving a running node's clock backwards shows its engine time going
    /// backwards.
    pub fn set_clock_offset(&mut self, node: NodeId, offset_ns: i64) {
        if let Some(nd) = self.nodes.get_mut(node.index()) {
            nd.offset = offset_ns;
        }
    }

    fn alloc_partition(&mut self) -> u32 {
        self.next_partition += 1;
        self.next_partition
    }

    pub(crate) fn push_control(&mut self, at: u64, c: Control<E>) {
        let at = at.max(self.now);
        let idx = match self.free_controls.pop() {
            Some(i) => {
                self.controls[i as usize] = Some(c);
                i
            }
            None => {
                self.controls.push(Some(c));
                (self.controls.len() - 1) as u32
            }
        };
        self.push(at, What::Control(idx));
    }

    #[inline]
    pub(crate) fn push(&mut self, at: u64, what: What) {
        self.seq += 1;
        self.heap.push(Entry::new(at, self.seq, what));
    }

    // ---- running -------------------------------------------------------

    /// Processes every event up to and including `t`, then sets the clock to
    /// `t`.
    pub fn run_until(&mut self, t: Time) {
        while self.step_until(t.as_nanos()) {}
        self.now = self.now.max(t.as_nanos());
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let t = Time(self.now).saturating_add(d);
        self.run_until(t);
    }

    /// Runs until no event is left or `limit` is passed; returns `true` if
    /// the queue ran dry (the system is quiet).
    pub fn run_until_quiet(&mut self, limit: Time) -> bool {
        while self.step_until(limit.as_nanos()) {}
        let quiet = self.heap.is_empty();
        if !quiet {
            self.now = self.now.max(limit.as_nanos());
        }
        quiet
    }

    /// Runs until `done(self)` holds (checked after every event) or `limit`
    /// is passed; returns whether `done` held.
    pub fn run_until_cond(&mut self, limit: Time, mut done: impl FnMut(&Self) -> bool) -> bool {
        if done(self) {
            return true;
        }
        while self.step_until(limit.as_nanos()) {
            if done(self) {
                return true;
            }
        }
        self.now = self.now.max(limit.as_nanos());
        done(self)
    }

    /// Processes the next event; `false` when there is none.
    pub fn step(&mut self) -> bool {
        self.step_until(u64::MAX)
    }

    /// The liveness phase: runs until every honest node that is up has at
    /// least `target` values in its log, or `deadline` passes (then a
    /// [`ViolationKind::Liveness`] names the laggards). Heal the network and
    /// restart nodes before calling it.
    pub fn run_until_delivered(&mut self, target: usize, deadline: Time) -> Result<(), Violation> {
        let mut seen = u64::MAX;
        let ok = self.run_until_cond(deadline, |s| {
            if s.deliver_count == seen {
                return false;
            }
            seen = s.deliver_count;
            s.lagging(target).is_empty()
        });
        if ok {
            return Ok(());
        }
        let lagging = self.lagging(target);
        Err(self.violation(ViolationKind::Liveness {
            target,
            deadline,
            lagging,
        }))
    }

    fn lagging(&self, target: usize) -> Vec<(NodeId, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, nd)| nd.byz.is_none() && nd.engine.is_some() && nd.log.len() < target)
            .map(|(i, nd)| (NodeId(i as u32), nd.log.len()))
            .collect()
    }

    // ---- reading results -----------------------------------------------

    /// Current simulated (global) time.
    pub fn now(&self) -> Time {
        Time(self.now)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The hash of every event so far: each delivered message (time, sender,
    /// recipient, kind, size), timeout, request, `Deliver` (with the value's
    /// `Debug` rendering), `Persist` (likewise), evidence, crash, restart and
    /// pause. Two runs with the same seed, factory and schedule give the same
    /// hash.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// The recorded events (empty unless [`SimConfig::record_trace`]).
    pub fn trace(&self) -> &[TraceEvent] {
        self.trace.events.as_deref().unwrap_or(&[])
    }

    /// Events still queued.
    pub fn pending_events(&self) -> usize {
        self.heap.len()
    }

    /// `node`'s delivered values, in order (its current log).
    pub fn delivered(&self, node: NodeId) -> &[E::Value] {
        self.nodes.get(node.index()).map_or(&[], |n| &n.log)
    }

    /// When each of `node`'s delivered values took effect (ns of simulated
    /// time; parallel to [`Simulation::delivered`]). A delivery that follows
    /// a pending persist takes effect when that persist is durable.
    pub fn delivered_at(&self, node: NodeId) -> &[u64] {
        self.nodes
            .get(node.index())
            .map_or(&[], |n| &n.log_effective)
    }

    /// Logs lost in crashes under [`AppLog::Volatile`], oldest first.
    pub fn archived_logs(&self) -> &[(NodeId, Vec<E::Value>)] {
        &self.archived
    }

    /// `node`'s durable records (what a restart gets back).
    pub fn persisted(&self, node: NodeId) -> &[E::Record] {
        self.nodes.get(node.index()).map_or(&[], |n| &n.records)
    }

    /// `node`'s engine, unless it is down.
    pub fn engine(&self, node: NodeId) -> Option<&E> {
        self.nodes.get(node.index()).and_then(|n| n.engine.as_ref())
    }

    /// Whether `node` is running (not crashed; it may be paused).
    pub fn is_up(&self, node: NodeId) -> bool {
        self.engine(node).is_some()
    }

    /// Whether `node` is paused.
    pub fn is_paused(&self, node: NodeId) -> bool {
        self.nodes
            .get(node.index())
            .is_some_and(|n| n.paused_until > self.now)
    }

    /// Whether `node` is honest (not made Byzantine).
    pub fn is_honest(&self, node: NodeId) -> bool {
        self.nodes
            .get(node.index())
            .is_some_and(|n| n.byz.is_none())
    }

    /// The honest nodes.
    pub fn honest(&self) -> Vec<NodeId> {
        NodeId::all(self.nodes.len())
            .filter(|id| self.is_honest(*id))
            .collect()
    }

    /// Every `Evidence` output: (time, reporter, evidence). Reports by
    /// Byzantine nodes are included; filter with [`Simulation::is_honest`].
    pub fn evidence(&self) -> &[(Time, NodeId, Evidence)] {
        &self.evidence
    }

    /// Every submitted request: (time, node, request).
    pub fn submitted(&self) -> &[(Time, NodeId, E::Request)] {
        &self.submitted
    }

    /// The logs the invariants are checked over: each honest node's current
    /// log, plus its archived logs under [`AppLog::Volatile`].
    pub fn honest_logs(&self) -> Vec<Log<'_, E::Value>> {
        let mut logs: Vec<Log<'_, E::Value>> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.byz.is_none())
            .map(|(i, n)| (NodeId(i as u32), n.log.as_slice()))
            .collect();
        if self.cfg.app_log == AppLog::Volatile {
            logs.extend(
                self.archived
                    .iter()
                    .filter(|(id, _)| self.is_honest(*id))
                    .map(|(id, l)| (*id, l.as_slice())),
            );
        }
        logs
    }

    /// Distinct values delivered by honest nodes: the number of decisions.
    pub fn decisions(&self) -> u64 {
        invariants::distinct_values(&self.honest_logs()) as u64
    }

    /// Copies sent (by everyone) per decision.
    pub fn messages_per_decision(&self) -> f64 {
        self.stats.messages_per_decision(self.decisions())
    }

    /// A violation stamped with this run's seed and the current time.
    pub fn violation(&self, kind: ViolationKind) -> Violation {
        Violation {
            seed: self.cfg.seed,
            at: Time(self.now),
            kind,
        }
    }

    /// No duplicate delivery and total-order prefix consistency over the
    /// honest logs.
    pub fn check_safety(&self) -> Result<(), Violation> {
        let logs = self.honest_logs();
        invariants::check_no_duplicates(&logs)
            .and_then(|()| invariants::check_prefix(&logs))
            .map_err(|k| self.violation(k))
    }

    /// Agreement by key over the honest logs: values with equal keys (slot,
    /// sequence number) must be equal.
    pub fn check_agreement_by<K: Ord + std::fmt::Debug>(
        &self,
        key: impl Fn(&E::Value) -> K,
    ) -> Result<(), Violation> {
        invariants::check_agreement_by(&self.honest_logs(), key).map_err(|k| self.violation(k))
    }

    /// Validity over the honest logs: `was_submitted(value, submitted)` must
    /// hold for every delivered value.
    pub fn check_validity(
        &self,
        was_submitted: impl Fn(&E::Value, &[(Time, NodeId, E::Request)]) -> bool,
    ) -> Result<(), Violation> {
        let subs = &self.submitted;
        invariants::check_validity(&self.honest_logs(), |v| was_submitted(v, subs))
            .map_err(|k| self.violation(k))
    }
}
