//! Simulated Bullshark clusters (feature `sim`) and the lab's throughput
//! run. The generic machinery is `dwcp_narwhal::harness`.

use crate::{Bullshark, BullsharkNode, Reputation, orderer, orderer_with_reputation};
use dwcp_narwhal::NarwhalConfig;
pub use dwcp_narwhal::harness::AnchorLatency;
pub use dwcp_narwhal::harness::{
    CryptoMode, check, delivered_txs, load_and_check, run_until_txs, submit, test_config,
    throughput_config, tx, txs_of,
};
use dwcp_sim::workload::{LoadReport, ThroughputConfig};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};

/// An `n`-node cluster with `cfg` over the simulator configuration `sim`.
///
/// # Panics
/// If the sizes disagree.
pub fn cluster_with(
    cfg: NarwhalConfig,
    sim: SimConfig,
    crypto: CryptoMode,
) -> Simulation<BullsharkNode> {
    let keys = crypto.keys(sim.n, sim.seed);
    let o: Bullshark = orderer(&cfg);
    dwcp_narwhal::harness::cluster(cfg, sim, keys, move |_| o.clone())
}

/// An `n`-node cluster with default configuration over `net`.
///
/// # Panics
/// If `n < 1`.
pub fn cluster(
    n: usize,
    seed: u64,
    crypto: CryptoMode,
    net: NetworkConfig,
) -> Simulation<BullsharkNode> {
    let cfg = NarwhalConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cluster_with(cfg, SimConfig::new(n, seed).with_network(net), crypto)
}

/// The lab's saturating-load run ([`throughput_config`] for the nodes):
/// builds the cluster from `cfg` (network, uplinks, the last `crashed`
/// nodes down from time zero), offers the load and measures committed
/// tx/s and commit latency. Uses the insecure mock when `real_crypto` is
/// false and the `insecure-mock-crypto` feature is on.
///
/// Leaders follow the reputation schedule ([`Reputation::default`]);
/// [`throughput_round_robin`] is the same run with round-robin leaders.
pub fn throughput(cfg: &ThroughputConfig) -> LoadReport {
    let nc = throughput_config(cfg.n);
    let o = orderer_with_reputation(&nc, Reputation::default());
    dwcp_narwhal::harness::throughput(cfg, nc, move |_| o.clone())
}

/// [`throughput`] with round-robin leaders (no reputation).
pub fn throughput_round_robin(cfg: &ThroughputConfig) -> LoadReport {
    let nc = throughput_config(cfg.n);
    let o = orderer(&nc);
    dwcp_narwhal::harness::throughput(cfg, nc, move |_| o.clone())
}

/// [`throughput`] (reputation schedule) that also measures the
/// anchor-commit latency of the anchors proposed in the measured window
/// ([`AnchorLatency`]).
pub fn throughput_with_anchors(cfg: &ThroughputConfig) -> (LoadReport, AnchorLatency) {
    let nc = throughput_config(cfg.n);
    let o = orderer_with_reputation(&nc, Reputation::default());
    dwcp_narwhal::harness::throughput_with_anchors(cfg, nc, move |_| o.clone())
}
