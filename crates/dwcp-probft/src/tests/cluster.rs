//! Simulated clusters: agreement (dwcp-sim's independent checkers plus "no
//! correct replica signed two digests for one position, restarts included")
//! and liveness after GST, for n = 16 and 31 with real sr25519 signatures
//! and VRFs and n = 64 with the insecure mock, under faulty replicas that are
//! silent, equivocate (as leader), send invalid VRF proofs, send votes
//! outside their sample or send bad signatures; partitions; crash-restart.
//!
//! ProBFT's agreement is probabilistic (see `crate::bound`); these runs use
//! fixed seeds, and a failure is either a bug or an unlucky draw: the
//! message says which seed, so it can be replayed and examined.

use crate::adversary::{Equivocator, OutsideSample, WrongProof};
use crate::harness;
use crate::message::{Message, Phase};
use crate::{Probft, ProbftConfig, Record};
use dwcp_core::{Digest, Duration, Fault, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness::{check, client_keys, request};
use dwcp_sim::adversary::{Flood, InvalidSignature, Silent};
use dwcp_sim::{FaultEvent, Gst, NetworkConfig, Partition, SimConfig, Simulation};
use std::collections::BTreeMap;

const AT: fn(u64) -> Time = Time::from_millis;

fn keys(n: usize, seed: u64) -> Keyring {
    if n <= 31 {
        Keyring::sr25519(n, seed)
    } else {
        Keyring::insecure_mock(n, seed)
    }
}

fn sim(n: usize, seed: u64, net: NetworkConfig) -> (Simulation<Probft>, Keyring) {
    let k = keys(n, seed);
    let mut cfg = ProbftConfig::new(n).unwrap();
    cfg.clients = Some(client_keys().publics.clone());
    (
        harness::cluster_with(cfg, SimConfig::new(n, seed).with_network(net), k.clone()),
        k,
    )
}

/// Partial synchrony: lossy and slow until 1.5 s, then bounded.
fn gst_net() -> NetworkConfig {
    NetworkConfig {
        gst: Some(Gst {
            at: AT(1_500),
            loss_before: 0.2,
            extra_delay_before: Duration::from_millis(80),
            delta: Duration::from_millis(30),
        }),
        ..NetworkConfig::default()
    }
}

/// `count` requests to the honest replicas, round robin, one every 10 ms.
fn load(s: &mut Simulation<Probft>, count: u64) {
    let honest = s.honest();
    for i in 0..count {
        s.submit(AT(i * 10), honest[i as usize % honest.len()], request(i));
    }
}

/// Agreement, validity, no double signing by honest replicas across their
/// whole persisted history, and no honest replica accused by another.
fn check_safety(s: &Simulation<Probft>) {
    check(s).unwrap_or_else(|v| panic!("{v}"));
    let seed = s.config().seed;
    for id in s.honest() {
        let mut signed: BTreeMap<(u8, u64, u64), Digest> = BTreeMap::new();
        for rec in s.persisted(id) {
            let (key, d) = match rec {
                Record::Proposed(p) => (
                    (2, p.header.body.view, p.header.body.slot),
                    p.header.body.digest,
                ),
                Record::Vote(v) => (
                    (v.body.phase.index() as u8, v.body.view, v.body.slot),
                    v.body.digest,
                ),
                _ => continue,
            };
            let first = *signed.entry(key).or_insert(d);
            assert_eq!(first, d, "SEED={seed} {id} signed two digests for {key:?}");
        }
    }
    for (_, reporter, ev) in s.evidence() {
        if s.is_honest(*reporter) {
            assert!(
                !s.is_honest(ev.culprit),
                "SEED={seed} honest {reporter} accused honest {}: {ev:?}",
                ev.culprit
            );
        }
    }
}

fn accused(s: &Simulation<Probft>, culprit: NodeId, what: impl Fn(&Fault) -> bool) -> bool {
    s.evidence()
        .iter()
        .any(|(_, r, e)| s.is_honest(*r) && e.culprit == culprit && what(&e.fault))
}

fn fault_free(n: usize, seed: u64) {
    let (mut s, _) = sim(n, seed, NetworkConfig::default());
    load(&mut s, 20);
    s.run_until_delivered(20, AT(20_000))
        .unwrap_or_else(|v| panic!("{v}"));
    check_safety(&s);
    // Nothing keeps ticking once everything is decided.
    let later = s.now() + Duration::from_secs(30);
    assert!(s.run_until_quiet(later), "SEED={seed} still busy");
    // Votes went to samples only: s prepares and s commits per replica and slot.
    let (sample, _) = s.engine(NodeId(0)).unwrap().sizes();
    let prepares = s.stats().kind("prepare").map_or(0, |k| k.sent);
    let slots = s.engine(NodeId(0)).unwrap().next_slot();
    assert!(
        prepares <= (n * sample) as u64 * slots,
        "SEED={seed} {prepares} prepares for {slots} slots"
    );
    assert!(s.evidence().is_empty(), "SEED={seed} {:?}", s.evidence());
}

#[test]
fn fault_free_16_31_64() {
    fault_free(16, 1);
    fault_free(31, 2);
    fault_free(64, 3);
}

/// `f` faulty replicas: 0 (the first leader) equivocates with its own key;
/// the others cycle through silent, wrong VRF proofs, votes outside the
/// sample and bad signatures. The network is partially synchronous.
fn byzantine_mix(n: usize, seed: u64, count: u64) {
    let f = (n - 1) / 3;
    let (mut s, k) = sim(n, seed, gst_net());
    s.make_byzantine(
        NodeId(0),
        Equivocator::new(k.secrets[0].clone(), Time::ZERO),
    );
    let mut roles = BTreeMap::new();
    for i in 1..f as u32 {
        let id = NodeId(i * 3 % n as u32);
        let role = i % 4;
        match role {
            0 => s.make_byzantine(id, Silent { after: Time::ZERO }),
            1 => s.make_byzantine(id, WrongProof::new(k.secrets[id.index()].clone())),
            2 => s.make_byzantine(id, OutsideSample),
            _ => s.make_byzantine(id, InvalidSignature { probability: 1.0 }),
        }
        roles.insert(id, role);
    }
    load(&mut s, count);
    s.run_until_delivered(count as usize, AT(120_000))
        .unwrap_or_else(|v| panic!("{v}"));
    check_safety(&s);
    assert!(
        accused(&s, NodeId(0), |f| matches!(f, Fault::Equivocation { .. })),
        "SEED={seed} equivocation unnoticed"
    );
    // A faulty replica that never got to vote in a view the others worked
    // in cannot be caught, so this asks only that some were.
    let caught = roles.iter().filter(|(id, role)| match role {
        1 => accused(&s, **id, |f| *f == Fault::InvalidProof),
        2 => accused(
            &s,
            **id,
            |f| matches!(f, Fault::Protocol(r) if r.contains("outside")),
        ),
        3 => accused(&s, **id, |f| *f == Fault::InvalidSignature),
        _ => false,
    });
    assert!(caught.count() > 0, "SEED={seed} no faulty voter was caught");
}

#[test]
fn byzantine_mix_16() {
    byzantine_mix(16, 11, 20);
}

#[test]
fn byzantine_mix_31() {
    byzantine_mix(31, 12, 12);
}

#[test]
fn byzantine_mix_64() {
    byzantine_mix(64, 13, 12);
}

#[test]
fn silent_faulty_replicas_after_gst() {
    for (n, seed) in [(16, 21), (31, 22), (64, 23)] {
        let f = (n - 1) / 3;
        let (mut s, _) = sim(n, seed, gst_net());
        // The faulty ones include the first two leaders.
        for i in 0..f as u32 {
            s.make_byzantine(NodeId(i * 2 % n as u32), Silent { after: Time::ZERO });
        }
        load(&mut s, 10);
        s.run_until_delivered(10, AT(120_000))
            .unwrap_or_else(|v| panic!("{v}"));
        check_safety(&s);
    }
}

#[test]
fn partition_of_the_leader_then_heal() {
    let (mut s, _) = sim(16, 31, NetworkConfig::default());
    // The leader and five others are cut off from 0.2 s to 3 s.
    let minority: Vec<NodeId> = (0..6).map(NodeId).collect();
    s.partition_between(AT(200), AT(3_000), Partition::isolate(minority));
    load(&mut s, 30);
    s.run_until(AT(3_000));
    check_safety(&s);
    s.run_until_delivered(30, AT(60_000))
        .unwrap_or_else(|v| panic!("{v}"));
    check_safety(&s);
    let views: Vec<u64> = s
        .honest()
        .iter()
        .filter_map(|id| s.engine(*id))
        .map(Probft::view)
        .collect();
    assert!(
        views.iter().all(|v| *v > 0),
        "the isolated leader was replaced: {views:?}"
    );
}

#[test]
fn crash_restart_keeps_promises() {
    for (n, seed) in [(16, 41), (31, 42)] {
        let (mut s, _) = sim(n, seed, NetworkConfig::default());
        // Requests go to replicas that stay up (a crashed one drops them).
        let up: Vec<NodeId> = NodeId::all(n)
            .filter(|id| ![0, 5, 9].contains(&id.0))
            .collect();
        for i in 0..30u64 {
            s.submit(AT(i * 10), up[i as usize % up.len()], request(i));
        }
        // The leader crashes mid-run and comes back; two others bounce.
        s.schedule(AT(120), FaultEvent::Crash(NodeId(0)));
        s.schedule(AT(150), FaultEvent::Crash(NodeId(5)));
        s.schedule(AT(900), FaultEvent::Restart(NodeId(5)));
        s.schedule(AT(1_400), FaultEvent::Restart(NodeId(0)));
        s.schedule(AT(1_600), FaultEvent::Crash(NodeId(9)));
        s.schedule(AT(1_650), FaultEvent::Restart(NodeId(9)));
        s.run_until(AT(2_000));
        s.run_until_delivered(30, AT(60_000))
            .unwrap_or_else(|v| panic!("{v}"));
        check_safety(&s);
        for id in [0, 5, 9] {
            assert!(s.is_up(NodeId(id)), "SEED={seed} {id} restarted");
            assert_eq!(
                s.delivered(NodeId(id)).len(),
                30,
                "SEED={seed} {id} caught up"
            );
        }
        // A restarted replica's votes were persisted before they were sent.
        assert!(
            s.persisted(NodeId(0))
                .iter()
                .any(|r| matches!(r, Record::Vote(v) if v.body.phase == Phase::Commit))
        );
    }
}

/// Faulty replicas (the first leader among them) flood peers with mutated
/// copies of what they send, forged client requests included. Clients sign
/// their requests, so nothing a client never issued is ever ordered
/// (validity, checked by dwcp-pbft's harness `check`) and the forgers are
/// accused.
#[test]
fn forged_client_requests_are_never_ordered() {
    let (n, seed) = (16, 61);
    let f = (n - 1) / 3;
    let (mut s, _) = sim(n, seed, NetworkConfig::default());
    let byz: Vec<NodeId> = NodeId::all(f).collect();
    for b in &byz {
        s.make_byzantine(
            *b,
            Flood::<Message>::new(Time::ZERO, Duration::from_millis(5), 8).with_mutation(),
        );
    }
    load(&mut s, 20);
    s.run_until_delivered(20, AT(60_000))
        .unwrap_or_else(|v| panic!("{v}"));
    check_safety(&s);
    let forgers = byz
        .iter()
        .filter(|b| accused(&s, **b, |f| *f == Fault::InvalidSignature))
        .count();
    assert!(forgers > 0, "SEED={seed} no forger accused");
}
