//! Configuration of a linear-mode replica.

use super::policy::Voting;
use crate::batch::BatchConfig;
use crate::compress::Codec;
use dwcp_core::{Duration, WeightedCommittee};
use dwcp_pbft::{ConfigError, PbftConfig};

/// Tunables of a [`super::LinearPbft`] replica: the PBFT configuration plus
/// the aggregation layer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinearConfig {
    /// The inner PBFT replica's configuration.
    pub pbft: PbftConfig,
    /// Vote routing.
    pub voting: Voting,
    /// Per-replica weights (`None`: all 1); the faulty weight bound is `f`
    /// for unit weights, else `faulty_weight`.
    pub weights: Option<Vec<u64>>,
    /// Faulty weight tolerated with custom weights.
    pub faulty_weight: u64,
    /// Requests a backup forwards to the primary are batched with these
    /// limits (`max_delay` zero: everything forwarded in one input leaves
    /// in one envelope at once).
    pub forward: BatchConfig,
    /// Compress pre-prepares and request envelopes whose encoding reaches
    /// `compress_above` bytes with this codec.
    pub codec: Codec,
    /// See [`LinearConfig::codec`].
    pub compress_above: usize,
    /// The `k`-th send of the same vote (PBFT retransmits votes for slots
    /// stuck uncommitted) goes to everybody instead of the collector: the
    /// slot falls back to all-to-all voting. `0` disables the fallback.
    pub fallback_after: u8,
    /// Checkpoints go to a collector, which relays one certificate (instead
    /// of PBFT's all-to-all checkpoints).
    pub collect_checkpoints: bool,
    /// A checkpoint not stable this long after it was sent is sent again to
    /// the collector, then (second time) to everybody.
    pub checkpoint_retry: Duration,
    /// SBFT's fast path (`dwcp_pbft::fast`): once the collector holds a
    /// quorum of prepares it waits up to this long for a fast quorum (all
    /// `n` for `n = 3f + 1`) and then decides in three hops; `None` keeps
    /// the five-hop slow path only.
    pub fast_path: Option<Duration>,
    /// Decision certificates (fast-path proofs, commit certificates) go on
    /// the wire as BLS aggregates, votes carry BLS shares (see
    /// [`super::bls`]); needs [`super::LinearPbft::with_bls`].
    pub bls_certificates: bool,
}

impl LinearConfig {
    /// Linear voting with collected checkpoints over the default PBFT
    /// configuration for `n` replicas.
    pub fn new(n: usize) -> Result<LinearConfig, ConfigError> {
        Ok(LinearConfig {
            pbft: PbftConfig::new(n)?,
            voting: Voting::Linear,
            weights: None,
            faulty_weight: 0,
            forward: BatchConfig {
                max_items: 64,
                max_bytes: 64 << 10,
                max_delay: Duration::ZERO,
                remember: 0,
            },
            codec: Codec::Lz4,
            compress_above: 1024,
            fallback_after: 3,
            collect_checkpoints: true,
            checkpoint_retry: Duration::from_millis(250),
            fast_path: Some(Duration::from_millis(10)),
            bls_certificates: false,
        })
    }

    /// The committee: unit weights tolerating `pbft.f`, or the custom
    /// weights.
    pub fn committee(&self) -> Result<WeightedCommittee, ConfigError> {
        let r = match &self.weights {
            None => WeightedCommittee::new(vec![1; self.pbft.n], self.pbft.f as u64),
            Some(w) => WeightedCommittee::new(w.clone(), self.faulty_weight),
        };
        let c = r.map_err(|_| {
            ConfigError::Invalid("weights and faulty weight do not form a committee")
        })?;
        if c.len() != self.pbft.n {
            return Err(ConfigError::Invalid("weights do not match n"));
        }
        Ok(c)
    }

    /// Checks everything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.pbft.validate()?;
        self.committee()?;
        if self.forward.max_items == 0 || self.checkpoint_retry.is_zero() {
            return Err(ConfigError::Invalid(
                "forward.max_items and checkpoint_retry must be positive",
            ));
        }
        Ok(())
    }
}
