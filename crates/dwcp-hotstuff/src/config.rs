//! Replica configuration.

use dwcp_core::{Committee, Duration, NodeId};
use std::fmt;

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub &'static str);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid HotStuff configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Chained HotStuff parameters. [`HotStuffConfig::new`] gives defaults for
/// a wide-area network; adjust fields, then [`HotStuffConfig::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct HotStuffConfig {
    /// Number of replicas (`n >= 3f + 1`).
    pub n: usize,
    /// Byzantine faults tolerated.
    pub f: usize,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most payload bytes per block.
    pub max_block_bytes: usize,
    /// With nothing to carry, a leader waits this long before proposing an
    /// empty block (keeps an idle chain from spinning).
    pub idle_block_delay: Duration,
    /// The first view timeout; it doubles per consecutive timeout.
    pub base_timeout: Duration,
    /// The largest view timeout.
    pub max_timeout: Duration,
    /// Client transactions wait this long before being relayed (in one
    /// message).
    pub forward_delay: Duration,
    /// A node re-relays its clients' uncommitted transactions after this
    /// long.
    pub resubmit_timeout: Duration,
    /// Committed blocks kept for peers that fetch them.
    pub retention: u64,
    /// Most blocks in one fetch answer.
    pub fetch_batch: u32,
    /// A fetch unanswered for this long is retried at another peer.
    pub fetch_retry: Duration,
    /// Votes and timeouts are kept for views at most this far ahead.
    pub view_window: u64,
    /// Most transactions in a mempool.
    pub max_mempool: usize,
    /// Most uncommitted transactions a node holds for its clients.
    pub max_pending: usize,
    /// Client public keys, by client index: when set, every transaction
    /// must be client-signed ([`crate::client`]); unsigned or forged ones
    /// are dropped and a proposal carrying one is evidence. `None` accepts
    /// any transaction (the default).
    pub clients: Option<Vec<dwcp_crypto::PublicKey>>,
}

impl HotStuffConfig {
    /// Defaults for `n` replicas tolerating the largest `f`.
    pub fn new(n: usize) -> HotStuffConfig {
        HotStuffConfig {
            n,
            f: n.saturating_sub(1) / 3,
            max_block_txs: 1_000,
            max_block_bytes: 512 << 10,
            idle_block_delay: Duration::from_millis(100),
            base_timeout: Duration::from_millis(1_000),
            max_timeout: Duration::from_secs(16),
            forward_delay: Duration::from_millis(5),
            resubmit_timeout: Duration::from_secs(4),
            retention: 64,
            fetch_batch: 16,
            fetch_retry: Duration::from_millis(400),
            view_window: 64,
            max_mempool: 200_000,
            max_pending: 200_000,
            clients: None,
        }
    }

    /// Shares needed for a certificate: `n - f` (`2f + 1` when `n = 3f + 1`).
    pub fn quorum(&self) -> usize {
        self.n - self.f
    }

    /// Whether `tx` is acceptable: client-signed by a listed client, or
    /// anything when no client keys are configured.
    pub fn authentic(&self, tx: &crate::tx::Tx) -> bool {
        self.clients
            .as_deref()
            .is_none_or(|keys| crate::client::verify_tx(tx, keys))
    }

    /// The leader of `view` (round robin).
    pub fn leader(&self, view: u64) -> NodeId {
        NodeId((view % self.n.max(1) as u64) as u32)
    }

    /// Refuses inconsistent values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n == 0 || self.n > u32::MAX as usize {
            return Err(ConfigError("n must be in 1..=u32::MAX"));
        }
        Committee::with_faults(self.n, self.f).map_err(|_| ConfigError("need n >= 3f + 1"))?;
        if self.max_block_txs == 0 || self.max_block_bytes == 0 {
            return Err(ConfigError("block limits must be positive"));
        }
        if self.max_block_bytes > dwcp_core::codec::MAX_MESSAGE_SIZE / 2 {
            return Err(ConfigError("a block must fit in a message"));
        }
        if self.base_timeout.is_zero() || self.max_timeout < self.base_timeout {
            return Err(ConfigError("need 0 < base_timeout <= max_timeout"));
        }
        if self.fetch_batch == 0 || self.view_window == 0 || self.retention < 4 {
            return Err(ConfigError(
                "fetch batch and view window positive, retention at least 4",
            ));
        }
        Ok(())
    }
}
