//! Choosing coordinates: exact top-k by magnitude and shared-seed random-k.

use dwcp_core::rng::{self, RngCore};
use rand::Rng as _;

/// Stream tag so random-k masks never share a ChaCha stream with other uses
/// of the same seed.
const RANDK_STREAM: u64 = 0x7261_6e64_6b5f_6d61; // "randk_ma"

/// Sort key of coordinate `i` with magnitude bits `mag`: smaller key =
/// larger `|x|`, ties by increasing index. NaN counts as the largest magnitude.
#[inline]
fn key(mag: u32, i: usize) -> u64 {
    !((u64::from(mag) << 32) | u64::from(u32::MAX - i as u32))
}

#[inline]
fn index_of(key: u64) -> u32 {
    u32::MAX - (!key as u32)
}

/// Keys of the coordinates whose magnitude is at least a threshold taken
/// from a strided sample, chosen so that about `2k` pass. `None` when the
/// sample is not worth it or fewer than `k` passed (then the caller ranks
/// everything). Exact either way: every coordinate tied with or above the
/// k-th largest magnitude passes.
fn candidates(x: &[f32], k: usize) -> Option<Vec<u64>> {
    const SAMPLE: usize = 2048;
    let d = x.len();
    if d < 8 * SAMPLE || k.saturating_mul(16) > d {
        return None;
    }
    let stride = d / SAMPLE;
    let mut sample: Vec<u32> = x
        .iter()
        .step_by(stride)
        .take(SAMPLE)
        .map(|v| v.abs().to_bits())
        .collect();
    let r = ((2 * k * SAMPLE) / d + 16).min(sample.len() - 1);
    let (_, &mut t, _) = sample.select_nth_unstable_by(r, |a, b| b.cmp(a));
    let mut keys = Vec::with_capacity(4 * k);
    for (i, v) in x.iter().enumerate() {
        let m = v.abs().to_bits();
        if m >= t {
            keys.push(key(m, i));
        }
    }
    (keys.len() >= k).then_some(keys)
}

/// Keys of exactly the top `k` (`0 < k < x.len()`), unordered.
fn top_keys(x: &[f32], k: usize) -> Vec<u64> {
    let mut keys = candidates(x, k).unwrap_or_else(|| {
        x.iter()
            .enumerate()
            .map(|(i, v)| key(v.abs().to_bits(), i))
            .collect()
    });
    if k < keys.len() {
        keys.select_nth_unstable(k - 1);
        keys.truncate(k);
    }
    keys
}

/// The `k` coordinates of largest magnitude, in **decreasing magnitude**
/// order (ties: lower index first), so every prefix of length `k' < k` is the
/// top-`k'`. O(d + k log k). `x.len()` must fit a `u32`.
pub fn top_k_ranked(x: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(x.len());
    if k == 0 {
        return Vec::new();
    }
    let mut keys = top_keys(x, k);
    keys.sort_unstable();
    keys.into_iter().map(index_of).collect()
}

/// The `k` coordinates of largest magnitude, **increasing**: exact
/// selection with `select_nth_unstable` (O(d) expected) on the coordinates
/// that pass a threshold estimated from a sample (all of them if too few
/// pass), plus O(k log k) to sort the result. Ties are broken towards lower
/// indices. `x.len()` must fit a `u32`.
pub fn top_k_indices(x: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(x.len());
    if k == 0 {
        return Vec::new();
    }
    if k == x.len() {
        return (0..x.len() as u32).collect();
    }
    let mut idx: Vec<u32> = top_keys(x, k).into_iter().map(index_of).collect();
    idx.sort_unstable();
    idx
}

