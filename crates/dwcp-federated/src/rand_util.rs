//! Small seeded sampling helpers (no `rand_distr` dependency): uniform
//! floats, Gaussian (Box–Muller), Gamma (Marsaglia–Tsang) and Fisher–Yates.

use dwcp_core::rng::RngCore;

/// A uniform `f64` in `[0, 1)` with 53 random bits.
pub fn uniform(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A uniform index in `0..n` (`0` when `n == 0`).
pub fn below(rng: &mut impl RngCore, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (uniform(rng) * n as f64) as usize % n
    }
}

/// A standard normal sample (Box–Muller).
pub fn normal(rng: &mut impl RngCore) -> f64 {
    let u1 = uniform(rng).max(1e-300);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Gamma(`shape`, 1) sample (Marsaglia–Tsang; boosted for `shape < 1`).
pub fn gamma(shape: f64, rng: &mut impl RngCore) -> f64 {
    if shape <= 0.0 || !shape.is_finite() {
        return 0.0;
    }
    if shape < 1.0 {
        let u = uniform(rng).max(1e-300);
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = uniform(rng);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Fisher–Yates shuffle.
pub fn shuffle<T>(v: &mut [T], rng: &mut impl RngCore) {
    for i in (1..v.len()).rev() {
        let j = below(rng, i + 1);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_mean_matches_shape() {
        let mut r = dwcp_core::rng::seeded(1);
        for shape in [0.5, 2.0] {
            let m: f64 = (0..20_000).map(|_| gamma(shape, &mut r)).sum::<f64>() / 20_000.0;
            assert!((m - shape).abs() < 0.05 * shape.max(1.0), "{shape}: {m}");
        }
    }
}
