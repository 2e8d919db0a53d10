use crate::*;
use dwcp_core::{Committee, NodeId};
use dwcp_pbft::{ClassicPolicy, Policy};
use dwcp_reputation::TrustScores;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn scores(v: &[f64]) -> TrustScores {
    let s: f64 = v.iter().sum();
    TrustScores {
        values: v.iter().map(|x| x / s).collect(),
        iterations: 0,
        converged: true,
    }
}

fn subsets(n: usize) -> impl Iterator<Item = BTreeSet<NodeId>> {
    (0u32..1 << n).map(move |m| {
        (0..n as u32)
            .filter(|i| m >> i & 1 == 1)
            .map(NodeId)
            .collect()
    })
}

#[test]
fn equal_trust_is_exactly_pbft() {
    for n in [4usize, 5, 7, 10] {
        let t = TrustPolicy::new(Election::equal(n, 0).unwrap());
        let c = ClassicPolicy::new(Committee::new(n).unwrap());
        for v in 0..3 * n as u64 {
            assert_eq!(t.primary(v), c.primary(v), "n={n} v={v}");
        }
        for s in subsets(n) {
            assert_eq!(t.is_quorum(&s), c.is_quorum(&s), "n={n} {s:?}");
            assert_eq!(t.is_weak_quorum(&s), c.is_weak_quorum(&s), "n={n} {s:?}");
        }
    }
}

#[test]
fn low_trust_nodes_leave_the_primary_group() {
    // 7 nodes, f = 2, group of 5: the two least trusted never lead.
    let e = Election::elect(
        &scores(&[0.01, 0.02, 1.0, 1.0, 1.0, 1.0, 1.0]),
        &ElectionParams::for_n(7),
        3,
    )
    .unwrap();
    assert_eq!(e.primary_group, (2..7).map(NodeId).collect::<Vec<_>>());
    let p = TrustPolicy::new(e);
    for v in 0..20 {
        assert!(p.primary(v).0 >= 2);
    }
    // Rotation covers the whole group.
    let leaders: BTreeSet<_> = (0..5).map(|v| p.primary(v)).collect();
    assert_eq!(leaders.len(), 5);
}

#[test]
fn skewed_trust_is_flattened_until_checked() {
    // One node with almost all trust: ratio 4 would let it dominate; the
    // election flattens weights until the check passes.
    let e = Election::elect(
        &scores(&[100.0, 1.0, 1.0, 1.0]),
        &ElectionParams::for_n(4),
        0,
    )
    .unwrap();
    let c = &e.committee;
    assert!(2 * c.threshold() > c.total() + c.faulty());
    assert!(c.threshold() <= c.total() - c.faulty());
    assert_eq!(
        c.faulty(),
        heaviest(&(0..4).map(|i| c.weight(i)).collect::<Vec<_>>(), 1)
    );
}

#[test]
fn rejects_impossible_parameters() {
    let mut p = ElectionParams::for_n(4);
    p.f = 2;
    assert!(Election::elect(&scores(&[1.0; 4]), &p, 0).is_err());
    assert!(Election::elect(&scores(&[]), &ElectionParams::for_n(0), 0).is_err());
}

proptest! {
    /// Any two adaptive quorums share weight beyond the f heaviest members,
    /// so at least one honest member whichever f are Byzantine (inside the
    /// consensus group or not); and the members outside any f still form a
    /// quorum. Random fault bounds and consensus-group sizes.
    #[test]
    fn adaptive_quorums_intersect_in_honest_weight(
        n in 4usize..10,
        raw in proptest::collection::vec(0.0f64..10.0, 10),
        byz_mask in 0u32..1024,
        a_mask in 0u32..1024,
        b_mask in 0u32..1024,
        f_pick in 0usize..4,
        group in 0usize..11,
    ) {
        let v: Vec<f64> = raw[..n].iter().map(|x| x + 1e-3).collect();
        let mut params = ElectionParams::with_faults(n, 1 + f_pick % ((n - 1) / 3));
        params.consensus_group = group;
        let e = Election::elect(&scores(&v), &params, 0).unwrap();
        let p = TrustPolicy::new(e.clone());
        let set = |m: u32| -> BTreeSet<NodeId> { (0..n as u32).filter(|i| m >> i & 1 == 1).map(NodeId).collect() };
        // Byzantine: at most f nodes, taken from byz_mask.
        let byz: BTreeSet<NodeId> = set(byz_mask).into_iter().take(params.f).collect();
        let (a, b) = (set(a_mask), set(b_mask));
        if p.is_quorum(&a) && p.is_quorum(&b) {
            let honest_common = a.intersection(&b).filter(|x| !byz.contains(x)).count();
            prop_assert!(honest_common >= 1, "{:?} {:?} byz {:?} weights {:?}", a, b, byz, e.committee);
        }
        let honest: BTreeSet<NodeId> = (0..n as u32).map(NodeId).filter(|x| !byz.contains(x)).collect();
        prop_assert!(p.is_quorum(&honest));
        if p.is_weak_quorum(&a) {
            prop_assert!(a.iter().any(|x| !byz.contains(x)));
        }
    }

    #[test]
    fn fuzz_entry_points_never_panic(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = crate::fuzzing::election(&data);
        crate::fuzzing::engine(&data);
        let keys = dwcp_crypto::Keyring::insecure_mock(4, 1);
        let _ = crate::fuzzing::equivocation(&keys.publics, &data);
        let (key, _) = deal(&Election::equal(4, 0).unwrap(), 1, true);
        prop_assert!(!crate::fuzzing::decode_certificate(&key, &data));
    }
}
