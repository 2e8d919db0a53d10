//! Throughput of every compressor in GB/s (input bytes = 4·d per call,
//! decimal units), at d = 10⁵ and 10⁶, plus the wire encoder and decoder.
//!
//! The input vectors come from the splitmix64 generator shared with
//! `bench/numpy_topk.py`, so numpy's `argpartition` top-k runs on the very
//! same vectors (the setup prints a checksum both sides print).
//!
//! `cargo bench -p dwcp-quantization --bench compressors -- --warm-up-time 1 --measurement-time 2`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dwcp_core::rng::seeded;
use dwcp_quantization::{
    Compress, Compressed, Compressor, Entropy, Limits, Quantizer, Sparsifier, top_k_indices,
};
use std::hint::black_box;

/// splitmix64(seed + (i + 1)·γ) mapped to [−1, 1) with 24 bits: the same
/// formula as `bench/numpy_topk.py`.
fn shared_vector(d: usize, seed: u64) -> Vec<f32> {
    (0..d as u64)
        .map(|i| {
            let mut z = seed.wrapping_add((i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn compressors(d: usize) -> Vec<(&'static str, Compressor)> {
    let k = d / 100;
    let u4 = Quantizer::Uniform {
        bits: 4,
        stochastic: false,
    };
    let c = |s, q| Compressor::new(s, q).expect("valid");
    vec![
        ("top-1% f32", c(Sparsifier::TopK { k }, Quantizer::F32)),
        ("top-1% 4-bit", c(Sparsifier::TopK { k }, u4)),
        (
            "random-1% f32",
            c(
                Sparsifier::RandK {
                    k,
                    seed: 7,
                    rescale: false,
                },
                Quantizer::F32,
            ),
        ),
        (
            "qsgd s=127",
            c(Sparsifier::Dense, Quantizer::Qsgd { levels: 127 }),
        ),
        ("terngrad", c(Sparsifier::Dense, Quantizer::Ternary)),
        ("sign", c(Sparsifier::Dense, Quantizer::Sign)),
        ("uniform 4-bit", c(Sparsifier::Dense, u4)),
        (
            "uniform 8-bit stochastic",
            c(
                Sparsifier::Dense,
                Quantizer::Uniform {
                    bits: 8,
                    stochastic: true,
                },
            ),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    for d in [100_000usize, 1_000_000] {
        let x = shared_vector(d, 42);
        let k = d / 100;
        let idx = top_k_indices(&x, k);
        eprintln!(
            "d={d} k={k}: sum(x)={:.6} sum(top-k indices)={}",
            x.iter().map(|&v| f64::from(v)).sum::<f64>(),
            idx.iter().map(|&i| u64::from(i)).sum::<u64>()
        );
        let mut g = c.benchmark_group(format!("compress/d={d}"));
        g.throughput(Throughput::BytesDecimal(4 * d as u64));
        g.sample_size(20);
        g.bench_function("top-k indices only (1%)", |b| {
            b.iter(|| top_k_indices(black_box(&x), k))
        });
        for (name, comp) in compressors(d) {
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                let mut comp = comp;
                let mut rng = seeded(1);
                b.iter(|| comp.compress(black_box(&x), &mut rng).expect("fits"))
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("wire/d={d}"));
        g.throughput(Throughput::BytesDecimal(4 * d as u64));
        g.sample_size(20);
        let limits = Limits::new(d);
        for (name, comp) in [
            ("top-1% 4-bit", compressors(d)[1].1),
            ("qsgd s=127", compressors(d)[3].1),
        ] {
            let msg = { comp }.compress(&x, &mut seeded(2)).expect("fits");
            let raw = msg.encode();
            let z = msg.encode_with(Entropy::Zstd);
            g.bench_function(format!("encode {name}"), |b| {
                b.iter(|| black_box(&msg).encode())
            });
            g.bench_function(format!("decode {name}"), |b| {
                b.iter(|| Compressed::decode(black_box(&raw), &limits).expect("valid"))
            });
            g.bench_function(format!("encode+zstd {name}"), |b| {
                b.iter(|| black_box(&msg).encode_with(Entropy::Zstd))
            });
            g.bench_function(format!("decode zstd {name}"), |b| {
                b.iter(|| Compressed::decode(black_box(&z), &limits).expect("valid"))
            });
            let mut out = vec![0.0f32; d];
            g.bench_function(format!("decompress_into {name}"), |b| {
                b.iter(|| msg.decompress_into(black_box(&mut out)).expect("dims"))
            });
        }
        g.finish();
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
