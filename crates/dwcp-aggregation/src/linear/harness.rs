//! Simulated linear-mode clusters and Byzantine collectors.
//!
//! ```
//! use dwcp_aggregation::linear::{LinearConfig, harness};
//! use dwcp_pbft::harness::{CryptoMode, submit_requests};
//! use dwcp_sim::{NetworkConfig, SimConfig};
//! use dwcp_core::{Duration, Time};
//!
//! let cfg = LinearConfig::new(4).unwrap();
//! let mut sim = harness::cluster(cfg, SimConfig::new(4, 7).with_network(NetworkConfig::default()), CryptoMode::Sr25519);
//! submit_requests(&mut sim, 20, Time::ZERO, Duration::from_millis(1));
//! sim.run_until_delivered(20, Time::from_secs(5)).unwrap();
//! dwcp_pbft::harness::check(&sim).unwrap();
//! ```

use super::bls::BlsKeys;
use super::config::LinearConfig;
use super::engine::LinearPbft;
use super::message::AggMessage;
use dwcp_core::{Digest, NodeId, Output, rng};
use dwcp_pbft::Message;
use dwcp_pbft::harness::CryptoMode;
use dwcp_sim::{Adversary, AdversaryCtx, OutputOf, SimConfig, Simulation};

/// A linear-mode cluster of `cfg.pbft.n` replicas.
///
/// # Panics
/// If the configuration is invalid or the sizes disagree.
pub fn cluster(cfg: LinearConfig, sim: SimConfig, crypto: CryptoMode) -> Simulation<LinearPbft> {
    assert_eq!(
        cfg.pbft.n, sim.n,
        "replica and simulator configurations disagree on n"
    );
    let seed = sim.seed;
    let keys = crypto.keyring(cfg.pbft.n, seed);
    // BLS keys (real: BLS has no insecure mock) when certificates are BLS.
    let bls = cfg
        .bls_certificates
        .then(|| dwcp_crypto::AggKeyring::bls(cfg.pbft.n, seed));
    Simulation::new(sim, move |id: NodeId| {
        let (key, publics) = (keys.secrets[id.index()].clone(), keys.publics.clone());
        let rng = rng::derive(seed, id.0 as u64);
        match &bls {
            Some(b) => {
                let bk = BlsKeys {
                    secret: b.secrets[id.index()].clone(),
                    publics: b.publics.clone(),
                };
                LinearPbft::with_bls(cfg.clone(), id, key, publics, bk, rng)
            }
            None => LinearPbft::new(cfg.clone(), id, key, publics, rng),
        }
        .unwrap_or_else(|e| panic!("replica {id}: {e}"))
    })
}

fn is_certificate(m: &AggMessage) -> bool {
    matches!(
        m,
        AggMessage::Pbft(Message::Certificate(_))
            | AggMessage::CheckpointCert { .. }
            | AggMessage::BlsCertificate { .. }
    )
}

/// A collector that never relays certificates (vote or checkpoint) but is
/// otherwise honest.
#[derive(Clone, Copy, Debug, Default)]
pub struct WithholdCertificates;

impl Adversary<LinearPbft> for WithholdCertificates {
    fn name(&self) -> &'static str {
        "withhold-certificates"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, LinearPbft>, output: OutputOf<LinearPbft>) {
        match &output {
            Output::Send { msg, .. } if is_certificate(msg) => {}
            _ => ctx.emit(output),
        }
    }
}

/// A collector that relays forged certificates: the digest (or state) is
/// replaced, so the real signatures no longer match it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ForgeCertificates;

impl Adversary<LinearPbft> for ForgeCertificates {
    fn name(&self) -> &'static str {
        "forge-certificates"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, LinearPbft>, output: OutputOf<LinearPbft>) {
        let Output::Send { to, msg } = output else {
            return ctx.emit(output);
        };
        let msg = match msg {
            AggMessage::Pbft(Message::Certificate(mut c)) => {
                c.digest = Digest::of(&c.digest.0);
                AggMessage::Pbft(Message::Certificate(c))
            }
            AggMessage::CheckpointCert { seq, state, cert } => AggMessage::CheckpointCert {
                seq,
                state: Digest::of(&state.0),
                cert,
            },
            AggMessage::BlsCertificate {
                phase,
                view,
                seq,
                digest,
                cert,
            } => AggMessage::BlsCertificate {
                phase,
                view,
                seq,
                digest: Digest::of(&digest.0),
                cert,
            },
            m => m,
        };
        ctx.send(to, msg);
    }
}
