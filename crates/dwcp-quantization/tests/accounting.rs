//! Exact byte accounting and the bits-per-coordinate table of the crate docs
//! (d = 10⁵). Run with `--nocapture` to print the table.

mod common;

use dwcp_core::rng::seeded;
use dwcp_quantization::{
    Adaptive, Compress, Compressor, Entropy, Quantizer, Sparsifier, k_for_fraction,
};

const D: usize = 100_000;

fn u(bits: u8) -> Quantizer {
    Quantizer::Uniform {
        bits,
        stochastic: false,
    }
}

/// (name, compressor, expected bits per coordinate, tolerance).
fn table() -> Vec<(&'static str, Compressor, f64, f64)> {
    let dense = Sparsifier::Dense;
    let top = |f: f64| Sparsifier::TopK {
        k: k_for_fraction(f, D),
    };
    let rk = Sparsifier::RandK {
        k: k_for_fraction(0.01, D),
        seed: 1,
        rescale: false,
    };
    let c = |s, q| Compressor::new(s, q).unwrap();
    vec![
        ("dense f32", c(dense, Quantizer::F32), 32.0, 0.001),
        ("dense 8-bit uniform", c(dense, u(8)), 8.0, 0.001),
        ("dense 4-bit uniform", c(dense, u(4)), 4.0, 0.001),
        (
            "QSGD s=1 (2-bit codes)",
            c(dense, Quantizer::Qsgd { levels: 1 }),
            2.0,
            0.001,
        ),
        (
            "QSGD s=127 (8-bit codes)",
            c(dense, Quantizer::Qsgd { levels: 127 }),
            8.0,
            0.001,
        ),
        (
            "TernGrad (5 trits per byte)",
            c(dense, Quantizer::Ternary),
            1.6,
            0.001,
        ),
        (
            "sign + mean-abs scale",
            c(dense, Quantizer::Sign),
            1.0,
            0.001,
        ),
        // Sparse: k·(Rice index ≈ log2(d/k) + 1.5 bits + value bits) / d.
        (
            "top-1% f32",
            c(top(0.01), Quantizer::F32),
            0.01 * (32.0 + 8.1),
            0.01,
        ),
        ("top-1% 4-bit", c(top(0.01), u(4)), 0.01 * (4.0 + 8.1), 0.01),
        (
            "top-0.5% 4-bit",
            c(top(0.005), u(4)),
            0.005 * (4.0 + 9.1),
            0.01,
        ),
        (
            "top-0.5% sign (STC-like)",
            c(top(0.005), Quantizer::Sign),
            0.005 * (1.0 + 9.1),
            0.01,
        ),
        (
            "random-1% 4-bit (seeded mask)",
            c(rk, u(4)),
            0.01 * 4.0,
            0.003,
        ),
    ]
}

#[test]
fn bits_per_coordinate_at_d_1e5() {
    let x = common::gaussian(D, 3);
    println!("| scheme | bytes | bits/coord | ratio vs f32 | bytes with zstd (auto) |");
    println!("|---|---|---|---|---|");
    for (name, mut comp, expect, tol) in table() {
        let c = comp.compress(&x, &mut seeded(1)).unwrap();
        let bytes = c.encoded_len();
        assert_eq!(bytes, c.encode().len(), "{name}");
        let bpc = bytes as f64 * 8.0 / D as f64;
        let auto = c.encoded_len_with(Entropy::Auto);
        println!(
            "| {name} | {bytes} | {bpc:.3} | {:.0}× | {auto} |",
            (4 * D) as f64 / bytes as f64
        );
        assert!(
            (bpc - expect).abs() <= tol.max(expect * 0.05),
            "{name}: {bpc} vs {expect}"
        );
    }
}

#[test]
fn adaptive_picks_dense_width_then_k() {
    let x = common::gaussian(D, 4);
    let mut r = seeded(1);
    for (budget_bits, want) in [
        (40 * D as u64, "f32"),
        (9 * D as u64, "uniform8"),
        (2 * D as u64 + 200, "uniform2"),
        (D as u64, "topk"),
        (D as u64 / 20, "topk"),
    ] {
        let mut a = Adaptive::new(budget_bits);
        let c = a.compress(&x, &mut r).unwrap();
        assert!(c.encoded_len() as u64 * 8 <= budget_bits);
        let choice = a.last_choice().unwrap();
        let got = match (choice.sparsifier(), choice.quantizer()) {
            (Sparsifier::Dense, Quantizer::F32) => "f32",
            (Sparsifier::Dense, Quantizer::Uniform { bits: 8, .. }) => "uniform8",
            (Sparsifier::Dense, Quantizer::Uniform { bits: 2, .. }) => "uniform2",
            (Sparsifier::TopK { .. }, _) => "topk",
            _ => "other",
        };
        assert_eq!(got, want, "budget {budget_bits}: {choice:?}");
        // The budget is used well: within one entry's worth (~22 bits) of it.
        assert!(c.encoded_len() as u64 * 8 + 64 > budget_bits || got != "topk");
    }
}
