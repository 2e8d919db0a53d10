//! Simulated Multi-Paxos clusters (feature `sim`): one-call construction,
//! a standard transaction workload, the safety checks, and the throughput
//! run the lab's `dag-throughput` experiment calls.
//!
//! ```
//! use dwcp_paxos::harness;
//! use dwcp_sim::NetworkConfig;
//! use dwcp_core::{Duration, NodeId, Time};
//!
//! let mut sim = harness::cluster(5, 7, NetworkConfig::default());
//! let clients: Vec<NodeId> = NodeId::all(5).collect();
//! harness::submit_txs(&mut sim, 0..50, Time::ZERO, Duration::from_millis(2), &clients);
//! harness::run_until_committed(&mut sim, 50, Time::from_secs(5)).unwrap();
//! harness::check(&sim).unwrap();
//! ```

use crate::config::PaxosConfig;
use crate::message::{Decision, Tx};
use crate::replica::Paxos;
use dwcp_core::{Duration, NodeId, Time, rng};
use dwcp_sim::workload::{self, LoadReport, ThroughputConfig, TxIds, run_load};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation, Violation};
use std::collections::BTreeSet;
use std::ops::Range;

/// An `n`-replica cluster with default [`PaxosConfig`] over `net`.
///
/// # Panics
/// If `n` is zero.
pub fn cluster(n: usize, seed: u64, net: NetworkConfig) -> Simulation<Paxos> {
    cluster_with(
        PaxosConfig::new(n),
        SimConfig::new(n, seed).with_network(net),
    )
}

/// A cluster with explicit replica and simulator configurations; replica
/// `id` gets the RNG `rng::derive(sim.seed, id)`.
///
/// # Panics
/// If the configuration is invalid or the sizes disagree.
pub fn cluster_with(config: PaxosConfig, sim: SimConfig) -> Simulation<Paxos> {
    assert_eq!(config.n, sim.n, "replica and simulator disagree on n");
    let seed = sim.seed;
    Simulation::new(sim, move |id: NodeId| {
        Paxos::new(config.clone(), id, rng::derive(seed, u64::from(id.0)))
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
    sim: &mut Simulation<Paxos>,
    ids: Range<u64>,
    start: Time,
    every: Duration,
    to: &[NodeId],
) {
    workload::submit_txs(sim, ids, start, every, to, tx);
}

/// The distinct transaction ids `node` delivered.
pub fn committed_ids(sim: &Simulation<Paxos>, node: NodeId) -> BTreeSet<u64> {
    workload::committed_ids(sim, node)
}

/// Runs (checking every 20 ms of simulated time) until every honest running
/// replica delivered transactions `0..count`, or `deadline` passes.
pub fn run_until_committed(
    sim: &mut Simulation<Paxos>,
    count: u64,
    deadline: Time,
) -> Result<(), Violation> {
    workload::run_until_committed(sim, count, deadline)
}

impl TxIds for Decision {
    fn tx_ids(&self) -> &[u64] {
        &self.txs
    }
}

/// Every safety check over the honest logs: no duplicate delivery, one
/// total order (prefix consistency), one value per slot, and validity
/// (every delivered id was submitted).
pub fn check(sim: &Simulation<Paxos>) -> Result<(), Violation> {
    sim.check_safety()?;
    sim.check_agreement_by(|d: &Decision| d.slot)?;
    sim.check_validity(|d, subs| {
        d.txs
            .iter()
            .all(|id| subs.iter().any(|(_, _, tx)| tx.id == *id))
    })
}

/// The configuration the throughput run uses for `n` replicas with uplinks
/// of `uplink` bytes/s: node 0 leads; batches sized so that sending one to
/// every replica takes about 50 ms of the leader's uplink, 8 slots in
/// flight (so the leader's send queue stays under half a second, well
/// inside the lease), a mempool bounded at two pipelines' worth (the
/// leader drops what it could not propose within about half a second, so the
/// latency of what commits stays bounded under overload), resubmission
/// only after 60 s (the lab's network loses nothing).
pub fn wan_config(n: usize, uplink: Option<u64>) -> PaxosConfig {
    let mut c = PaxosConfig::new(n);
    c.max_batch_bytes = uplink.map_or(256 << 10, |bw| {
        let share = bw as f64 * 0.05 / (n.saturating_sub(1).max(1)) as f64;
        (share as usize).clamp(4 << 10, 256 << 10)
    });
    c.max_batch_txs = 4_000;
    c.max_mempool = (2 * 8 * c.max_batch_bytes / 512).max(64);
    c.batch_delay = Duration::from_millis(10);
    c.pipeline = 8;
    c.resubmit_timeout = Duration::from_secs(60);
    c
}

/// The lab's throughput run: a cluster of `cfg.n` replicas ([`wan_config`])
/// over `cfg.network`, every uplink capped at `cfg.uplink_bytes_per_s`, the
/// last `cfg.crashed` replicas down from time zero, and `cfg.load` offered
/// to the running replicas (which forward to the leader). Delivered values
/// carry transaction ids only; payloads are shared, never copied.
pub fn throughput(cfg: &ThroughputConfig) -> LoadReport {
    let mut sim = cluster_with(wan_config(cfg.n, cfg.uplink_bytes_per_s), cfg.sim_config());
    cfg.apply(&mut sim);
    run_load(&mut sim, &cfg.load, Tx::new, |d: &Decision| d.txs.clone())
}
