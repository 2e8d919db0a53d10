//! A saturating-load run on the five-region WAN with 40 Mbit/s uplinks:
//! `cargo run --release -p dwcp-bullshark --features insecure-mock-crypto --example throughput -- 10 0`
//! (arguments: n, crashed nodes, offered tx/s, measured seconds).

use dwcp_core::{Duration, Time};
use dwcp_sim::workload::{LoadSpec, ThroughputConfig};
use dwcp_sim::{LatencyModel, NetworkConfig, RegionMatrix};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let n = arg(1, 10.0) as usize;
    let crashed = arg(2, 0.0) as usize;
    let rate = arg(3, 12_000.0);
    let secs = arg(4, 3.0) as u64;
    let real = arg(5, 1.0) > 0.0;
    let network = NetworkConfig {
        latency: LatencyModel::Regions(RegionMatrix::five_regions()),
        uplink: Some(5_000_000),
        ..NetworkConfig::default()
    };
    let cfg = ThroughputConfig {
        n,
        crashed,
        seed: 1,
        network,
        uplink_bytes_per_s: Some(5_000_000),
        load: LoadSpec {
            tx_size: 512,
            rate,
            start: Time::ZERO,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(secs),
            drain: Duration::from_secs(4),
            clients: vec![],
        },
        real_crypto: real,
    };
    let t = std::time::Instant::now();
    let mut nc = dwcp_bullshark::harness::throughput_config(n);
    nc.batch_uplink_budget = Some(4_500_000);
    let o = dwcp_bullshark::orderer(&nc);
    let keys = dwcp_bullshark::harness::CryptoMode::choose(real).keys(n, 1);
    let mut sim = dwcp_narwhal::harness::cluster(nc, cfg.sim_config(), keys, move |_| o.clone());
    cfg.apply(&mut sim);
    let r = dwcp_sim::workload::run_load(
        &mut sim,
        &cfg.load,
        |_, p| dwcp_narwhal::Transaction::new(p),
        dwcp_bullshark::harness::txs_of,
    );
    println!(
        "tx/s {:.0} p50 {:.0} ms p99 {:.0} ms committed {} of {}",
        r.tx_per_s, r.latency_p50_ms, r.latency_p99_ms, r.committed, r.offered
    );
    let e = sim.engine(dwcp_core::NodeId(0)).expect("node 0 runs");
    println!(
        "round {} stats {:?} mem {:?}",
        e.round(),
        e.stats(),
        e.memory()
    );
    for k in &sim.stats().kinds {
        println!("{}: {} msgs {} bytes", k.kind, k.sent, k.sent_bytes);
    }
    println!("wall {:?}", t.elapsed());
}
