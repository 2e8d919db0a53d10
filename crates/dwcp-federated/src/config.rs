//! Federation configuration and its compatibility checks.

use crate::aggregate::Rule;
use crate::compress::Compression;
use crate::model::{LocalTraining, ModelSpec};
use dwcp_core::{Duration, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Privacy features requested for the federation. Secure aggregation and
/// differential privacy are provided by a separate crate; this crate checks
/// that the rest of the configuration is compatible with them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// Bonawitz-style secure aggregation: the server sees only the sum.
    pub secure_aggregation: bool,
}

/// Everything the server, relays and clients agree on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlConfig {
    /// The server's id.
    pub server: NodeId,
    /// Every client's id (the population selection draws from).
    pub clients: Vec<NodeId>,
    /// The model.
    pub model: ModelSpec,
    /// Local training per round.
    pub local: LocalTraining,
    /// Rounds to run.
    pub rounds: u64,
    /// Client → server (and relay → server) compression.
    pub uplink: Compression,
    /// Server → client compression of the model delta. `Dense` sends the
    /// full model every round.
    pub downlink: Compression,
    /// Error feedback (residuals) on both ends for compressed directions.
    pub error_feedback: bool,
    /// Seed of the shared random-k mask.
    pub mask_seed: u64,
    /// Aggregation rule.
    pub rule: Rule,
    /// The round closes at this deadline with whoever arrived.
    pub round_timeout: Duration,
    /// A relay forwards its subtree's aggregate after this long (or once
    /// every child arrived); must be shorter than `round_timeout`.
    pub relay_timeout: Duration,
    /// Largest accepted update payload in bytes.
    pub max_update_bytes: usize,
    /// Largest accepted FedAvg weight per client (samples).
    pub max_weight_per_client: u64,
    /// Privacy features.
    pub privacy: Privacy,
    /// Whether relays (device-to-device trees) may be used.
    pub relays: bool,
}

impl FlConfig {
    /// The benchmark defaults for `n` clients (ids `1..=n`, server 0): MLP
    /// 64-64-10, E = 2, batch 32, SGD lr 0.1, dense both ways, FedAvg,
    /// 300 rounds, 10 s round deadline, 5 s relay deadline.
    pub fn new(n: u32) -> Self {
        FlConfig {
            server: NodeId(0),
            clients: (1..=n).map(NodeId).collect(),
            model: ModelSpec {
                sizes: vec![64, 64, 10],
                seed: 0,
            },
            local: LocalTraining::default(),
            rounds: 300,
            uplink: Compression::Dense,
            downlink: Compression::Dense,
            error_feedback: true,
            mask_seed: 0x6d61_736b,
            rule: Rule::FedAvg,
            round_timeout: Duration::from_secs(10),
            relay_timeout: Duration::from_secs(5),
            max_update_bytes: 1 << 20,
            max_weight_per_client: 1 << 20,
            privacy: Privacy::default(),
            relays: false,
        }
    }

    /// Checks the configuration; the error explains what to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let dim = self.model.num_params();
        if dim == 0 {
            return Err(ConfigError::Invalid(format!(
                "model sizes {:?}",
                self.model.sizes
            )));
        }
        if self.clients.is_empty() || self.clients.contains(&self.server) {
            return Err(ConfigError::Invalid(
                "clients must be non-empty and exclude the server".into(),
            ));
        }
        if !self.uplink.valid() || !self.downlink.valid() {
            return Err(ConfigError::Invalid(
                "compression fraction must be in (0, 1] and bits 1, 2..=16 or 32".into(),
            ));
        }
        if self.local.batch == 0 || self.rounds == 0 {
            return Err(ConfigError::Invalid(
                "batch and rounds must be positive".into(),
            ));
        }
        if self.relay_timeout >= self.round_timeout && self.relays {
            return Err(ConfigError::Invalid(
                "relay_timeout must be shorter than round_timeout".into(),
            ));
        }
        let n = self.clients.len();
        match self.rule {
            Rule::Krum { f } | Rule::MultiKrum { f, .. } if n <= 2 * f + 2 => {
                return Err(ConfigError::Invalid(format!(
                    "Krum with f = {f} needs more than {} clients, got {n}",
                    2 * f + 2
                )));
            }
            Rule::TrimmedMean { trim } if n <= 2 * trim => {
                return Err(ConfigError::Invalid(format!(
                    "trimmed mean dropping {trim} per side needs more than {} clients",
                    2 * trim
                )));
            }
            _ => {}
        }
        if self.relays && self.rule.needs_individual_updates() {
            return Err(ConfigError::Incompatible(format!(
                "{} needs every client's update, but relays forward only their subtree's sum; use FedAvg with relays",
                self.rule.name()
            )));
        }
        if self.privacy.secure_aggregation {
            if let Compression::TopK { .. } = self.uplink {
                return Err(ConfigError::Incompatible(
                    "per-client top-k with secure aggregation: each client keeps different indices, so the masked vectors cannot be summed; use Compression::RandomK (a shared mask) or Dense".into(),
                ));
            }
            if self.rule.needs_individual_updates() {
                return Err(ConfigError::Incompatible(format!(
                    "{} with secure aggregation: the rule needs each client's update in the clear, and secure aggregation reveals only the sum; use FedAvg",
                    self.rule.name()
                )));
            }
            return Err(ConfigError::Unavailable(
                "secure aggregation is compatible with this configuration but is not wired into these engines yet".into(),
            ));
        }
        Ok(())
    }
}

/// Why a configuration was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A value out of range.
    Invalid(String),
    /// Two features that cannot be combined.
    Incompatible(String),
    /// A requested feature that this build cannot provide.
    Unavailable(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid(s) => write!(f, "invalid configuration: {s}"),
            ConfigError::Incompatible(s) => write!(f, "incompatible configuration: {s}"),
            ConfigError::Unavailable(s) => write!(f, "unavailable: {s}"),
        }
    }
}

impl std::error::Error for ConfigError {}
