//! Simulation configuration and scheduled faults.

use crate::network::NetworkConfig;
use crate::partition::{LinkEffect, Partition};
use dwcp_core::{Duration, NodeId};

/// What happens to a node's delivered-value log when it crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AppLog {
    /// The application's log is durable: it survives a crash, and a restarted
    /// engine must carry on after the last value it delivered (delivering a
    /// value again is a duplicate). Deliveries that were still waiting for
    /// an fsync at the crash are lost with it.
    #[default]
    Durable,
    /// The application's log is lost in a crash: the restarted engine must
    /// deliver again from the start. The old log is kept (see
    /// [`crate::Simulation::archived_logs`]) and still checked.
    Volatile,
}

/// How to run a simulation. Build with [`SimConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Committee size; nodes are `NodeId(0..n)`.
    pub n: usize,
    /// The master seed: network, adversaries and load generators draw from
    /// streams derived from it. Engines get their seed from your factory
    /// (derive it from this one with [`dwcp_core::rng::derive`]).
    pub seed: u64,
    /// The network model.
    pub network: NetworkConfig,
    /// Time for a `Persist` to become durable. Sends (and deliveries) that
    /// follow it take effect only then.
    pub fsync: Duration,
    /// Per-node clock offsets in nanoseconds (may be negative): node `i` sees
    /// `now + clock_offsets[i]`. Missing entries are zero.
    pub clock_offsets: Vec<i64>,
    /// Durable or volatile application logs.
    pub app_log: AppLog,
    /// Keep a list of [`crate::TraceEvent`]s (the hash is always kept).
    pub record_trace: bool,
}

impl SimConfig {
    /// `n` nodes, the default network ([`NetworkConfig::default`]), 1 ms
    /// fsync, no clock offsets, durable application logs, no recorded trace.
    pub fn new(n: usize, seed: u64) -> SimConfig {
        SimConfig {
            n,
            seed,
            network: NetworkConfig::default(),
            fsync: Duration::from_millis(1),
            clock_offsets: Vec::new(),
            app_log: AppLog::Durable,
            record_trace: false,
        }
    }

    /// With this network.
    pub fn with_network(mut self, network: NetworkConfig) -> SimConfig {
        self.network = network;
        self
    }

    /// With this fsync latency.
    pub fn with_fsync(mut self, fsync: Duration) -> SimConfig {
        self.fsync = fsync;
        self
    }

    /// Recording the event list.
    pub fn with_trace(mut self) -> SimConfig {
        self.record_trace = true;
        self
    }
}

/// Something that happens to the system at a scheduled time
/// ([`crate::Simulation::schedule`]).
#[derive(Clone, Debug)]
pub enum FaultEvent {
    /// The node stops: its engine is dropped with everything not yet
    /// durable; copies it had not yet sent are lost; copies sent to it are
    /// dropped until it restarts.
    Crash(NodeId),
    /// A fresh engine is built with the factory and `restore`d from the
    /// node's durable records. Restarting a running node crashes it first.
    Restart(NodeId),
    /// The node neither receives nor fires timers for the duration; inputs
    /// for it are queued and handled, in order, when the pause ends.
    Pause(NodeId, Duration),
    /// A partition comes into force until the next [`FaultEvent::Heal`].
    Partition(Partition),
    /// A link fault (block, extra delay, extra loss) on the selected links
    /// comes into force until the next [`FaultEvent::Heal`].
    LinkFault(Partition, LinkEffect),
    /// Every partition and link fault is lifted.
    Heal,
    /// Sets one node's uplink bandwidth (bytes/s; `None` for infinite).
    SetUplink(NodeId, Option<u64>),
}
