//! The checkers catch hand-made violations, accept correct runs, and the
//! liveness phase catches a stalled run.

mod common;

use common::{Cmd, Msg, Script, id, ms};
use dwcp_core::{Duration, NodeId, Target, Time};
use dwcp_sim::toy::{Toy, ToyConfig};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig, Simulation, ViolationKind};

fn sim(n: usize, seed: u64) -> Simulation<Script> {
    Simulation::new(SimConfig::new(n, seed), Script::new)
}

fn deliver(s: &mut Simulation<Script>, node: u32, values: &[u64]) {
    s.submit(
        ms(1),
        id(node),
        Cmd::Batch(values.iter().map(|v| Cmd::Deliver(*v)).collect()),
    );
}

#[test]
fn consistent_logs_pass_every_check() {
    let mut s = sim(3, 1);
    deliver(&mut s, 0, &[1, 2, 3]);
    deliver(&mut s, 1, &[1, 2]);
    s.run_until(ms(10));
    assert_eq!(s.check_safety(), Ok(()));
    assert_eq!(s.check_agreement_by(|v| *v), Ok(()));
    assert_eq!(s.check_validity(|v, _| *v <= 3), Ok(()));
    assert_eq!(s.decisions(), 3);
}

#[test]
fn diverging_logs_violate_prefix_consistency_and_the_seed_is_shown() {
    let mut s = sim(3, 4242);
    deliver(&mut s, 0, &[1, 2, 3]);
    deliver(&mut s, 2, &[1, 5]);
    s.run_until(ms(10));
    let v = s.check_safety().unwrap_err();
    println!("{v}");
    assert!(matches!(v.kind, ViolationKind::Prefix { index: 1, .. }));
    assert!(v.to_string().starts_with("SEED=4242"), "{v}");
}

#[test]
fn a_double_delivery_is_a_duplicate() {
    let mut s = sim(2, 1);
    deliver(&mut s, 1, &[4, 7, 4]);
    s.run_until(ms(10));
    let v = s.check_safety().unwrap_err();
    assert_eq!(
        v.kind,
        ViolationKind::Duplicate {
            node: id(1),
            value: "4".into(),
            first: 0,
            second: 2
        }
    );
}

#[test]
fn keyed_agreement_catches_conflicting_slots() {
    // Values are slot * 100 + payload; nodes may deliver slots in any order.
    let mut s = sim(2, 1);
    deliver(&mut s, 0, &[101, 202]);
    deliver(&mut s, 1, &[203]);
    s.run_until(ms(10));
    let v = s.check_agreement_by(|v| v / 100).unwrap_err();
    assert!(
        matches!(&v.kind, ViolationKind::Agreement { key, .. } if key == "2"),
        "{v}"
    );
}

#[test]
fn validity_uses_the_recorded_submissions() {
    let mut s = sim(2, 1);
    // Node 0 is asked to deliver 1 directly, and smuggles 2 inside a batch.
    s.submit(ms(1), id(0), Cmd::Deliver(1));
    s.submit(ms(2), id(0), Cmd::Batch(vec![Cmd::Deliver(2)]));
    s.run_until(ms(10));
    let was_submitted = |v: &u64, subs: &[(Time, NodeId, Cmd)]| {
        subs.iter()
            .any(|(_, _, c)| matches!(c, Cmd::Deliver(x) if x == v))
    };
    let e = s.check_validity(was_submitted).unwrap_err();
    assert!(
        matches!(e.kind, ViolationKind::Validity { index: 1, .. }),
        "{e}"
    );
    assert_eq!(s.submitted().len(), 2);
}

fn toy(n: usize, rounds: u64, seed: u64, net: NetworkConfig) -> Simulation<Toy> {
    let cfg = SimConfig::new(n, seed).with_network(net);
    let t = ToyConfig {
        persist: true,
        ..ToyConfig::new(n, rounds)
    };
    Simulation::new(cfg, move |i| Toy::new(t.clone(), i))
}

#[test]
fn liveness_catches_a_stalled_run_and_passes_after_healing() {
    let mut s = toy(4, 20, 3, NetworkConfig::wan());
    // Two of four down: no quorum of three.
    s.schedule(Time::ZERO, FaultEvent::Crash(id(2)));
    s.schedule(Time::ZERO, FaultEvent::Crash(id(3)));
    let v = s.run_until_delivered(5, Time::from_secs(5)).unwrap_err();
    println!("{v}");
    match &v.kind {
        ViolationKind::Liveness {
            target: 5, lagging, ..
        } => {
            assert_eq!(
                lagging.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                vec![id(0), id(1)]
            );
        }
        other => panic!("expected liveness, got {other}"),
    }
    assert!(v.to_string().contains("SEED=3"));
    // Liveness phase: restart, then every honest node must finish.
    s.schedule(s.now(), FaultEvent::Restart(id(2)));
    s.schedule(s.now(), FaultEvent::Restart(id(3)));
    let deadline = s.now() + Duration::from_secs(30);
    s.run_until_delivered(20, deadline)
        .unwrap_or_else(|v| panic!("{v}"));
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
}

#[test]
fn a_partition_without_quorum_stalls_until_healed() {
    let mut s = toy(7, 30, 8, NetworkConfig::default());
    let split = Partition::split(vec![vec![id(0), id(1), id(2)], vec![id(3), id(4), id(5)]]);
    s.schedule(ms(100), FaultEvent::Partition(split));
    s.run_until(Time::from_secs(3));
    let stalled: Vec<usize> = (0..7).map(|i| s.delivered(id(i)).len()).collect();
    assert!(stalled.iter().all(|d| *d < 30), "{stalled:?}");
    s.run_until(Time::from_secs(6));
    let still: Vec<usize> = (0..7).map(|i| s.delivered(id(i)).len()).collect();
    assert_eq!(
        stalled, still,
        "no progress without a quorum on either side"
    );
    s.schedule(s.now(), FaultEvent::Heal);
    s.run_until_delivered(30, Time::from_secs(20))
        .unwrap_or_else(|v| panic!("{v}"));
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
}

#[test]
fn restarted_toy_nodes_resume_without_redelivering() {
    let mut s = toy(4, 40, 12, NetworkConfig::wan());
    for (t, node) in [(300, 0), (700, 1), (1100, 2)] {
        s.schedule(ms(t), FaultEvent::Crash(id(node)));
        s.schedule(ms(t + 150), FaultEvent::Restart(id(node)));
    }
    s.run_until_delivered(40, Time::from_secs(60))
        .unwrap_or_else(|v| panic!("{v}"));
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
    for i in 0..4 {
        assert_eq!(s.delivered(id(i)), (0..40).collect::<Vec<u64>>().as_slice());
    }
}

#[test]
fn a_send_to_self_only_still_counts() {
    let mut s = sim(1, 1);
    s.submit(ms(1), id(0), Cmd::Send(Target::One(id(0)), Msg::new(3)));
    s.run_until(ms(10));
    assert_eq!(s.stats().delivered_events, 1);
}
