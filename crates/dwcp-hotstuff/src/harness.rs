//! Simulated HotStuff clusters (feature `sim`): keys, one-call
//! construction, a standard transaction workload, the safety checks, and
//! the throughput run the lab's `dag-throughput` experiment calls.
//!
//! ```
//! use dwcp_hotstuff::harness::{self, ClusterKeys};
//! use dwcp_sim::NetworkConfig;
//! use dwcp_core::{Duration, NodeId, Time};
//!
//! let keys = ClusterKeys::real(4, 1, 7);
//! let mut sim = harness::cluster(4, 7, NetworkConfig::default(), keys);
//! let clients: Vec<NodeId> = NodeId::all(4).collect();
//! harness::submit_txs(&mut sim, 0..20, Time::ZERO, Duration::from_millis(5), &clients);
//! harness::run_until_committed(&mut sim, 20, Time::from_secs(10)).unwrap();
//! harness::check(&sim).unwrap();
//! ```

use crate::config::HotStuffConfig;
use crate::message::Committed;
use crate::replica::{HotStuff, Keys};
use crate::tx::Tx;
use dwcp_core::{Duration, NodeId, Time};
use dwcp_crypto::{Keyring, ThresholdSetup};
use dwcp_sim::workload::{self, LoadReport, ThroughputConfig, TxIds, run_load};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation, Violation};
use std::collections::BTreeSet;
use std::ops::Range;

/// Every replica's keys: sr25519 for proposals, a threshold setup needing
/// `n - f` shares for QCs and TCs.
#[derive(Clone, Debug)]
pub struct ClusterKeys {
    /// Signing keys.
    pub keyring: Keyring,
    /// Threshold keys.
    pub threshold: ThresholdSetup,
}

impl ClusterKeys {
    /// Real sr25519 and blsttc keys for `n` replicas tolerating `f`.
    pub fn real(n: usize, f: usize, seed: u64) -> ClusterKeys {
        ClusterKeys {
            keyring: Keyring::sr25519(n, seed),
            threshold: ThresholdSetup::generate(n, n - f, seed),
        }
    }

    /// dwcp-crypto's INSECURE mock keys (large simulations only).
    #[cfg(feature = "insecure-mock-crypto")]
    pub fn insecure_mock(n: usize, f: usize, seed: u64) -> ClusterKeys {
        ClusterKeys {
            keyring: Keyring::insecure_mock(n, seed),
            threshold: ThresholdSetup::insecure_mock(n, n - f, seed),
        }
    }

    /// Replica `id`'s keys.
    ///
    /// # Panics
    /// If `id` is outside the committee.
    pub fn keys(&self, id: NodeId) -> Keys {
        Keys {
            secret: self.keyring.secrets[id.index()].clone(),
            publics: self.keyring.publics.clone(),
            share: self.threshold.shares[id.index()].clone(),
            threshold: self.threshold.public.clone(),
        }
    }
}

/// An `n`-replica cluster with default [`HotStuffConfig`] over `net`.
///
/// # Panics
/// If the keys do not fit the committee.
pub fn cluster(n: usize, seed: u64, net: NetworkConfig, keys: ClusterKeys) -> Simulation<HotStuff> {
    cluster_with(
        HotStuffConfig::new(n),
        SimConfig::new(n, seed).with_network(net),
        keys,
    )
}

/// A cluster with explicit replica and simulator configurations.
///
/// # Panics
/// If the configuration is invalid or the sizes disagree.
pub fn cluster_with(
    config: HotStuffConfig,
    sim: SimConfig,
    keys: ClusterKeys,
) -> Simulation<HotStuff> {
    assert_eq!(config.n, sim.n, "replica and simulator disagree on n");
    Simulation::new(sim, move |id: NodeId| {
        HotStuff::new(config.clone(), id, keys.keys(id))
            .unwrap_or_else(|e| panic!("replica {id}: {e}"))
    })
}

/// The standard workload's transaction `i`: an 8-byte payload holding `i`.
pub fn tx(i: u64) -> Tx {
    Tx::new(i, i.to_le_bytes().to_vec())
}

/// Submits transactions `ids` (one every `every` from `start`) to `to`,
/// round robin ([`dwcp_sim::workload::submit_txs`] with [`tx`]).
pub fn submit_txs(
    sim: &mut Simulation<HotStuff>,
    ids: Range<u64>,
    start: Time,
    every: Duration,
    to: &[NodeId],
) {
    workload::submit_txs(sim, ids, start, every, to, tx);
}

