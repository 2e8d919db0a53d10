//! Whole federations in the in-process host: dropouts, stragglers, relays,
//! resynchronisation after a missed compressed round, Byzantine clients,
//! determinism, and that training actually learns.

use dwcp_core::{Duration, NodeId};
use dwcp_federated::aggregate::Rule;
use dwcp_federated::bench::{Method, Setup, build, drive};
use dwcp_federated::compress::Compression;
use dwcp_federated::data::digits;
use dwcp_federated::select::FixedRelays;
use dwcp_federated::sim::Attack;

fn small(rounds: u64) -> Setup {
    Setup {
        clients: 5,
        alpha: 0.5,
        min_per_client: 20,
        test_fraction: 0.2,
        hidden: vec![16],
        rounds,
        target: 0.8,
    }
}

fn compressed() -> Method {
    let c = Compression::TopK {
        fraction: 0.05,
        bits: 4,
    };
    Method {
        name: "c".into(),
        uplink: c,
        downlink: c,
        ..Method::dense()
    }
}

#[test]
fn training_learns_and_runs_are_deterministic() {
    let d = digits();
    let (mut a, test) = build(&d, &small(15), &Method::dense(), None, false, 3).unwrap();
    let ra = drive(&mut a, &test, &small(15), &Method::dense(), 3);
    let (mut b, _) = build(&d, &small(15), &Method::dense(), None, false, 3).unwrap();
    let rb = drive(&mut b, &test, &small(15), &Method::dense(), 3);
    assert!(ra.final_accuracy > 0.85, "{}", ra.final_accuracy);
    assert_eq!(ra, rb);
    assert_eq!(a.server.model(), b.server.model());
    assert_eq!(ra.curve.len(), 15);
    assert!(ra.reached.is_some());
}

#[test]
fn dropouts_and_stragglers_close_rounds_at_the_deadline() {
    let d = digits();
    let m = Method::dense();
    let (mut f, test) = build(&d, &small(4), &m, None, false, 1).unwrap();
    f.offline.insert(NodeId(2));
    f.slow.insert(NodeId(4), Duration::from_secs(15));
    let r = drive(&mut f, &test, &small(4), &m, 1);
    assert_eq!(f.outcomes.len(), 4);
    for o in &f.outcomes {
        assert_eq!(o.accepted, 3, "{o:?}");
        assert_eq!(o.missing, 2);
    }
    // The straggler's updates arrive a round late and are rejected as stale.
    let stale = f
        .evidence
        .iter()
        .filter(|(_, e)| e.culprit == NodeId(4))
        .count();
    assert!(stale >= 2, "{:?}", f.evidence);
    assert!(r.final_accuracy > 0.3);
    // Every round waited for the full deadline (10 s).
    assert!(f.now >= dwcp_core::Time::ZERO + Duration::from_secs(40));
}

#[test]
fn a_client_that_missed_a_compressed_round_resynchronises() {
    let d = digits();
    let m = compressed();
    // Client 3 misses rounds 1-2, so round 3's delta does not apply to its model.
    let mut setup = small(5);
    setup.rounds = 5;
    let (mut f, _) = build(&d, &setup, &m, None, false, 1).unwrap();
    f.offline.insert(NodeId(3));
    f.run(2, |_, _, _| {});
    f.offline.clear();
    f.run(3, |_, _, _| {});
    assert_eq!(f.outcomes.len(), 5);
    assert_eq!(f.outcomes[1].accepted, 4);
    assert_eq!(f.outcomes[2].accepted, 5, "{:?}", f.outcomes);
    assert!(f.evidence.is_empty(), "{:?}", f.evidence);
    let c3 = &f.clients[&NodeId(3)];
    assert_eq!(c3.model(), f.clients[&NodeId(1)].model());
}

/// Clients 1 and 4 relay for 2, 3 and 5.
fn tree() -> Box<FixedRelays> {
    Box::new(FixedRelays::new(&[(2, 1), (3, 1), (5, 4)]))
}

#[test]
fn relays_aggregate_their_subtree_and_match_direct_fedavg() {
    let d = digits();
    let m = Method::dense();
    let (mut relayed, test) = build(&d, &small(3), &m, Some(tree()), true, 2).unwrap();
    let rr = drive(&mut relayed, &test, &small(3), &m, 2);
    for o in &relayed.outcomes {
        assert_eq!((o.accepted, o.contributors, o.missing), (2, 5, 0));
    }
    assert!(relayed.traffic.d2d > 0);
    let (mut direct, _) = build(&d, &small(3), &m, None, false, 2).unwrap();
    let rd = drive(&mut direct, &test, &small(3), &m, 2);
    // Same clients, same data, same seeds: the weighted mean is the same up to rounding.
    let diff = relayed
        .server
        .model()
        .iter()
        .zip(direct.server.model())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff < 1e-3, "max parameter difference {diff}");
    assert!((rr.final_accuracy - rd.final_accuracy).abs() < 0.02);
    // Relays refuse to work with robust rules.
    let krum = Method {
        rule: Rule::Krum { f: 1 },
        ..Method::dense()
    };
    assert!(build(&d, &small(3), &krum, Some(tree()), true, 2).is_err());
}

#[test]
fn a_relay_offline_loses_its_subtree_but_the_round_goes_on() {
    let d = digits();
    let m = Method::dense();
    let (mut f, test) = build(&d, &small(2), &m, Some(tree()), true, 2).unwrap();
    f.offline.insert(NodeId(4));
    drive(&mut f, &test, &small(2), &m, 2);
    for o in &f.outcomes {
        assert_eq!((o.accepted, o.contributors, o.missing), (1, 3, 1));
    }
}

#[test]
fn robust_rules_resist_a_scaling_attacker_where_fedavg_does_not() {
    let d = digits();
    let setup = small(10);
    let attack = Some((1, Attack::Gaussian(1.0)));
    let fed = Method {
        attack,
        ..Method::dense()
    };
    let med = Method {
        attack,
        rule: Rule::Median,
        ..Method::dense()
    };
    let (mut a, test) = build(&d, &setup, &fed, None, false, 4).unwrap();
    let ra = drive(&mut a, &test, &setup, &fed, 4);
    let (mut b, _) = build(&d, &setup, &med, None, false, 4).unwrap();
    let rb = drive(&mut b, &test, &setup, &med, 4);
    assert!(
        rb.final_accuracy > ra.final_accuracy + 0.1,
        "median {} fedavg {}",
        rb.final_accuracy,
        ra.final_accuracy
    );
}

#[test]
fn compressed_runs_send_far_fewer_bytes() {
    let d = digits();
    let setup = small(5);
    let (mut a, test) = build(&d, &setup, &Method::dense(), None, false, 1).unwrap();
    let ra = drive(&mut a, &test, &setup, &Method::dense(), 1);
    let (mut b, _) = build(&d, &setup, &compressed(), None, false, 1).unwrap();
    let rb = drive(&mut b, &test, &setup, &compressed(), 1);
    assert!(rb.traffic.total() * 5 < ra.traffic.total());
    assert_eq!(rb.traffic.up + rb.traffic.down, rb.traffic.total());
}
