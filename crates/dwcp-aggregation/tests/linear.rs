//! The linear PBFT mode in the simulator: safety by dwcp-sim's independent
//! checkers, liveness as "every submitted request delivered by every honest
//! replica by a deadline after the faults end". Real sr25519 signatures at
//! n = 4, 7, 10; the insecure mock at n = 31 and 64.

use dwcp_aggregation::linear::harness::{ForgeCertificates, WithholdCertificates};
use dwcp_aggregation::linear::{LinearConfig, LinearPbft, Voting};
use dwcp_core::{Duration, Fault, NodeId, Time};
use dwcp_sim::adversary::{InvalidSignature, Silent};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, Simulation};

mod common;
use common::{live, load, safe, sim};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn cfg(n: usize) -> LinearConfig {
    let mut c = LinearConfig::new(n).unwrap();
    c.pbft.checkpoint_interval = 4;
    c.pbft.window = 16;
    c
}

fn honest_accusations(s: &Simulation<LinearPbft>, culprit: NodeId) -> usize {
    s.evidence()
        .iter()
        .filter(|(_, r, ev)| s.is_honest(*r) && ev.culprit == culprit)
        .count()
}

#[test]
fn no_faults_linear_message_counts() {
    for (n, seed, real, fast) in [
        (4, 1, true, true),
        (4, 1, true, false),
        (7, 2, true, true),
        (10, 3, true, false),
        (31, 4, false, true),
        (64, 5, false, false),
        (64, 5, false, true),
    ] {
        let mut c = cfg(n);
        c.pbft.max_batch = 1;
        c.pbft.status_interval = None;
        if !fast {
            c.fast_path = None;
        }
        let mut s = sim(c, seed, NetworkConfig::fixed(MS(10)), real);
        let all: Vec<NodeId> = NodeId::all(n).collect();
        load(&mut s, &all, 24, MS(5));
        live(&mut s, 24, Time::from_secs(5));
        let d = s.decisions();
        assert_eq!(d, 24);
        let per = s.messages_per_decision();
        // Slow path: pre-prepare, prepares, prepare cert, commits, commit
        // cert: 5(n-1). Fast path: pre-prepare, prepares, commit proof:
        // 3(n-1). Plus forwarding and collected checkpoints (2(n-1)/K, K = 4).
        let phases = if fast { 3.0 } else { 5.0 };
        let expected = phases * (n as f64 - 1.0) + 1.0 + 2.0 * (n as f64 - 1.0) / 4.0;
        let kinds: Vec<(&str, u64)> = s.stats().kinds.iter().map(|k| (k.kind, k.sent)).collect();
        assert!(
            (per - expected).abs() <= 0.05 * expected,
            "n={n}: {per} per decision, expected {expected}: {kinds:?}"
        );
        for id in all {
            let st = s.engine(id).unwrap().pbft().stats();
            assert_eq!((st.view, st.view_changes), (0, 0), "n={n}");
            let fast_decided = if fast { 24 } else { 0 };
            assert_eq!(st.fast_decisions, fast_decided, "n={n} fast={fast}");
            assert_eq!(st.fast_fallbacks, 0, "n={n}");
            assert_eq!(s.engine(id).unwrap().stats().fallback_votes, 0);
        }
        assert!(
            s.stats()
                .kind("checkpoint")
                .is_none_or(|k| k.sent <= (n as u64 - 1) * 6 + 6)
        );
    }
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut s = sim(cfg(7), 11, NetworkConfig::default(), true);
        load(&mut s, &NodeId::all(7).collect::<Vec<_>>(), 30, MS(1));
        s.run_until(Time::from_secs(2));
        s.trace_hash()
    };
    assert_eq!(run(), run());
}

#[test]
fn withholding_collector_is_routed_around() {
    // The primary of view 0 collects but never relays certificates.
    for (n, seed, real) in [(4, 21, true), (7, 22, true), (31, 23, false)] {
        let mut s = sim(cfg(n), seed, NetworkConfig::default(), real);
        s.make_byzantine(NodeId(0), WithholdCertificates);
        let honest: Vec<NodeId> = NodeId::all(n).skip(1).collect();
        load(&mut s, &honest, 40, MS(2));
        live(&mut s, 40, Time::from_secs(20));
        let moved = honest
            .iter()
            .any(|id| s.engine(*id).unwrap().pbft().view() > 0);
        let fell_back = honest
            .iter()
            .any(|id| s.engine(*id).unwrap().stats().fallback_votes > 0);
        assert!(
            moved || fell_back,
            "n={n}: neither a view change nor a fallback"
        );
    }
}

