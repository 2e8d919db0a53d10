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

#[inline(always)]
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
/// within 2e-7 relative error of `f32::ln`), written branch-free so batches
/// vectorise. Not for zero, negative, subnormal or non-finite input.
#[inline(always)]
pub fn ln_fast(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let ex = ((bits >> 23) & 0xff) as i32 - 126;
    // Mantissa in [0.5, 1).
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let low = m < SQRT_HALF;
    let e = (ex - i32::from(low)) as f32;
    let x = if low { m + m } else { m } - 1.0;
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
    y += e * -2.121_944_4e-4;
    y -= 0.5 * z;
    x + y + e * 0.693_359_4
}

/// `e^x` (Cephes `expf` polynomial after a `2^n` range reduction, within
/// 2e-7 relative error of `f32::exp` on `[−87, 88]`), written without
/// branches or calls so batches vectorise. Input is clamped to `[−87, 88]`
/// (NaN counts as −87), so the result is always a positive normal number.
#[inline(always)]
pub fn exp_fast(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 · 2²³: adding it rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    // Not `clamp`: `max` maps NaN to −87 instead of propagating it.
    #[allow(clippy::manual_clamp)]
    let v = x.max(-87.0).min(88.0);
    let t = v * LOG2E + MAGIC;
    let n = t - MAGIC;
    let k = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let scale = f32::from_bits(((k + 127) << 23) as u32);
    let r = v - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut y = 1.987_569_1e-4;
    y = y * r + 1.398_199_9e-3;
    y = y * r + 8.333_452e-3;
    y = y * r + 4.166_579_6e-2;
    y = y * r + 0.166_666_65;
    y = y * r + 0.5;
    (y * (r * r) + r + 1.0) * scale
}

/// One standard Gumbel sample, `−ln(−ln u)`.
pub fn gumbel(rng: &mut impl RngCore) -> f32 {
    -(-open_unit(rng).ln()).ln()
}

/// In-place softmax of every consecutive `size`-wide group of `row` (a
/// trailing shorter group is its own group). A group whose maximum is not
/// finite becomes uniform; NaN entries elsewhere count as −∞.
pub fn softmax_groups(row: &mut [f32], size: usize) {
    pulp::Arch::new().dispatch(Vectorised(Op::Softmax(row, size)));
}

/// An element-wise batch job run under `pulp`'s best instruction set for
/// this CPU (AVX2 or AVX-512 when present, plain code otherwise): the
/// `#[inline(always)]` chain from [`pulp::WithSimd::with_simd`] down to the
/// loops puts them in a function compiled with those target features, so
/// they vectorise at the full register width. No fused multiply-adds are
/// introduced, so the results are the same bits on every instruction set.
enum Op<'a> {
    /// [`softmax_groups`].
    Softmax(&'a mut [f32], usize),
    /// Random words (little-endian bytes of the RNG stream) to Gumbel noise.
    Gumbel(&'a [u32], &'a mut [f32]),
}

struct Vectorised<'a>(Op<'a>);

impl pulp::WithSimd for Vectorised<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        match self.0 {
            Op::Softmax(row, size) => softmax_groups_body(row, size),
            Op::Gumbel(w, v) => {
                v.iter_mut()
                    .zip(w)
                    .for_each(|(g, &w)| *g = open_unit_from(u32::from_le(w)));
                v.iter_mut().for_each(|g| *g = -ln_fast(-ln_fast(*g)));
            }
        }
    }
}

