//! Simulated Tusk clusters under faults: the same total order at every
//! honest node, and every transaction submitted to an honest node commits.

use dwcp_core::{NodeId, Time};
use dwcp_sim::adversary::Silent;
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig, Simulation};
use dwcp_tusk::TuskNode;
use dwcp_tusk::harness::{self, CryptoMode};

fn cluster(n: usize, seed: u64, net: NetworkConfig) -> Simulation<TuskNode> {
    harness::cluster_with(
        harness::test_config(n),
        SimConfig::new(n, seed).with_network(net),
        CryptoMode::Real,
    )
}

#[test]
fn fault_free_wan_orders_identically() {
    let mut sim = cluster(4, 1, NetworkConfig::wan());
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(40)).unwrap();
}

#[test]
fn silent_node_does_not_stop_the_coin() {
    let mut sim = cluster(4, 2, NetworkConfig::default());
    sim.make_byzantine(NodeId(2), Silent { after: Time::ZERO });
    harness::load_and_check(
        &mut sim,
        40,
        &[NodeId(0), NodeId(1), NodeId(3)],
        Time::from_secs(40),
    )
    .unwrap();
}

#[test]
fn partition_heals() {
    let mut sim = cluster(4, 3, NetworkConfig::default());
    sim.partition_between(
        Time::from_millis(400),
        Time::from_secs(2),
        Partition::split(vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2), NodeId(3)]]),
    );
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(40)).unwrap();
}

#[test]
fn crash_restart_keeps_the_order() {
    let mut sim = cluster(4, 4, NetworkConfig::default());
    sim.schedule(Time::from_millis(600), FaultEvent::Crash(NodeId(1)));
    sim.schedule(Time::from_millis(1800), FaultEvent::Restart(NodeId(1)));
    harness::load_and_check(
        &mut sim,
        60,
        &[NodeId(0), NodeId(2), NodeId(3)],
        Time::from_secs(40),
    )
    .unwrap();
}
