//! One saturating-load run of a DAG protocol or a baseline in the lab's
//! `dag-throughput` setting (`ThroughputConfig::five_region_wan`: five
//! regions, 40 Mbit/s uplinks, 512-byte transactions):
//!
//! `cargo run --release --example dag_throughput -- bullshark 10 0 12000 3`
//!
//! Arguments: protocol (`bullshark`, `tusk`, `hotstuff`, `paxos`), n, crashed
//! nodes, offered tx/s, measured seconds. Signatures are real (the facade
//! does not enable the insecure mock).

use dwcp::core::Duration;
use dwcp::sim::workload::{LoadReport, ThroughputConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let protocol = args.get(1).map_or("bullshark", String::as_str);
    let arg = |i: usize, d: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, crashed) = (arg(2, 10.0) as usize, arg(3, 0.0) as usize);
    let mut cfg = ThroughputConfig::five_region_wan(n, crashed, 1);
    cfg.load.rate = arg(4, 12_000.0);
    cfg.load.duration = Duration::from_secs(arg(5, 3.0) as u64);
    let run: fn(&ThroughputConfig) -> LoadReport = match protocol {
        "bullshark" => dwcp::bullshark::throughput,
        "tusk" => dwcp::tusk::throughput,
        "hotstuff" => dwcp::hotstuff::harness::throughput,
        "paxos" => dwcp::paxos::harness::throughput,
        other => {
            eprintln!("unknown protocol {other:?}: bullshark, tusk, hotstuff or paxos");
            std::process::exit(2);
        }
    };
    let t = std::time::Instant::now();
    let r = run(&cfg);
    println!(
        "{protocol} n={n} crashed={crashed}: {:.0} tx/s, p50 {:.0} ms, p99 {:.0} ms, \
         committed {} of {}, {} messages, {} MB ({:.1?} wall)",
        r.tx_per_s,
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.committed,
        r.offered,
        r.messages,
        r.bytes / 1_000_000,
        t.elapsed()
    );
}
