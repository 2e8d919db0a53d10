//! Simulated Tusk clusters (feature `sim`) and the lab's throughput run.
//! The generic machinery is `dwcp_narwhal::harness`.

use crate::{Tusk, TuskNode};
use dwcp_crypto::ThresholdSetup;
use dwcp_narwhal::NarwhalConfig;
pub use dwcp_narwhal::harness::AnchorLatency;
pub use dwcp_narwhal::harness::{
    CryptoMode, check, delivered_txs, load_and_check, run_until_txs, submit, test_config,
    throughput_config, tx, txs_of,
};
use dwcp_sim::workload::{LoadReport, ThroughputConfig};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};
use std::sync::Arc;

/// The coin setup (threshold `f + 1`) for `crypto`.
pub fn coin_setup(crypto: CryptoMode, n: usize, f: usize, seed: u64) -> ThresholdSetup {
    crypto.threshold(n, f + 1, seed)
}

/// The per-node orderer factory for `cfg`.
fn orderers(
    cfg: &NarwhalConfig,
    setup: ThresholdSetup,
) -> impl Fn(dwcp_core::NodeId) -> Tusk + 'static {
    let (n, f, gc) = (cfg.n, cfg.f, cfg.gc_depth);
    let public = Arc::new(setup.public);
    let shares = setup.shares;
    move |id| {
        let share = shares[id.index()].clone();
        Tusk::new(n, f, gc, public.clone(), share)
    }
}

/// A cluster with `cfg` over the simulator configuration `sim`.
///
/// # Panics
/// If the sizes disagree.
pub fn cluster_with(
    cfg: NarwhalConfig,
    sim: SimConfig,
    crypto: CryptoMode,
) -> Simulation<TuskNode> {
    let keys = crypto.keys(sim.n, sim.seed);
    let setup = coin_setup(crypto, cfg.n, cfg.f, sim.seed ^ 0xc011);
    let make = orderers(&cfg, setup);
    dwcp_narwhal::harness::cluster(cfg, sim, keys, make)
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
) -> Simulation<TuskNode> {
    let cfg = NarwhalConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cluster_with(cfg, SimConfig::new(n, seed).with_network(net), crypto)
}

/// The lab's saturating-load run, as `dwcp_bullshark::throughput` (same
/// node configuration, batch pacing and measurement).
pub fn throughput(cfg: &ThroughputConfig) -> LoadReport {
    let nc = throughput_config(cfg.n);
    let crypto = CryptoMode::choose(cfg.real_crypto);
    let setup = coin_setup(crypto, nc.n, nc.f, cfg.seed ^ 0xc011);
    let make = orderers(&nc, setup);
    dwcp_narwhal::harness::throughput(cfg, nc, make)
}

/// [`throughput`] that also measures the anchor-commit latency of the
/// leaders proposed in the measured window ([`AnchorLatency`]).
pub fn throughput_with_anchors(cfg: &ThroughputConfig) -> (LoadReport, AnchorLatency) {
    let nc = throughput_config(cfg.n);
    let crypto = CryptoMode::choose(cfg.real_crypto);
    let setup = coin_setup(crypto, nc.n, nc.f, cfg.seed ^ 0xc011);
    let make = orderers(&nc, setup);
    dwcp_narwhal::harness::throughput_with_anchors(cfg, nc, make)
}
