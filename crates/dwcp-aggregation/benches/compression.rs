//! Compression throughput and ratio of Snappy (`snap`) and LZ4
//! (`lz4_flex`) on realistic request batches.
//!
//! `cargo bench -p dwcp-aggregation --bench compression -- --quick`
//! (ratios are printed once per input).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dwcp_aggregation::compress::Codec;
use dwcp_core::codec;
use dwcp_core::rng::{self, RngCore};
use dwcp_pbft::Request;

fn hex(rng: &mut impl RngCore, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.next_u32() as u8))
        .collect()
}

/// `count` JSON payment transactions between 1000 accounts, as PBFT
/// requests (the shape of a typical ledger workload).
fn json_batch(count: usize, seed: u64) -> Vec<u8> {
    let mut r = rng::seeded(seed);
    let accounts: Vec<String> = (0..1000).map(|_| hex(&mut r, 20)).collect();
    let reqs: Vec<Request> = (0..count as u64)
        .map(|i| {
            let from = &accounts[(r.next_u32() % 1000) as usize];
            let to = &accounts[(r.next_u32() % 1000) as usize];
            let payload = format!(
                r#"{{"from":"0x{from}","to":"0x{to}","value":{},"nonce":{},"gas":21000,"gasPrice":{},"sig":"0x{}"}}"#,
                r.next_u32() % 1_000_000,
                i / 7,
                1 + r.next_u32() % 50,
                hex(&mut r, 64)
            );
            Request { client: i % 64, id: i, payload: payload.into_bytes(), auth: None }
        })
        .collect();
    codec::encode(&reqs)
}

/// `count` requests with 128 random bytes each (encrypted payloads: the
/// incompressible worst case).
fn random_batch(count: usize, seed: u64) -> Vec<u8> {
    let mut r = rng::seeded(seed);
    let reqs: Vec<Request> = (0..count as u64)
        .map(|i| {
            let mut p = vec![0u8; 128];
            r.fill_bytes(&mut p);
            Request {
                client: i % 64,
                id: i,
                payload: p,
                auth: None,
            }
        })
        .collect();
    codec::encode(&reqs)
}

fn compression(c: &mut Criterion) {
    let inputs = [
        ("json-64", json_batch(64, 1)),
        ("json-1024", json_batch(1024, 2)),
        ("random-1024", random_batch(1024, 3)),
    ];
    for (name, data) in &inputs {
        for codec in [Codec::Snappy, Codec::Lz4] {
            let z = codec.compress(data);
            eprintln!(
                "{name} ({} bytes) {}: {} bytes, ratio {:.2}",
                data.len(),
                codec.name(),
                z.len(),
                data.len() as f64 / z.len() as f64
            );
            let mut g = c.benchmark_group(format!("compress/{name}"));
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_with_input(BenchmarkId::from_parameter(codec.name()), data, |b, d| {
                b.iter(|| codec.compress(d))
            });
            g.finish();
            let mut g = c.benchmark_group(format!("decompress/{name}"));
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_with_input(BenchmarkId::from_parameter(codec.name()), &z, |b, z| {
                b.iter(|| codec.decompress(z, data.len()).unwrap())
            });
            g.finish();
        }
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, compression);
}
criterion_main!(group::benches);