#[test]
fn forging_collector_is_accused_and_replaced() {
    for (n, seed, real) in [(4, 31, true), (10, 32, true)] {
        let mut s = sim(cfg(n), seed, NetworkConfig::default(), real);
        s.make_byzantine(NodeId(0), ForgeCertificates);
        let honest: Vec<NodeId> = NodeId::all(n).skip(1).collect();
        load(&mut s, &honest, 40, MS(2));
        live(&mut s, 40, Time::from_secs(20));
        assert!(
            honest_accusations(&s, NodeId(0)) > 0,
            "n={n}: forged certificates went unnoticed"
        );
    }
}

#[test]
fn invalid_shares_are_dropped_and_named() {
    // f replicas send every message with a corrupted signature; the honest
    // collector still certifies with the n - f valid shares.
    for (n, seed, real) in [(4, 41, true), (7, 42, true), (10, 43, true)] {
        let f = (n - 1) / 3;
        let mut s = sim(cfg(n), seed, NetworkConfig::default(), real);
        let bad: Vec<NodeId> = (n - f..n).map(|i| NodeId(i as u32)).collect();
        for b in &bad {
            s.make_byzantine(*b, InvalidSignature { probability: 1.0 });
        }
        let honest: Vec<NodeId> = NodeId::all(n - f).collect();
        load(&mut s, &honest, 40, MS(2));
        live(&mut s, 40, Time::from_secs(10));
        for b in &bad {
            let sig = s
                .evidence()
                .iter()
                .filter(|(_, r, ev)| {
                    s.is_honest(*r) && ev.culprit == *b && ev.fault == Fault::InvalidSignature
                })
                .count();
            assert!(sig > 0, "n={n}: {b}'s invalid shares went unnoticed");
        }
        assert_eq!(
            s.engine(NodeId(1)).unwrap().pbft().view(),
            0,
            "no view change needed"
        );
    }
}

#[test]
fn f_silent_replicas_and_a_silent_collector() {
    let n = 7;
    let mut s = sim(cfg(n), 51, NetworkConfig::default(), true);
    s.make_byzantine(NodeId(0), Silent { after: Time::ZERO });
    s.make_byzantine(NodeId(3), Silent { after: Time::ZERO });
    let honest = vec![NodeId(1), NodeId(2), NodeId(4), NodeId(5), NodeId(6)];
    load(&mut s, &honest, 40, MS(2));
    live(&mut s, 40, Time::from_secs(20));
}

#[test]
fn partitioned_collector_then_heal() {
    let n = 7;
    let mut s = sim(cfg(n), 61, NetworkConfig::default(), true);
    // The collector of view 0 is cut off from everybody for 1.5 s.
    s.partition_between(
        Time::from_millis(100),
        Time::from_millis(1600),
        Partition::isolate(vec![NodeId(0)]),
    );
    let all: Vec<NodeId> = NodeId::all(n).collect();
    load(&mut s, &all, 60, MS(25));
    s.run_until(Time::from_millis(1600));
    safe(&s);
    live(&mut s, 60, Time::from_secs(20));
}

#[test]
fn minority_partition_with_loss() {
    let n = 10;
    let net = NetworkConfig {
        loss: 0.05,
        ..NetworkConfig::default()
    };
    let mut s = sim(cfg(n), 71, net, true);
    s.partition_between(
        Time::from_millis(50),
        Time::from_millis(800),
        Partition::isolate(vec![NodeId(7), NodeId(8), NodeId(9)]),
    );
    let all: Vec<NodeId> = NodeId::all(7).collect();
    load(&mut s, &all, 50, MS(10));
    live(&mut s, 50, Time::from_secs(30));
}

#[test]
fn crash_restart_of_replica_and_collector() {
    let n = 7;
    let mut s = sim(cfg(n), 81, NetworkConfig::default(), true);
    s.schedule(Time::from_millis(60), FaultEvent::Crash(NodeId(4)));
    s.schedule(Time::from_millis(400), FaultEvent::Restart(NodeId(4)));
    s.schedule(Time::from_millis(150), FaultEvent::Crash(NodeId(0)));
    s.schedule(Time::from_millis(1500), FaultEvent::Restart(NodeId(0)));
    let entry = vec![NodeId(1), NodeId(2), NodeId(3), NodeId(5), NodeId(6)];
    load(&mut s, &entry, 60, MS(15));
    live(&mut s, 60, Time::from_secs(30));
}

#[test]
fn linear_prepare_and_all_to_all_modes_also_work() {
    for voting in [Voting::LinearPrepare, Voting::AllToAll] {
        let mut c = cfg(7);
        c.voting = voting;
        let mut s = sim(c, 91, NetworkConfig::default(), true);
        load(&mut s, &NodeId::all(7).collect::<Vec<_>>(), 30, MS(2));
        live(&mut s, 30, Time::from_secs(5));
    }
}

