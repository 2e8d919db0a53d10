//! Secure-aggregation configuration and its overflow check.

use crate::fixed::{FixedPoint, bytes_per_element, ring_mask};
use dwcp_core::codec::MAX_MESSAGE_SIZE;
use dwcp_core::{Duration, NodeId};
use std::fmt;

/// Everything both sides of a secure-aggregation session agree on.
#[derive(Clone, Debug, PartialEq)]
pub struct SecAggConfig {
    /// A session number bound into every signature, key derivation and
    /// ciphertext (use the federated round number).
    pub session: u64,
    /// Number of clients `n`; clients are `NodeId(0..n)`, the server is `NodeId(n)`.
    pub clients: usize,
    /// Shamir threshold `t`: the server recovers the sum while at least `t`
    /// clients remain at every round, i.e. up to `n − t` drop out.
    pub threshold: usize,
    /// Length of each client's vector.
    pub dim: usize,
    /// The ring is Z_{2^bits}.
    pub bits: u32,
    /// The fixed-point code of the inputs.
    pub fixed: FixedPoint,
    /// The largest integer weight a client may give its vector.
    pub max_weight: u64,
    /// How long the server waits for each round before going on with the
    /// clients that answered (or aborting if fewer than `threshold` did).
    pub round_timeout: Duration,
}

