//! Choosing coordinates: exact top-k by magnitude and shared-seed random-k.

use dwcp_core::rng::{self, RngCore};
use rand::Rng as _;

/// Stream tag so random-k masks never share a ChaCha stream with other uses
/// of the same seed.
const RANDK_STREAM: u64 = 0x7261_6e64_6b5f_6d61; // "randk_ma"

/// Sort keys ordering coordinates by decreasing magnitude, ties by increasing
/// index: smaller key = larger `|x|`. NaN counts as the largest magnitude.
fn rank_keys(x: &[f32]) -> Vec<u64> {
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let mag = u64::from(v.abs().to_bits());
            !((mag << 32) | u64::from(u32::MAX - i as u32))
        })
        .collect()
}

/// The `k` coordinates of largest magnitude, in **decreasing magnitude**
/// order (ties: lower index first), so every prefix of length `k' < k` is the
/// top-`k'`. O(d + k log k). `x.len()` must fit a `u32`.
pub fn top_k_ranked(x: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(x.len());
    if k == 0 {
        return Vec::new();
    }
    let mut keys = rank_keys(x);
    if k < keys.len() {
        keys.select_nth_unstable(k - 1);
        keys.truncate(k);
    }
    keys.sort_unstable();
    keys.iter().map(|&key| u32::MAX - (!key as u32)).collect()
}

/// The `k` coordinates of largest magnitude, **increasing** (exact selection
/// with `select_nth_unstable`, O(d) expected plus O(k log k) to sort the
/// result). Ties are broken towards lower indices. `x.len()` must fit a `u32`.
pub fn top_k_indices(x: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(x.len());
    if k == 0 {
        return Vec::new();
    }
    if k == x.len() {
        return (0..x.len() as u32).collect();
    }
    let mut keys = rank_keys(x);
    keys.select_nth_unstable(k - 1);
    let mut idx: Vec<u32> = keys[..k]
        .iter()
        .map(|&key| u32::MAX - (!key as u32))
        .collect();
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
