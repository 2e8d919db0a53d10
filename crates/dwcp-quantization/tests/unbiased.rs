//! Unbiasedness of the stochastic schemes: the mean of N seeded draws stays
//! within a Hoeffding bound of the input.
//!
//! Each scheme's output for coordinate i takes one of two values at most
//! `w_i` apart (QSGD: `w = ‖x‖/s`; TernGrad: `w = max|x|`; stochastic
//! uniform: one step `(max−min)/(2^b−1)`; rescaled random-k: `|x_i|·d/k`).
//! For N independent draws Hoeffding gives
//! `P(|mean_i − x_i| ≥ t) ≤ 2·exp(−2·N·t²/w_i²)`; with a union bound over
//! the d coordinates, `t_i = w_i·sqrt(ln(2d/δ)/(2N))` fails with probability
//! at most δ = 1e-6. A small slack covers f32 rounding. The same bound is
//! violated by the biased schemes (sign, nearest rounding), which shows the
//! test has the power to fail.

mod common;

use dwcp_core::rng::seeded;
use dwcp_quantization::{Compress, Compressor, Quantizer, Sparsifier};

const N: usize = 4000;
const DELTA: f64 = 1e-6;

/// Mean over N draws (fresh rng per draw; random-k gets a fresh mask seed).
fn mean_of_draws(mut comp: Compressor, x: &[f32]) -> Vec<f64> {
    let mut sum = vec![0.0f64; x.len()];
    for t in 0..N {
        comp.set_mask_seed(t as u64);
        let c = comp.compress(x, &mut seeded(1_000 + t as u64)).unwrap();
        c.for_each(|i, v| sum[i] += f64::from(v));
    }
    sum.iter().map(|s| s / N as f64).collect()
}

/// Number of coordinates outside the Hoeffding bound.
fn violations(comp: Compressor, x: &[f32], width: impl Fn(usize) -> f64) -> usize {
    let mean = mean_of_draws(comp, x);
    let z = ((2.0 * x.len() as f64 / DELTA).ln() / (2.0 * N as f64)).sqrt();
    (0..x.len())
        .filter(|&i| {
            let xi = f64::from(x[i]);
            let bound = width(i) * z + 1e-5 * (xi.abs() + width(i));
            (mean[i] - xi).abs() > bound
        })
        .count()
}

fn input() -> Vec<f32> {
    let mut x = common::gaussian(32, 11);
    x[3] = 0.0;
    x[7] = 1.5; // the maximum magnitude
    x
}

fn norm(x: &[f32]) -> f64 {
    x.iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

fn max_abs(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |m, &v| m.max(f64::from(v.abs())))
}

#[test]
fn qsgd_is_unbiased() {
    let x = input();
    for s in [1u16, 2, 8] {
        let comp = Compressor::new(Sparsifier::Dense, Quantizer::Qsgd { levels: s }).unwrap();
        let w = norm(&x) / f64::from(s);
        assert_eq!(violations(comp, &x, |_| w), 0, "s = {s}");
    }
}

#[test]
fn ternary_is_unbiased() {
    let x = input();
    let comp = Compressor::new(Sparsifier::Dense, Quantizer::Ternary).unwrap();
    let w = max_abs(&x);
    assert_eq!(violations(comp, &x, |_| w), 0);
}

#[test]
fn stochastic_uniform_is_unbiased() {
    let x = input();
    for bits in [1u8, 3] {
        let q = Quantizer::Uniform {
            bits,
            stochastic: true,
        };
        let comp = Compressor::new(Sparsifier::Dense, q).unwrap();
        let (lo, hi) = x
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let w = f64::from(hi - lo) / f64::from((1u32 << bits) - 1);
        assert_eq!(violations(comp, &x, |_| w), 0, "bits = {bits}");
    }
}

#[test]
fn rescaled_random_k_is_unbiased() {
    let x = input();
    let (d, k) = (x.len(), 8);
    let s = Sparsifier::RandK {
        k,
        seed: 0,
        rescale: true,
    };
    let comp = Compressor::new(s, Quantizer::F32).unwrap();
    let ratio = d as f64 / k as f64;
    assert_eq!(violations(comp, &x, |i| f64::from(x[i].abs()) * ratio), 0);
    // Random-k composed with QSGD stays unbiased (product of independent
    // unbiased steps); its width is at most the sum of both.
    let comp = Compressor::new(s, Quantizer::Qsgd { levels: 4 }).unwrap();
    let w = norm(&x) * ratio / 4.0;
    assert_eq!(
        violations(comp, &x, |i| f64::from(x[i].abs()) * ratio + 2.0 * w),
        0
    );
}

#[test]
fn biased_schemes_fail_the_same_bound() {
    let x = input();
    // Widths as generous as the unbiased schemes get.
    let sign = Compressor::new(Sparsifier::Dense, Quantizer::Sign).unwrap();
    let w = max_abs(&x);
    assert!(violations(sign, &x, |_| w / 4.0) > 0);
    let near = Quantizer::Uniform {
        bits: 1,
        stochastic: false,
    };
    let near = Compressor::new(Sparsifier::Dense, near).unwrap();
    assert!(violations(near, &x, |_| w / 4.0) > 0);
    let topk = Compressor::new(Sparsifier::TopK { k: 8 }, Quantizer::F32).unwrap();
    assert!(violations(topk, &x, |_| w / 4.0) > 0);
}
