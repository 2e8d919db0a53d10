//! Simulator helpers shared by the linear-mode integration tests.
#![allow(dead_code)] // each test binary uses a different part

use dwcp_aggregation::linear::harness;
use dwcp_aggregation::linear::{LinearConfig, LinearPbft};
use dwcp_core::{Duration, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness::{CryptoMode, check, request};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};

/// A cluster with real sr25519 keys (`real`) or the insecure mock.
pub fn sim(c: LinearConfig, seed: u64, net: NetworkConfig, real: bool) -> Simulation<LinearPbft> {
    let n = c.pbft.n;
    let crypto = if real {
        CryptoMode::Sr25519
    } else {
        CryptoMode::Keys(Keyring::insecure_mock(n, seed))
    };
    harness::cluster(c, SimConfig::new(n, seed).with_network(net), crypto)
}

/// `count` requests to the given replicas, round robin, one every `every`.
pub fn load(s: &mut Simulation<LinearPbft>, to: &[NodeId], count: u64, every: Duration) {
    let mut at = Time::ZERO;
    for i in 0..count {
        s.submit(at, to[i as usize % to.len()], request(i));
        at += every;
    }
}

/// Safety, and no honest replica accused another.
pub fn safe(s: &Simulation<LinearPbft>) {
    check(s).unwrap_or_else(|v| panic!("SEED={}: {v}", s.config().seed));
    for (_, reporter, ev) in s.evidence() {
        if s.is_honest(*reporter) {
            assert!(
                !s.is_honest(ev.culprit),
                "SEED={} honest {reporter} accused honest {}: {ev:?}",
                s.config().seed,
                ev.culprit
            );
        }
    }
}

/// Liveness (every submitted request delivered by `deadline`), then safety.
pub fn live(s: &mut Simulation<LinearPbft>, count: u64, deadline: Time) {
    let seed = s.config().seed;
    s.run_until_delivered(count as usize, deadline)
        .unwrap_or_else(|v| panic!("SEED={seed}: {v}"));
    safe(s);
}
