//! PBFT in the simulator: safety checked by dwcp-sim's independent checkers,
//! liveness as "every submitted request delivered by every honest replica by
//! a deadline after the faults end", for n = 4, 7, 10, 31 with real sr25519
//! signatures and n = 100 (see `n100_*`).

#![cfg(feature = "sim")]

use dwcp_core::{Digest, Duration, Fault, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::adversary::Equivocator;
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_pbft::{Message, Pbft, PbftConfig, Record};
use dwcp_sim::adversary::{Flood, InvalidSignature, Silent};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig, Simulation};
use std::collections::BTreeMap;

const MS: fn(u64) -> Duration = Duration::from_millis;
const AT: fn(u64) -> Time = Time::from_millis;

fn sim(n: usize, seed: u64, net: NetworkConfig) -> (Simulation<Pbft>, Keyring) {
    let keys = Keyring::sr25519(n, seed);
    let cfg = PbftConfig::new(n).unwrap();
    let s = harness::cluster_with(
        cfg,
        SimConfig::new(n, seed).with_network(net),
        CryptoMode::Keys(keys.clone()),
    );
    (s, keys)
}

/// Submits `count` requests to the given replicas, round robin, one every
/// `every` from `start`.
fn load(s: &mut Simulation<Pbft>, to: &[NodeId], count: u64, start: Time, every: Duration) {
    let mut at = start;
    for i in 0..count {
        s.submit(at, to[i as usize % to.len()], harness::request(i));
        at += every;
    }
}

fn honest(s: &Simulation<Pbft>) -> Vec<NodeId> {
    s.honest()
}

