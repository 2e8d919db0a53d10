//! A seven-node Bullshark cluster (Narwhal DAG) in the simulated five-region
//! WAN: one node crashes and restarts, one is Byzantine and silent, and every
//! honest node still delivers the same total order. Tusk runs the same
//! workload for comparison.
//! Run with `cargo run --release --example bullshark_cluster`.
use dwcp::bullshark::{self, harness::CryptoMode};
use dwcp::core::{Duration, NodeId, Time};
use dwcp::narwhal::NarwhalConfig;
use dwcp::sim::adversary::Silent;
use dwcp::sim::{FaultEvent, LatencyModel, NetworkConfig, RegionMatrix, SimConfig};
use dwcp::tusk;

const N: usize = 7;
const TXS: u64 = 400;

fn network() -> NetworkConfig {
    NetworkConfig {
        latency: LatencyModel::Regions(RegionMatrix::five_regions()),
        ..NetworkConfig::default()
    }
}

fn config() -> NarwhalConfig {
    let mut c = NarwhalConfig::new(N).expect("7 nodes tolerate 2 faults");
    c.max_header_delay = Duration::from_millis(100);
    c.leader_timeout = Duration::from_millis(500);
    c.max_batch_delay = Duration::from_millis(20);
    c
}

fn main() {
    let sim_cfg = SimConfig::new(N, 7).with_network(network());
    let mut sim = bullshark::harness::cluster_with(config(), sim_cfg.clone(), CryptoMode::Real);
    sim.make_byzantine(NodeId(6), Silent { after: Time::ZERO });
    sim.schedule(Time::from_secs(2), FaultEvent::Crash(NodeId(3)));
    sim.schedule(Time::from_secs(4), FaultEvent::Restart(NodeId(3)));
    let clients: Vec<NodeId> = (0..6).filter(|i| *i != 3).map(NodeId).collect();
    bullshark::harness::submit(
        &mut sim,
        TXS,
        Time::ZERO,
        Duration::from_millis(10),
        &clients,
    );
    bullshark::harness::run_until_txs(&mut sim, TXS as usize, Time::from_secs(60))
        .expect("every transaction commits");
    bullshark::harness::check(&sim).expect("one total order");
    println!(
        "Bullshark: all {TXS} transactions committed by {}",
        sim.now()
    );
    for id in NodeId::all(N).filter(|id| sim.is_honest(*id)) {
        let e = sim.engine(id).expect("honest nodes are up");
        println!(
            "  {id:?}: round {}, last anchor {}, {} certificates ordered, {} tx delivered, DAG {} certificates",
            e.round(),
            dwcp::narwhal::Orderer::last_committed_round(e.orderer()),
            e.ordered(),
            bullshark::harness::delivered_txs(&sim, id),
            e.dag().len()
        );
    }
    let first: Vec<u64> = sim
        .delivered(NodeId(0))
        .iter()
        .flat_map(|v| v.txs.clone())
        .take(8)
        .collect();
    println!("  total order starts with transactions {first:?}");
    println!(
        "  {} messages, {:.1} MB sent; evidence: {}",
        sim.stats().messages_sent(),
        sim.stats().bytes_sent() as f64 / 1e6,
        sim.evidence().len()
    );

    let mut t = tusk::harness::cluster_with(config(), sim_cfg, CryptoMode::Real);
    t.make_byzantine(NodeId(6), Silent { after: Time::ZERO });
    tusk::harness::submit(&mut t, TXS, Time::ZERO, Duration::from_millis(10), &clients);
    tusk::harness::run_until_txs(&mut t, TXS as usize, Time::from_secs(60))
        .expect("every transaction commits");
    tusk::harness::check(&t).expect("one total order");
    println!("Tusk: all {TXS} transactions committed by {}", t.now());
}