/// The distinct transaction ids `node` delivered.
pub fn committed_ids(sim: &Simulation<HotStuff>, node: NodeId) -> BTreeSet<u64> {
    workload::committed_ids(sim, node)
}

/// Runs (checking every 20 ms of simulated time) until every honest running
/// replica delivered transactions `0..count`, or `deadline` passes.
pub fn run_until_committed(
    sim: &mut Simulation<HotStuff>,
    count: u64,
    deadline: Time,
) -> Result<(), Violation> {
    workload::run_until_committed(sim, count, deadline)
}

impl TxIds for Committed {
    fn tx_ids(&self) -> &[u64] {
        &self.txs
    }
}

/// Every safety check over the honest logs: no duplicate delivery, one
/// total order (prefix consistency), one block per height, and validity
/// (every delivered id was submitted, or is one of the [`INVENTED_IDS`] the
/// `adversary` module's equivocating leader adds; with Byzantine leaders and
/// no client keys configured, a leader can propose what nobody submitted).
pub fn check(sim: &Simulation<HotStuff>) -> Result<(), Violation> {
    sim.check_safety()?;
    sim.check_agreement_by(|c: &Committed| c.height)?;
    sim.check_validity(|c, subs| {
        c.txs
            .iter()
            .all(|id| *id >= INVENTED_IDS || subs.iter().any(|(_, _, tx)| tx.id == *id))
    })
}

/// Transaction ids from here up are ones a Byzantine leader of the
/// `adversary` module invents to make a conflicting block.
pub const INVENTED_IDS: u64 = u64::MAX - (1 << 32);

/// The configuration the throughput run uses for `n` replicas with uplinks
/// of `uplink` bytes/s: blocks sized so that the leader sends one to every
/// replica in about 400 ms of its uplink (bigger blocks amortise the view's
/// round trips, smaller ones cut latency), a base view timeout of 1.5 s,
/// mempools bounded at two blocks (a leader drops what it could not propose
/// within two of its turns, so the latency of what commits stays bounded
/// under overload), and resubmission only after 60 s (the lab's network
/// loses nothing).
pub fn wan_config(n: usize, uplink: Option<u64>) -> HotStuffConfig {
    let mut c = HotStuffConfig::new(n);
    let per_block = uplink.map_or(512 << 10, |bw| {
        let share = bw as f64 * 0.4 / (n.saturating_sub(1).max(1)) as f64;
        (share as usize).clamp(4 << 10, 1 << 20)
    });
    c.max_block_bytes = per_block;
    c.max_block_txs = 8_000;
    c.max_mempool = (2 * per_block / 512).max(64);
    c.base_timeout = Duration::from_millis(1_500);
    c.max_timeout = Duration::from_secs(12);
    c.idle_block_delay = Duration::from_millis(50);
    c.resubmit_timeout = Duration::from_secs(60);
    c
}

/// The lab's throughput run: a cluster of `cfg.n` replicas ([`wan_config`])
/// over `cfg.network`, every uplink capped at `cfg.uplink_bytes_per_s`, the
/// last `cfg.crashed` replicas down from time zero, and `cfg.load` offered
/// to the running replicas (which relay to upcoming leaders). Delivered
/// values carry transaction ids only; payloads are shared, never copied.
/// With `real_crypto` false the insecure mock keys are used if this crate's
/// `insecure-mock-crypto` feature is on (real keys otherwise).
pub fn throughput(cfg: &ThroughputConfig) -> LoadReport {
    let f = cfg.n.saturating_sub(1) / 3;
    let keys = if cfg.real_crypto {
        ClusterKeys::real(cfg.n, f, cfg.seed)
    } else {
        mock_or_real(cfg.n, f, cfg.seed)
    };
    let mut sim = cluster_with(
        wan_config(cfg.n, cfg.uplink_bytes_per_s),
        cfg.sim_config(),
        keys,
    );
    cfg.apply(&mut sim);
    run_load(&mut sim, &cfg.load, Tx::new, |c: &Committed| c.txs.clone())
}

#[cfg(feature = "insecure-mock-crypto")]
fn mock_or_real(n: usize, f: usize, seed: u64) -> ClusterKeys {
    ClusterKeys::insecure_mock(n, f, seed)
}

#[cfg(not(feature = "insecure-mock-crypto"))]
fn mock_or_real(n: usize, f: usize, seed: u64) -> ClusterKeys {
    ClusterKeys::real(n, f, seed)
}
