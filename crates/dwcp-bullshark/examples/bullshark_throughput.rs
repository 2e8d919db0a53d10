//! A saturating-load run on the five-region WAN with 40 Mbit/s uplinks:
//! `cargo run --release -p dwcp-bullshark --features insecure-mock-crypto --example bullshark_throughput -- 10 0`
//! (arguments: n, crashed nodes, offered tx/s, measured seconds, 1 for real
//! signatures or 0 for the insecure mock).

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
    let r = dwcp_bullshark::throughput(&cfg);
    println!(
        "n={n} crashed={crashed}: {:.0} tx/s, p50 {:.0} ms, p99 {:.0} ms, committed {} of {} ({:.1?} wall)",
        r.tx_per_s,
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.committed,
        r.offered,
        t.elapsed()
    );
}
