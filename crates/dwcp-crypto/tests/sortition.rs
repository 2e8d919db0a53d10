//! Sortition tests: determinism, structural properties (proptest) and
//! statistical uniformity (chi-square with fixed seeds and generous bounds).

use dwcp_core::NodeId;
use dwcp_core::rng::{self, RngCore};
use dwcp_crypto::VrfOutput;
use dwcp_crypto::sortition::sample;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn randomness(seed: u64, i: u64) -> VrfOutput {
    let mut b = [0u8; 32];
    rng::derive(seed, i).fill_bytes(&mut b);
    VrfOutput(b)
}

fn chi_square(counts: &[u64], expected: f64) -> f64 {
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

#[test]
fn deterministic_and_depends_on_randomness() {
    let r = randomness(1, 0);
    assert_eq!(sample(&r, 100, 10, &[]), sample(&r, 100, 10, &[]));
    let others: BTreeSet<Vec<NodeId>> = (1..20)
        .map(|i| sample(&randomness(1, i), 100, 10, &[]))
        .collect();
    assert!(
        others.len() >= 19,
        "different randomness gives different samples"
    );
}

#[test]
fn edge_cases() {
    let r = randomness(2, 0);
    assert!(sample(&r, 0, 3, &[]).is_empty());
    assert!(sample(&r, 10, 0, &[]).is_empty());
    assert_eq!(
        sample(&r, 4, 9, &[]),
        vec![NodeId(0), NodeId(1), NodeId(2), NodeId(3)]
    );
    assert_eq!(
        sample(&r, 4, 9, &[NodeId(1), NodeId(1), NodeId(77)]),
        vec![NodeId(0), NodeId(2), NodeId(3)]
    );
    assert!(sample(&r, 3, 2, &[NodeId(0), NodeId(1), NodeId(2)]).is_empty());
}

#[test]
fn inclusion_frequencies_are_uniform() {
    // n = 10, k = 3, 20 000 draws: each node expected 6 000 times; 9 d.o.f.
    // The 99.999% quantile of chi-square(9) is about 37.
    let (n, k, trials) = (10usize, 3usize, 20_000u64);
    let mut counts = vec![0u64; n];
    for i in 0..trials {
        for id in sample(&randomness(3, i), n, k, &[]) {
            counts[id.index()] += 1;
        }
    }
    let expected = trials as f64 * k as f64 / n as f64;
    let chi = chi_square(&counts, expected);
    assert!(chi < 37.0, "chi-square {chi} for {counts:?}");
}

#[test]
fn subsets_are_uniform_with_exclusions() {
    // Candidates {0,1,3,4,6,7} (2 and 5 excluded), k = 2: 15 subsets, each
    // expected 2 000 times in 30 000 draws; 14 d.o.f., 99.999% quantile ~ 47.
    let exclude = [NodeId(2), NodeId(5)];
    let trials = 30_000u64;
    let mut counts: BTreeMap<Vec<NodeId>, u64> = BTreeMap::new();
    for i in 0..trials {
        let s = sample(&randomness(4, i), 8, 2, &exclude);
        assert!(!s.contains(&NodeId(2)) && !s.contains(&NodeId(5)));
        *counts.entry(s).or_default() += 1;
    }
    assert_eq!(counts.len(), 15);
    let c: Vec<u64> = counts.values().copied().collect();
    let chi = chi_square(&c, trials as f64 / 15.0);
    assert!(chi < 47.0, "chi-square {chi} for {counts:?}");
}

#[test]
fn first_member_is_not_biased_towards_low_ids() {
    // With k = 1 out of n = 7 (not a power of two, where modulo bias would
    // show), each node is expected 3 000 times in 21 000 draws; 6 d.o.f.,
    // 99.999% quantile ~ 31.
    let trials = 21_000u64;
    let mut counts = vec![0u64; 7];
    for i in 0..trials {
        for id in sample(&randomness(5, i), 7, 1, &[]) {
            counts[id.index()] += 1;
        }
    }
    let chi = chi_square(&counts, 3_000.0);
    assert!(chi < 31.0, "chi-square {chi} for {counts:?}");
}

proptest! {
    #[test]
    fn structural_properties(
        seed in any::<u64>(),
        n in 0usize..200,
        k in 0usize..250,
        exclude in proptest::collection::vec(0u32..260, 0..40),
    ) {
        let exclude: Vec<NodeId> = exclude.into_iter().map(NodeId).collect();
        let s = sample(&randomness(seed, 0), n, k, &exclude);
        let excluded: BTreeSet<NodeId> = exclude.iter().copied().filter(|id| id.index() < n).collect();
        let candidates = n - excluded.len();
        prop_assert_eq!(s.len(), k.min(candidates));
        prop_assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        prop_assert!(s.iter().all(|id| id.index() < n), "in range");
        prop_assert!(s.iter().all(|id| !excluded.contains(id)), "excludes honoured");
        prop_assert_eq!(&s, &sample(&randomness(seed, 0), n, k, &exclude));
    }
}
