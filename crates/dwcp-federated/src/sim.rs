//! A deterministic in-process host for one federation: routes messages
//! between the server and client engines with a fixed latency, drives their
//! deadlines on a virtual clock, counts exact wire bytes, and injects faults
//! (offline clients, stragglers, Byzantine updates). Used by the tests and
//! the benchmark runners.

use crate::client::Client;
use crate::compress::{Compression, compress_once};
use crate::config::FlConfig;
use crate::message::FlMessage;
use crate::rand_util::normal;
use crate::server::{RoundOutcome, Server, ServerRequest};
use crate::wire::{decode, encode_dense};
use dwcp_core::rng::{self, Rng};
use dwcp_core::{Duration, Engine, Evidence, NodeId, Output, Target, Time, WireMessage};
use std::collections::{BTreeMap, BTreeSet};

/// What a Byzantine client sends instead of its honest update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Attack {
    /// `−Δ` (its honest update, negated).
    SignFlip,
    /// `c·Δ`.
    Scale(f32),
    /// Independent `N(0, σ²)` noise in every coordinate.
    Gaussian(f32),
    /// "A Little Is Enough" (Baruch et al. 2019): `μ − z·σ` per coordinate
    /// over the honest updates of the round, with
    /// `z = Φ⁻¹((n − s)/n)`, `s = ⌊n/2 + 1⌋ − f`; every attacker sends it.
    Alie {
        /// `z`.
        z: f32,
    },
}

impl Attack {
    /// The ALIE `z` for `n` clients of which `f` are Byzantine.
    pub fn alie_z(n: usize, f: usize) -> f32 {
        let s = (n / 2 + 1).saturating_sub(f);
        let p = (n - s.min(n)) as f64 / n.max(1) as f64;
        inverse_normal_cdf(p.clamp(1e-6, 1.0 - 1e-6)) as f32
    }

    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Attack::SignFlip => "sign-flip",
            Attack::Scale(_) => "scaling",
            Attack::Gaussian(_) => "gaussian",
            Attack::Alie { .. } => "alie",
        }
    }
}

/// Φ⁻¹ by bisection on the error function (enough for table values).
fn inverse_normal_cdf(p: f64) -> f64 {
    let cdf = |x: f64| 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2));
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    if x >= 0.0 { y } else { -y }
}

/// Exact wire bytes by direction (each message's encoded size, once per recipient).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Client → server.
    pub up: u64,
    /// Server → client.
    pub down: u64,
    /// Between clients (relay links).
    pub d2d: u64,
    /// Messages.
    pub messages: u64,
}

impl Traffic {
    /// `up + down + d2d`.
    pub fn total(&self) -> u64 {
        self.up + self.down + self.d2d
    }
}

/// The host.
pub struct Federation {
    /// The server engine.
    pub server: Server,
    /// Client engines by id.
    pub clients: BTreeMap<NodeId, Client>,
    /// Virtual time.
    pub now: Time,
    /// One-way latency of every message.
    pub latency: Duration,
    /// Clients that receive and send nothing.
    pub offline: BTreeSet<NodeId>,
    /// Extra delay on everything these clients send (stragglers).
    pub slow: BTreeMap<NodeId, Duration>,
    /// Byzantine clients and their attack.
    pub byzantine: BTreeMap<NodeId, Attack>,
    /// Clients that crash right after sending a message of this kind (for
    /// example `"share-keys"`: a secure-aggregation dropout after sharing
    /// its keys). What they sent is still delivered; afterwards they
    /// receive and send nothing (they join [`Federation::crashed`]).
    pub crash_after: BTreeMap<NodeId, &'static str>,
    /// Clients that crashed (see `crash_after`).
    pub crashed: BTreeSet<NodeId>,
    /// Bytes so far.
    pub traffic: Traffic,
    /// Every evidence output, with the engine that emitted it.
    pub evidence: Vec<(NodeId, Evidence)>,
    /// Every closed round.
    pub outcomes: Vec<RoundOutcome>,
    queue: BTreeMap<(Time, u64), (NodeId, NodeId, FlMessage)>,
    seq: u64,
    nodes: usize,
    rng: Rng,
    uplink: Compression,
    mask_seed: u64,
    dim: usize,
}

