//! Configuration: committee, the sampling parameters `o` and `l`, timers and
//! memory bounds, with a validating constructor.
//!
//! A replica sends each prepare and commit to a VRF sample of
//! `s = ⌈o·√n⌉` other replicas and waits for a probabilistic quorum of
//! `q = ⌈l·√n⌉` matching messages (its own included). A receiver's count of
//! messages from correct replicas is binomial: each of the other `n − f − 1`
//! correct replicas has it in its sample with probability `s / (n − 1)`.
//! [`ProbftConfig::validate`] refuses parameters for which the *expected*
//! count is below `q` (the quorum would usually not be reached even when
//! every faulty replica is merely silent) and parameters for which the
//! faulty replicas alone are expected to reach it.

use dwcp_core::{Committee, Duration};
use std::fmt;

/// Default sample factor `o`: `s = ⌈2√n⌉`. The paper's abstract quotes
/// ProBFT using "a fraction (e.g., 20%)" of PBFT's messages; PBFT sends about
/// `2n²` votes per decision and ProBFT `2n·s`, so 20% at `n = 100` is
/// `s = 20 = 2√100`.
pub const DEFAULT_O: f64 = 2.0;

/// Default quorum factor `l`: `q = ⌈√n⌉`, half the sample. Correct replicas
/// deliver `(2/3)·s` messages to a receiver on average when a third are
/// faulty and silent, faulty ones at most `(1/3)·s`; `q = s / 2` sits in the
/// middle, which balances the two failure modes (no quorum; a quorum made
/// mostly of faulty votes). See [`crate::bound`] for what it buys.
pub const DEFAULT_L: f64 = 1.0;

