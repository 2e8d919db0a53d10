//! The pre-registered private runs behind the lab's `fl-dp` and the
//! training part of `fl-secagg`: whole federations of this crate's engines
//! with secure aggregation and/or DP-FedAvg switched on.

use crate::bench::{Method, Setup, build_with, drive};
use crate::config::{DpParams, Privacy};
use crate::data::Dataset;
use crate::select::Poisson;
use dwcp_core::NodeId;

/// The DP-FedAvg training setup on a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct DpSetup {
    /// The federation (clients = population, split, model, rounds).
    pub setup: Setup,
    /// Poisson sampling rate `q` of clients per round.
    pub sampling_rate: f64,
    /// The `δ` of the reported `ε`.
    pub delta: f64,
}

impl DpSetup {
    /// The lab's setup: 100 clients with Dirichlet(0.5) label skew (at
    /// least 5 rows each), q = 0.1, MLP 64-64-10, `rounds` rounds, δ = 1e-5.
    pub fn digits(rounds: u64) -> Self {
        DpSetup {
            setup: Setup {
                clients: 100,
                min_per_client: 5,
                rounds,
                ..Setup::digits()
            },
            sampling_rate: 0.1,
            delta: 1e-5,
        }
    }
}

/// What one private run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateRun {
    /// Test accuracy after the last round.
    pub accuracy: f64,
    /// `ε` spent at `δ` (`None` without DP, infinite with `σ = 0`).
    pub epsilon: Option<f64>,
    /// Rounds whose aggregate was applied.
    pub applied_rounds: u64,
    /// Client → server bytes over the run.
    pub up_bytes: u64,
    /// Server → client bytes over the run.
    pub down_bytes: u64,
}

/// One DP-FedAvg run through the round engines: Poisson sampling at
/// `s.sampling_rate`, every update clipped to L2 norm `clip`, noise
/// multiplier `sigma`, fixed denominator `qN`, each client weighted once;
/// with `secure` the clipping and (distributed) noise happen on the clients
/// and the server sees only the masked sum.
pub fn dp_fedavg(
    data: &Dataset,
    s: &DpSetup,
    sigma: f64,
    clip: f32,
    secure: bool,
    seed: u64,
) -> Result<PrivateRun, String> {
    let privacy = Privacy {
        secure_aggregation: secure,
        dp: Some(DpParams {
            clip,
            noise_multiplier: sigma,
            sampling_rate: s.sampling_rate,
            delta: s.delta,
        }),
        ..Privacy::default()
    };
    let selector = Box::new(Poisson {
        rate: s.sampling_rate,
    });
    let method = Method::dense();
    let (mut fed, test) = build_with(
        data,
        &s.setup,
        &method,
        Some(selector),
        false,
        privacy,
        seed,
    )?;
    let r = drive(&mut fed, &test, &s.setup, &method, seed);
    Ok(PrivateRun {
        accuracy: r.final_accuracy,
        epsilon: fed.server.epsilon(),
        applied_rounds: fed.outcomes.iter().filter(|o| !o.skipped).count() as u64,
        up_bytes: fed.traffic.up,
        down_bytes: fed.traffic.down,
    })
}

/// Secure versus plaintext FedAvg on one federation.
#[derive(Clone, Debug, PartialEq)]
pub struct SecureVsPlain {
    /// With secure aggregation.
    pub secure: PrivateRun,
    /// Plaintext FedAvg without the dropped clients.
    pub plain: PrivateRun,
    /// Largest coordinate difference of the two global models after round 1.
    pub first_round_max_diff: f64,
    /// The fixed-point code's half step `1/(2·scale)`, the bound on the
    /// first round's difference (plus f32 rounding).
    pub half_step: f64,
}

/// Secure versus plaintext FedAvg on the same federation: `dropout_percent`
/// of the clients (the first ones) drop out after sharing their keys in
/// round 1 and stay away (their masks are removed with their reconstructed
/// keys; in the plaintext run they are offline throughout).
pub fn secure_vs_plain(
    data: &Dataset,
    setup: &Setup,
    method: &Method,
    dropout_percent: usize,
    seed: u64,
) -> Result<SecureVsPlain, String> {
    let dropped: Vec<NodeId> = (1..=(setup.clients * dropout_percent / 100) as u32)
        .map(NodeId)
        .collect();
    let mut runs = vec![];
    let mut first = vec![];
    for secure in [true, false] {
        let privacy = Privacy {
            secure_aggregation: secure,
            ..Privacy::default()
        };
        let (mut fed, test) = build_with(data, setup, method, None, false, privacy, seed)?;
        for &d in &dropped {
            if secure {
                fed.crash_after.insert(d, "share-keys");
            } else {
                fed.offline.insert(d);
            }
        }
        fed.run(1, |_, _, _| {});
        first.push(fed.server.model().to_vec());
        let r = drive(&mut fed, &test, setup, method, seed);
        runs.push(PrivateRun {
            accuracy: r.final_accuracy,
            epsilon: None,
            applied_rounds: fed.outcomes.iter().filter(|o| !o.skipped).count() as u64,
            up_bytes: fed.traffic.up,
            down_bytes: fed.traffic.down,
        });
    }
    let plain = runs.pop().ok_or("no plaintext run")?;
    let secure = runs.pop().ok_or("no secure run")?;
    let first_round_max_diff = match first.as_slice() {
        [a, b] => a
            .iter()
            .zip(b)
            .map(|(x, y)| f64::from(x - y).abs())
            .fold(0.0, f64::max),
        _ => f64::NAN,
    };
    Ok(SecureVsPlain {
        secure,
        plain,
        first_round_max_diff,
        half_step: 0.5 / Privacy::default().secagg.scale,
    })
}
