//! Cryptographic sortition: an unbiased map from a VRF output to `k` distinct
//! nodes.
//!
//! # The mapping, and why it is unbiased
//!
//! 1. **Candidates.** The candidates are `0..n` minus `exclude` (ids `>= n`
//!    and duplicates in `exclude` are ignored), in increasing order; call
//!    their number `m`. If `k > m`, `k` is clamped to `m`.
//! 2. **Stream.** A ChaCha20 stream is keyed with
//!    `SHA-256("dwcp-sortition-v1" || randomness)`. The VRF output is already
//!    uniform; hashing it with a label only separates this use of it from any
//!    other use of the same output.
//! 3. **Uniform integers.** `below(b)` draws 64-bit words `x` and rejects
//!    those with `x < 2^64 mod b`; the accepted range has a multiple of `b`
//!    elements, so `x mod b` is exactly uniform on `0..b` (no modulo bias).
//!    The expected number of draws is below 2.
//! 4. **Uniform subset.** Robert Floyd's algorithm: for `j` in `m-k .. m`,
//!    draw `t = below(j + 1)`; insert `t` into the chosen set, or `j` if `t`
//!    was already chosen. By induction every `k`-subset of `0..m` is chosen
//!    with probability `1 / C(m, k)`, using exactly `k` uniform integers.
//! 5. **Output.** The chosen candidate positions are mapped to node ids and
//!    returned sorted.
//!
//! The result depends only on `(randomness, n, k, exclude)`: every replica
//! computes the same sample, and since nobody can choose a VRF output (it is
//! unique per key and input) nobody can steer the sample. The integer draws
//! are implemented here rather than taken from `rand`'s `gen_range`, so that
//! a change in `rand`'s algorithms cannot silently change committees.

use crate::vrf::VrfOutput;
use dwcp_core::NodeId;
use dwcp_core::rng::{Rng, RngCore, SeedableRng};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;

/// Domain label of the stream derived from the randomness.
const DOMAIN: &[u8] = b"dwcp-sortition-v1";

/// The ChaCha20 stream used by [`sample`] (step 2 of the module docs).
pub fn stream(randomness: &VrfOutput) -> Rng {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(randomness.0);
    Rng::from_seed(h.finalize().into())
}

/// A uniform integer in `0..bound` by rejection sampling (step 3 of the
/// module docs). Returns 0 when `bound` is 0.
pub fn below(rng: &mut impl RngCore, bound: u64) -> u64 {
    if bound == 0 {
        return 0;
    }
    // 2^64 mod bound, computed without 128-bit arithmetic.
    let reject_below = bound.wrapping_neg() % bound;
    loop {
        let x = rng.next_u64();
        if x >= reject_below {
            return x % bound;
        }
    }
}

/// `k` distinct nodes out of `0..n`, excluding `exclude`, chosen uniformly at
/// random from `randomness` alone; sorted. `k` is clamped to the number of
/// candidates. See the module docs for the algorithm and why it is unbiased.
pub fn sample(randomness: &VrfOutput, n: usize, k: usize, exclude: &[NodeId]) -> Vec<NodeId> {
    let excluded: BTreeSet<u32> = exclude
        .iter()
        .map(|id| id.0)
        .filter(|&i| (i as usize) < n)
        .collect();
    let candidates: Vec<u32> = (0..n as u32).filter(|i| !excluded.contains(i)).collect();
    let m = candidates.len();
    let k = k.min(m);
    let mut rng = stream(randomness);
    let mut chosen = BTreeSet::new();
    for j in (m - k)..m {
        let t = below(&mut rng, j as u64 + 1) as usize;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    // `chosen` iterates in increasing position order and `candidates` is
    // increasing, so the ids come out sorted; positions are `< m`.
    chosen
        .into_iter()
        .filter_map(|p| candidates.get(p).copied())
        .map(NodeId)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_handles_edges() {
        let mut rng = dwcp_core::rng::seeded(1);
        assert_eq!(below(&mut rng, 0), 0);
        assert_eq!(below(&mut rng, 1), 0);
        for b in [2u64, 3, 7, 1 << 63, u64::MAX] {
            for _ in 0..100 {
                assert!(below(&mut rng, b) < b);
            }
        }
    }

    #[test]
    fn below_rejects_the_biased_zone() {
        // An RNG that first yields 0 (inside the rejection zone for bound 3,
        // since 2^64 mod 3 = 1) and then 5: the 0 must be skipped.
        struct Scripted(Vec<u64>);
        impl RngCore for Scripted {
            fn next_u32(&mut self) -> u32 {
                self.next_u64() as u32
            }
            fn next_u64(&mut self) -> u64 {
                self.0.remove(0)
            }
            fn fill_bytes(&mut self, _: &mut [u8]) {}
            fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand_core::Error> {
                Ok(())
            }
        }
        let mut rng = Scripted(vec![0, 5]);
        assert_eq!(below(&mut rng, 3), 2);
        assert!(rng.0.is_empty());
    }
}
