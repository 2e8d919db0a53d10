//! Safety (and liveness after the faults end) over random seeds, committee
//! sizes and fault mixes.

#![cfg(feature = "sim")]

use dwcp_core::{Duration, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::PbftConfig;
use dwcp_pbft::adversary::Equivocator;
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_sim::adversary::{InvalidSignature, Mutate, Replay, Silent};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn safe_and_live_under_random_faults(
        seed in any::<u64>(),
        n in 4usize..=10,
        strategies in proptest::collection::vec(0u8..5, 2),
        cut_start in 0u64..500,
        cut_len in 0u64..1_500,
        crash in any::<bool>(),
        loss in 0u32..5,
    ) {
        let f = (n - 1) / 3;
        let keys = Keyring::insecure_mock(n, seed);
        let net = NetworkConfig { loss: f64::from(loss) / 100.0, duplicate: 0.01, ..NetworkConfig::default() };
        let cfg = PbftConfig::new(n).unwrap();
        let mut s = harness::cluster_with(cfg, SimConfig::new(n, seed).with_network(net), CryptoMode::Keys(keys.clone()));
        // Up to f Byzantine replicas, starting with view 0's primary.
        let byz: Vec<NodeId> = (0..f as u32).map(NodeId).collect();
        for (b, st) in byz.iter().zip(&strategies) {
            let key = keys.secrets[b.index()].clone();
            match st {
                0 => s.make_byzantine(*b, Equivocator::new(key, Time::ZERO)),
                1 => s.make_byzantine(*b, Silent { after: Time::from_millis(200) }),
                2 => s.make_byzantine(*b, InvalidSignature { probability: 0.5 }),
                3 => s.make_byzantine(*b, Mutate { probability: 0.5 }),
                _ => s.make_byzantine(*b, Replay::new(0.5, 32)),
            }
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        // One honest replica is cut off for a while; another may crash and come back.
        let cut = good[good.len() - 1];
        let (a, b) = (Time::from_millis(cut_start), Time::from_millis(cut_start + cut_len));
        s.partition_between(a, b, Partition::isolate(vec![cut]));
        let crashed = good[0];
        if crash {
            s.schedule(Time::from_millis(300), FaultEvent::Crash(crashed));
            s.schedule(Time::from_millis(1_200), FaultEvent::Restart(crashed));
        }
        let mut at = Time::ZERO;
        let count = 40u64;
        for i in 0..count {
            // Never to a replica while it is down (the simulator drops those).
            let to = good[(i as usize) % good.len()];
            let to = if crash && to == crashed { cut } else { to };
            s.submit(at, to, harness::request(i));
            at += Duration::from_millis(25);
        }
        s.run_until(Time::from_secs(2));
        prop_assert!(harness::check(&s).is_ok(), "{:?}", harness::check(&s));
        let live = s.run_until_delivered(count as usize, Time::from_secs(60));
        prop_assert!(live.is_ok(), "{}", live.unwrap_err());
        prop_assert!(harness::check(&s).is_ok(), "{:?}", harness::check(&s));
    }
}