/// Why a configuration was rejected.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// Fewer than 2 clients: the sum would be the input.
    TooFewClients(usize),
    /// The threshold must satisfy `n/2 < t ≤ n` (and `t ≥ 2`).
    BadThreshold {
        /// The threshold given.
        threshold: usize,
        /// The number of clients.
        clients: usize,
    },
    /// The ring width must be in 1..=64 bits.
    BadBits(u32),
    /// Zero-length vectors, or vectors whose masked upload would exceed the
    /// codec's message limit.
    BadDim(usize),
    /// Non-finite or non-positive clipping range or scale.
    BadFixedPoint,
    /// `max_weight` must be at least 1.
    BadWeight,
    /// `clients × max_weight × max_level` does not fit the ring: the sum
    /// could wrap around and be decoded wrongly.
    Overflow {
        /// Bits the worst-case sum needs.
        needed_bits: u32,
        /// Bits configured.
        bits: u32,
        /// The worst-case sum, `clients × max_weight × max_level`.
        worst_case_sum: u128,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::TooFewClients(n) => {
                write!(f, "secure aggregation needs at least 2 clients, got {n}")
            }
            ConfigError::BadThreshold { threshold, clients } => write!(
                f,
                "threshold {threshold} must satisfy n/2 < t <= n and t >= 2 for n = {clients}"
            ),
            ConfigError::BadBits(b) => write!(f, "ring width {b} bits is outside 1..=64"),
            ConfigError::BadDim(d) => {
                write!(f, "dimension {d} is zero or too large for one message")
            }
            ConfigError::BadFixedPoint => {
                write!(f, "clipping range and scale must be finite and positive")
            }
            ConfigError::BadWeight => write!(f, "max_weight must be at least 1"),
            ConfigError::Overflow {
                needed_bits,
                bits,
                worst_case_sum,
            } => write!(
                f,
                "overflow: clients x max_weight x max_level = {worst_case_sum} needs {needed_bits} bits \
                 but the ring has {bits}; widen the ring, lower the scale or clipping range, \
                 or cap the weight"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The smallest threshold we recommend for `n` clients: `⌊2n/3⌋ + 1`,
/// Bonawitz et al.'s bound against an actively malicious server (it
/// tolerates `n − t` dropouts, about a third).
pub fn recommended_threshold(clients: usize) -> usize {
    clients * 2 / 3 + 1
}

impl SecAggConfig {
    /// A validated configuration with a 10-second round timeout.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: u64,
        clients: usize,
        threshold: usize,
        dim: usize,
        bits: u32,
        clip: f32,
        scale: f64,
        max_weight: u64,
    ) -> Result<SecAggConfig, ConfigError> {
        let fixed = FixedPoint::new(clip, scale).ok_or(ConfigError::BadFixedPoint)?;
        let cfg = SecAggConfig {
            session,
            clients,
            threshold,
            dim,
            bits,
            fixed,
            max_weight,
            round_timeout: Duration::from_secs(10),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every invariant, most importantly that the worst-case sum
    /// `clients × max_weight × max_level` is below `2^bits`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.clients < 2 || self.clients >= u32::MAX as usize {
            return Err(ConfigError::TooFewClients(self.clients));
        }
        if self.threshold < 2 || self.threshold > self.clients || 2 * self.threshold <= self.clients
        {
            return Err(ConfigError::BadThreshold {
                threshold: self.threshold,
                clients: self.clients,
            });
        }
        if !(1..=64).contains(&self.bits) {
            return Err(ConfigError::BadBits(self.bits));
        }
        // The masked upload (dim + 1 packed elements) must fit one message.
        let upload = (self.dim + 1).saturating_mul(bytes_per_element(self.bits));
        if self.dim == 0 || upload > MAX_MESSAGE_SIZE - 1024 {
            return Err(ConfigError::BadDim(self.dim));
        }
        if FixedPoint::new(self.fixed.clip, self.fixed.scale) != Some(self.fixed) {
            return Err(ConfigError::BadFixedPoint);
        }
        if self.max_weight == 0 {
            return Err(ConfigError::BadWeight);
        }
        let worst = self.worst_case_sum();
        if worst > u128::from(ring_mask(self.bits)) {
            return Err(ConfigError::Overflow {
                needed_bits: 128 - worst.leading_zeros(),
                bits: self.bits,
                worst_case_sum: worst,
            });
        }
        Ok(())
    }

    /// `clients × max_weight × max_level` (the weight coordinate's worst
    /// case, `clients × max_weight`, is never larger).
    pub fn worst_case_sum(&self) -> u128 {
        self.clients as u128
            * u128::from(self.max_weight)
            * u128::from(self.fixed.max_level().max(1))
    }

    /// The server's id, `NodeId(clients)`.
    pub fn server(&self) -> NodeId {
        NodeId(self.clients as u32)
    }

    /// Whether `id` is one of the clients.
    pub fn is_client(&self, id: NodeId) -> bool {
        id.index() < self.clients
    }

    /// The bit mask of the ring.
    pub fn mask(&self) -> u64 {
        ring_mask(self.bits)
    }

    /// Length of a masked upload in ring elements: the vector plus the weight.
    pub fn upload_len(&self) -> usize {
        self.dim + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_rejected_with_the_needed_width() {
        // Flower's defaults: 2^22 levels in a 2^32 ring fit 1,023 summands...
        let scale = f64::from(1u32 << 21) / 8.0; // clip 8 -> 2^22 levels
        assert!(SecAggConfig::new(0, 1023, 700, 10, 32, 8.0, scale, 1).is_ok());
        assert!(matches!(
            SecAggConfig::new(0, 1024, 700, 10, 32, 8.0, scale, 1),
            Err(ConfigError::Overflow {
                needed_bits: 33,
                ..
            })
        ));
        // The lab's setting: 2^21 levels, weight 16, Z_2^32 -> 127 clients.
        let lab =
            |n| SecAggConfig::new(0, n, n * 2 / 3 + 1, 10, 32, 1.0, f64::from(1u32 << 20), 16);
        assert!(lab(127).is_ok());
        assert!(matches!(lab(128), Err(ConfigError::Overflow { .. })));
        // ...but not 1,100, nor 1,000 with weight 2.
        let e = SecAggConfig::new(0, 1100, 800, 10, 32, 8.0, scale, 1).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Overflow {
                    needed_bits: 33,
                    bits: 32,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("overflow"));
        assert!(matches!(
            SecAggConfig::new(0, 1000, 700, 10, 32, 8.0, scale, 2),
            Err(ConfigError::Overflow { .. })
        ));
    }

    #[test]
    fn other_rejections() {
        let ok =
            |n, t, d, bits, clip, scale, w| SecAggConfig::new(0, n, t, d, bits, clip, scale, w);
        assert_eq!(
            ok(1, 1, 4, 32, 1.0, 10.0, 1),
            Err(ConfigError::TooFewClients(1))
        );
        assert!(matches!(
            ok(10, 5, 4, 32, 1.0, 10.0, 1),
            Err(ConfigError::BadThreshold { .. })
        ));
        assert!(matches!(
            ok(10, 11, 4, 32, 1.0, 10.0, 1),
            Err(ConfigError::BadThreshold { .. })
        ));
        assert_eq!(
            ok(10, 7, 4, 65, 1.0, 10.0, 1),
            Err(ConfigError::BadBits(65))
        );
        assert_eq!(ok(10, 7, 0, 32, 1.0, 10.0, 1), Err(ConfigError::BadDim(0)));
        assert_eq!(
            ok(10, 7, 3_000_000, 32, 1.0, 10.0, 1),
            Err(ConfigError::BadDim(3_000_000))
        );
        assert_eq!(
            ok(10, 7, 4, 32, -1.0, 10.0, 1),
            Err(ConfigError::BadFixedPoint)
        );
        assert_eq!(ok(10, 7, 4, 32, 1.0, 10.0, 0), Err(ConfigError::BadWeight));
        assert_eq!(recommended_threshold(100), 67);
        assert_eq!(recommended_threshold(10), 7);
    }
}
