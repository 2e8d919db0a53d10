//! Push gossip with bounded fan-out.

use super::Delivered;
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Engine, NodeId, Output, Target, Time, WireMessage};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// Gossip settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipConfig {
    /// Committee size.
    pub n: usize,
    /// Peers a node relays a new rumour to.
    pub fanout: usize,
    /// Rumours are not relayed beyond this many hops.
    pub max_hops: u32,
    /// Rumours remembered for duplicate suppression.
    pub remember: usize,
}

impl GossipConfig {
    /// Fan-out `fanout`, at most 16 hops.
    pub fn new(n: usize, fanout: usize) -> GossipConfig {
        GossipConfig {
            n,
            fanout,
            max_hops: 16,
            remember: 1 << 16,
        }
    }
}

/// A rumour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipMessage {
    /// Who started it.
    pub origin: NodeId,
    /// The origin's sequence number.
    pub id: u64,
    /// Transmissions so far, this one included.
    pub hops: u32,
    /// The payload.
    pub payload: Vec<u8>,
}

impl WireMessage for GossipMessage {
    fn kind(&self) -> &'static str {
        "gossip"
    }
}

/// One gossiping node. Requests are payloads to spread.
#[derive(Debug)]
pub struct Gossip {
    me: NodeId,
    cfg: GossipConfig,
    rng: Rng,
    seen: BTreeSet<(NodeId, u64)>,
    seen_order: VecDeque<(NodeId, u64)>,
    out: VecDeque<Output<GossipMessage, (), Delivered>>,
    next_id: u64,
}

impl Gossip {
    /// Node `me`, drawing peers from `rng` (seed it with
    /// `dwcp_core::rng::derive(seed, me)`).
    pub fn new(cfg: GossipConfig, me: NodeId, rng: Rng) -> Gossip {
        Gossip {
            me,
            cfg,
            rng,
            seen: BTreeSet::new(),
            seen_order: VecDeque::new(),
            out: VecDeque::new(),
            next_id: 0,
        }
    }

    fn relay(&mut self, m: &GossipMessage, except: NodeId) {
        if m.hops >= self.cfg.max_hops {
            return;
        }
        let candidates = self
            .cfg
            .n
            .saturating_sub(if except == self.me { 1 } else { 2 });
        let k = self.cfg.fanout.min(candidates);
        let mut peers = BTreeSet::new();
        while peers.len() < k {
            let p = NodeId((self.rng.next_u64() % self.cfg.n as u64) as u32);
            if p != self.me && p != except {
                peers.insert(p);
            }
        }
        if !peers.is_empty() {
            let msg = GossipMessage {
                hops: m.hops.saturating_add(1),
                ..m.clone()
            };
            self.out.push_back(Output::Send {
                to: Target::Many(peers.into_iter().collect()),
                msg,
            });
        }
    }

    fn remember(&mut self, key: (NodeId, u64)) -> bool {
        if !self.seen.insert(key) {
            return false;
        }
        self.seen_order.push_back(key);
        while self.seen_order.len() > self.cfg.remember {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

impl Engine for Gossip {
    type Message = GossipMessage;
    type Request = Vec<u8>;
    type Record = ();
    type Value = Delivered;

    fn id(&self) -> NodeId {
        self.me
    }

    fn handle_message(&mut self, _now: Time, from: NodeId, m: GossipMessage) {
        if from.index() >= self.cfg.n || m.origin.index() >= self.cfg.n || m.origin == self.me {
            return;
        }
        if self.remember((m.origin, m.id)) {
            self.out.push_back(Output::Deliver(Delivered {
                root: m.origin,
                id: m.id,
                hops: m.hops,
            }));
            self.relay(&m, from);
        }
    }

    fn handle_request(&mut self, _now: Time, payload: Vec<u8>) {
        let m = GossipMessage {
            origin: self.me,
            id: self.next_id,
            hops: 0,
            payload,
        };
        self.next_id += 1;
        self.remember((m.origin, m.id));
        self.out.push_back(Output::Deliver(Delivered {
            root: self.me,
            id: m.id,
            hops: 0,
        }));
        self.relay(&m, self.me);
    }

    fn handle_timeout(&mut self, _now: Time) {}

    fn poll_output(&mut self) -> Option<Output<GossipMessage, (), Delivered>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        None
    }

    fn restore(&mut self, _now: Time, _records: Vec<()>) {}
}
