//! One-call simulated PBFT clusters (feature `sim`), for tests, the lab and
//! the crates that extend PBFT.
//!
//! ```
//! use dwcp_pbft::harness::{self, CryptoMode};
//! use dwcp_sim::NetworkConfig;
//! use dwcp_core::{Duration, Time};
//!
//! let mut sim = harness::cluster(4, 7, CryptoMode::Sr25519, NetworkConfig::default());
//! harness::submit_requests(&mut sim, 20, Time::ZERO, Duration::from_millis(1));
//! sim.run_until_delivered(20, Time::from_secs(5)).unwrap();
//! harness::check(&sim).unwrap();
//! ```

use crate::config::PbftConfig;
use crate::message::Request;
use crate::policy::{ClassicPolicy, Policy};
use crate::replica::Pbft;
use dwcp_core::{Duration, Engine, NodeId, Time, rng};
use dwcp_crypto::Keyring;
use dwcp_sim::{NetworkConfig, SimConfig, Simulation, Violation};
use std::sync::OnceLock;

/// Which signatures the cluster uses.
#[derive(Clone, Debug)]
pub enum CryptoMode {
    /// Real sr25519 keys, `Keyring::sr25519(n, seed)`.
    Sr25519,
    /// dwcp-crypto's INSECURE, forgeable mock keys (for hundreds of nodes);
    /// needs this crate's `insecure-mock-crypto` feature.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock,
    /// These keys (for example `Keyring::insecure_mock` built by a caller
    /// that enabled dwcp-crypto's mock feature itself).
    Keys(Keyring),
}

impl CryptoMode {
    /// The keyring for `n` replicas.
    pub fn keyring(&self, n: usize, seed: u64) -> Keyring {
        match self {
            CryptoMode::Sr25519 => Keyring::sr25519(n, seed),
            #[cfg(feature = "insecure-mock-crypto")]
            CryptoMode::InsecureMock => Keyring::insecure_mock(n, seed),
            CryptoMode::Keys(k) => k.clone(),
        }
    }
}

/// An `n`-replica classic PBFT cluster with default [`PbftConfig`] over
/// `net`, seeded by `seed` (keys, engines, network).
///
/// # Panics
/// If `n` is zero or the keyring does not have `n` keys.
pub fn cluster(n: usize, seed: u64, crypto: CryptoMode, net: NetworkConfig) -> Simulation<Pbft> {
    let config = PbftConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cluster_with(config, SimConfig::new(n, seed).with_network(net), crypto)
}

/// A classic PBFT cluster with an explicit replica and simulator
/// configuration.
///
/// # Panics
/// If the configuration is invalid or the sizes disagree.
pub fn cluster_with(config: PbftConfig, sim: SimConfig, crypto: CryptoMode) -> Simulation<Pbft> {
    let policy = ClassicPolicy::new(config.committee().unwrap_or_else(|e| panic!("{e}")));
    cluster_with_policy(config, policy, sim, crypto)
}

/// A cluster with a custom [`Policy`] (what T-PBFT and the aggregation layer
/// use).
///
/// # Panics
/// If the configuration is invalid or the sizes disagree.
pub fn cluster_with_policy<P: Policy + 'static>(
    config: PbftConfig,
    policy: P,
    sim: SimConfig,
    crypto: CryptoMode,
) -> Simulation<Pbft<P>> {
    assert_eq!(
        config.n, sim.n,
        "replica and simulator configurations disagree on n"
    );
    // Harness clusters authenticate the standard workload's clients unless
    // the caller chose otherwise.
    let mut config = config;
    if config.clients.is_none() {
        config.clients = Some(client_keys().publics.clone());
    }
    let seed = sim.seed;
    let keys = crypto.keyring(config.n, seed);
    assert_eq!(keys.len(), config.n, "keyring size");
    Simulation::new(sim, move |id: NodeId| {
        let secret = keys.secrets[id.index()].clone();
        Pbft::with_policy(
            config.clone(),
            policy.clone(),
            id,
            secret,
            keys.publics.clone(),
            rng::derive(seed, id.0 as u64),
        )
        .unwrap_or_else(|e| panic!("replica {id}: {e}"))
    })
}

/// Number of clients in the standard workload.
pub const CLIENTS: usize = 8;

/// The standard workload's client keys (sr25519, fixed seed), built once.
pub fn client_keys() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| Keyring::sr25519(CLIENTS, 0x0C11_E475))
}

/// The `i`-th request of the standard workload: client `i % 8`, id `i`,
/// an 8-byte payload, signed by its client's key from [`client_keys`].
pub fn request(i: u64) -> Request {
    let client = i % CLIENTS as u64;
    Request::signed(
        client,
        i,
        i.to_le_bytes().to_vec(),
        &client_keys().secrets[client as usize],
    )
}

/// Submits `count` standard requests, one every `interval` from `start`,
/// round-robin over the replicas.
pub fn submit_requests<E: Engine<Request = Request> + 'static>(
    sim: &mut Simulation<E>,
    count: u64,
    start: Time,
    interval: Duration,
) {
    let n = sim.config().n as u64;
    let mut at = start;
    for i in 0..count {
        sim.submit(at, NodeId((i % n.max(1)) as u32), request(i));
        at += interval;
    }
}

/// Every safety check over the honest logs: no duplicates, total-order
/// prefix consistency, and validity (every delivered request was submitted,
/// payload included).
pub fn check<E: Engine<Request = Request, Value = Request> + 'static>(
    sim: &Simulation<E>,
) -> Result<(), Violation> {
    sim.check_safety()?;
    sim.check_agreement_by(|r: &Request| r.key())?;
    sim.check_validity(|v, subs| subs.iter().any(|(_, _, r)| r == v))
}