impl Federation {
    /// A host for `server` and `clients`, 1 ms latency, seeded (for attack noise).
    pub fn new(server: Server, clients: Vec<Client>, seed: u64) -> Self {
        let cfg: &FlConfig = server.config();
        let nodes = clients
            .iter()
            .map(|c| c.id().index() + 1)
            .chain([server.id().index() + 1])
            .max()
            .unwrap_or(1);
        Federation {
            uplink: cfg.uplink,
            mask_seed: cfg.mask_seed,
            dim: server.model().len(),
            clients: clients.into_iter().map(|c| (c.id(), c)).collect(),
            server,
            now: Time::ZERO,
            latency: Duration::from_millis(1),
            offline: BTreeSet::new(),
            slow: BTreeMap::new(),
            byzantine: BTreeMap::new(),
            crash_after: BTreeMap::new(),
            crashed: BTreeSet::new(),
            traffic: Traffic::default(),
            evidence: vec![],
            outcomes: vec![],
            queue: BTreeMap::new(),
            seq: 0,
            nodes,
            rng: rng::derive(seed, 0xa77),
        }
    }

    /// Gives every engine a deterministic sr25519 signing identity for
    /// secure aggregation (key `i` belongs to `cfg.clients[i]`).
    pub fn install_secagg_keys(&mut self, seed: u64) {
        let population = self.server.config().clients.clone();
        let ring = dwcp_crypto::Keyring::sr25519(population.len(), seed);
        self.server.set_secagg_publics(ring.publics.clone());
        for (i, id) in population.iter().enumerate() {
            if let (Some(c), Some(sk)) = (self.clients.get_mut(id), ring.secrets.get(i)) {
                c.set_secagg_identity(sk.clone(), ring.publics.clone());
            }
        }
    }

    /// Injects a raw message as if `from` had sent it to `to` now (tests).
    pub fn inject(&mut self, from: NodeId, to: NodeId, msg: FlMessage) {
        self.enqueue(from, to, msg, self.now);
    }

    fn enqueue(&mut self, from: NodeId, to: NodeId, msg: FlMessage, at: Time) {
        let size = msg.wire_size() as u64;
        let server = self.server.id();
        match (&msg, from == server, to == server) {
            (FlMessage::Update(_) | FlMessage::Resync { .. } | FlMessage::SecAgg(_), _, true) => {
                self.traffic.up += size
            }
            (
                FlMessage::RoundStart(_) | FlMessage::Model { .. } | FlMessage::SecAgg(_),
                true,
                _,
            ) => self.traffic.down += size,
            _ => self.traffic.d2d += size,
        }
        self.traffic.messages += 1;
        let delay = self.slow.get(&from).copied().unwrap_or(Duration::ZERO);
        self.seq += 1;
        self.queue
            .insert((at + self.latency + delay, self.seq), (from, to, msg));
    }

    fn drain(
        &mut self,
        id: NodeId,
        sent: &mut Vec<(NodeId, NodeId, FlMessage)>,
    ) -> Vec<RoundOutcome> {
        let mut delivered = vec![];
        let nodes = self.nodes;
        if id == self.server.id() {
            while let Some(o) = self.server.poll_output() {
                match o {
                    Output::Send { to, msg } => {
                        to_each(&to, nodes, |t| sent.push((id, t, msg.clone())))
                    }
                    Output::Deliver(v) => delivered.push(v),
                    Output::Evidence(e) => self.evidence.push((id, e)),
                    Output::Persist(_) => {}
                }
            }
        } else if let Some(c) = self.clients.get_mut(&id) {
            while let Some(o) = c.poll_output() {
                match o {
                    Output::Send { to, msg } => {
                        to_each(&to, nodes, |t| sent.push((id, t, msg.clone())))
                    }
                    Output::Evidence(e) => self.evidence.push((id, e)),
                    Output::Deliver(_) | Output::Persist(_) => {}
                }
            }
        }
        delivered
    }

