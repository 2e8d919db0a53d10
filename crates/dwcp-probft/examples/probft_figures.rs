//! Prints the figures of the lab's `probft-messages` and `probft-safety`
//! experiments straight from `dwcp_probft::experiment` (the lab formats the
//! same rows into its report).
//!
//! `cargo run --release -p dwcp-probft --example probft_figures -- messages [--quick]`
//! `cargo run --release -p dwcp-probft --example probft_figures -- safety [--quick]`

use dwcp_crypto::Keyring;
use dwcp_probft::experiment::{messages_rows, safety_rows};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seed = 1;
    let started = std::time::Instant::now();
    if args.iter().any(|a| a == "messages") {
        let r = messages_rows(quick, seed, Keyring::insecure_mock);
        println!(
            "n | ProBFT msgs/decision | PBFT msgs/decision | ratio | ProBFT bytes | PBFT bytes | byte ratio"
        );
        for (p, b) in &r.pairs {
            println!(
                "{} | {:.0} | {:.0} | {:.4} | {:.0} | {:.0} | {:.3}",
                p.n,
                p.messages,
                b.messages,
                p.messages / b.messages,
                p.bytes,
                b.bytes,
                p.bytes / b.bytes
            );
        }
        println!("log-log slope of ProBFT messages/decision: {:.4}", r.slope);
    }
    if args.iter().any(|a| a == "safety") {
        println!(
            "n | f | o | l | attack | runs | violations (in view 0) | upper95 (in view 0) | bound per view | detected | decided"
        );
        for r in safety_rows(quick, seed, Keyring::insecure_mock) {
            println!(
                "{} | {} | {} | {} | {:?} | {} | {} ({}) | {:.4} ({:.4}) | {:.4} | {:.3} | {:.3}",
                r.n,
                r.f,
                r.o,
                r.l,
                r.attack,
                r.runs,
                r.violations,
                r.in_view,
                r.upper95,
                r.in_view_upper95,
                r.bound,
                r.detected,
                r.decided
            );
        }
    }
    println!("took {:?}", started.elapsed());
}
