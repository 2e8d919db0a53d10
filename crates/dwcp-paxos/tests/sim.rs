//! Multi-Paxos in the simulator: safety by dwcp-sim's independent checkers
//! (no duplicates, one total order, one value per slot, validity), liveness
//! as "every submitted transaction delivered by every running replica by a
//! deadline after the faults end".

#![cfg(feature = "sim")]

use dwcp_core::{Duration, NodeId, Time};
use dwcp_paxos::harness::{self, check, run_until_committed, submit_txs};
use dwcp_paxos::{Paxos, PaxosConfig};
use dwcp_sim::adversary::Silent;
use dwcp_sim::workload::{LoadSpec, ThroughputConfig};
use dwcp_sim::{FaultEvent, Gst, NetworkConfig, Partition, RegionMatrix, SimConfig, Simulation};
use proptest::prelude::*;

const MS: fn(u64) -> Duration = Duration::from_millis;
const AT: fn(u64) -> Time = Time::from_millis;

fn nodes(range: std::ops::Range<u32>) -> Vec<NodeId> {
    range.map(NodeId).collect()
}

fn leaders(s: &Simulation<Paxos>) -> Vec<NodeId> {
    s.honest()
        .into_iter()
        .filter(|id| s.engine(*id).is_some_and(Paxos::is_leader))
        .collect()
}

