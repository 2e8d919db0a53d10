//! Tree broadcast with acknowledgements and re-routing around failed inner
//! nodes.

use super::Delivered;
use dwcp_core::{Duration, Engine, NodeId, Output, Target, Time, WireMessage};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The shape of the trees: node at position `p` (counted from the root) has
/// children at positions `fanout·p + 1 ..= fanout·p + fanout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeOverlay {
    n: usize,
    fanout: usize,
}

impl TreeOverlay {
    /// Trees over `n` nodes with the given fan-out (at least 1).
    pub fn new(n: usize, fanout: usize) -> TreeOverlay {
        TreeOverlay {
            n: n.max(1),
            fanout: fanout.max(1),
        }
    }

    fn pos(&self, root: NodeId, node: NodeId) -> usize {
        (node.index() + self.n - root.index() % self.n) % self.n
    }

    fn at(&self, root: NodeId, pos: usize) -> NodeId {
        NodeId(((root.index() + pos) % self.n) as u32)
    }

    /// `node`'s children in `root`'s tree.
    pub fn children(&self, root: NodeId, node: NodeId) -> Vec<NodeId> {
        let p = self.pos(root, node);
        let first = p.saturating_mul(self.fanout).saturating_add(1);
        (first..first.saturating_add(self.fanout))
            .take_while(|c| *c < self.n)
            .map(|c| self.at(root, c))
            .collect()
    }

    /// `node`'s parent in `root`'s tree (`None` for the root).
    pub fn parent(&self, root: NodeId, node: NodeId) -> Option<NodeId> {
        let p = self.pos(root, node);
        (p > 0).then(|| self.at(root, (p - 1) / self.fanout))
    }

    /// Hops from the root to the deepest node.
    pub fn depth(&self) -> u32 {
        let (mut covered, mut level, mut d) = (1usize, 1usize, 0u32);
        while covered < self.n {
            level = level.saturating_mul(self.fanout);
            covered = covered.saturating_add(level);
            d += 1;
        }
        d
    }
}

/// Tree broadcast settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeConfig {
    /// Committee size.
    pub n: usize,
    /// Children per node.
    pub fanout: usize,
    /// Acknowledge every copy, re-send to silent children and re-route
    /// around them; off: fire and forget.
    pub acks: bool,
    /// How long a parent waits for an acknowledgement.
    pub ack_timeout: Duration,
    /// Sends to a child before it is routed around (it is then tried as
    /// many times again).
    pub retries: u8,
    /// Broadcasts remembered for duplicate suppression (oldest forgotten).
    pub remember: usize,
}

impl TreeConfig {
    /// Reliable trees (acks on, 3 sends, 50 ms timeout).
    pub fn new(n: usize, fanout: usize) -> TreeConfig {
        TreeConfig {
            n,
            fanout,
            acks: true,
            ack_timeout: Duration::from_millis(50),
            retries: 3,
            remember: 1 << 16,
        }
    }
}

/// Tree broadcast messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreeMessage {
    /// A payload travelling down `root`'s tree.
    Data {
        /// The broadcaster.
        root: NodeId,
        /// Its sequence number.
        id: u64,
        /// Transmissions so far, this one included.
        hops: u32,
        /// The payload.
        payload: Vec<u8>,
    },
    /// Receipt of a `Data`.
    Ack {
        /// The broadcaster.
        root: NodeId,
        /// Its sequence number.
        id: u64,
    },
}

impl WireMessage for TreeMessage {
    fn kind(&self) -> &'static str {
        match self {
            TreeMessage::Data { .. } => "tree-data",
            TreeMessage::Ack { .. } => "tree-ack",
        }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    deadline: Time,
    sends: u8,
    hops: u32,
    payload: Vec<u8>,
    adopted: bool,
}

/// One node of the tree broadcast. Requests are payloads to broadcast.
#[derive(Debug)]
pub struct TreeBroadcast {
    me: NodeId,
    cfg: TreeConfig,
    overlay: TreeOverlay,
    seen: BTreeSet<(NodeId, u64)>,
    seen_order: VecDeque<(NodeId, u64)>,
    pending: BTreeMap<(NodeId, u64, NodeId), Pending>,
    out: VecDeque<Output<TreeMessage, (), Delivered>>,
    next_id: u64,
}

