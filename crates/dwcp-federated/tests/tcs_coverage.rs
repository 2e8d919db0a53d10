//! TCS-FEEL-style selection: the pre-registered rule leaves some clients
//! out for good under label skew; the staleness bonus brings every client
//! back within a few uniform-sampling periods.

use dwcp_core::NodeId;
use dwcp_core::rng;
use dwcp_federated::data::{digits, dirichlet_partition, stratified_split};
use dwcp_federated::select::Selector;
use dwcp_federated::tcs::{Radio, TcsSelector};

fn selector(beta: f64) -> TcsSelector {
    let d = digits();
    let (train, _) = stratified_split(&d, 0.2, 1);
    let parts = dirichlet_partition(&d, &train, 20, 0.5, 20, 1);
    let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
    TcsSelector {
        per_round: 8,
        pool_factor: 2,
        time_weight: 0.5,
        max_children: 3,
        update_bytes: 4 * 4810 + 16,
        histograms: parts.iter().map(|p| d.subset(p).histogram()).collect(),
        radio: Radio::random(&sizes, 2, 500.0, 1),
        staleness_weight: beta,
        last_selected: vec![],
    }
}

fn never_selected(mut s: TcsSelector, rounds: u64) -> usize {
    let clients: Vec<NodeId> = (1..=20).map(NodeId).collect();
    let mut r = rng::seeded(5);
    let mut seen = [false; 20];
    for round in 1..=rounds {
        let plan = s.plan(round, &clients, &mut r);
        assert_eq!(plan.participants.len(), 8);
        for p in plan.participants {
            seen[p.0 as usize - 1] = true;
        }
    }
    seen.iter().filter(|s| !**s).count()
}

#[test]
fn staleness_bonus_restores_coverage() {
    // Seed 1 of the fl-tcs benchmark: several clients are never chosen by
    // the pre-registered rule in 100 rounds...
    assert!(never_selected(selector(0.0), 100) >= 3);
    // ...while with the bonus everyone is chosen within 30 rounds (12 periods; a client must also be drawn into the random pool).
    assert_eq!(never_selected(selector(1.0), 30), 0);
}
