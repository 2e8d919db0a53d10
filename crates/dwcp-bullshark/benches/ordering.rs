//! The ordering step: certificates inserted into the DAG and processed by
//! the Bullshark orderer, in certificates per second.
//!
//! `cargo bench -p dwcp-bullshark -- --quick`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dwcp_bullshark::Bullshark;
use dwcp_narwhal::testing::DagBuilder;
use dwcp_narwhal::{Dag, Orderer};
use std::hint::black_box;

fn ordering(c: &mut Criterion) {
    let mut g = c.benchmark_group("bullshark_order");
    for (n, rounds) in [(4usize, 100u64), (10, 50), (50, 20)] {
        let mut b = DagBuilder::new(n);
        let authors: Vec<u32> = (0..n as u32).collect();
        b.rounds(1..=rounds, &authors);
        let log = b.log.clone();
        g.throughput(Throughput::Elements(log.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("certificates", format!("n{n}_r{rounds}")),
            &log,
            |bench, log| {
                bench.iter(|| {
                    let f = (n - 1) / 3;
                    let mut o = Bullshark::new(n, f, 50);
                    let mut dag = Dag::new(n);
                    let mut ordered = 0;
                    for v in log {
                        dag.insert(v.clone());
                        for sub in o.on_insert(&dag, v) {
                            ordered += sub.vertices.len();
                        }
                    }
                    black_box(ordered)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, ordering);
criterion_main!(benches);
