//! Prints throughput figures: `cargo run --release -p dwcp-sim --example probe -- 1000 10`.

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100) as usize;
    let rounds = args.get(1).copied().unwrap_or(100);
    let seed = args.get(2).copied().unwrap_or(1);
    let r = dwcp_sim::throughput_probe(n, rounds, seed);
    println!(
        "n={} rounds={} events={} wall={:.3}s events/s={:.0} sim={:.3}s hash={:016x}",
        r.n, r.rounds, r.events, r.wall_secs, r.events_per_sec, r.sim_secs, r.trace_hash
    );
}
