//! Prints one T-PBFT run epoch by epoch:
//! `cargo run -p dwcp-tpbft --release --example epochs -- [n] [epochs] [missed_deadline] [decay] [silent|equivocators]`.

use dwcp_tpbft::epochs::{self, Protocol, RunConfig, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).and_then(|a| a.parse::<f64>().ok());
    let scenario = match args.get(5).map(String::as_str) {
        Some("equivocators") => Scenario::Equivocators,
        _ => Scenario::SilentPrimaries,
    };
    let mut c = RunConfig::new(arg(1).unwrap_or(7.0) as usize, scenario, Protocol::TPbft, 1);
    c.epochs = arg(2).unwrap_or(10.0) as u64;
    c.ledger.missed_deadline = arg(3).unwrap_or(3.0);
    c.ledger.decay = arg(4).unwrap_or(0.5);
    for e in epochs::run(&c).epochs {
        let trust: Vec<String> = e.trust.iter().map(|t| format!("{t:.3}")).collect();
        println!(
            "epoch {} group {:?} vc {} decisions {} duration {:?} trust {:?}",
            e.epoch,
            e.primary_group.iter().map(|n| n.0).collect::<Vec<_>>(),
            e.view_changes,
            e.decisions,
            e.duration,
            trust
        );
    }
}
