//! Replica configuration.

use dwcp_core::{Duration, NodeId};
use std::fmt;

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub &'static str);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Multi-Paxos configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Multi-Paxos parameters. [`PaxosConfig::new`] gives defaults tuned for a
/// wide-area network; adjust fields, then [`PaxosConfig::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct PaxosConfig {
    /// Number of replicas (crash faults tolerated: `(n - 1) / 2`).
    pub n: usize,
    /// The node that starts the first election at time zero (others wait a
    /// leader timeout first). `None`: everyone waits.
    pub initial_leader: Option<NodeId>,
    /// Most transactions per slot.
    pub max_batch_txs: usize,
    /// Most payload bytes per slot.
    pub max_batch_bytes: usize,
    /// A partial batch is proposed after waiting this long.
    pub batch_delay: Duration,
    /// Most slots proposed and not yet chosen (the pipeline depth).
    pub pipeline: u64,
    /// The leader's heartbeat period when idle.
    pub heartbeat_interval: Duration,
    /// A follower that has not heard from the leader for this long (plus a
    /// per-node jitter of up to half of it) starts an election.
    pub leader_timeout: Duration,
    /// While it heard from the leader within this time, an acceptor refuses
    /// other candidates' prepares (the leader's lease). Must be below
    /// `leader_timeout`.
    pub lease: Duration,
    /// A candidate without a majority of promises after this long retries
    /// with a higher ballot.
    pub election_timeout: Duration,
    /// A node re-forwards its clients' uncommitted transactions after this
    /// long.
    pub resubmit_timeout: Duration,
    /// Decided slots kept for catch-up (and promises) behind the delivery
    /// point.
    pub retention: u64,
    /// Most slots in one catch-up reply.
    pub catch_up_batch: usize,
    /// Least time between two catch-up requests.
    pub catch_up_interval: Duration,
    /// Most transactions waiting at a leader (more are dropped; their
    /// origins resubmit them).
    pub max_mempool: usize,
    /// Most uncommitted transactions a node holds for its clients.
    pub max_pending: usize,
}

impl PaxosConfig {
    /// Defaults for `n` replicas, node 0 starting the first election.
    pub fn new(n: usize) -> PaxosConfig {
        PaxosConfig {
            n,
            initial_leader: Some(NodeId(0)),
            max_batch_txs: 2_000,
            max_batch_bytes: 1 << 20,
            batch_delay: Duration::from_millis(5),
            pipeline: 16,
            heartbeat_interval: Duration::from_millis(100),
            leader_timeout: Duration::from_millis(1_000),
            lease: Duration::from_millis(600),
            election_timeout: Duration::from_millis(800),
            resubmit_timeout: Duration::from_secs(3),
            retention: 4_096,
            catch_up_batch: 64,
            catch_up_interval: Duration::from_millis(200),
            max_mempool: 200_000,
            max_pending: 200_000,
        }
    }

    /// Crash faults tolerated.
    pub fn f(&self) -> usize {
        self.n.saturating_sub(1) / 2
    }

    /// A majority: `n / 2 + 1`.
    pub fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Refuses inconsistent values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n == 0 || self.n > u32::MAX as usize {
            return Err(ConfigError("n must be in 1..=u32::MAX"));
        }
        if self.initial_leader.is_some_and(|l| l.index() >= self.n) {
            return Err(ConfigError("initial leader outside the committee"));
        }
        if self.max_batch_txs == 0 || self.max_batch_bytes == 0 || self.pipeline == 0 {
            return Err(ConfigError("batch limits and pipeline must be positive"));
        }
        if self.max_batch_bytes > dwcp_core::codec::MAX_MESSAGE_SIZE / 2 {
            return Err(ConfigError("a batch must fit in a message"));
        }
        if self.lease >= self.leader_timeout || self.heartbeat_interval >= self.lease {
            return Err(ConfigError(
                "need heartbeat_interval < lease < leader_timeout",
            ));
        }
        if self.election_timeout.is_zero() || self.retention < self.pipeline {
            return Err(ConfigError(
                "election timeout must be positive, retention at least the pipeline",
            ));
        }
        if self.catch_up_batch == 0 {
            return Err(ConfigError("catch-up batch must be positive"));
        }
        Ok(())
    }
}
