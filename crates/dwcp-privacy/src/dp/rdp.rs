//! A Rényi DP accountant for the Poisson-subsampled Gaussian mechanism
//! (Mironov, Talwar and Zhang 2019), with the RDP → (ε, δ) conversion of
//! Balle et al. 2020 / Canonne, Kamath and Steinke 2020 — the same formulas
//! as Google's `dp_accounting.rdp` (checked against it in the tests, see
//! `reference/`).
//!
//! Orders are integers: for integer α the RDP of the sampled Gaussian has
//! the exact binomial form
//! `A_α = Σ_{i=0..α} C(α,i) (1−q)^{α−i} q^i exp((i²−i) / 2σ²)`,
//! `RDP(α) = ln(A_α) / (α − 1)`, computed in log space. The default orders
//! are the integer ones among `dp_accounting`'s defaults; leaving out its
//! fractional orders in (1, 2) can only make our ε larger (safe), and the
//! tests bound by how much.

/// The integer orders of `dp_accounting`'s `DEFAULT_RDP_ORDERS`:
/// 2..=63, 128, 256, 512, 1024.
pub fn default_orders() -> Vec<u32> {
    (2..=63).chain([128, 256, 512, 1024]).collect()
}

fn log_add(a: f64, b: f64) -> f64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    (lo - hi).exp().ln_1p() + hi
}

/// The RDP at integer order `alpha ≥ 2` of one step of the Gaussian
/// mechanism with noise multiplier `sigma`, each record sampled with
/// probability `q` (`q = 1`: no subsampling, `α / 2σ²`).
pub fn rdp_sampled_gaussian(q: f64, sigma: f64, alpha: u32) -> f64 {
    if q <= 0.0 {
        return 0.0;
    }
    if sigma <= 0.0 || !sigma.is_finite() {
        return f64::INFINITY;
    }
    let a = f64::from(alpha);
    if q >= 1.0 {
        return a / (2.0 * sigma * sigma);
    }
    let log_q = q.ln();
    let log_1mq = (-q).ln_1p();
    let mut log_comb = 0.0; // ln C(alpha, 0)
    let mut log_a = f64::NEG_INFINITY;
    for i in 0..=alpha {
        if i > 0 {
            log_comb += f64::from(alpha - i + 1).ln() - f64::from(i).ln();
        }
        let fi = f64::from(i);
        let term =
            log_comb + fi * log_q + (a - fi) * log_1mq + (fi * fi - fi) / (2.0 * sigma * sigma);
        log_a = log_add(log_a, term);
    }
    log_a / (a - 1.0)
}

/// Accumulated RDP over a fixed set of orders.
#[derive(Clone, Debug, PartialEq)]
pub struct RdpAccountant {
    orders: Vec<u32>,
    rdp: Vec<f64>,
}

impl Default for RdpAccountant {
    fn default() -> Self {
        RdpAccountant::new()
    }
}

impl RdpAccountant {
    /// An accountant over [`default_orders`], nothing spent yet.
    pub fn new() -> RdpAccountant {
        RdpAccountant::with_orders(default_orders())
    }

    /// An accountant over the given integer orders (orders below 2 are dropped).
    pub fn with_orders(mut orders: Vec<u32>) -> RdpAccountant {
        orders.retain(|&a| a >= 2);
        orders.sort_unstable();
        orders.dedup();
        let rdp = vec![0.0; orders.len()];
        RdpAccountant { orders, rdp }
    }

    /// Adds `steps` compositions of the sampled Gaussian mechanism with
    /// sampling rate `q` and noise multiplier `sigma`.
    pub fn compose(&mut self, q: f64, sigma: f64, steps: u64) {
        for (r, &a) in self.rdp.iter_mut().zip(&self.orders) {
            *r += steps as f64 * rdp_sampled_gaussian(q, sigma, a);
        }
    }

    /// The orders.
    pub fn orders(&self) -> &[u32] {
        &self.orders
    }

    /// The accumulated RDP per order.
    pub fn rdp(&self) -> &[f64] {
        &self.rdp
    }

    /// The smallest ε over the orders such that the composition is
    /// (ε, δ)-DP, and the order achieving it (Balle et al. 2020, Thm 21).
    pub fn epsilon_and_order(&self, delta: f64) -> (f64, u32) {
        if delta.is_nan() || delta <= 0.0 {
            let all_zero = self.rdp.iter().all(|&r| r == 0.0);
            return (if all_zero { 0.0 } else { f64::INFINITY }, 0);
        }
        let mut best = (f64::INFINITY, 0);
        for (&r, &a) in self.rdp.iter().zip(&self.orders) {
            let a = f64::from(a);
            let eps = if r < 0.0 || delta * delta + (-r).exp_m1() > 0.0 {
                0.0
            } else {
                r + (-1.0 / a).ln_1p() - (delta * a).ln() / (a - 1.0)
            };
            if eps < best.0 {
                best = (eps, a as u32);
            }
        }
        (best.0.max(0.0), best.1)
    }

