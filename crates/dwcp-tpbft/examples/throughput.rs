//! Prints T-PBFT vs PBFT figures: `cargo run -p dwcp-tpbft --release --example throughput -- [n] [epochs]`.

use dwcp_tpbft::epochs::{self, Protocol, RunConfig, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let e: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(21);
    for s in [
        Scenario::NoFaults,
        Scenario::SilentPrimaries,
        Scenario::Equivocators,
    ] {
        for p in [Protocol::Pbft, Protocol::TPbft] {
            let mut c = RunConfig::new(n, s, p, 1);
            c.epochs = e;
            let r = epochs::run(&c);
            println!(
                "{s:?} {p:?}: {:.1} dec/s, {:.1} vc/1000, {:.1} msg/dec, {:.1} ms, safe={} decisions={}",
                r.throughput(),
                r.view_changes_per_1000(),
                r.messages_per_decision(),
                r.mean_latency_ms(),
                r.safe(),
                r.decisions()
            );
        }
    }
}
