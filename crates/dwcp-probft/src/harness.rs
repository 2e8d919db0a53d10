//! One-call simulated ProBFT clusters (feature `sim`), for tests, the lab
//! and the example. The workload helpers and the safety checks are
//! dwcp-pbft's (`dwcp_pbft::harness::{request, submit_requests, check}`),
//! which are generic over engines ordering [`Request`]s, so both protocols
//! run exactly the same workload.
//!
//! ```
//! use dwcp_probft::harness;
//! use dwcp_pbft::harness::{check, submit_requests};
//! use dwcp_sim::NetworkConfig;
//! use dwcp_core::{Duration, Time};
//!
//! let mut sim = harness::cluster(16, 7, harness::real_keys, NetworkConfig::default());
//! submit_requests(&mut sim, 10, Time::ZERO, Duration::from_millis(1));
//! sim.run_until_delivered(10, Time::from_secs(10)).unwrap();
//! check(&sim).unwrap();
//! ```

use crate::config::ProbftConfig;
use crate::message::Request;
use crate::replica::Probft;
use dwcp_core::{NodeId, rng};
use dwcp_crypto::Keyring;
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};

/// Builds the keyring of `n` replicas from a seed: [`real_keys`], or
/// `dwcp_crypto::Keyring::insecure_mock` where the caller enabled
/// dwcp-crypto's mock feature (very large simulations only).
pub type KeyFactory = fn(usize, u64) -> Keyring;

/// Real sr25519 keys (signatures and VRF): `Keyring::sr25519(n, seed)`.
pub fn real_keys(n: usize, seed: u64) -> Keyring {
    Keyring::sr25519(n, seed)
}

/// An `n`-replica cluster with the default [`ProbftConfig`] over `net`,
/// seeded by `seed` (keys, engines, network).
///
/// # Panics
/// If the default configuration refuses `n` (for example `n < 10`, where
/// samples are the whole committee and the quorum too small).
pub fn cluster(n: usize, seed: u64, keys: KeyFactory, net: NetworkConfig) -> Simulation<Probft> {
    let mut config = ProbftConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    // The standard workload's requests are client-signed: authenticate them.
    config.clients = Some(dwcp_pbft::harness::client_keys().publics.clone());
    cluster_with(
        config,
        SimConfig::new(n, seed).with_network(net),
        keys(n, seed),
    )
}

/// A cluster with explicit replica and simulator configurations and keys.
///
/// # Panics
/// If the sizes disagree or the configuration is invalid.
pub fn cluster_with(config: ProbftConfig, sim: SimConfig, keys: Keyring) -> Simulation<Probft> {
    assert_eq!(
        config.n, sim.n,
        "replica and simulator configurations disagree on n"
    );
    assert_eq!(keys.len(), config.n, "keyring size");
    let seed = sim.seed;
    Simulation::new(sim, move |id: NodeId| {
        let secret = keys.secrets[id.index()].clone();
        Probft::new(
            config.clone(),
            id,
            secret,
            keys.publics.clone(),
            rng::derive(seed, u64::from(id.0)),
        )
        .unwrap_or_else(|e| panic!("replica {id}: {e}"))
    })
}

/// The `i`-th request of the standard workload (dwcp-pbft's).
pub fn request(i: u64) -> Request {
    dwcp_pbft::harness::request(i)
}