/// Safety over the honest logs, and that no honest replica signed two
/// digests for one (view, seq, phase) across its whole persisted history
/// (restarts included), and no honest replica accused another.
fn check_safety(s: &Simulation<Pbft>) {
    harness::check(s).unwrap_or_else(|v| panic!("{v}"));
    for id in honest(s) {
        let mut signed: BTreeMap<(u64, u64, u8), Digest> = BTreeMap::new();
        for rec in s.persisted(id) {
            let (key, d) = match rec {
                Record::PrePrepare { pre_prepare, .. } => (
                    (pre_prepare.body.view, pre_prepare.body.seq, 0),
                    pre_prepare.body.digest,
                ),
                Record::Vote(v) => (
                    (v.body.view, v.body.seq, 1 + v.body.phase as u8),
                    v.body.digest,
                ),
                _ => continue,
            };
            let first = *signed.entry(key).or_insert(d);
            assert_eq!(
                first,
                d,
                "SEED={} {id} signed two digests for {key:?}",
                s.config().seed
            );
        }
    }
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

fn live(s: &mut Simulation<Pbft>, count: u64, deadline: Time) {
    s.run_until_delivered(count as usize, deadline)
        .unwrap_or_else(|v| panic!("{v}"));
    check_safety(s);
}

#[test]
fn no_faults_n4_7_10_31() {
    for (n, seed) in [(4, 1), (7, 2), (10, 3), (31, 4)] {
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        let all: Vec<NodeId> = NodeId::all(n).collect();
        load(&mut s, &all, 60, Time::ZERO, Duration::from_micros(200));
        live(&mut s, 60, Time::from_secs(3));
        for id in all {
            let st = s.engine(id).unwrap().stats();
            assert_eq!(
                (st.view, st.view_changes),
                (0, 0),
                "n={n} {id}: no view change without faults"
            );
        }
        // Same seed, same run.
        let (mut again, _) = sim(n, seed, NetworkConfig::default());
        load(
            &mut again,
            &NodeId::all(n).collect::<Vec<_>>(),
            60,
            Time::ZERO,
            Duration::from_micros(200),
        );
        again.run_until(s.now());
        assert_eq!(again.trace_hash(), s.trace_hash(), "n={n}: deterministic");
    }
}

#[test]
fn equivocating_primary_and_f_byzantine() {
    for (n, seed) in [(4, 11), (7, 12), (10, 13), (31, 14)] {
        let f = (n - 1) / 3;
        let (mut s, keys) = sim(n, seed, NetworkConfig::default());
        // Replica 0 (view 0's primary) and f - 1 others equivocate on every
        // pre-prepare, vote and checkpoint, each with its own key.
        let byz: Vec<NodeId> = (0..f as u32).map(|i| NodeId(i * 2)).collect();
        for b in &byz {
            s.make_byzantine(
                *b,
                Equivocator::new(keys.secrets[b.index()].clone(), Time::ZERO),
            );
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        load(&mut s, &good, 40, Time::ZERO, MS(1));
        live(&mut s, 40, Time::from_secs(20));
    }
}

#[test]
fn silent_primaries_trigger_view_changes() {
    for (n, seed) in [(4, 21), (7, 22), (10, 23), (31, 24)] {
        let f = (n - 1) / 3;
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        // The primaries of views 0 .. f-1 are silent from the start.
        let byz: Vec<NodeId> = (0..f as u32).map(NodeId).collect();
        for b in &byz {
            s.make_byzantine(*b, Silent { after: Time::ZERO });
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        load(&mut s, &good, 30, Time::ZERO, MS(1));
        // f silent primaries in a row cost f doubling view-change timeouts
        // (0.5 s, 1 s, 2 s, 4 s, then 8 s each): about 56 s for f = 10.
        live(&mut s, 30, Time::from_secs(10 + 8 * f as u64));
        let v = s.engine(good[0]).unwrap().view();
        assert!(
            v >= f as u64,
            "n={n}: moved past the silent primaries (view {v})"
        );
    }
}

#[test]
fn invalid_signatures_are_reported_and_never_counted() {
    for (n, seed) in [(4, 31), (7, 32), (10, 33), (31, 34)] {
        let f = (n - 1) / 3;
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        // The last f replicas corrupt every signature they send.
        let byz: Vec<NodeId> = (n - f..n).map(|i| NodeId(i as u32)).collect();
        for b in &byz {
            s.make_byzantine(*b, InvalidSignature { probability: 1.0 });
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        load(&mut s, &good, 30, Time::ZERO, MS(1));
        live(&mut s, 30, Time::from_secs(10));
        let accused: Vec<NodeId> = s
            .evidence()
            .iter()
            .filter(|(_, r, e)| s.is_honest(*r) && e.fault == Fault::InvalidSignature)
            .map(|(_, _, e)| e.culprit)
            .collect();
        for b in &byz {
            assert!(accused.contains(b), "n={n}: no evidence against {b}");
        }
    }
}

#[test]
fn minority_partition_heals_and_catches_up() {
    for (n, seed) in [(4, 41), (7, 42), (10, 43), (31, 44)] {
        let f = (n - 1) / 3;
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        // The primary and f - 1 others are cut off for two seconds while
        // requests flow; the majority changes view and carries on.
        let cut: Vec<NodeId> = (0..f as u32).map(NodeId).collect();
        s.partition_between(AT(100), AT(2_100), Partition::isolate(cut));
        let all: Vec<NodeId> = NodeId::all(n).collect();
        load(&mut s, &all, 80, Time::ZERO, MS(25));
        s.run_until(Time::from_millis(2_100));
        check_safety(&s);
        live(&mut s, 80, Time::from_secs(12));
    }
}

#[test]
fn split_without_quorum_recovers_after_heal() {
    let n = 7;
    let (mut s, _) = sim(n, 51, NetworkConfig::default());
    let a: Vec<NodeId> = (0..3).map(NodeId).collect();
    s.partition_between(AT(50), AT(3_000), Partition::split(vec![a]));
    load(
        &mut s,
        &NodeId::all(n).collect::<Vec<_>>(),
        40,
        Time::ZERO,
        MS(20),
    );
    s.run_until(Time::from_secs(3));
    check_safety(&s);
    live(&mut s, 40, Time::from_secs(25));
}

#[test]
fn crash_restart_including_the_primary() {
    for (n, seed) in [(4, 61), (7, 62), (10, 63), (31, 64)] {
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        // Requests go to replica 3, which never crashes (the simulator drops
        // requests handed to a crashed node).
        load(&mut s, &[NodeId(3)], 120, Time::ZERO, MS(10));
        // The primary crashes mid-stream and comes back; then a backup does.
        s.schedule(AT(150), FaultEvent::Crash(NodeId(0)));
        s.schedule(AT(900), FaultEvent::Restart(NodeId(0)));
        s.schedule(AT(1_000), FaultEvent::Crash(NodeId(2)));
        s.schedule(AT(1_300), FaultEvent::Restart(NodeId(2)));
        // And the new primary restarts too (crash and restart in one go).
        s.schedule(AT(1_500), FaultEvent::Restart(NodeId(1)));
        s.run_until(Time::from_millis(1_600));
        check_safety(&s);
        live(&mut s, 120, Time::from_secs(15));
    }
}

#[test]
fn lossy_wan_with_gst() {
    let n = 7;
    let mut net = NetworkConfig::wan();
    net.gst = Some(dwcp_sim::Gst {
        at: Time::from_secs(2),
        loss_before: 0.2,
        extra_delay_before: MS(200),
        delta: MS(300),
    });
    let (mut s, _) = sim(n, 71, net);
    load(
        &mut s,
        &NodeId::all(n).collect::<Vec<_>>(),
        50,
        Time::ZERO,
        MS(30),
    );
    live(&mut s, 50, Time::from_secs(20));
}

#[test]
fn linear_mode_delivers_with_fewer_messages() {
    let n = 10;
    let run = |linear: bool| {
        let cfg = PbftConfig::new(n).unwrap();
        let c = cfg.committee().unwrap();
        let policy = if linear {
            dwcp_pbft::ClassicPolicy::linear(c)
        } else {
            dwcp_pbft::ClassicPolicy::new(c)
        };
        let mut s =
            harness::cluster_with_policy(cfg, policy, SimConfig::new(n, 81), CryptoMode::Sr25519);
        harness::submit_requests(&mut s, 30, Time::ZERO, MS(2));
        s.run_until_delivered(30, Time::from_secs(5))
            .unwrap_or_else(|v| panic!("{v}"));
        harness::check(&s).unwrap();
        let votes = ["prepare", "commit", "certificate"]
            .iter()
            .map(|k| s.stats().kind(k).map_or(0, |x| x.sent))
            .sum::<u64>();
        votes as f64 / s.decisions() as f64
    };
    let (all_to_all, linear) = (run(false), run(true));
    assert!(
        linear * 2.0 < all_to_all,
        "linear {linear:.1} vs all-to-all {all_to_all:.1} vote copies per request"
    );
}

/// n = 100 with real sr25519 signatures: ~67 signature checks per replica
/// per phase, so the workload is kept to a handful of large batches.
#[test]
fn n100_no_faults_real_signatures() {
    let n = 100;
    let (mut s, _) = sim(n, 91, NetworkConfig::default());
    let all: Vec<NodeId> = NodeId::all(n).collect();
    load(&mut s, &all, 200, Time::ZERO, Duration::from_micros(20));
    live(&mut s, 200, Time::from_secs(5));
}

/// n = 100, 33 Byzantine: a silent primary, equivocators and invalid
/// signatures, with dwcp-crypto's insecure mock signatures (the protocol
/// logic is identical; only the cost of signing differs).
#[test]
fn n100_f_byzantine_mock_signatures() {
    let n = 100;
    let keys = Keyring::insecure_mock(n, 92);
    let cfg = PbftConfig::new(n).unwrap();
    let mut s = harness::cluster_with(cfg, SimConfig::new(n, 92), CryptoMode::Keys(keys.clone()));
    s.make_byzantine(NodeId(0), Silent { after: Time::ZERO });
    let mut byz = vec![NodeId(0)];
    for i in 1..33u32 {
        let id = NodeId(i * 3);
        if i % 2 == 0 {
            s.make_byzantine(
                id,
                Equivocator::new(keys.secrets[id.index()].clone(), Time::ZERO),
            );
        } else {
            s.make_byzantine(id, InvalidSignature { probability: 1.0 });
        }
        byz.push(id);
    }
    let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
    load(&mut s, &good, 100, Time::ZERO, MS(1));
    live(&mut s, 100, Time::from_secs(10));
}

/// Byzantine replicas (the primary included) flood peers with mutated
/// copies of what they send: forged client requests among them. Clients
/// sign their requests, so nothing a client never issued is ever ordered
/// (validity), and the forgers are accused.
#[test]
fn forged_client_requests_are_never_ordered() {
    for (n, seed) in [(4, 41), (7, 42)] {
        let f = (n - 1) / 3;
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        let byz: Vec<NodeId> = NodeId::all(f).collect();
        for b in &byz {
            s.make_byzantine(
                *b,
                Flood::<Message>::new(Time::ZERO, MS(5), 8).with_mutation(),
            );
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        load(&mut s, &good, 30, Time::ZERO, MS(2));
        live(&mut s, 30, Time::from_secs(30));
        let accused: Vec<NodeId> = s
            .evidence()
            .iter()
            .filter(|(_, r, e)| s.is_honest(*r) && e.fault == Fault::InvalidSignature)
            .map(|(_, _, e)| e.culprit)
            .collect();
        for b in &byz {
            assert!(accused.contains(b), "n={n}: no evidence against {b}");
        }
    }
}