#[test]
fn weighted_committee() {
    // Node 0 carries weight 4 of 10; faulty weight 3 (nodes 5 and 6 hold 3).
    let mut c = cfg(7);
    c.weights = Some(vec![4, 1, 1, 1, 1, 1, 2]);
    c.faulty_weight = 3;
    let mut s = sim(c, 101, NetworkConfig::default(), true);
    s.make_byzantine(NodeId(5), Silent { after: Time::ZERO });
    s.make_byzantine(NodeId(6), Silent { after: Time::ZERO });
    load(&mut s, &NodeId::all(5).collect::<Vec<_>>(), 30, MS(2));
    live(&mut s, 30, Time::from_secs(5));
}

#[test]
fn lossy_links_are_repaired_by_certificate_resends() {
    // 15% loss on every copy: replicas that miss a certificate retransmit
    // their vote and the collector answers with the certificate.
    let n = 7;
    let net = NetworkConfig {
        loss: 0.15,
        ..NetworkConfig::default()
    };
    let mut s = sim(cfg(n), 111, net, true);
    load(&mut s, &NodeId::all(n).collect::<Vec<_>>(), 40, MS(5));
    live(&mut s, 40, Time::from_secs(30));
    let resent: u64 = NodeId::all(n)
        .map(|id| s.engine(id).unwrap().stats().certificates_resent)
        .sum();
    assert!(resent > 0, "no certificate was re-sent under 15% loss");
}

#[test]
fn withholding_checkpoint_collector_falls_back_to_broadcast() {
    // Only checkpoint certificates are withheld; votes flow normally, so
    // checkpoints become stable through re-sends and the broadcast fallback.
    let n = 4;
    let mut s = sim(cfg(n), 121, NetworkConfig::default(), true);
    s.make_byzantine(
        NodeId(0),
        dwcp_sim::adversary::FnAdversary::new(
            "withhold-checkpoint-certs",
            |ctx: &mut dwcp_sim::AdversaryCtx<'_, LinearPbft>,
             out: dwcp_sim::OutputOf<LinearPbft>| match &out {
                dwcp_core::Output::Send {
                    msg: dwcp_aggregation::linear::AggMessage::CheckpointCert { .. },
                    ..
                } => {}
                _ => ctx.emit(out),
            },
        ),
    );
    load(
        &mut s,
        &NodeId::all(n).skip(1).collect::<Vec<_>>(),
        40,
        MS(2),
    );
    live(&mut s, 40, Time::from_secs(10));
    s.run_for(Duration::from_secs(1));
    let honest = [NodeId(1), NodeId(2), NodeId(3)];
    let resends: u64 = honest
        .iter()
        .map(|id| s.engine(*id).unwrap().stats().checkpoint_resends)
        .sum();
    assert!(resends > 0);
    for id in honest {
        let st = s.engine(id).unwrap().pbft().stats();
        assert!(st.last_executed >= 8, "{id}: {st:?}");
        assert_eq!(
            st.stable_checkpoint,
            st.last_executed / 4 * 4,
            "{id}: {st:?}"
        );
    }
}

/// 30 seeds, n = 4 and 7, 5% loss, a replica partitioned for 400 ms, and one
/// of: a withholding collector, a forging collector, a replica with half its
/// signatures corrupted, a crashed and restarted primary.
#[test]
fn seed_sweep_mixed_faults() {
    for seed in 200..230u64 {
        let n = if seed % 2 == 0 { 4 } else { 7 };
        let net = NetworkConfig {
            loss: 0.05,
            ..NetworkConfig::default()
        };
        let mut s = sim(cfg(n), seed, net, true);
        match seed % 4 {
            0 => s.make_byzantine(NodeId(0), WithholdCertificates),
            1 => s.make_byzantine(NodeId(0), ForgeCertificates),
            2 => s.make_byzantine(NodeId(1), InvalidSignature { probability: 0.5 }),
            _ => {
                s.schedule(Time::from_millis(50), FaultEvent::Crash(NodeId(0)));
                s.schedule(Time::from_millis(900), FaultEvent::Restart(NodeId(0)));
            }
        }
        s.partition_between(
            Time::from_millis(300),
            Time::from_millis(700),
            Partition::isolate(vec![NodeId(2)]),
        );
        let entry: Vec<NodeId> = NodeId::all(n).skip(2).collect();
        load(&mut s, &entry, 50, MS(7));
        live(&mut s, 50, Time::from_secs(40));
    }
}