impl TreeBroadcast {
    /// Node `me`.
    pub fn new(cfg: TreeConfig, me: NodeId) -> TreeBroadcast {
        TreeBroadcast {
            me,
            overlay: TreeOverlay::new(cfg.n, cfg.fanout),
            cfg,
            seen: BTreeSet::new(),
            seen_order: VecDeque::new(),
            pending: BTreeMap::new(),
            out: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Children re-routed around so far are not tracked; this counts
    /// outstanding unacknowledged copies.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
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

    fn forward(
        &mut self,
        now: Time,
        root: NodeId,
        id: u64,
        hops: u32,
        payload: &[u8],
        to: Vec<NodeId>,
    ) {
        for c in to {
            if c == self.me {
                continue;
            }
            let msg = TreeMessage::Data {
                root,
                id,
                hops,
                payload: payload.to_vec(),
            };
            self.out.push_back(Output::Send {
                to: Target::One(c),
                msg,
            });
            if self.cfg.acks {
                self.pending.insert(
                    (root, id, c),
                    Pending {
                        deadline: now + self.cfg.ack_timeout,
                        sends: 1,
                        hops,
                        payload: payload.to_vec(),
                        adopted: false,
                    },
                );
            }
        }
    }
}

impl Engine for TreeBroadcast {
    type Message = TreeMessage;
    type Request = Vec<u8>;
    type Record = ();
    type Value = Delivered;

    fn id(&self) -> NodeId {
        self.me
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: TreeMessage) {
        if from.index() >= self.cfg.n {
            return;
        }
        match msg {
            TreeMessage::Data {
                root,
                id,
                hops,
                payload,
            } => {
                if root.index() >= self.cfg.n || root == self.me {
                    return;
                }
                if self.cfg.acks {
                    let ack = TreeMessage::Ack { root, id };
                    self.out.push_back(Output::Send {
                        to: Target::One(from),
                        msg: ack,
                    });
                }
                if self.remember((root, id)) {
                    self.out
                        .push_back(Output::Deliver(Delivered { root, id, hops }));
                    let kids = self.overlay.children(root, self.me);
                    self.forward(now, root, id, hops.saturating_add(1), &payload, kids);
                }
            }
            TreeMessage::Ack { root, id } => {
                self.pending.remove(&(root, id, from));
            }
        }
    }

    fn handle_request(&mut self, now: Time, payload: Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        self.remember((self.me, id));
        self.out.push_back(Output::Deliver(Delivered {
            root: self.me,
            id,
            hops: 0,
        }));
        let kids = self.overlay.children(self.me, self.me);
        self.forward(now, self.me, id, 1, &payload, kids);
    }

    fn handle_timeout(&mut self, now: Time) {
        let due: Vec<(NodeId, u64, NodeId)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let Some(mut p) = self.pending.remove(&key) else {
                continue;
            };
            let (root, id, child) = key;
            if p.sends >= self.cfg.retries && !p.adopted {
                // The child is down, cut off or unlucky: adopt its children
                // (and keep trying it as long again).
                p.adopted = true;
                let grandchildren = self.overlay.children(root, child);
                self.forward(now, root, id, p.hops, &p.payload, grandchildren);
            }
            if p.sends < self.cfg.retries.saturating_mul(2) {
                p.sends += 1;
                p.deadline = now + self.cfg.ack_timeout;
                let msg = TreeMessage::Data {
                    root,
                    id,
                    hops: p.hops,
                    payload: p.payload.clone(),
                };
                self.out.push_back(Output::Send {
                    to: Target::One(child),
                    msg,
                });
                self.pending.insert(key, p);
            }
        }
    }

    fn poll_output(&mut self) -> Option<Output<TreeMessage, (), Delivered>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        self.pending.values().map(|p| p.deadline).min()
    }

    fn restore(&mut self, _now: Time, _records: Vec<()>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_cover_every_node_once() {
        for (n, k) in [(1, 2), (7, 2), (16, 4), (100, 8), (1000, 16)] {
            let t = TreeOverlay::new(n, k);
            for root in [0u32, (n / 2) as u32] {
                let root = NodeId(root);
                let mut seen = BTreeSet::from([root]);
                let mut frontier = vec![root];
                let mut depth = 0;
                while !frontier.is_empty() {
                    let mut next = vec![];
                    for node in frontier {
                        for c in t.children(root, node) {
                            assert!(seen.insert(c), "n={n}: {c} twice");
                            assert_eq!(t.parent(root, c), Some(node));
                            next.push(c);
                        }
                    }
                    if !next.is_empty() {
                        depth += 1;
                    }
                    frontier = next;
                }
                assert_eq!(seen.len(), n);
                assert_eq!(depth, t.depth(), "n={n} k={k}");
                assert_eq!(t.parent(root, root), None);
            }
        }
    }
}
