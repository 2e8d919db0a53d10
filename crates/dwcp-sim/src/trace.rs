//! The trace: a running 64-bit hash of every event, and an optional event
//! list for debugging and reports.

use dwcp_core::{NodeId, Time};
use std::fmt::{self, Debug, Write as _};

/// One recorded event (only kept when [`crate::SimConfig::record_trace`] is
/// set; the hash always covers them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A message was handed to `to`'s engine.
    Message {
        /// Delivery time.
        at: Time,
        /// Authenticated sender.
        from: NodeId,
        /// Recipient.
        to: NodeId,
        /// `WireMessage::kind`.
        kind: &'static str,
        /// `WireMessage::wire_size`.
        size: u32,
    },
    /// A timeout fired.
    Timer {
        /// When.
        at: Time,
        /// Whose.
        node: NodeId,
    },
    /// A request was handed to an engine.
    Request {
        /// When.
        at: Time,
        /// Where.
        node: NodeId,
    },
    /// A node delivered its `index`-th value (0-based, in its current log).
    Deliver {
        /// When the engine emitted it.
        at: Time,
        /// Who.
        node: NodeId,
        /// Position in the node's log.
        index: usize,
    },
    /// A node emitted a `Persist`.
    Persist {
        /// When.
        at: Time,
        /// Who.
        node: NodeId,
    },
    /// A node reported evidence against `culprit`.
    Evidence {
        /// When.
        at: Time,
        /// Reporter.
        node: NodeId,
        /// Accused.
        culprit: NodeId,
    },
    /// A node crashed.
    Crash {
        /// When.
        at: Time,
        /// Who.
        node: NodeId,
    },
    /// A node restarted from its durable records.
    Restart {
        /// When.
        at: Time,
        /// Who.
        node: NodeId,
        /// How many records it got back.
        records: usize,
    },
    /// A node was paused until `until`.
    Pause {
        /// When.
        at: Time,
        /// Who.
        node: NodeId,
        /// End of the pause.
        until: Time,
    },
    /// A pause ended.
    Resume {
        /// When.
        at: Time,
        /// Who.
        node: NodeId,
    },
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// The running hash.
pub(crate) struct Trace {
    h: u64,
    pub events: Option<Vec<TraceEvent>>,
}

impl Trace {
    pub fn new(seed: u64, record: bool) -> Trace {
        Trace {
            h: seed ^ 0x6477_6370_2d73_696d,
            events: record.then(Vec::new),
        }
    }

    #[inline]
    pub fn mix(&mut self, x: u64) {
        self.h = (self.h.rotate_left(5) ^ x).wrapping_mul(K);
    }

    /// Mixes a tag, a time and two small numbers.
    #[inline]
    pub fn event(&mut self, tag: u8, at: u64, a: u32, b: u64) {
        self.mix(at);
        self.mix(((tag as u64) << 56) ^ ((a as u64) << 24) ^ b);
    }

    /// Mixes the `Debug` rendering of a value (values and records have no
    /// other required representation).
    pub fn mix_debug<T: Debug + ?Sized>(&mut self, v: &T) {
        let mut w = DebugHasher {
            trace: self,
            len: 0,
        };
        let _ = write!(w, "{v:?}");
        let len = w.len;
        self.mix(len);
    }

    #[inline]
    pub fn record(&mut self, ev: impl FnOnce() -> TraceEvent) {
        if let Some(v) = &mut self.events {
            v.push(ev());
        }
    }

    /// The final hash (the running state passed through a finaliser).
    pub fn hash(&self) -> u64 {
        let mut z = self.h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

struct DebugHasher<'a> {
    trace: &'a mut Trace,
    len: u64,
}

impl fmt::Write for DebugHasher<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len += s.len() as u64;
        for chunk in s.as_bytes().chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.trace.mix(u64::from_le_bytes(b));
        }
        Ok(())
    }
}
