//! Action spaces and the differentiable sampling behind them: Gumbel-softmax
//! for categorical actions, a diagonal Gaussian for continuous ones (as the
//! reference implementation's `SoftCategoricalPd` and `DiagGaussianPd`).

use dwcp_core::rng::RngCore;
use dwcp_nn::ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

/// The action space of one agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionSpace {
    /// `groups` independent categorical choices of `size` options each. The
    /// actor outputs `groups · size` logits; the action is one probability
    /// vector per group (a Gumbel-softmax sample while training, the softmax
    /// of the logits when executing). `simple_spread` uses one group of 5;
    /// NodeAlloc one group of 4 destinations per job type.
    Categorical {
        /// Number of independent categorical choices.
        groups: usize,
        /// Options per choice.
        size: usize,
    },
    /// A `dim`-dimensional real action. The actor outputs `2 · dim` values,
    /// a mean and a log standard deviation; training samples
    /// `mean + exp(logstd) · ε`, execution uses the mean.
    Continuous {
        /// Action dimension.
        dim: usize,
    },
}

impl ActionSpace {
    /// Width of the action vector the environment receives.
    pub fn action_dim(self) -> usize {
        match self {
            ActionSpace::Categorical { groups, size } => groups * size,
            ActionSpace::Continuous { dim } => dim,
        }
    }

    /// Width of the actor's output (the distribution parameters).
    pub fn param_dim(self) -> usize {
        match self {
            ActionSpace::Categorical { groups, size } => groups * size,
            ActionSpace::Continuous { dim } => 2 * dim,
        }
    }
}

/// A uniform sample in the open interval `(0, 1)` from 23 random bits:
/// `(k + 0.5) / 2²³` is exact in `f32`, so neither 0 nor 1 can come out
/// (with 24 bits, `k + 0.5` rounds up to `2²⁴` and yields exactly 1, whose
/// Gumbel transform is infinite).
pub fn open_unit(rng: &mut impl RngCore) -> f32 {
    open_unit_from(rng.next_u32())
}

fn open_unit_from(bits: u32) -> f32 {
    ((bits >> 9) as f32 + 0.5) * (1.0 / (1u32 << 23) as f32)
}

