//! Differential privacy: L2 clipping, seeded Gaussian noise, and a Rényi
//! DP accountant for the (Poisson-subsampled) Gaussian mechanism.
//!
//! DP-FedAvg (McMahan et al., ICLR 2018) in three calls: each client's
//! update is clipped to L2 norm `S` ([`clip_l2`]); the server adds
//! `N(0, (σ·S)²)` to every coordinate of the sum ([`add_gaussian_noise`]);
//! each round is one step of the sampled Gaussian mechanism with sampling
//! rate `q` and noise multiplier `σ` ([`RdpAccountant::compose`]).

pub mod fedavg;
pub mod rdp;

pub use fedavg::DpFedAvg;
pub use rdp::{RdpAccountant, default_orders, rdp_sampled_gaussian};

use dwcp_core::rng::RngCore;

/// Scales `v` down to L2 norm at most `bound` (no-op if already within it)
/// and returns its original norm. Non-finite entries are zeroed first, so
/// the result always has a finite norm `≤ bound`.
pub fn clip_l2(v: &mut [f32], bound: f32) -> f64 {
    for x in v.iter_mut() {
        if !x.is_finite() {
            *x = 0.0;
        }
    }
    let norm = v
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt();
    let bound = f64::from(bound.max(0.0));
    if norm > bound {
        // Round the factor down so that rounding to f32 cannot push the
        // norm above the bound.
        let factor = (bound / norm) * (1.0 - 1e-6);
        for x in v.iter_mut() {
            *x = (f64::from(*x) * factor) as f32;
        }
    }
    norm
}

/// A uniform `f64` in `(0, 1]` from 53 random bits.
fn unit_open0(rng: &mut impl RngCore) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normal samples (Box–Muller).
pub fn standard_normal_pair(rng: &mut impl RngCore) -> (f64, f64) {
    let r = (-2.0 * unit_open0(rng).ln()).sqrt();
    let theta = 2.0 * std::f64::consts::PI * unit_open0(rng);
    (r * theta.cos(), r * theta.sin())
}

/// Adds independent `N(0, std_dev²)` noise to every coordinate, from a
/// seeded RNG (pass a `dwcp_core::rng::Rng`; never OS randomness).
pub fn add_gaussian_noise(v: &mut [f32], std_dev: f64, rng: &mut impl RngCore) {
    for pair in v.chunks_mut(2) {
        let (a, b) = standard_normal_pair(rng);
        for (x, z) in pair.iter_mut().zip([a, b]) {
            *x = (f64::from(*x) + std_dev * z) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng;

    #[test]
    fn clipping_bounds_the_norm_and_keeps_direction() {
        let mut v = vec![3.0f32, 4.0];
        assert_eq!(clip_l2(&mut v, 1.0), 5.0);
        let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
        assert!(n <= 1.0 && n > 0.9999, "{n}");
        assert!((v[0] / v[1] - 0.75).abs() < 1e-6);
        let mut small = vec![0.1f32, 0.2];
        clip_l2(&mut small, 1.0);
        assert_eq!(small, vec![0.1, 0.2]);
        let mut bad = vec![f32::NAN, f32::INFINITY, 2.0];
        clip_l2(&mut bad, 1.0);
        assert!(bad.iter().all(|x| x.is_finite()) && bad[2] <= 1.0);
    }

    #[test]
    fn noise_has_the_requested_moments() {
        let mut v = vec![0.0f32; 200_000];
        add_gaussian_noise(&mut v, 2.0, &mut rng::seeded(3));
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        // Standard errors: 2/sqrt(n) = 0.0045 for the mean, ~0.013 for the variance.
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 4.0).abs() < 0.1, "var {var}");
        let beyond = v.iter().filter(|&&x| f64::from(x).abs() > 4.0).count() as f64 / n;
        assert!((beyond - 0.0455).abs() < 0.003, "tail {beyond}");
        let mut w = vec![0.0f32; 8];
        add_gaussian_noise(&mut w, 1.0, &mut rng::seeded(3));
        assert_eq!(
            &w[..],
            &v[..8].iter().map(|x| x / 2.0).collect::<Vec<_>>()[..]
        );
    }
}
