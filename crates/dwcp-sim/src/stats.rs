//! Counters: messages and bytes by message kind and by node, drops, and
//! per-decision ratios.

/// Counters for one message kind ([`dwcp_core::WireMessage::kind`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    /// The kind's name.
    pub kind: &'static str,
    /// Copies put on the wire (a broadcast to k nodes counts k).
    pub sent: u64,
    /// Bytes put on the wire (`wire_size` × copies).
    pub sent_bytes: u64,
    /// Copies handed to a recipient engine.
    pub delivered: u64,
    /// Bytes handed to recipient engines.
    pub delivered_bytes: u64,
}

/// Counters for one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Copies this node put on the wire.
    pub sent: u64,
    /// Bytes this node put on the wire.
    pub sent_bytes: u64,
    /// Copies handed to this node's engine.
    pub received: u64,
    /// Bytes handed to this node's engine.
    pub received_bytes: u64,
    /// `Deliver` outputs of this node.
    pub delivered_values: u64,
    /// `Persist` outputs of this node.
    pub persisted: u64,
}

/// Everything the simulator counts. Read it with
/// [`crate::Simulation::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per message kind, in order of first appearance.
    pub kinds: Vec<KindStats>,
    /// Per node, indexed by `NodeId::index`.
    pub nodes: Vec<NodeStats>,
    /// Messages handed to engines (the simulator's "delivered events").
    pub delivered_events: u64,
    /// Timeouts fired.
    pub timer_events: u64,
    /// Requests handed to engines.
    pub requests: u64,
    /// `Send` outputs (one per send, however many recipients).
    pub sends: u64,
    /// Copies lost by the network.
    pub lost: u64,
    /// Copies dropped by a partition.
    pub partitioned: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Copies that reached a crashed node.
    pub dropped_at_crashed: u64,
    /// Copies never sent because the sender crashed before they departed.
    pub dropped_sender_crashed: u64,
    /// Requests submitted to a crashed node.
    pub dropped_requests: u64,
    /// Inputs queued because their node was paused.
    pub queued_while_paused: u64,
    /// `Evidence` outputs.
    pub evidence: u64,
}

impl Stats {
    pub(crate) fn new(n: usize) -> Stats {
        Stats {
            nodes: vec![NodeStats::default(); n],
            ..Default::default()
        }
    }

    /// The index of `kind` in [`Stats::kinds`], adding it if new.
    #[inline]
    pub(crate) fn kind_index(&mut self, kind: &'static str) -> u16 {
        if let Some(i) = self
            .kinds
            .iter()
            .position(|k| std::ptr::eq(k.kind, kind) || k.kind == kind)
        {
            return i as u16;
        }
        self.kinds.push(KindStats {
            kind,
            ..Default::default()
        });
        (self.kinds.len() - 1) as u16
    }

    /// The counters of one kind, if it was ever sent.
    pub fn kind(&self, kind: &str) -> Option<&KindStats> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Total copies put on the wire.
    pub fn messages_sent(&self) -> u64 {
        self.kinds.iter().map(|k| k.sent).sum()
    }

    /// Total bytes put on the wire.
    pub fn bytes_sent(&self) -> u64 {
        self.kinds.iter().map(|k| k.sent_bytes).sum()
    }

    /// Copies sent per decision: `messages_sent / decisions` (0 when there
    /// were no decisions). Get `decisions` from
    /// [`crate::Simulation::decisions`] or count them yourself.
    pub fn messages_per_decision(&self, decisions: u64) -> f64 {
        ratio(self.messages_sent(), decisions)
    }

    /// Bytes sent per decision.
    pub fn bytes_per_decision(&self, decisions: u64) -> f64 {
        ratio(self.bytes_sent(), decisions)
    }

    /// Copies of one kind sent per decision.
    pub fn kind_per_decision(&self, kind: &str, decisions: u64) -> f64 {
        ratio(self.kind(kind).map_or(0, |k| k.sent), decisions)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
