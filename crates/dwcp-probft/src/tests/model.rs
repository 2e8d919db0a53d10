//! The safety model and the experiment logic.

use crate::experiment::{measure_pbft, measure_probft, safety_row};
use crate::harness;
use crate::model::{Attack, Model};
use crate::{ProbftConfig, safety_analysis};
use dwcp_crypto::Keyring;

#[test]
fn model_runs_are_deterministic_and_respect_the_bound() {
    let keys = Keyring::insecure_mock(31, 5);
    let m = Model::new(&keys, 10, 2.0, 1.0);
    let a = m.run(Attack::Balanced, 3, 9);
    assert_eq!(a, m.run(Attack::Balanced, 3, 9));
    // Within the faulty leader's view, disagreements stay under the bound.
    let split = safety_analysis(31, 10, 2.0, 1.0).worst_split;
    let row = safety_row(
        31,
        2.0,
        1.0,
        Attack::Split(split.0, split.1),
        400,
        1,
        Keyring::insecure_mock,
    );
    assert!(row.in_view_upper95 <= row.bound, "{row:?}");
    assert!(row.violations >= row.in_view);
    // The balanced split is caught by nearly every correct replica.
    let row = safety_row(
        31,
        2.0,
        1.0,
        Attack::Balanced,
        200,
        2,
        Keyring::insecure_mock,
    );
    assert!(row.detected > 0.9, "{row:?}");
}

#[test]
fn message_counts_match_the_formula_and_beat_pbft() {
    // Fault-free, one request per slot: a proposal to n − 1, a prepare and a
    // commit from each replica to its s-sample, plus forwarded requests and
    // (rarely) catch-up.
    let n = 16;
    let p = measure_probft(n, 8, 3, harness::real_keys, true);
    let s = ProbftConfig::new(n).unwrap().sample_size() as f64;
    let normal = (n - 1) as f64 + 2.0 * n as f64 * s;
    let by = |k: &str| {
        p.by_kind
            .iter()
            .find(|(x, _)| *x == k)
            .map_or(0.0, |(_, v)| *v)
    };
    assert!(
        (by("propose") - (n - 1) as f64).abs() < 1e-9,
        "{:?}",
        p.by_kind
    );
    assert!(
        by("prepare") <= n as f64 * s && by("prepare") >= 0.95 * n as f64 * s,
        "{:?}",
        p.by_kind
    );
    assert!(
        p.messages >= 0.95 * normal && p.messages <= normal + 2.0 + by("fetch") + by("decided"),
        "{} vs {normal}",
        p.messages
    );
    let b = measure_pbft(n, 8, 3, harness::real_keys, true);
    assert!(
        p.messages < 0.7 * b.messages,
        "{} vs {}",
        p.messages,
        b.messages
    );
    assert_eq!((p.decisions, b.decisions), (8, 8));
}
