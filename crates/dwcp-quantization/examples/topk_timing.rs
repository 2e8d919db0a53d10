//! Best-of-N and median timing of exact top-k (1%) in GB/s, the same
//! statistics `bench/numpy_topk.py` prints for numpy's `argpartition`, on the
//! same splitmix64 vectors (checksums printed on both sides).
//!
//! `cargo run --release -p dwcp-quantization --example topk_timing`

use dwcp_quantization::top_k_indices;
use std::time::Instant;

/// The generator shared with `bench/numpy_topk.py` and `benches/compressors.rs`.
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

fn main() {
    println!("| d | k | variant | median time | GB/s (median) | GB/s (best) |");
    println!("|---|---|---|---|---|---|");
    for d in [100_000usize, 1_000_000] {
        let x = shared_vector(d, 42);
        let k = d / 100;
        let idx = top_k_indices(&x, k);
        eprintln!(
            "# d={d} k={k}: sum(x)={:.6} sum(top-k indices)={}",
            x.iter().map(|&v| f64::from(v)).sum::<f64>(),
            idx.iter().map(|&i| u64::from(i)).sum::<u64>()
        );
        // Same batching as the numpy script: ~2e6 coordinates per batch, 21 batches.
        let number = (2_000_000 / d).max(1);
        let mut times: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..number {
                    std::hint::black_box(top_k_indices(std::hint::black_box(&x), k));
                }
                t.elapsed().as_secs_f64() / number as f64
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let (best, med) = (times[0], times[times.len() / 2]);
        let gbs = |t: f64| 4.0 * d as f64 / t / 1e9;
        println!(
            "| {d} | {k} | top_k_indices (sorted) | {:.0} µs | {:.2} | {:.2} |",
            med * 1e6,
            gbs(med),
            gbs(best)
        );
    }
}
