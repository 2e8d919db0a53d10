use super::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn hand_computed_three_nodes() {
    // 0 trusts 1 fully; 1 trusts 0 and 2 equally; 2 trusts 0 fully. a = 0.
    // C = [[0,1,0],[.5,0,.5],[1,0,0]]; stationary t = Cᵀt:
    // t0 = .5 t1 + t2, t1 = t0, t2 = .5 t1 → t = (0.4, 0.4, 0.2).
    let mut l = LocalTrust::new(3);
    l.set(0, 1, 3.0);
    l.set(1, 0, 1.0);
    l.set(1, 2, 1.0);
    l.set(2, 0, 7.0);
    let cfg = EigenTrustConfig {
        damping: 0.0,
        tolerance: 1e-12,
        max_iterations: 1000,
        ..Default::default()
    };
    let s = eigentrust(&l, &cfg).unwrap();
    assert!(s.converged);
    assert!(
        close(s.values[0], 0.4) && close(s.values[1], 0.4) && close(s.values[2], 0.2),
        "{s:?}"
    );
    assert_eq!(s.ranking(), vec![NodeId(0), NodeId(1), NodeId(2)]);
}

#[test]
fn hand_computed_damping_one_step() {
    // Two nodes that trust each other; p = (1, 0) (node 0 pre-trusted), a = 0.5.
    // t1 = .5·Cᵀ·(1,0) + .5·(1,0) = .5·(0,1) + (.5,0) = (.5,.5).
    // Fixed point: t0 = .5 t1 + .5, t1 = .5 t0 → t0 = 2/3, t1 = 1/3.
    let mut l = LocalTrust::new(2);
    l.set(0, 1, 1.0);
    l.set(1, 0, 1.0);
    let one = EigenTrustConfig {
        pre_trusted: [NodeId(0)].into(),
        damping: 0.5,
        tolerance: 1e-12,
        max_iterations: 1,
    };
    let s = eigentrust(&l, &one).unwrap();
    assert!(close(s.values[0], 0.5) && close(s.values[1], 0.5));
    assert!(!s.converged);
    let full = EigenTrustConfig {
        max_iterations: 200,
        ..one
    };
    let s = eigentrust(&l, &full).unwrap();
    assert!(s.converged);
    assert!(
        close(s.values[0], 2.0 / 3.0) && close(s.values[1], 1.0 / 3.0),
        "{s:?}"
    );
}

#[test]
fn no_opinions_gives_pre_trust() {
    let l = LocalTrust::new(4);
    let cfg = EigenTrustConfig {
        pre_trusted: [NodeId(1), NodeId(3)].into(),
        ..Default::default()
    };
    let s = eigentrust(&l, &cfg).unwrap();
    assert_eq!(s.values, vec![0.0, 0.5, 0.0, 0.5]);
    let s = eigentrust(&l, &EigenTrustConfig::default()).unwrap();
    assert!(s.values.iter().all(|&v| close(v, 0.25)));
    assert_eq!(s.to_weights(100), vec![100; 4]);
}

#[test]
fn damping_bounds_a_colluding_clique() {
    // Honest 0..4 rate each other and (a little) 4; 4 and 5 collude (rate
    // only each other). Pre-trusted: 0. More damping, less clique trust.
    let mut l = LocalTrust::new(6);
    for i in 0..4 {
        for j in 0..4 {
            l.set(i, j, 10.0);
        }
        l.set(i, 4, 1.0);
    }
    l.set(4, 5, 100.0);
    l.set(5, 4, 100.0);
    let clique = |a: f64| {
        let cfg = EigenTrustConfig {
            pre_trusted: [NodeId(0)].into(),
            damping: a,
            tolerance: 1e-12,
            max_iterations: 10_000,
        };
        let s = eigentrust(&l, &cfg).unwrap();
        assert!(s.converged);
        s.values[4] + s.values[5]
    };
    let (lo, hi) = (clique(0.5), clique(0.1));
    assert!(lo < hi, "{lo} vs {hi}");
    assert!(lo < 0.2, "{lo}");
}

#[test]
fn rejects_bad_parameters() {
    let l = LocalTrust::new(2);
    assert_eq!(
        eigentrust(&LocalTrust::new(0), &EigenTrustConfig::default()),
        Err(TrustError::Empty)
    );
    for cfg in [
        EigenTrustConfig {
            damping: 1.5,
            ..Default::default()
        },
        EigenTrustConfig {
            tolerance: 0.0,
            ..Default::default()
        },
        EigenTrustConfig {
            max_iterations: 0,
            ..Default::default()
        },
    ] {
        assert_eq!(eigentrust(&l, &cfg), Err(TrustError::BadParameter));
    }
    let cfg = EigenTrustConfig {
        pre_trusted: [NodeId(2)].into(),
        ..Default::default()
    };
    assert_eq!(
        eigentrust(&l, &cfg),
        Err(TrustError::UnknownPreTrusted(NodeId(2)))
    );
}

proptest! {
    #[test]
    fn sums_to_one_and_deterministic(n in 1usize..8, vals in proptest::collection::vec(0.0f64..10.0, 64), a in 0.05f64..0.9) {
        let mut l = LocalTrust::new(n);
        for i in 0..n { for j in 0..n { l.set(i, j, vals[i * 8 + j]); } }
        let cfg = EigenTrustConfig { damping: a, tolerance: 1e-10, max_iterations: 500, ..Default::default() };
        let s = eigentrust(&l, &cfg).unwrap();
        let again = eigentrust(&l.clone(), &cfg).unwrap();
        prop_assert_eq!(&s, &again);
        prop_assert!(s.converged);
        let sum: f64 = s.values.iter().sum();
        prop_assert!((sum - 1.0).abs() < 1e-9);
        prop_assert!(s.values.iter().all(|&v| v >= 0.0));
    }
}
