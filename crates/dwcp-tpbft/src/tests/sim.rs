use crate::epochs::{self, Protocol, RunConfig, Scenario};
use dwcp_core::NodeId;

fn quick(n: usize, scenario: Scenario, protocol: Protocol, epochs: u64) -> RunConfig {
    let mut c = RunConfig::new(n, scenario, protocol, 11);
    c.epochs = epochs;
    c.per_epoch = 12;
    c
}

#[test]
fn silent_primaries_are_voted_out_and_view_changes_stop() {
    let t = epochs::run(&quick(4, Scenario::SilentPrimaries, Protocol::TPbft, 8));
    assert!(t.safe());
    assert_eq!(t.decisions(), 8 * 12);
    // After the first failure node 0 never leads again.
    let late: u64 = t.epochs[2..].iter().map(|e| e.view_changes).sum();
    assert_eq!(
        late,
        0,
        "{:?}",
        t.epochs
            .iter()
            .map(|e| (e.view_changes, e.primary_group.clone()))
            .collect::<Vec<_>>()
    );
    assert!(!t.epochs[7].primary_group.contains(&NodeId(0)));
    let p = epochs::run(&quick(4, Scenario::SilentPrimaries, Protocol::Pbft, 8));
    assert!(p.safe());
    assert!(p.view_changes() >= 2 && p.view_changes() > t.view_changes());
}

#[test]
fn equivocating_group_members_lose_the_primary_role_and_safety_holds() {
    // Nodes 0 and 1 equivocate; they start in the primary group (equal trust).
    let t = epochs::run(&quick(7, Scenario::Equivocators, Protocol::TPbft, 4));
    assert!(
        t.safe(),
        "{:?}",
        t.epochs
            .iter()
            .map(|e| e.safety.clone())
            .collect::<Vec<_>>()
    );
    assert!(t.epochs[0].primary_group.contains(&NodeId(0)));
    let last = t.epochs.last().unwrap();
    assert!(
        !last.primary_group.contains(&NodeId(0)) && !last.primary_group.contains(&NodeId(1)),
        "{:?}",
        last.primary_group
    );
    // Only equivocators may carry the permanent mark.
    assert!(t.epochs.iter().all(|e| e.marked.iter().all(|m| m.0 < 2)));
    let p = epochs::run(&quick(7, Scenario::Equivocators, Protocol::Pbft, 4));
    assert!(p.safe());
}

#[test]
fn no_faults_no_false_positives() {
    let t = epochs::run(&quick(4, Scenario::NoFaults, Protocol::TPbft, 4));
    assert!(t.safe());
    assert_eq!(t.view_changes(), 0);
    assert!(t.epochs.iter().all(|e| e.marked.is_empty()));
}
