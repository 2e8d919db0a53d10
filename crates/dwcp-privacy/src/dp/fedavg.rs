//! DP-FedAvg's server step (McMahan et al., ICLR 2018): Poisson client
//! sampling, per-client L2 clipping, Gaussian noise on the sum, the
//! fixed-denominator average, and the privacy spent so far.

use super::rdp::RdpAccountant;
use super::{add_gaussian_noise, clip_l2};
use dwcp_core::rng::RngCore;

/// User-level differentially private federated averaging.
#[derive(Clone, Debug, PartialEq)]
pub struct DpFedAvg {
    /// L2 bound `S` on each client's update.
    pub clip: f32,
    /// Noise multiplier `σ`: the noise on the sum has std `σ·S`.
    pub noise_multiplier: f64,
    /// Probability `q` that a client takes part in a round.
    pub sampling_rate: f64,
    /// Number of clients `N`.
    pub population: usize,
    accountant: RdpAccountant,
    rounds: u64,
}

impl DpFedAvg {
    /// A fresh aggregator; nothing spent yet.
    pub fn new(
        clip: f32,
        noise_multiplier: f64,
        sampling_rate: f64,
        population: usize,
    ) -> DpFedAvg {
        DpFedAvg {
            clip,
            noise_multiplier,
            sampling_rate: sampling_rate.clamp(0.0, 1.0),
            population,
            accountant: RdpAccountant::new(),
            rounds: 0,
        }
    }

    /// The clients of one round: each of `0..population` independently with
    /// probability `sampling_rate` (the sampling the accountant assumes).
    pub fn sample(&self, rng: &mut impl RngCore) -> Vec<usize> {
        (0..self.population)
            .filter(|_| {
                (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < self.sampling_rate
            })
            .collect()
    }

    /// Clips every update (in place), sums them, adds `N(0, (σ·S)²)` per
    /// coordinate and divides by the expected number of clients `q·N`
    /// (a fixed denominator, so one client's presence changes the result by
    /// at most `S/(qN)`). Returns the noisy average update of length `dim`
    /// and charges one round to the accountant.
    pub fn aggregate(
        &mut self,
        updates: &mut [Vec<f32>],
        dim: usize,
        rng: &mut impl RngCore,
    ) -> Vec<f32> {
        let mut sum = vec![0f32; dim];
        for u in updates.iter_mut() {
            clip_l2(u, self.clip);
            for (s, x) in sum.iter_mut().zip(u.iter()) {
                *s += x;
            }
        }
        add_gaussian_noise(&mut sum, self.noise_multiplier * f64::from(self.clip), rng);
        let denom = (self.sampling_rate * self.population as f64).max(1.0) as f32;
        for s in &mut sum {
            *s /= denom;
        }
        self.accountant
            .compose(self.sampling_rate, self.noise_multiplier, 1);
        self.rounds += 1;
        sum
    }

    /// Rounds aggregated so far.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// ε spent so far at `delta` (∞ with no noise, 0 before any round).
    pub fn epsilon(&self, delta: f64) -> f64 {
        self.accountant.epsilon(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng;

    #[test]
    fn aggregate_clips_noises_and_accounts() {
        let mut agg = DpFedAvg::new(1.0, 0.0, 1.0, 2);
        let mut ups = vec![vec![3.0, 4.0], vec![0.0, 0.5]];
        let avg = agg.aggregate(&mut ups, 2, &mut rng::seeded(1));
        // (0.6, 0.8) clipped + (0, 0.5), over 2 clients.
        assert!(
            (avg[0] - 0.3).abs() < 1e-5 && (avg[1] - 0.65).abs() < 1e-5,
            "{avg:?}"
        );
        assert!(agg.epsilon(1e-5).is_infinite());
        let mut noisy = DpFedAvg::new(1.0, 2.0, 0.1, 100);
        assert_eq!(noisy.epsilon(1e-5), 0.0);
        let avg = noisy.aggregate(&mut [], 1000, &mut rng::seeded(2));
        // Pure noise of std σS/(qN) = 0.2.
        let sd = (avg.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / 1000.0).sqrt();
        assert!((sd - 0.2).abs() < 0.02, "{sd}");
        let mut acc = RdpAccountant::new();
        acc.compose(0.1, 2.0, 1);
        assert_eq!(noisy.epsilon(1e-5), acc.epsilon(1e-5));
        let picked = noisy.sample(&mut rng::seeded(3)).len();
        assert!((3..=20).contains(&picked), "{picked}");
    }
}
