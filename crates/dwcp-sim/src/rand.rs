//! Small, allocation-free sampling helpers over the seeded ChaCha20 RNG.

use dwcp_core::rng::{Rng, RngCore};

/// Uniform on `[0, 1)` with 53 bits of precision.
#[inline]
pub fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on `[0, span]` (inclusive), in nanoseconds.
#[inline]
pub fn uniform_ns(rng: &mut Rng, span: u64) -> u64 {
    if span == 0 {
        return 0;
    }
    let range = span as u128 + 1;
    ((rng.next_u64() as u128 * range) >> 64) as u64
}

/// `true` with probability `p`.
#[inline]
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        unit(rng) < p
    }
}

/// Uniform index in `0..len` (`len > 0`).
#[inline]
pub fn index(rng: &mut Rng, len: usize) -> usize {
    ((rng.next_u64() as u128 * len as u128) >> 64) as usize
}