/// A standard normal sample (Box–Muller on two open-interval uniforms).
pub fn std_normal(rng: &mut impl RngCore) -> f32 {
    let u1 = open_unit(rng);
    let u2 = open_unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Natural logarithm of a positive normal `f32` (Cephes `logf` polynomial,
/// within 2e-7 relative error of `f32::ln`), written branch-light so batches
/// vectorise. Not for zero, negative, subnormal or non-finite input.
pub fn ln_fast(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    // Mantissa in [0.5, 1).
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    if m < SQRT_HALF {
        e -= 1;
        m += m;
    }
    let x = m - 1.0;
    let z = x * x;
    let mut y = 7.037_683_6e-2;
    y = y * x - 1.151_461_1e-1;
    y = y * x + 1.167_699_9e-1;
    y = y * x - 1.242_014_1e-1;
    y = y * x + 1.424_932_3e-1;
    y = y * x - 1.666_805_8e-1;
    y = y * x + 2.000_071_4e-1;
    y = y * x - 2.499_999_4e-1;
    y = y * x + 0.333_333_3;
    y *= x * z;
    let e = e as f32;
    y += e * -2.121_944_4e-4;
    y -= 0.5 * z;
    x + y + e * 0.693_359_4
}

/// One standard Gumbel sample, `−ln(−ln u)`.
pub fn gumbel(rng: &mut impl RngCore) -> f32 {
    -(-open_unit(rng).ln()).ln()
}

/// In-place softmax of every consecutive `size`-wide group of `row`.
pub fn softmax_groups(row: &mut [f32], size: usize) {
    if size == 4 && row.len().is_multiple_of(4) {
        // The common NodeAlloc shape, unrolled.
        for g in row.chunks_exact_mut(4) {
            let max = g[0].max(g[1]).max(g[2].max(g[3]));
            if !max.is_finite() {
                g.iter_mut().for_each(|v| *v = 0.25);
                continue;
            }
            let e = [
                (g[0] - max).exp(),
                (g[1] - max).exp(),
                (g[2] - max).exp(),
                (g[3] - max).exp(),
            ];
            let sum = e[0] + e[1] + e[2] + e[3];
            for (v, e) in g.iter_mut().zip(e) {
                *v = e / sum;
            }
        }
        return;
    }
    for g in row.chunks_mut(size.max(1)) {
        let max = g.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if !max.is_finite() {
            // Infinite or NaN inputs: fall back to uniform rather than NaN.
            let u = 1.0 / g.len() as f32;
            g.iter_mut().for_each(|v| *v = u);
            continue;
        }
        let mut sum = 0.0;
        for v in g.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        g.iter_mut().for_each(|v| *v /= sum);
    }
}

/// Draws the training-time action for a batch of distribution parameters
/// (`batch × param_dim`) into `action` (`batch × action_dim`), keeping in
/// `noise` (`batch × action_dim`) what the backward pass needs: the Gumbel
/// noise for categorical spaces, `ε` for continuous ones.
///
/// Categorical: `action = softmax(logits + g)` per group, temperature 1, no
/// straight-through. Continuous: `action = mean + exp(logstd) · ε`.
pub fn sample_into(
    space: ActionSpace,
    params: ArrayView2<f32>,
    action: ArrayViewMut2<f32>,
    mut noise: ArrayViewMut2<f32>,
    rng: &mut impl RngCore,
) {
    draw_noise(space, noise.view_mut(), rng);
    apply_noise(space, params, action, noise.view());
}

/// Fills `noise` with the space's noise: standard Gumbel for categorical
/// spaces, standard normal for continuous ones.
pub fn draw_noise(space: ActionSpace, mut noise: ArrayViewMut2<f32>, rng: &mut impl RngCore) {
    match space {
        ActionSpace::Categorical { .. } => {
            // Uniforms first (same stream order as `gumbel`), then a
            // vectorisable `−ln(−ln u)`.
            match noise.as_slice_mut() {
                Some(v) => {
                    v.iter_mut().for_each(|g| *g = open_unit(rng));
                    v.iter_mut().for_each(|g| *g = -ln_fast(-ln_fast(*g)));
                }
                None => noise
                    .iter_mut()
                    .for_each(|g| *g = -ln_fast(-ln_fast(open_unit(rng)))),
            }
        }
        ActionSpace::Continuous { .. } => noise.iter_mut().for_each(|e| *e = std_normal(rng)),
    }
}

/// The deterministic part of [`sample_into`]: the action for given
/// distribution parameters and given noise (Gumbel or standard normal).
pub fn apply_noise(
    space: ActionSpace,
    params: ArrayView2<f32>,
    mut action: ArrayViewMut2<f32>,
    noise: ArrayView2<f32>,
) {
    match space {
        ActionSpace::Categorical { size, .. } => {
            Zip::from(&mut action)
                .and(&params)
                .and(&noise)
                .for_each(|a, &l, &g| *a = l + g);
            // Groups never straddle rows (a row is `groups · size` wide), so a
            // contiguous matrix is one run of groups.
            let whole = size > 0 && action.ncols().is_multiple_of(size);
            match action.as_slice_mut() {
                Some(all) if whole => softmax_groups(all, size),
                _ => {
                    for mut row in action.rows_mut() {
                        if let Some(r) = row.as_slice_mut() {
                            softmax_groups(r, size);
                        }
                    }
                }
            }
        }
        ActionSpace::Continuous { dim } => {
            for ((p, mut a), e) in params
                .rows()
                .into_iter()
                .zip(action.rows_mut())
                .zip(noise.rows())
            {
                for k in 0..dim {
                    a[k] = p[k] + p[dim + k].clamp(-20.0, 2.0).exp() * e[k];
                }
            }
        }
    }
}

/// The execution-time (deterministic) action of one parameter row:
/// per-group softmax of the logits, or the Gaussian mean.
pub fn deterministic_into(space: ActionSpace, params: &[f32], action: &mut [f32]) {
    match space {
        ActionSpace::Categorical { size, .. } => {
            action.copy_from_slice(&params[..action.len()]);
            softmax_groups(action, size);
        }
        ActionSpace::Continuous { dim } => action.copy_from_slice(&params[..dim]),
    }
}

/// Backpropagates `d_action` (`batch × action_dim`) through [`sample_into`]
/// to the distribution parameters, given the sampled `action` and `noise`,
/// and adds the reference's regulariser gradient `reg · d/dp mean(p²)`.
/// Returns `batch × param_dim`.
///
/// Categorical: `dL/dl = y ⊙ (dL/dy − Σ_group y ⊙ dL/dy)`.
/// Continuous: `dL/dmean = dL/da`, `dL/dlogstd = dL/da · exp(logstd) · ε`.
pub fn backward(
    space: ActionSpace,
    params: ArrayView2<f32>,
    action: ArrayView2<f32>,
    noise: ArrayView2<f32>,
    d_action: ArrayView2<f32>,
    reg: f32,
) -> Array2<f32> {
    let mut d_params = Array2::<f32>::zeros(params.raw_dim());
    backward_into(
        space,
        params,
        action,
        noise,
        d_action,
        reg,
        d_params.view_mut(),
    );
    d_params
}

/// [`backward`] into a caller-provided `d_params` (shaped like `params`;
/// every entry is overwritten).
pub fn backward_into(
    space: ActionSpace,
    params: ArrayView2<f32>,
    action: ArrayView2<f32>,
    noise: ArrayView2<f32>,
    d_action: ArrayView2<f32>,
    reg: f32,
    mut d_params: ArrayViewMut2<f32>,
) {
    d_params.fill(0.0);
    match space {
        ActionSpace::Categorical { size, .. } => {
            for ((mut dp, y), dy) in d_params
                .rows_mut()
                .into_iter()
                .zip(action.rows())
                .zip(d_action.rows())
            {
                let n = y.len();
                let mut start = 0;
                while start < n {
                    let end = (start + size.max(1)).min(n);
                    let dot: f32 = (start..end).map(|k| y[k] * dy[k]).sum();
                    for k in start..end {
                        dp[k] = y[k] * (dy[k] - dot);
                    }
                    start = end;
                }
            }
        }
        ActionSpace::Continuous { dim } => {
            for (((mut dp, p), dy), e) in d_params
                .rows_mut()
                .into_iter()
                .zip(params.rows())
                .zip(d_action.rows())
                .zip(noise.rows())
            {
                for k in 0..dim {
                    dp[k] = dy[k];
                    let ls = p[dim + k];
                    // The clamp in `sample_into` has zero gradient outside its range.
                    if (-20.0..=2.0).contains(&ls) {
                        dp[dim + k] = dy[k] * ls.exp() * e[k];
                    }
                }
            }
        }
    }
    if reg != 0.0 {
        let scale = 2.0 * reg / params.len().max(1) as f32;
        Zip::from(&mut d_params)
            .and(&params)
            .for_each(|d, &p| *d += scale * p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng::seeded;

    #[test]
    fn open_unit_never_returns_the_endpoints() {
        for k in [0, 1, u32::MAX - 1, u32::MAX] {
            let u = open_unit_from(k);
            assert!(u > 0.0 && u < 1.0, "{k}: {u}");
            assert!((-(-u.ln()).ln()).is_finite());
        }
        let mut row = [f32::INFINITY, 0.0, 1.0];
        softmax_groups(&mut row, 3);
        assert!(row.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn ln_fast_matches_the_standard_logarithm() {
        let mut rng = seeded(3);
        let mut worst = 0.0f64;
        let mut check = |x: f32| {
            let want = f64::from(x).ln();
            let got = f64::from(ln_fast(x));
            worst = worst.max((got - want).abs() / want.abs().max(1.0));
        };
        for _ in 0..100_000 {
            let u = open_unit(&mut rng);
            check(u);
            check(-u.ln());
            check(u * 1e4);
        }
        for x in [
            1.0f32,
            2.0,
            0.5,
            f32::MIN_POSITIVE,
            f32::MAX,
            1.0 - 1e-7,
            6e-8,
        ] {
            check(x);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn categorical_samples_are_group_simplices() {
        let space = ActionSpace::Categorical { groups: 3, size: 4 };
        let mut rng = seeded(1);
        let params = Array2::from_shape_fn((16, 12), |(i, j)| (i as f32 - j as f32) * 0.3);
        let mut action = Array2::zeros((16, 12));
        let mut noise = Array2::zeros((16, 12));
        sample_into(
            space,
            params.view(),
            action.view_mut(),
            noise.view_mut(),
            &mut rng,
        );
        for row in action.rows() {
            for g in row.to_vec().chunks(4) {
                assert!(g.iter().all(|&v| (0.0..=1.0).contains(&v)));
                assert!((g.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
    }
}
