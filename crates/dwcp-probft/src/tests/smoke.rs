use crate::harness;
use dwcp_core::{Duration, Time};
use dwcp_pbft::harness::{check, submit_requests};
use dwcp_sim::NetworkConfig;

#[test]
fn smoke_n16() {
    let mut sim = harness::cluster(16, 7, harness::real_keys, NetworkConfig::default());
    submit_requests(&mut sim, 10, Time::ZERO, Duration::from_millis(1));
    sim.run_until_delivered(10, Time::from_secs(10))
        .unwrap_or_else(|v| panic!("{v}"));
    check(&sim).unwrap();
    println!("{:?}", sim.stats().kinds);
    println!(
        "decisions {} msgs/dec {}",
        sim.decisions(),
        sim.messages_per_decision()
    );
    for id in sim.honest() {
        println!("{:?}", sim.engine(id).map(|e| e.stats()));
    }
}
