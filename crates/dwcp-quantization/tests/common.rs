//! Shared helpers for the integration tests.
#![allow(dead_code)]

use dwcp_quantization::{Compressor, Quantizer, Sparsifier};

/// Every quantizer, with a few parameter choices.
pub fn quantizers() -> Vec<Quantizer> {
    vec![
        Quantizer::F32,
        Quantizer::Uniform {
            bits: 1,
            stochastic: false,
        },
        Quantizer::Uniform {
            bits: 4,
            stochastic: true,
        },
        Quantizer::Uniform {
            bits: 16,
            stochastic: false,
        },
        Quantizer::Qsgd { levels: 1 },
        Quantizer::Qsgd { levels: 100 },
        Quantizer::Qsgd { levels: 32767 },
        Quantizer::Ternary,
        Quantizer::Sign,
    ]
}

/// Every sparsifier kind, sized for a vector of length `d`.
pub fn sparsifiers(k: usize, seed: u64) -> Vec<Sparsifier> {
    vec![
        Sparsifier::Dense,
        Sparsifier::TopK { k },
        Sparsifier::RandK {
            k,
            seed,
            rescale: false,
        },
        Sparsifier::RandK {
            k,
            seed,
            rescale: true,
        },
    ]
}

/// Every (sparsifier, quantizer) pair.
pub fn all(k: usize, seed: u64) -> Vec<Compressor> {
    let mut out = Vec::new();
    for s in sparsifiers(k, seed) {
        for q in quantizers() {
            out.push(Compressor::new(s, q).expect("valid"));
        }
    }
    out
}

/// A deterministic Gaussian-ish vector (sum of uniforms), as the benches use.
pub fn gaussian(d: usize, seed: u64) -> Vec<f32> {
    use dwcp_core::rng::RngCore;
    let mut r = dwcp_core::rng::seeded(seed);
    (0..d)
        .map(|_| {
            (0..4)
                .map(|_| (r.next_u32() >> 8) as f32 / (1u32 << 24) as f32)
                .sum::<f32>()
                - 2.0
        })
        .collect()
}
