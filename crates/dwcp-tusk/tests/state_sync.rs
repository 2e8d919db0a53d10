//! State sync with Tusk: a node down for many times the GC + archive
//! window rejoins by adopting a checkpoint `f + 1` peers agree on, and from
//! there on delivers exactly the others' order (checked from the logs).

use dwcp_core::{Duration, NodeId, Time};
use dwcp_narwhal::harness::{check_synced, submit_and_deliver};
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig};
use dwcp_tusk::harness::{self, CryptoMode};

#[test]
fn tusk_node_down_for_many_windows_rejoins_with_the_same_order() {
    let n = 4;
    let mut cfg = harness::test_config(n);
    cfg.gc_depth = 10;
    cfg.sync_retention = 20;
    cfg.checkpoint_interval = 4;
    let window = cfg.gc_depth + cfg.sync_retention;
    let sim_cfg = SimConfig::new(n, 31).with_network(NetworkConfig::default());
    let mut sim = harness::cluster_with(cfg, sim_cfg, CryptoMode::InsecureMock);
    let lagger = NodeId(1);
    sim.schedule(Time::from_secs(1), FaultEvent::Crash(lagger));
    sim.schedule(Time::from_secs(15), FaultEvent::Restart(lagger));
    harness::submit(
        &mut sim,
        300,
        Time::from_millis(100),
        Duration::from_millis(50),
        &[NodeId(0), NodeId(2), NodeId(3)],
    );
    sim.run_until(Time::from_millis(990));
    let crash_round = sim.engine(lagger).unwrap().round();
    assert!(
        submit_and_deliver(&mut sim, Time::from_secs(16), 1000, 60, Time::from_secs(40)),
        "the restarted node did not catch up"
    );
    let marks: Vec<_> = sim
        .delivered(lagger)
        .iter()
        .filter_map(|v| v.sync.clone())
        .collect();
    assert_eq!(marks.len(), 1, "exactly one jump");
    assert!(marks[0].anchor_round > crash_round + 5 * window);
    let checked = check_synced(&sim).unwrap();
    assert!(checked >= 20, "only {checked} values after the jump");
    // The jumped node's later checkpoints equal the others'.
    let lag_cps: Vec<_> = sim.engine(lagger).unwrap().checkpoints().cloned().collect();
    let mut compared = 0;
    for id in [NodeId(0), NodeId(2), NodeId(3)] {
        for cp in sim.engine(id).unwrap().checkpoints() {
            if let Some(mine) = lag_cps.iter().find(|c| c.anchor_round == cp.anchor_round) {
                assert_eq!(mine, cp);
                compared += 1;
            }
        }
    }
    assert!(compared > 0, "no common checkpoint");
}
