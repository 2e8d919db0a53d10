//! One PBFT decision (one request, real sr25519 signatures) driven through
//! the engine contract in-process, for n = 4 and n = 16: the CPU cost of a
//! consensus instance with no network in the way.
#![allow(missing_docs)] // criterion_group! generates undocumented items
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dwcp::core::{Engine, NodeId, Output, Time, rng};
use dwcp::crypto::Keyring;
use dwcp::pbft::{Pbft, PbftConfig, Request};

fn cluster(n: usize) -> Vec<Pbft> {
    let keys = Keyring::sr25519(n, 7);
    let mut config = PbftConfig::new(n).expect("valid n");
    config.max_batch = 1;
    config.status_interval = None;
    NodeId::all(n)
        .map(|id| {
            Pbft::new(
                config.clone(),
                id,
                keys.secrets[id.index()].clone(),
                keys.publics.clone(),
                rng::derive(7, id.0.into()),
            )
            .expect("valid config")
        })
        .collect()
}

/// Submits request `id` and runs every replica to quiescence; returns deliveries.
fn decide(nodes: &mut [Pbft], id: u64) -> usize {
    let n = nodes.len();
    nodes[0].handle_request(Time::ZERO, Request::new(1, id, id.to_le_bytes().to_vec()));
    let (mut wire, mut delivered) = (Vec::new(), 0);
    loop {
        for (i, node) in nodes.iter_mut().enumerate() {
            while let Some(out) = node.poll_output() {
                match out {
                    Output::Send { to, msg } => {
                        to.for_each(n, |t| wire.push((t, NodeId(i as u32), msg.clone())))
                    }
                    Output::Deliver(_) => delivered += 1,
                    Output::Persist(_) | Output::Evidence(_) => {}
                }
            }
        }
        let Some((to, from, msg)) = wire.pop() else {
            return delivered;
        };
        nodes[to.index()].handle_message(Time::ZERO, from, msg);
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pbft_decision");
    g.sample_size(20);
    for n in [4usize, 16] {
        let mut nodes = cluster(n);
        let mut id = 0;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                id += 1;
                assert_eq!(decide(&mut nodes, id), n);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