/// `k` distinct coordinates of `0..dim` drawn uniformly from `seed`,
/// increasing. Everyone who knows `(seed, dim, k)` gets the same set, so a
/// shared per-round seed gives every client the same mask (compatible with
/// secure aggregation). Floyd's algorithm over a bitset: exactly `k` draws,
/// `dim / 8` bytes of scratch. `k` is clamped to `dim`.
pub fn random_k_indices(seed: u64, dim: usize, k: usize) -> Vec<u32> {
    let k = k.min(dim);
    if k == dim {
        return (0..dim as u32).collect();
    }
    let mut rng = rng::derive(seed, RANDK_STREAM);
    let mut words = vec![0u64; dim.div_ceil(64)];
    let mut set = |t: usize| -> bool {
        let (w, b) = (t / 64, t % 64);
        match words.get_mut(w) {
            Some(word) if *word & (1 << b) == 0 => {
                *word |= 1 << b;
                true
            }
            _ => false,
        }
    };
    for j in (dim - k)..dim {
        let t = rng.gen_range(0..=j as u64) as usize;
        if !set(t) {
            set(j);
        }
    }
    let mut out = Vec::with_capacity(k);
    for (w, &word) in words.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            let b = word.trailing_zeros() as usize;
            out.push((w * 64 + b) as u32);
            word &= word - 1;
        }
    }
    out
}

/// A per-round mask seed derived from a seed shared by the federation (for
/// example agreed at setup) and the round number.
pub fn round_seed(shared: u64, round: u64) -> u64 {
    rng::derive(shared, round).next_u64()
}

/// `k` for a fraction of `dim`: `round(fraction · dim)`, at least 1 when
/// `dim > 0` and `fraction > 0`, at most `dim`.
pub fn k_for_fraction(fraction: f64, dim: usize) -> usize {
    if dim == 0 || fraction.is_nan() || fraction <= 0.0 {
        return 0;
    }
    ((fraction * dim as f64).round() as usize).clamp(1, dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_small_cases() {
        let x = [0.5, -3.0, 2.0, 0.0, -2.0];
        assert_eq!(top_k_indices(&x, 2), vec![1, 2]);
        assert_eq!(top_k_ranked(&x, 3), vec![1, 2, 4]);
        assert_eq!(top_k_indices(&x, 0), Vec::<u32>::new());
        assert_eq!(top_k_indices(&x, 9), vec![0, 1, 2, 3, 4]);
        assert_eq!(top_k_indices(&[f32::NAN, 1.0], 1), vec![0]);
    }

    #[test]
    fn sampled_threshold_matches_full_ranking() {
        // Large enough for the sampled path; adversarial orders included.
        let d = 40_000;
        let inputs: Vec<Vec<f32>> = vec![
            (0..d).map(|i| ((i * 7919) % 1000) as f32 - 500.0).collect(),
            (0..d).map(|i| i as f32).collect(),
            (0..d).map(|i| (d - i) as f32).collect(),
            vec![1.0; d],
        ];
        for x in inputs {
            for k in [1, 10, 500, 2000] {
                let mut full: Vec<u64> = x
                    .iter()
                    .enumerate()
                    .map(|(i, v)| key(v.abs().to_bits(), i))
                    .collect();
                full.sort_unstable();
                let mut want: Vec<u32> = full[..k].iter().map(|&kk| index_of(kk)).collect();
                assert_eq!(top_k_ranked(&x, k), want);
                want.sort_unstable();
                assert_eq!(top_k_indices(&x, k), want);
            }
        }
    }

    #[test]
    fn random_k_is_shared_and_distinct() {
        let a = random_k_indices(9, 1000, 100);
        assert_eq!(a, random_k_indices(9, 1000, 100));
        assert_ne!(a, random_k_indices(10, 1000, 100));
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[99] < 1000);
        assert_eq!(random_k_indices(1, 5, 7), vec![0, 1, 2, 3, 4]);
        assert!(random_k_indices(1, 0, 3).is_empty());
    }

    #[test]
    fn fractions() {
        assert_eq!(k_for_fraction(0.005, 4810), 24);
        assert_eq!(k_for_fraction(1e-9, 10), 1);
        assert_eq!(k_for_fraction(2.0, 10), 10);
        assert_eq!(k_for_fraction(0.0, 10), 0);
    }
}
