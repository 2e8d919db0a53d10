//! Garbage collection keeps memory bounded over 10,000 rounds, and a
//! property test over seeds: random loss and a crash-restart never break
//! the total order.

use dwcp_bullshark::harness::{self, CryptoMode};
use dwcp_core::{Duration, NodeId, Time};
use dwcp_narwhal::NarwhalConfig;
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig};
use proptest::prelude::*;

#[test]
fn memory_stays_bounded_over_ten_thousand_rounds() {
    let n = 4;
    let mut cfg = NarwhalConfig::new(n).unwrap();
    cfg.gc_depth = 10;
    cfg.sync_retention = 10;
    cfg.max_header_delay = Duration::from_millis(1);
    cfg.max_batch_delay = Duration::from_millis(1);
    cfg.leader_timeout = Duration::from_millis(50);
    cfg.persist_batches = false;
    let sim_cfg =
        SimConfig::new(n, 11).with_network(NetworkConfig::fixed(Duration::from_micros(500)));
    let mut sim = harness::cluster_with(cfg.clone(), sim_cfg, CryptoMode::InsecureMock);
    // A transaction every 5 ms for the first 20 s, so batches are collected too.
    harness::submit(&mut sim, 4_000, Time::ZERO, Duration::from_millis(5), &[]);
    // Per node: the DAG holds the GC window plus the rounds since the last
    // commit (anchors commit every other round here), the archive the
    // retention window; everything else is bounded by the same windows.
    let window = (cfg.gc_depth + cfg.sync_retention + 8) as usize;
    let bound = n * window * 8;
    let mut peak = 0;
    let mut samples = 0;
    while sim.engine(NodeId(0)).unwrap().round() < 10_000 {
        sim.run_for(Duration::from_millis(200));
        for id in NodeId::all(n) {
            let e = sim.engine(id).unwrap();
            let m = e.memory();
            assert!(
                m.dag_vertices <= n * (cfg.gc_depth as usize + 8),
                "round {}: {m:?}",
                e.round()
            );
            assert!(m.archived <= n * (cfg.sync_retention as usize + 1), "{m:?}");
            assert!(m.total() <= bound, "round {}: {m:?}", e.round());
            peak = peak.max(m.total());
        }
        samples += 1;
        assert!(sim.now() < Time::from_secs(600), "rounds too slow");
    }
    assert!(samples > 10);
    assert!(peak > 0);
    let until = sim.now() + Duration::from_secs(60);
    harness::run_until_txs(&mut sim, 4_000, until).unwrap();
    harness::check(&sim).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    #[test]
    fn same_total_order_for_any_seed(seed in 0u64..1_000_000, loss in 0.0f64..0.03, victim in 0u32..4) {
        let n = 4;
        let mut cfg = NarwhalConfig::new(n).unwrap();
        cfg.max_header_delay = Duration::from_millis(20);
        cfg.leader_timeout = Duration::from_millis(200);
        cfg.sync_retry = Duration::from_millis(100);
        let net = NetworkConfig { loss, ..NetworkConfig::default() };
        let mut sim = harness::cluster_with(cfg, SimConfig::new(n, seed).with_network(net), CryptoMode::InsecureMock);
        sim.schedule(Time::from_millis(400), FaultEvent::Crash(NodeId(victim)));
        sim.schedule(Time::from_millis(900), FaultEvent::Restart(NodeId(victim)));
        let others: Vec<NodeId> = NodeId::all(n).filter(|id| id.0 != victim).collect();
        harness::submit(&mut sim, 50, Time::from_millis(50), Duration::from_millis(15), &others);
        harness::run_until_txs(&mut sim, 50, Time::from_secs(30)).map_err(|v| TestCaseError::fail(v.to_string()))?;
        harness::check(&sim).map_err(|v| TestCaseError::fail(v.to_string()))?;
    }
}