#[inline(always)]
fn softmax_groups_body(row: &mut [f32], size: usize) {
    let size = size.max(1);
    // Three passes so the exponentials run as one vectorisable loop.
    for g in row.chunks_mut(size) {
        let max = g.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if max.is_finite() {
            g.iter_mut().for_each(|v| *v -= max);
        } else {
            // Infinite or NaN inputs: fall back to uniform rather than NaN.
            g.iter_mut().for_each(|v| *v = 0.0);
        }
    }
    row.iter_mut().for_each(|v| *v = exp_fast(*v));
    for g in row.chunks_mut(size) {
        let inv = 1.0 / g.iter().sum::<f32>();
        g.iter_mut().for_each(|v| *v *= inv);
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
/// spaces, standard normal for continuous ones. Categorical noise takes the
/// random words in bulk (`fill_bytes`, one little-endian `u32` per sample,
/// the same stream as per-sample [`gumbel`] calls on a block RNG).
pub fn draw_noise(space: ActionSpace, mut noise: ArrayViewMut2<f32>, rng: &mut impl RngCore) {
    match space {
        ActionSpace::Categorical { .. } => match noise.as_slice_mut() {
            Some(v) => {
                const CHUNK: usize = 256;
                let mut words = [0u32; CHUNK];
                let arch = pulp::Arch::new();
                for out in v.chunks_mut(CHUNK) {
                    let w = &mut words[..out.len()];
                    rng.fill_bytes(pulp::bytemuck::cast_slice_mut(w));
                    arch.dispatch(Vectorised(Op::Gumbel(w, out)));
                }
            }
            None => noise
                .iter_mut()
                .for_each(|g| *g = -ln_fast(-ln_fast(open_unit(rng)))),
        },
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
            match (action.as_slice_mut(), params.as_slice(), noise.as_slice()) {
                (Some(a), Some(l), Some(g)) if a.len() == l.len() && a.len() == g.len() => a
                    .iter_mut()
                    .zip(l.iter().zip(g))
                    .for_each(|(a, (&l, &g))| *a = l + g),
                _ => Zip::from(&mut action)
                    .and(&params)
                    .and(&noise)
                    .for_each(|a, &l, &g| *a = l + g),
            }
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
    if let ActionSpace::Categorical { size, .. } = space
        && size > 0
        && let (Some(dp), Some(y), Some(dy), Some(p)) = (
            d_params.as_slice_mut(),
            action.as_slice(),
            d_action.as_slice(),
            params.as_slice(),
        )
        && action.ncols().is_multiple_of(size)
        && dp.len() == y.len()
        && dy.len() == y.len()
        && p.len() == y.len()
    {
        // Contiguous batch: one pass over whole groups, regulariser fused.
        let scale = 2.0 * reg / p.len().max(1) as f32;
        for (((dp, y), dy), p) in dp
            .chunks_exact_mut(size)
            .zip(y.chunks_exact(size))
            .zip(dy.chunks_exact(size))
            .zip(p.chunks_exact(size))
        {
            let dot: f32 = y.iter().zip(dy).map(|(y, dy)| y * dy).sum();
            for (((d, &y), &dy), &p) in dp.iter_mut().zip(y).zip(dy).zip(p) {
                *d = y * (dy - dot) + scale * p;
            }
        }
        return;
    }
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
    fn exp_fast_matches_the_standard_exponential() {
        let mut worst = 0.0f64;
        for k in 0..200_000 {
            let x = -87.0 + 175.0 * k as f32 / 200_000.0;
            let want = f64::from(x).exp();
            let got = f64::from(exp_fast(x));
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert!(exp_fast(f32::NEG_INFINITY) > 0.0 && exp_fast(f32::NAN) > 0.0);
        assert!(exp_fast(f32::INFINITY).is_finite());
    }

    #[test]
    fn bulk_gumbel_noise_follows_the_gumbel_distribution() {
        let space = ActionSpace::Categorical {
            groups: 1,
            size: 1000,
        };
        let mut noise = Array2::zeros((100, 1000));
        draw_noise(space, noise.view_mut(), &mut seeded(9));
        let n = noise.len() as f64;
        let mean = noise.iter().map(|&g| f64::from(g)).sum::<f64>() / n;
        let below_zero = noise.iter().filter(|&&g| g < 0.0).count() as f64 / n;
        // Standard Gumbel: mean = Euler–Mascheroni γ, P(G < 0) = e^{-1}.
        assert!((mean - 0.577_215_7).abs() < 0.01, "mean {mean}");
        assert!(
            (below_zero - (-1.0f64).exp()).abs() < 0.005,
            "P(G<0) {below_zero}"
        );
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