/// Tunables of one ProBFT replica. Build with [`ProbftConfig::new`],
/// [`ProbftConfig::with_faults`] or [`ProbftConfig::with_params`], adjust
/// the public fields, and the engine constructor validates again.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbftConfig {
    /// Committee size.
    pub n: usize,
    /// Byzantine replicas tolerated (`n ≥ 3f + 1`).
    pub f: usize,
    /// Sample factor: prepares and commits go to `⌈o·√n⌉` replicas.
    pub o: f64,
    /// Quorum factor: `⌈l·√n⌉` matching messages prepare or decide.
    pub l: f64,
    /// The leader proposes as soon as this many requests are pending…
    pub max_batch: usize,
    /// …or when the oldest pending request has waited this long.
    pub batch_timeout: Duration,
    /// A replica waiting this long for progress (a pending request, or an
    /// accepted proposal, not decided) suspects the leader.
    pub request_timeout: Duration,
    /// The first view-change timeout; doubled after each view change that
    /// did not lead to a decision, up to the maximum below.
    pub view_change_timeout: Duration,
    /// Cap of the exponential back-off.
    pub max_view_change_timeout: Duration,
    /// The next leader, once it holds `n − f` view-changes, waits up to this
    /// long for the others before sending its new-view.
    pub new_view_grace: Duration,
    /// Slots accepted ahead of the next undecided one (votes and proposals
    /// for slots beyond it wait in the per-peer buffer).
    pub window: u64,
    /// Decided slots behind the next undecided one whose certificates go
    /// into view-changes and which a new view may re-propose (replicas that
    /// decided them vote again, for the decided value only).
    pub history: u64,
    /// Decided batches kept to answer catch-up requests.
    pub retention: u64,
    /// Decided batches per catch-up answer.
    pub fetch_batch: usize,
    /// A replica that sees `f + 1` peers ahead waits this long, then asks
    /// for the decided batches it lacks.
    pub fetch_delay: Duration,
    /// Messages for views beyond `view + this` are dropped.
    pub max_views_ahead: u64,
    /// Early messages kept per peer; the oldest are dropped first.
    pub buffer_per_peer: usize,
    /// Requests waiting to be ordered; new ones are ignored beyond it.
    pub max_pending: usize,
    /// Client public keys, indexed by client id. When set, every request
    /// must carry its client's signature ([`Request::signed`]): unsigned or
    /// forged requests from clients are dropped, a forwarded one is
    /// evidence against the peer that forwarded it, and a proposal holding
    /// one is evidence against the leader (it made the request up). `None`
    /// orders requests no client issued: use it only with trusted clients.
    ///
    /// [`Request::signed`]: crate::Request::signed
    pub clients: Option<Vec<dwcp_crypto::PublicKey>>,
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// `n < 3f + 1` or `n = 0`.
    TooManyFaults {
        /// Committee size.
        n: usize,
        /// Requested fault bound.
        f: usize,
    },
    /// Correct replicas are expected to deliver fewer than `q` messages to a
    /// receiver: the protocol would usually stall.
    NotLive {
        /// Expected deliveries (own vote included) with `f` silent replicas.
        expected: f64,
        /// The quorum `q`.
        quorum: usize,
    },
    /// Faulty replicas alone (plus the receiver's own vote) are expected to
    /// reach the quorum.
    NotSafe {
        /// Expected deliveries from the `f` faulty replicas, own vote included.
        faulty: f64,
        /// The quorum `q`.
        quorum: usize,
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
            ConfigError::NotLive { expected, quorum } => write!(
                f,
                "not live: correct replicas deliver {expected:.2} messages on average, below the quorum {quorum}"
            ),
            ConfigError::NotSafe { faulty, quorum } => write!(
                f,
                "not safe: faulty replicas alone deliver {faulty:.2} messages on average, at or above the quorum {quorum}"
            ),
            ConfigError::Invalid(what) => write!(f, "invalid configuration: {what}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `⌈o·√n⌉` clamped to `1..=n−1` (`0` when `n ≤ 1`).
pub fn sample_size(n: usize, o: f64) -> usize {
    if n <= 1 {
        return 0;
    }
    let s = (o * (n as f64).sqrt()).ceil();
    if s.is_nan() || s < 1.0 {
        1
    } else if s >= (n - 1) as f64 {
        n - 1
    } else {
        s as usize
    }
}

/// `⌈l·√n⌉`, at least 1.
pub fn quorum_size(n: usize, l: f64) -> usize {
    let q = (l * (n as f64).sqrt()).ceil();
    if q.is_nan() || q < 1.0 {
        1
    } else if q > n as f64 {
        n
    } else {
        q as usize
    }
}

impl ProbftConfig {
    /// `n` replicas tolerating the largest `f` with `n ≥ 3f + 1`, default
    /// `o` and `l`, defaults elsewhere.
    pub fn new(n: usize) -> Result<ProbftConfig, ConfigError> {
        Self::with_faults(n, n.saturating_sub(1) / 3)
    }

    /// `n` replicas tolerating exactly `f`, default `o` and `l`.
    pub fn with_faults(n: usize, f: usize) -> Result<ProbftConfig, ConfigError> {
        Self::with_params(n, f, DEFAULT_O, DEFAULT_L)
    }

    /// `n`, `f`, `o` and `l` explicitly; defaults elsewhere.
    pub fn with_params(n: usize, f: usize, o: f64, l: f64) -> Result<ProbftConfig, ConfigError> {
        let cfg = ProbftConfig {
            n,
            f,
            o,
            l,
            max_batch: 64,
            batch_timeout: Duration::from_millis(2),
            request_timeout: Duration::from_millis(500),
            view_change_timeout: Duration::from_millis(500),
            max_view_change_timeout: Duration::from_secs(4),
            new_view_grace: Duration::from_millis(50),
            window: 4,
            history: 2,
            retention: 256,
            fetch_batch: 16,
            fetch_delay: Duration::from_millis(100),
            max_views_ahead: 1_000,
            buffer_per_peer: 256,
            max_pending: 100_000,
            clients: None,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The sample size `s = ⌈o·√n⌉` (at most `n − 1`).
    pub fn sample_size(&self) -> usize {
        sample_size(self.n, self.o)
    }

    /// The probabilistic quorum `q = ⌈l·√n⌉`.
    pub fn quorum(&self) -> usize {
        quorum_size(self.n, self.l)
    }

    /// The probability that a given other replica's sample contains a given
    /// replica: `s / (n − 1)`.
    pub fn membership_probability(&self) -> f64 {
        if self.n <= 1 {
            return 0.0;
        }
        self.sample_size() as f64 / (self.n - 1) as f64
    }

    /// Expected matching messages at a correct receiver when the `f` faulty
    /// replicas are silent: its own plus `(n − f − 1)·s/(n − 1)`.
    pub fn expected_deliveries(&self) -> f64 {
        1.0 + self.n.saturating_sub(self.f + 1) as f64 * self.membership_probability()
    }

    /// Expected messages the `f` faulty replicas can deliver to a correct
    /// receiver, plus its own vote: `1 + f·s/(n − 1)`.
    pub fn expected_faulty_deliveries(&self) -> f64 {
        1.0 + self.f as f64 * self.membership_probability()
    }

    /// The committee arithmetic (deterministic quorums, used by view change).
    pub fn committee(&self) -> Result<Committee, ConfigError> {
        Committee::with_faults(self.n, self.f).map_err(|_| ConfigError::TooManyFaults {
            n: self.n,
            f: self.f,
        })
    }

    /// Checks every field, including liveness and safety of `(o, l)`.
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
        if !(self.o.is_finite() && self.o > 0.0 && self.l.is_finite() && self.l > 0.0) {
            return Err(ConfigError::Invalid("o and l must be finite and positive"));
        }
        if self.n > 1 {
            let quorum = self.quorum();
            let expected = self.expected_deliveries();
            if expected < quorum as f64 {
                return Err(ConfigError::NotLive { expected, quorum });
            }
            let faulty = self.expected_faulty_deliveries();
            if self.f > 0 && faulty >= quorum as f64 {
                return Err(ConfigError::NotSafe { faulty, quorum });
            }
        }
        if self.max_batch == 0 {
            return Err(ConfigError::Invalid("max_batch must be positive"));
        }
        if self.request_timeout.is_zero()
            || self.view_change_timeout.is_zero()
            || self.fetch_delay.is_zero()
        {
            return Err(ConfigError::Invalid("timeouts must be positive"));
        }
        if self.new_view_grace >= self.view_change_timeout {
            return Err(ConfigError::Invalid(
                "new_view_grace must be below view_change_timeout",
            ));
        }
        if self.max_view_change_timeout < self.view_change_timeout {
            return Err(ConfigError::Invalid(
                "max_view_change_timeout below view_change_timeout",
            ));
        }
        if self.window == 0
            || self.max_views_ahead == 0
            || self.buffer_per_peer == 0
            || self.max_pending == 0
        {
            return Err(ConfigError::Invalid("window and bounds must be positive"));
        }
        if self.fetch_batch == 0 || self.retention < self.history + self.window {
            return Err(ConfigError::Invalid(
                "fetch_batch positive and retention at least history + window",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_square_root() {
        // (n, s, q) with o = 2, l = 1.
        for (n, s, q) in [
            (16, 8, 4),
            (31, 12, 6),
            (64, 16, 8),
            (100, 20, 10),
            (256, 32, 16),
            (1024, 64, 32),
        ] {
            let c = ProbftConfig::new(n).unwrap();
            assert_eq!((c.sample_size(), c.quorum()), (s, q), "n={n}");
        }
        assert_eq!(sample_size(4, 2.0), 3, "clamped to n - 1");
        assert_eq!(sample_size(1, 2.0), 0);
        assert_eq!(quorum_size(9, 0.01), 1);
    }

    #[test]
    fn expected_deliveries_by_hand() {
        // n = 100, f = 33: s = 20, p = 20/99; 1 + 66·20/99 = 14.33…; 1 + 33·20/99 = 7.66…
        let c = ProbftConfig::new(100).unwrap();
        assert!((c.expected_deliveries() - (1.0 + 66.0 * 20.0 / 99.0)).abs() < 1e-12);
        assert!((c.expected_faulty_deliveries() - (1.0 + 33.0 * 20.0 / 99.0)).abs() < 1e-12);
    }

    #[test]
    fn unlive_and_unsafe_parameters_are_refused() {
        // l = 1.5 at n = 100: q = 15 > 14.33 expected deliveries.
        assert!(matches!(
            ProbftConfig::with_params(100, 33, 2.0, 1.5),
            Err(ConfigError::NotLive { quorum: 15, .. })
        ));
        // l = 0.7: q = 7 ≤ 7.67 faulty deliveries.
        assert!(matches!(
            ProbftConfig::with_params(100, 33, 2.0, 0.7),
            Err(ConfigError::NotSafe { quorum: 7, .. })
        ));
        // The same l is fine with fewer faults.
        assert!(ProbftConfig::with_params(100, 10, 2.0, 0.7).is_ok());
        // At n = 4 every sample is everybody (s = 3) and q = 2 would let one
        // faulty vote plus one's own decide.
        assert!(matches!(
            ProbftConfig::new(4),
            Err(ConfigError::NotSafe { .. })
        ));
        assert!(ProbftConfig::with_faults(4, 0).is_ok());
        assert_eq!(
            ProbftConfig::with_faults(6, 2),
            Err(ConfigError::TooManyFaults { n: 6, f: 2 })
        );
        assert!(ProbftConfig::with_params(16, 5, f64::NAN, 1.0).is_err());
        let mut c = ProbftConfig::new(16).unwrap();
        c.max_batch = 0;
        assert!(c.validate().is_err());
        let mut c = ProbftConfig::new(16).unwrap();
        c.retention = 1;
        assert!(c.validate().is_err());
    }
}
