//! Smoke test: a small cluster commits every transaction.
use dwcp_core::{Duration, Time};
use dwcp_sim::NetworkConfig;
use dwcp_tusk::harness::{self, CryptoMode};

#[test]
fn four_nodes_commit_everything() {
    let mut sim = harness::cluster(4, 1, CryptoMode::Real, NetworkConfig::default());
    harness::submit(&mut sim, 40, Time::ZERO, Duration::from_millis(5), &[]);
    harness::run_until_txs(&mut sim, 40, Time::from_secs(20)).unwrap();
    harness::check(&sim).unwrap();
    let e = sim.engine(dwcp_core::NodeId(0)).unwrap();
    eprintln!(
        "round {} ordered {} mem {:?} t={}",
        e.round(),
        e.ordered(),
        e.memory(),
        sim.now()
    );
}