    /// The smallest ε such that the composition is (ε, δ)-DP.
    pub fn epsilon(&self, delta: f64) -> f64 {
        self.epsilon_and_order(delta).0
    }

    /// The smallest noise multiplier (to 0.1% relative) that keeps
    /// `steps` steps at sampling rate `q` within `(target_eps, delta)`;
    /// `None` if even σ = 1000 does not.
    pub fn noise_for_epsilon(q: f64, steps: u64, target_eps: f64, delta: f64) -> Option<f64> {
        let eps_at = |sigma: f64| {
            let mut acc = RdpAccountant::new();
            acc.compose(q, sigma, steps);
            acc.epsilon(delta)
        };
        let (mut lo, mut hi) = (0.05, 1000.0);
        if eps_at(hi) > target_eps {
            return None;
        }
        while hi / lo > 1.001 {
            let mid = (lo * hi).sqrt();
            if eps_at(mid) > target_eps {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // No subsampling: RDP(α) = α / 2σ².
        assert_eq!(rdp_sampled_gaussian(1.0, 2.0, 8), 1.0);
        assert_eq!(rdp_sampled_gaussian(0.0, 2.0, 8), 0.0);
        assert!(rdp_sampled_gaussian(0.5, 0.0, 8).is_infinite());
        // α = 2 has the closed form ln(1 + q²(e^{1/σ²} − 1)).
        let (q, s) = (0.01f64, 1.1f64);
        let exact = (q * q * ((1.0 / (s * s)).exp() - 1.0)).ln_1p();
        assert!((rdp_sampled_gaussian(q, s, 2) - exact).abs() < 1e-15);
        // Subsampling only helps.
        assert!(rdp_sampled_gaussian(0.1, 1.0, 10) < rdp_sampled_gaussian(1.0, 1.0, 10));
    }

    #[test]
    fn epsilon_grows_with_steps_and_shrinks_with_noise() {
        let eps = |q, s, t| {
            let mut a = RdpAccountant::new();
            a.compose(q, s, t);
            a.epsilon(1e-5)
        };
        assert!(eps(0.01, 1.0, 100) < eps(0.01, 1.0, 1000));
        assert!(eps(0.01, 2.0, 1000) < eps(0.01, 1.0, 1000));
        assert_eq!(RdpAccountant::new().epsilon(1e-5), 0.0);
        assert_eq!(RdpAccountant::new().epsilon(0.0), 0.0);
        let sigma = RdpAccountant::noise_for_epsilon(0.1, 300, 2.0, 1e-5).unwrap();
        assert!(eps(0.1, sigma, 300) <= 2.0 && eps(0.1, sigma / 1.01, 300) > 2.0);
    }
}

/// Reference epsilons from Google's `dp-accounting` 0.6.0, produced by
/// `reference/rdp_reference.py` (CSV: sigma, q, steps, delta, ε on our
/// integer orders, ε on the package's default orders).
pub const REFERENCE_VECTORS: &str = include_str!("../../reference/rdp_vectors.csv");

/// One reference point and our accountant's answer for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceCheck {
    /// Noise multiplier.
    pub sigma: f64,
    /// Sampling rate.
    pub q: f64,
    /// Steps.
    pub steps: u64,
    /// δ.
    pub delta: f64,
    /// dp-accounting's ε on the same integer orders.
    pub reference_same_orders: f64,
    /// dp-accounting's ε on its default (partly fractional) orders.
    pub reference_default_orders: f64,
    /// Ours.
    pub ours: f64,
}

/// Recomputes every reference point with [`RdpAccountant::new`]. Malformed
/// lines are skipped (the test suite checks that none are).
pub fn reference_checks() -> Vec<ReferenceCheck> {
    REFERENCE_VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("sigma"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
            let steps = f.get(2).and_then(|s| s.parse::<u64>().ok())?;
            let (sigma, q, delta) = (num(0)?, num(1)?, num(3)?);
            let mut acc = RdpAccountant::new();
            acc.compose(q, sigma, steps);
            Some(ReferenceCheck {
                sigma,
                q,
                steps,
                delta,
                reference_same_orders: num(4)?,
                reference_default_orders: num(5)?,
                ours: acc.epsilon(delta),
            })
        })
        .collect()
}
