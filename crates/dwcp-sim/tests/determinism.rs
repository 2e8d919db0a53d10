//! One seed reproduces a run bit for bit; another seed gives another run.
//! Plus properties over seeds and sizes for the toy protocol.

use dwcp_core::{Duration, NodeId, Time};
use dwcp_sim::adversary::{Equivocate, InvalidSignature};
use dwcp_sim::toy::{Toy, ToyConfig};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig, Simulation, Stats};
use proptest::prelude::*;

/// Every knob at once: WAN latency with jitter, loss and duplicates, a
/// finite uplink, clock offsets, crashes, a pause, a partition, Byzantine
/// nodes and a load generator.
fn busy_run(seed: u64, record: bool) -> (u64, Stats, usize) {
    let n = 10;
    let mut net = NetworkConfig::wan();
    net.jitter = Duration::from_millis(3);
    net.uplink = Some(5_000_000);
    let mut cfg = SimConfig::new(n, seed);
    cfg.network = net;
    cfg.clock_offsets = (0..n as i64).map(|i| (i - 5) * 1_000_000).collect();
    cfg.record_trace = record;
    let toy = ToyConfig {
        persist: true,
        ..ToyConfig::new(n, 30)
    };
    let mut s = Simulation::new(cfg, move |i| Toy::new(toy.clone(), i));
    s.make_byzantine(NodeId(8), Equivocate { from: Time::ZERO });
    s.make_byzantine(NodeId(9), InvalidSignature { probability: 0.5 });
    s.schedule(Time::from_millis(200), FaultEvent::Crash(NodeId(1)));
    s.schedule(Time::from_millis(600), FaultEvent::Restart(NodeId(1)));
    s.schedule(
        Time::from_millis(300),
        FaultEvent::Pause(NodeId(2), Duration::from_millis(400)),
    );
    s.partition_between(
        Time::from_millis(500),
        Time::from_millis(900),
        Partition::one_way(vec![NodeId(0), NodeId(3)], vec![NodeId(4), NodeId(5)]),
    );
    s.load(Time::ZERO, Duration::from_millis(10), 100, |k, _| {
        (NodeId((k % 10) as u32), k)
    });
    s.run_until(Time::from_secs(5));
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
    (s.trace_hash(), s.stats().clone(), s.trace().len())
}

#[test]
fn same_seed_same_hash_different_seed_different_hash() {
    let (h1, s1, _) = busy_run(77, false);
    let (h2, s2, _) = busy_run(77, false);
    assert_eq!(h1, h2, "SEED=77 is not reproducible");
    assert_eq!(s1, s2);
    assert!(
        s1.delivered_events > 1000 && s1.lost > 0 && s1.duplicated > 0,
        "{s1:?}"
    );
    let (h3, _, _) = busy_run(78, false);
    assert_ne!(h1, h3);
}

#[test]
fn recording_the_trace_does_not_change_the_run() {
    let (h1, _, len0) = busy_run(5, false);
    let (h2, s, len) = busy_run(5, true);
    assert_eq!(h1, h2);
    assert_eq!(len0, 0);
    assert!(len as u64 >= s.delivered_events);
}

fn toy_run(
    seed: u64,
    n: usize,
    rounds: u64,
    crash: Option<(u32, u64)>,
    partition: bool,
) -> Simulation<Toy> {
    let cfg = SimConfig::new(n, seed).with_network(NetworkConfig::wan());
    let toy = ToyConfig {
        persist: true,
        ..ToyConfig::new(n, rounds)
    };
    let mut s = Simulation::new(cfg, move |i| Toy::new(toy.clone(), i));
    if let Some((node, at)) = crash {
        let node = NodeId(node % n as u32);
        s.schedule(Time::from_millis(at), FaultEvent::Crash(node));
        s.schedule(Time::from_millis(at + 500), FaultEvent::Restart(node));
    }
    if partition && n > 1 {
        s.partition_between(
            Time::from_millis(100),
            Time::from_secs(1),
            Partition::isolate(vec![NodeId(0)]),
        );
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn toy_is_safe_live_and_deterministic(
        seed in any::<u64>(),
        n in 1usize..12,
        rounds in 1u64..15,
        crash in proptest::option::of((0u32..12, 0u64..1000)),
        partition in any::<bool>(),
    ) {
        let mut a = toy_run(seed, n, rounds, crash, partition);
        a.run_until(Time::from_secs(2));
        a.check_safety().map_err(|v| TestCaseError::fail(v.to_string()))?;
        a.run_until_delivered(rounds as usize, Time::from_secs(120)).map_err(|v| TestCaseError::fail(v.to_string()))?;
        a.check_safety().map_err(|v| TestCaseError::fail(v.to_string()))?;
        let expected: Vec<u64> = (0..rounds).collect();
        for i in 0..n as u32 {
            prop_assert_eq!(a.delivered(NodeId(i)), expected.as_slice());
        }
        let mut b = toy_run(seed, n, rounds, crash, partition);
        b.run_until(Time::from_secs(2));
        b.run_until_delivered(rounds as usize, Time::from_secs(120)).map_err(|v| TestCaseError::fail(v.to_string()))?;
        prop_assert_eq!(a.trace_hash(), b.trace_hash(), "SEED={}", seed);
        prop_assert_eq!(a.now(), b.now());
    }
}

#[test]
fn a_thousand_nodes_run_and_reproduce() {
    let run = || {
        let mut s = dwcp_sim::probe_simulation(1000, 1, 3);
        assert!(s.run_until_quiet(Time::from_secs(600)));
        s.check_safety().unwrap_or_else(|v| panic!("{v}"));
        assert!((0..1000).all(|i| s.delivered(NodeId(i)) == [0]));
        (s.trace_hash(), s.stats().delivered_events)
    };
    let (h1, e1) = run();
    assert!(
        e1 > 1_900_000,
        "two all-to-all broadcasts minus 1% loss: {e1}"
    );
    assert_eq!(run(), (h1, e1));
}

#[test]
fn the_throughput_probe_reports_a_reproducible_run() {
    let a = dwcp_sim::throughput_probe(20, 5, 9);
    let b = dwcp_sim::throughput_probe(20, 5, 9);
    assert_eq!(
        (a.events, a.trace_hash, a.sim_secs),
        (b.events, b.trace_hash, b.sim_secs)
    );
    assert!(a.events > 20 * 19 * 5 && a.sim_secs > 0.0);
    assert_ne!(
        dwcp_sim::throughput_probe(20, 5, 10).trace_hash,
        a.trace_hash
    );
}
