//! Configuration, with defaults and a validating constructor.

use dwcp_core::{Committee, Duration};
use std::fmt;

/// Tunables of one PBFT replica. Build with [`PbftConfig::new`] or
/// [`PbftConfig::with_faults`], adjust the public fields, and the engine
/// constructor calls [`PbftConfig::validate`] again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbftConfig {
    /// Committee size.
    pub n: usize,
    /// Byzantine replicas tolerated (`n ≥ 3f + 1`).
    pub f: usize,
    /// The primary proposes as soon as this many requests are pending.
    pub max_batch: usize,
    /// …or when the oldest pending request has waited this long.
    pub batch_timeout: Duration,
    /// A checkpoint every `checkpoint_interval` sequence numbers (`K`).
    pub checkpoint_interval: u64,
    /// The watermark window `L`: sequence numbers in `(h, h + L]` are
    /// accepted, `h` being the stable checkpoint. A multiple of `K`, at
    /// least `2K` so the pipeline never waits for a checkpoint.
    pub window: u64,
    /// A backup waiting this long for a request to execute suspects the
    /// primary and starts a view change.
    pub request_timeout: Duration,
    /// The first view-change timeout; doubled after every view change that
    /// did not lead to executing a new request, up to the maximum below.
    pub view_change_timeout: Duration,
    /// Cap of the exponential back-off.
    pub max_view_change_timeout: Duration,
    /// Every interval, send a [`crate::Status`] to one random peer, which
    /// answers with catch-up data or the new-view the sender lacks. `None`
    /// disables it (lagging replicas may then stall until traffic resumes).
    pub status_interval: Option<Duration>,
    /// A replica re-sends its own pre-prepare, prepare and commit for a
    /// slot that has not committed this long after its pre-prepare (and
    /// again every interval): PBFT assumes retransmission on lossy links.
    /// `None` disables it (a lost message then costs a view change).
    pub retransmit_timeout: Option<Duration>,
    /// View-changes and early messages for views beyond `view + this` are
    /// dropped.
    pub max_views_ahead: u64,
    /// Early messages (future view, or beyond the high watermark) kept per
    /// peer until they can be processed; the oldest are dropped first.
    pub buffer_per_peer: usize,
    /// Requests waiting to be ordered; new ones are ignored beyond it.
    pub max_pending: usize,
    /// Committed batches (with commit certificates) kept to serve lagging
    /// replicas, in sequence numbers below the last executed one.
    pub catch_up_retention: u64,
    /// Committed batches per catch-up message.
    pub catch_up_batch: usize,
    /// Client public keys indexed by client id. When set, only requests
    /// signed by their client ([`crate::Request::signed`]) are accepted; when
    /// `None`, requests are not authenticated and a Byzantine replica could
    /// order requests no client issued (use only with trusted clients and
    /// replicas, e.g. in benchmarks).
    pub clients: Option<Vec<dwcp_crypto::PublicKey>>,
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `n < 3f + 1` or `n = 0`.
    TooManyFaults {
        /// Committee size.
        n: usize,
        /// Requested fault bound.
        f: usize,
    },
    /// A field is out of range; the string names it.
    Invalid(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::TooManyFaults { n, f: faults } => {
                write!(
                    f,
                    "n = {n} cannot tolerate f = {faults} (needs n >= 3f + 1)"
                )
            }
            ConfigError::Invalid(what) => write!(f, "invalid configuration: {what}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl PbftConfig {
    /// `n` replicas tolerating the largest `f` with `n ≥ 3f + 1`, defaults
    /// elsewhere.
    pub fn new(n: usize) -> Result<PbftConfig, ConfigError> {
        Self::with_faults(n, n.saturating_sub(1) / 3)
    }

    /// `n` replicas tolerating exactly `f`, defaults elsewhere.
    pub fn with_faults(n: usize, f: usize) -> Result<PbftConfig, ConfigError> {
        let cfg = PbftConfig {
            n,
            f,
            max_batch: 64,
            batch_timeout: Duration::from_millis(2),
            checkpoint_interval: 16,
            window: 64,
            request_timeout: Duration::from_millis(500),
            view_change_timeout: Duration::from_millis(500),
            max_view_change_timeout: Duration::from_secs(8),
            status_interval: Some(Duration::from_millis(250)),
            retransmit_timeout: Some(Duration::from_millis(250)),
            max_views_ahead: 1_000,
            buffer_per_peer: 512,
            max_pending: 100_000,
            clients: None,
            catch_up_retention: 4_096,
            catch_up_batch: 32,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The committee arithmetic of this configuration.
    pub fn committee(&self) -> Result<Committee, ConfigError> {
        Committee::with_faults(self.n, self.f).map_err(|_| ConfigError::TooManyFaults {
            n: self.n,
            f: self.f,
        })
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n == 0 || self.n < 3 * self.f + 1 {
            return Err(ConfigError::TooManyFaults {
                n: self.n,
                f: self.f,
            });
        }
        if self.n > u32::MAX as usize {
            return Err(ConfigError::Invalid("n does not fit a NodeId"));
        }
        if self.max_batch == 0 {
            return Err(ConfigError::Invalid("max_batch must be positive"));
        }
        if self.checkpoint_interval == 0 {
            return Err(ConfigError::Invalid("checkpoint_interval must be positive"));
        }
        if self.window < 2 * self.checkpoint_interval
            || !self.window.is_multiple_of(self.checkpoint_interval)
        {
            return Err(ConfigError::Invalid(
                "window must be a multiple of checkpoint_interval, at least twice it",
            ));
        }
        if self.request_timeout.is_zero() || self.view_change_timeout.is_zero() {
            return Err(ConfigError::Invalid("timeouts must be positive"));
        }
        if self.max_view_change_timeout < self.view_change_timeout {
            return Err(ConfigError::Invalid(
                "max_view_change_timeout below view_change_timeout",
            ));
        }
        if self.status_interval.is_some_and(|d| d.is_zero())
            || self.retransmit_timeout.is_some_and(|d| d.is_zero())
        {
            return Err(ConfigError::Invalid(
                "status_interval and retransmit_timeout must be positive",
            ));
        }
        if self.max_views_ahead == 0 || self.buffer_per_peer == 0 || self.max_pending == 0 {
            return Err(ConfigError::Invalid("bounds must be positive"));
        }
        if self.catch_up_batch == 0 || self.catch_up_retention < self.window {
            return Err(ConfigError::Invalid(
                "catch_up_batch positive and catch_up_retention at least window",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_configs_are_refused() {
        for n in [1, 4, 7, 10, 31, 100] {
            let c = PbftConfig::new(n).unwrap();
            assert_eq!(c.f, (n - 1) / 3);
        }
        assert_eq!(
            PbftConfig::with_faults(6, 2),
            Err(ConfigError::TooManyFaults { n: 6, f: 2 })
        );
        assert!(PbftConfig::new(0).is_err());
        let mut c = PbftConfig::new(4).unwrap();
        c.window = 24;
        assert!(c.validate().is_err());
        c.window = 16;
        assert!(c.validate().is_err());
        c.window = 32;
        assert!(c.validate().is_ok());
        c.max_batch = 0;
        assert!(c.validate().is_err());
        let mut c = PbftConfig::new(4).unwrap();
        c.max_view_change_timeout = Duration::from_millis(1);
        assert!(c.validate().is_err());
    }
}
