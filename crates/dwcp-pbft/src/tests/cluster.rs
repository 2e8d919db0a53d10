//! Small simulated clusters whose internals are inspected (the integration
//! suite in `tests/` goes wider).

use super::*;
use crate::harness::{self, CryptoMode};
use dwcp_core::Duration;
use dwcp_sim::adversary::Flood;
use dwcp_sim::{NetworkConfig, SimConfig};

#[test]
fn long_run_under_flooding_keeps_memory_bounded() {
    let n = 4;
    let mut c = PbftConfig::new(n).unwrap();
    c.max_batch = 1;
    c.checkpoint_interval = 4;
    c.window = 8;
    c.buffer_per_peer = 16;
    c.catch_up_retention = 16;
    let net = NetworkConfig::default();
    let mut s = harness::cluster_with(
        c.clone(),
        SimConfig::new(n, 5).with_network(net),
        CryptoMode::Keys(Keyring::insecure_mock(n, 5)),
    );
    // Replica 3 replays and mutates everything it sees, 50 copies every 5 ms.
    s.make_byzantine(
        NodeId(3),
        Flood::new(Time::ZERO, Duration::from_millis(5), 50).with_mutation(),
    );
    let count = 300;
    for i in 0..count {
        s.submit(
            Time::from_nanos(i * 500_000),
            NodeId((i % 3) as u32),
            harness::request(i),
        );
    }
    s.run_until_delivered(count as usize, Time::from_secs(30))
        .unwrap_or_else(|v| panic!("{v}"));
    harness::check(&s).unwrap();
    for id in [0, 1, 2].map(NodeId) {
        let e = s.engine(id).unwrap();
        assert!(
            e.log.slots.len() as u64 <= c.window,
            "{id}: {} slots",
            e.log.slots.len()
        );
        assert!(e.log.prepared.len() as u64 <= c.window);
        assert!(
            e.checkpoints
                .keys()
                .all(|s| *s > e.log.low() && *s <= e.log.high())
        );
        assert!(e.early.values().all(|q| q.len() <= c.buffer_per_peer));
        assert!(e.exec.decided.len() as u64 <= c.catch_up_retention);
        assert!(e.guard.len() as u64 <= 3 * c.window + c.window / c.checkpoint_interval);
        assert!(e.vc.latest.len() <= n);
        assert!(
            e.log.low() + 2 * c.window >= e.exec.last,
            "{id}: checkpoints keep up"
        );
        assert!(e.stats().evidence > 0, "{id}: the junk was reported");
    }
}