    /// Rewrites the Byzantine clients' updates in one batch of sends.
    fn attack(&mut self, sent: &mut [(NodeId, NodeId, FlMessage)]) {
        if self.byzantine.is_empty() {
            return;
        }
        let dense = |m: &FlMessage, dim: usize| match m {
            FlMessage::Update(u) => decode(&u.payload, dim, usize::MAX)
                .ok()
                .map(|p| p.to_dense()),
            _ => None,
        };
        let honest: Vec<Vec<f32>> = sent
            .iter()
            .filter(|(f, _, _)| !self.byzantine.contains_key(f))
            .filter_map(|(_, _, m)| dense(m, self.dim))
            .collect();
        for (from, _, msg) in sent.iter_mut() {
            let Some(&attack) = self.byzantine.get(from) else {
                continue;
            };
            let Some(own) = dense(msg, self.dim) else {
                continue;
            };
            let v: Vec<f32> = match attack {
                Attack::SignFlip => own.iter().map(|x| -x).collect(),
                Attack::Scale(c) => own.iter().map(|x| c * x).collect(),
                Attack::Gaussian(s) => own
                    .iter()
                    .map(|_| s * normal(&mut self.rng) as f32)
                    .collect(),
                Attack::Alie { z } => {
                    let n = honest.len().max(1) as f64;
                    (0..self.dim)
                        .map(|j| {
                            let mu = honest.iter().map(|h| f64::from(h[j])).sum::<f64>() / n;
                            let var = honest
                                .iter()
                                .map(|h| (f64::from(h[j]) - mu).powi(2))
                                .sum::<f64>()
                                / n;
                            (mu - f64::from(z) * var.sqrt()) as f32
                        })
                        .collect()
                }
            };
            if let FlMessage::Update(u) = msg {
                u.payload = match self.uplink {
                    Compression::Dense => encode_dense(&v),
                    mode => compress_once(mode, &v, u.round, self.mask_seed),
                };
            }
        }
    }

    fn dispatch(&mut self, mut sent: Vec<(NodeId, NodeId, FlMessage)>) {
        self.attack(&mut sent);
        let now = self.now;
        for (from, to, msg) in sent {
            if self.crashed.contains(&from) {
                continue;
            }
            let crash = self.crash_after.get(&from) == Some(&msg.kind());
            self.enqueue(from, to, msg, now);
            if crash {
                self.crashed.insert(from);
            }
        }
    }

    /// Starts the server and runs until it has closed every round or
    /// `max_rounds` more rounds closed; `on_round` sees each closed round
    /// and the server (to evaluate the model).
    pub fn run(
        &mut self,
        max_rounds: u64,
        mut on_round: impl FnMut(&RoundOutcome, &Server, &Traffic),
    ) {
        let start = self.outcomes.len() as u64;
        let sid = self.server.id();
        self.server.handle_request(self.now, ServerRequest::Start);
        let mut sent = vec![];
        let closed = self.drain(sid, &mut sent);
        self.record(closed, &mut on_round);
        self.dispatch(sent);
        while !self.server.is_done() && (self.outcomes.len() as u64) < start + max_rounds {
            let next_msg = self.queue.keys().next().map(|k| k.0);
            let next_deadline = std::iter::once(self.server.next_deadline())
                .chain(self.clients.values().map(|c| c.next_deadline()))
                .flatten()
                .min();
            let t = match (next_msg, next_deadline) {
                (Some(m), Some(d)) => m.min(d),
                (Some(m), None) => m,
                (None, Some(d)) => d,
                (None, None) => break,
            };
            self.now = self.now.max(t);
            let mut sent = vec![];
            let mut closed = vec![];
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let (from, to, msg) = entry.remove();
                if self.offline.contains(&to)
                    || self.offline.contains(&from)
                    || self.crashed.contains(&to)
                {
                    continue;
                }
                if to == sid {
                    self.server.handle_message(self.now, from, msg);
                } else if let Some(c) = self.clients.get_mut(&to) {
                    c.handle_message(self.now, from, msg);
                }
                closed.extend(self.drain(to, &mut sent));
            }
            let ids: Vec<NodeId> = self.clients.keys().copied().collect();
            for id in ids {
                if self
                    .clients
                    .get(&id)
                    .and_then(|c| c.next_deadline())
                    .is_some_and(|d| d <= self.now)
                {
                    if let Some(c) = self.clients.get_mut(&id) {
                        c.handle_timeout(self.now);
                    }
                    closed.extend(self.drain(id, &mut sent));
                }
            }
            if self.server.next_deadline().is_some_and(|d| d <= self.now) {
                self.server.handle_timeout(self.now);
                closed.extend(self.drain(sid, &mut sent));
            }
            self.record(closed, &mut on_round);
            self.dispatch(sent);
        }
    }

    fn record(
        &mut self,
        closed: Vec<RoundOutcome>,
        on_round: &mut impl FnMut(&RoundOutcome, &Server, &Traffic),
    ) {
        for o in closed {
            on_round(&o, &self.server, &self.traffic);
            self.outcomes.push(o);
        }
    }
}

fn to_each(target: &Target, nodes: usize, mut f: impl FnMut(NodeId)) {
    target.for_each(nodes, &mut f);
}
