//! Prints T-PBFT vs PBFT figures:
//! `cargo run -p dwcp-tpbft --release --example tpbft_throughput -- [n] [epochs] [missed_deadline] [decay]`.

use dwcp_tpbft::epochs::{self, Protocol, RunConfig, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).and_then(|a| a.parse::<f64>().ok());
    let n = arg(1).unwrap_or(7.0) as usize;
    let e = arg(2).unwrap_or(21.0) as u64;
    for s in [
        Scenario::NoFaults,
        Scenario::SilentPrimaries,
        Scenario::Equivocators,
    ] {
        for p in [Protocol::Pbft, Protocol::TPbft] {
            let mut c = RunConfig::new(n, s, p, 1);
            c.epochs = e;
            if let Some(m) = arg(3) {
                c.ledger.missed_deadline = m;
            }
            if let Some(d) = arg(4) {
                c.ledger.decay = d;
            }
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