#[test]
fn commits_in_order_on_a_clean_network() {
    let mut s = harness::cluster(5, 1, NetworkConfig::default());
    submit_txs(&mut s, 0..300, AT(0), MS(1), &nodes(0..5));
    run_until_committed(&mut s, 300, AT(5_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    assert_eq!(leaders(&s), vec![NodeId(0)]);
    // Batching: far fewer slots than transactions.
    let slots = s.engine(NodeId(3)).map(Paxos::delivered_upto).unwrap_or(0);
    assert!(slots < 150, "{slots} slots for 300 transactions");
}

#[test]
fn single_replica_commits_alone() {
    let mut s = harness::cluster(1, 2, NetworkConfig::default());
    submit_txs(&mut s, 0..20, AT(0), MS(1), &nodes(0..1));
    run_until_committed(&mut s, 20, AT(1_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
}

#[test]
fn leader_crash_leads_to_takeover() {
    let mut s = harness::cluster(5, 3, NetworkConfig::default());
    s.schedule(AT(400), FaultEvent::Crash(NodeId(0)));
    submit_txs(&mut s, 0..400, AT(0), MS(5), &nodes(1..5));
    run_until_committed(&mut s, 400, AT(10_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    let l = leaders(&s);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_ne!(l[0], NodeId(0));
}

#[test]
fn crash_restart_catches_up_without_double_delivery() {
    let mut s = harness::cluster(5, 4, NetworkConfig::default());
    s.schedule(AT(300), FaultEvent::Crash(NodeId(2)));
    s.schedule(AT(1_500), FaultEvent::Restart(NodeId(2)));
    // The leader crashes and restarts too.
    s.schedule(AT(2_000), FaultEvent::Crash(NodeId(0)));
    s.schedule(AT(3_500), FaultEvent::Restart(NodeId(0)));
    submit_txs(
        &mut s,
        0..500,
        AT(0),
        MS(8),
        &[NodeId(1), NodeId(3), NodeId(4)],
    );
    run_until_committed(&mut s, 500, AT(15_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    assert!(s.engine(NodeId(2)).is_some_and(|e| e.stats().caught_up > 0));
}

#[test]
fn partitioned_leader_is_replaced_and_rejoins() {
    let mut s = harness::cluster(5, 5, NetworkConfig::default());
    s.partition_between(AT(300), AT(3_000), Partition::isolate(vec![NodeId(0)]));
    submit_txs(&mut s, 0..400, AT(0), MS(8), &nodes(1..5));
    s.run_until(AT(3_000));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    run_until_committed(&mut s, 400, AT(12_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    assert_eq!(leaders(&s).len(), 1);
}

#[test]
fn silent_leader_is_replaced() {
    let mut s = harness::cluster(5, 6, NetworkConfig::default());
    s.make_byzantine(NodeId(0), Silent { after: AT(500) });
    submit_txs(&mut s, 0..300, AT(0), MS(5), &nodes(1..5));
    run_until_committed(&mut s, 300, AT(10_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
}

#[test]
fn live_after_gst_on_a_lossy_network() {
    let net = NetworkConfig {
        loss: 0.02,
        duplicate: 0.02,
        jitter: MS(5),
        gst: Some(Gst {
            at: AT(2_000),
            loss_before: 0.2,
            extra_delay_before: MS(200),
            delta: MS(50),
        }),
        ..NetworkConfig::default()
    };
    let mut s = harness::cluster(7, 7, net);
    submit_txs(&mut s, 0..300, AT(0), MS(5), &nodes(0..7));
    run_until_committed(&mut s, 300, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
}

#[test]
fn memory_stays_bounded_over_many_slots() {
    let mut cfg = PaxosConfig::new(3);
    cfg.retention = 32;
    cfg.max_batch_txs = 1;
    cfg.pipeline = 8;
    let mut s = harness::cluster_with(cfg, SimConfig::new(3, 8));
    submit_txs(&mut s, 0..2_000, AT(0), MS(1), &nodes(0..3));
    run_until_committed(&mut s, 2_000, AT(30_000)).unwrap_or_else(|v| panic!("{v}"));
    check(&s).unwrap_or_else(|v| panic!("{v}"));
    for id in NodeId::all(3) {
        let e = s.engine(id).expect("up");
        assert!(e.delivered_upto() >= 2_000);
        assert!(e.retained_slots() <= 2 * (32 + 8), "{}", e.retained_slots());
    }
}

fn wan_run(crashed: usize) -> dwcp_sim::workload::LoadReport {
    harness::throughput(&ThroughputConfig {
        n: 5,
        crashed,
        seed: 9,
        network: NetworkConfig {
            latency: dwcp_sim::LatencyModel::Regions(RegionMatrix::five_regions()),
            ..NetworkConfig::default()
        },
        uplink_bytes_per_s: Some(10_000_000),
        load: LoadSpec {
            tx_size: 512,
            rate: 1_000.0,
            start: Time::ZERO,
            warmup: MS(500),
            duration: MS(1_500),
            drain: MS(1_500),
            clients: vec![],
        },
        real_crypto: false,
    })
}

#[test]
fn throughput_run_commits_the_offered_load() {
    for crashed in [0, 2] {
        let r = wan_run(crashed);
        assert_eq!(r.committed, r.offered, "crashed = {crashed}: {r:?}");
        assert!(r.tx_per_s > 800.0, "{r:?}");
        assert!(
            r.latency_p50_ms > 0.0 && r.latency_p99_ms < 2_000.0,
            "{r:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn safe_and_live_under_random_crashes_and_partitions(
        seed in any::<u64>(),
        n in 3usize..=7,
        cut_start in 0u64..800,
        cut_len in 0u64..2_000,
        crash_at in 0u64..1_500,
        restart in any::<bool>(),
        loss in 0u32..4,
    ) {
        let f = (n - 1) / 2;
        let net = NetworkConfig { loss: f64::from(loss) / 100.0, duplicate: 0.01, ..NetworkConfig::default() };
        let mut s = harness::cluster(n, seed, net);
        // Up to f replicas crash (node 0, the first leader, among them);
        // the last replica is cut off for a while.
        let crashed: Vec<NodeId> = (0..f as u32).map(NodeId).collect();
        for (k, c) in crashed.iter().enumerate() {
            s.schedule(Time::from_millis(crash_at + 100 * k as u64), FaultEvent::Crash(*c));
            if restart {
                s.schedule(Time::from_millis(crash_at + 2_000), FaultEvent::Restart(*c));
            }
        }
        let cut = NodeId(n as u32 - 1);
        s.partition_between(Time::from_millis(cut_start), Time::from_millis(cut_start + cut_len), Partition::isolate(vec![cut]));
        let clients: Vec<NodeId> = (f as u32..n as u32).map(NodeId).collect();
        submit_txs(&mut s, 0..60, Time::ZERO, MS(20), &clients);
        s.run_until(Time::from_millis(4_000));
        check(&s).map_err(|v| TestCaseError::fail(v.to_string()))?;
        run_until_committed(&mut s, 60, Time::from_millis(25_000)).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check(&s).map_err(|v| TestCaseError::fail(v.to_string()))?;
    }
}
