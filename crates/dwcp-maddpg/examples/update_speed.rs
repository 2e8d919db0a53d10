//! Time one MADDPG update round (the `maddpg-speed` shapes) without the lab.
//!
//! `cargo run --release -p dwcp-maddpg --example update_speed -- [rounds]`

use dwcp_maddpg::experiments::speed::{SpeedConfig, measure};

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let r = measure(&SpeedConfig::reference(rounds), 1);
    println!(
        "median {:.2} ms, mean {:.2} ms, on-CPU mean {:.2} ms over {} rounds",
        r.median_ms, r.mean_ms, r.cpu_mean_ms, r.rounds
    );
}
