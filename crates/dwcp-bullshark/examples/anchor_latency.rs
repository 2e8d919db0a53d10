//! One light-load run of the lab's `dag-throughput` setting with the
//! anchor-commit latency next to the transaction latency.
//!
//! `cargo run --release -p dwcp-bullshark --example anchor_latency -- 10 3 [tusk] [mock]`
//! (n, crashed; default Bullshark with the reputation schedule, real keys;
//! 3,000 tx/s offered, 3 s window as the lab's `--quick`).

use dwcp_core::Duration;
use dwcp_sim::workload::ThroughputConfig;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, crashed) = (arg(1, 10), arg(2, 0));
    let tusk = args.iter().any(|a| a == "tusk");
    let mut tc = ThroughputConfig::five_region_wan(n, crashed, 1);
    tc.load.rate = 3_000.0;
    tc.load.duration = Duration::from_secs(3);
    tc.real_crypto = !args.iter().any(|a| a == "mock");
    let wall = std::time::Instant::now();
    let (r, a) = if tusk {
        dwcp_tusk::harness::throughput_with_anchors(&tc)
    } else {
        dwcp_bullshark::harness::throughput_with_anchors(&tc)
    };
    println!(
        "{} n={n} crashed={crashed}: {:.0} tx/s, tx p50 {:.0} ms p99 {:.0} ms; {} anchors, commit p50 {:.0} ms mean {:.0} ms, rounds p50 {:.1} mean {:.2} ({:.1} s wall)",
        if tusk { "Tusk" } else { "Bullshark" },
        r.tx_per_s,
        r.latency_p50_ms,
        r.latency_p99_ms,
        a.anchors,
        a.p50_ms,
        a.mean_ms,
        a.p50_rounds,
        a.mean_rounds,
        wall.elapsed().as_secs_f64()
    );
}
