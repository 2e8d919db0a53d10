//! Federation configuration and its compatibility checks.

use crate::aggregate::Rule;
use crate::compress::Compression;
use crate::model::{LocalTraining, ModelSpec};
use dwcp_core::{Duration, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Privacy features of the federation: Bonawitz-style secure aggregation
/// and DP-FedAvg, both carried out by `dwcp-privacy` inside these engines
/// (see [`crate::secure`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// Bonawitz-style secure aggregation: the server sees only the sum.
    pub secure_aggregation: bool,
    /// The fixed-point code of the masked values.
    pub secagg: SecAggParams,
    /// User-level differential privacy (clipping, Gaussian noise, Rényi
    /// accounting); `None` for none.
    pub dp: Option<DpParams>,
}

/// The fixed-point code secure aggregation sums in: every submitted value
/// is clipped to `[-range, range]` and rounded to `1/scale`; the ring width
/// is the smallest multiple of 8 bits that holds `participants ×
/// max_weight × 2·range·scale` (rejected above 64).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecAggParams {
    /// Per-coordinate clipping range of a client's update.
    pub range: f32,
    /// Levels per unit; the mean is exact to `1/(2·scale)`.
    pub scale: f64,
}

impl Default for SecAggParams {
    /// Range 1 (a local update's coordinates stay well inside it on the
    /// digits benchmark) at 2^16 levels per unit.
    fn default() -> Self {
        SecAggParams {
            range: 1.0,
            scale: 65_536.0,
        }
    }
}

/// DP-FedAvg (McMahan et al., ICLR 2018): each client's update is clipped
/// to L2 norm `clip`, Gaussian noise of std `noise_multiplier · clip` is
/// added to the sum, the sum is divided by the fixed denominator
/// `sampling_rate × population`, and every round is charged to a Rényi
/// accountant as one sampled Gaussian step at rate `sampling_rate`.
///
/// Without secure aggregation the server clips and adds the noise; with it
/// each client clips its own update and adds its share of the noise,
/// `N(0, (σ·S)² / t)` with `t` the session's threshold, so that the sum
/// carries at least the full noise whenever the sum is recovered at all.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpParams {
    /// L2 bound `S` on one client's update.
    pub clip: f32,
    /// Noise multiplier `σ`.
    pub noise_multiplier: f64,
    /// Probability `q` that a client takes part in a round: must describe
    /// the selector (1 for every client every round, the rate of
    /// [`crate::select::Poisson`]); the accountant assumes Poisson sampling.
    pub sampling_rate: f64,
    /// The `δ` at which [`crate::server::Server::epsilon`] reports `ε`.
    pub delta: f64,
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
    /// The round closes at this deadline with whoever arrived. With secure
    /// aggregation it bounds each of the session's five phases instead
    /// (a client that misses a phase counts as dropped from then on).
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
        if let Some(dp) = self.privacy.dp {
            let ok = dp.clip.is_finite()
                && dp.clip > 0.0
                && dp.noise_multiplier.is_finite()
                && dp.noise_multiplier >= 0.0
                && dp.sampling_rate > 0.0
                && dp.sampling_rate <= 1.0
                && dp.delta > 0.0
                && dp.delta < 1.0;
            if !ok {
                return Err(ConfigError::Invalid(
                    "DP needs a finite positive clip, sigma >= 0, sampling rate in (0, 1] and delta in (0, 1)".into(),
                ));
            }
            if self.rule != Rule::FedAvg {
                return Err(ConfigError::Incompatible(format!(
                    "{} with differential privacy: the accountant covers the clipped, noised sum of FedAvg only; use FedAvg",
                    self.rule.name()
                )));
            }
            if self.relays {
                return Err(ConfigError::Incompatible(
                    "differential privacy with relays: a relay forwards its subtree's mean, so the server cannot clip each client's update; turn relays off".into(),
                ));
            }
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
            if self.relays {
                return Err(ConfigError::Incompatible(
                    "relays with secure aggregation: a relay would see its children's updates in the clear; turn relays off".into(),
                ));
            }
            crate::secure::session_config(self, 0, self.clients.len().max(2), 1)
                .map_err(ConfigError::Invalid)?;
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
