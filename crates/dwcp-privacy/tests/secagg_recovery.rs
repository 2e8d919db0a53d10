//! Exact recovery of the weighted sum under dropouts at every round.

use dwcp_core::NodeId;
use dwcp_core::rng::{self, RngCore};
use dwcp_privacy::secagg::harness::{DropPoint, run_session, spread_dropouts};
use dwcp_privacy::secagg::recommended_threshold;
use dwcp_privacy::{ClientInput, SecAggConfig, ServerOutcome};
use proptest::prelude::*;

/// Random inputs in [-1.2, 1.2] (some beyond the clip range 1) with weights 1..=8.
fn inputs(n: usize, dim: usize, seed: u64) -> Vec<ClientInput> {
    let mut r = rng::seeded(seed);
    (0..n)
        .map(|_| ClientInput {
            values: (0..dim)
                .map(|_| (r.next_u32() as f32 / u32::MAX as f32) * 2.4 - 1.2)
                .collect(),
            weight: 1 + r.next_u64() % 8,
        })
        .collect()
}

/// The exact expected level sums, computed independently of the protocol.
fn expected_levels(
    cfg: &SecAggConfig,
    inputs: &[ClientInput],
    survivors: &[NodeId],
) -> (Vec<u64>, u64) {
    let mut levels = vec![0u64; cfg.dim];
    let mut w = 0;
    for s in survivors {
        let inp = &inputs[s.index()];
        w += inp.weight;
        for (l, x) in levels.iter_mut().zip(&inp.values) {
            *l += cfg.fixed.quantize(*x) * inp.weight;
        }
    }
    (levels, w)
}

fn check(n: usize, dim: usize, seed: u64, drops: &[DropPoint]) {
    let cfg =
        SecAggConfig::new(seed, n, recommended_threshold(n), dim, 32, 1.0, 1000.0, 8).unwrap();
    let ins = inputs(n, dim, seed);
    let report = run_session(&cfg, ins.clone(), drops, seed, &mut || 0);
    let Some(ServerOutcome::Sum(sum)) = report.outcome else {
        panic!("no sum: {:?}", report.outcome);
    };
    // Survivors are exactly those that sent a masked input.
    let expect_survivors: Vec<NodeId> = (0..n)
        .filter(|&i| {
            !matches!(
                drops[i],
                DropPoint::BeforeAdvertise | DropPoint::AfterAdvertise | DropPoint::AfterShareKeys
            )
        })
        .map(|i| NodeId(i as u32))
        .collect();
    assert_eq!(sum.survivors, expect_survivors);
    let (levels, w) = expected_levels(&cfg, &ins, &sum.survivors);
    assert_eq!(sum.levels, levels);
    assert_eq!(sum.weight_sum, w);
    assert!(report.evidence.is_empty(), "{:?}", report.evidence);
    // The decoded weighted mean is within the round-trip bound.
    let mean = sum.weighted_mean(&cfg.fixed);
    for (j, m) in mean.iter().enumerate() {
        let exact: f64 = sum
            .survivors
            .iter()
            .map(|s| {
                f64::from(ins[s.index()].values[j].clamp(-1.0, 1.0)) * ins[s.index()].weight as f64
            })
            .sum::<f64>()
            / w as f64;
        assert!(
            (f64::from(*m) - exact).abs() <= cfg.fixed.max_error() + 1e-6,
            "coord {j}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn exact_sum_with_30_percent_dropouts(n in 10usize..=100, seed in any::<u64>()) {
        let drops = spread_dropouts(n, 30, seed);
        prop_assert_eq!(drops.iter().filter(|d| **d != DropPoint::Never).count(), n * 3 / 10);
        check(n, 16, seed, &drops);
    }
}

#[test]
fn every_drop_point_alone_and_no_dropouts() {
    check(12, 40, 1, &[DropPoint::Never; 12]);
    for p in [
        DropPoint::BeforeAdvertise,
        DropPoint::AfterAdvertise,
        DropPoint::AfterShareKeys,
        DropPoint::AfterMaskedInput,
        DropPoint::AfterConsistency,
    ] {
        let mut drops = vec![DropPoint::Never; 12];
        drops[3] = p;
        drops[8] = p;
        check(12, 40, 2, &drops);
    }
}

#[test]
fn too_many_dropouts_abort_cleanly() {
    let n = 10;
    let cfg = SecAggConfig::new(0, n, 7, 4, 32, 1.0, 100.0, 1).unwrap();
    for p in [
        DropPoint::AfterAdvertise,
        DropPoint::AfterMaskedInput,
        DropPoint::AfterConsistency,
    ] {
        let mut drops = vec![DropPoint::Never; n];
        drops[..4].fill(p);
        let r = run_session(
            &cfg,
            inputs(n, 4, 3)
                .into_iter()
                .map(|mut i| {
                    i.weight = 1;
                    i
                })
                .collect(),
            &drops,
            3,
            &mut || 0,
        );
        assert!(
            matches!(r.outcome, Some(ServerOutcome::Aborted { .. })),
            "{p:?}: {:?}",
            r.outcome
        );
    }
}
