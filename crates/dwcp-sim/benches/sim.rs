//! Throughput of the event loop on the toy all-to-all protocol.
//!
//! `cargo bench -p dwcp-sim -- --warm-up-time 1 --measurement-time 2`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dwcp_core::Time;
use dwcp_sim::probe_simulation;

fn toy_rounds(c: &mut Criterion) {
    let mut g = c.benchmark_group("toy-all-to-all");
    g.sample_size(10);
    for (n, rounds) in [(100usize, 20u64), (1000, 2)] {
        let events = {
            let mut sim = probe_simulation(n, rounds, 1);
            sim.run_until_quiet(Time::MAX);
            sim.stats().delivered_events
        };
        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::new("n", n), &(n, rounds), |b, &(n, rounds)| {
            b.iter(|| {
                let mut sim = probe_simulation(n, rounds, 1);
                sim.run_until_quiet(Time::MAX);
                sim.stats().delivered_events
            })
        });
    }
    g.finish();
}

criterion_group!(benches, toy_rounds);
criterion_main!(benches);
