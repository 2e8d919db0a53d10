//! SBFT's fast path in the linear mode: three hops when every replica's
//! prepare reaches the collector in time, the slow path otherwise, and
//! fast decisions that survive view changes, partitions and restarts.
//! Safety by dwcp-sim's checkers; real sr25519 at n = 4 and 7, the insecure
//! mock in the seed sweep.

use dwcp_aggregation::linear::harness::{ForgeCertificates, WithholdCertificates};
use dwcp_aggregation::linear::{AggMessage, LinearConfig, LinearPbft};
use dwcp_core::{Duration, Fault, NodeId, Output, Time};
use dwcp_pbft::harness::request;
use dwcp_pbft::{Message, PbftConfig, VotePhase};
use dwcp_sim::adversary::{InvalidSignature, Silent};
use dwcp_sim::{
    Adversary, AdversaryCtx, FaultEvent, NetworkConfig, OutputOf, Partition, Simulation,
};
use proptest::prelude::*;

mod common;
use common::{live, load, sim};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn cfg(n: usize) -> LinearConfig {
    let mut c = LinearConfig::new(n).unwrap();
    c.pbft.checkpoint_interval = 4;
    c.pbft.window = 16;
    c.pbft.max_batch = 1;
    c
}

/// (fast decisions, fallbacks) summed over honest replicas.
fn fast_stats(s: &Simulation<LinearPbft>) -> (u64, u64) {
    s.honest()
        .iter()
        .filter_map(|id| s.engine(*id))
        .map(|e| e.pbft().stats())
        .fold((0, 0), |(d, f), st| {
            (d + st.fast_decisions, f + st.fast_fallbacks)
        })
}

fn sent(s: &Simulation<LinearPbft>, kind: &str) -> u64 {
    s.stats().kind(kind).map_or(0, |k| k.sent)
}

#[test]
fn fast_path_needs_no_commit_phase() {
    for (n, seed) in [(4, 1), (7, 2)] {
        let mut s = sim(cfg(n), seed, NetworkConfig::fixed(MS(10)), true);
        load(&mut s, &NodeId::all(n).collect::<Vec<_>>(), 12, MS(5));
        live(&mut s, 12, Time::from_secs(5));
        let (decided, fell_back) = fast_stats(&s);
        assert_eq!((decided, fell_back), (12 * n as u64, 0), "n={n}");
        assert_eq!(sent(&s, "commit") + sent(&s, "commit-cert"), 0, "n={n}");
    }
}

#[test]
fn a_silent_replica_forces_the_slow_path() {
    let n = 4;
    let mut s = sim(cfg(n), 3, NetworkConfig::fixed(MS(10)), true);
    s.make_byzantine(NodeId(3), Silent { after: Time::ZERO });
    load(&mut s, &NodeId::all(3).collect::<Vec<_>>(), 10, MS(5));
    live(&mut s, 10, Time::from_secs(5));
    let (decided, fell_back) = fast_stats(&s);
    assert_eq!(decided, 0, "no fast quorum without replica 3");
    assert_eq!(fell_back, 10, "the collector fell back once per slot");
    assert!(sent(&s, "commit") > 0 && sent(&s, "commit-cert") > 0);
}

#[test]
fn n_above_3f_plus_1_tolerates_slack_on_the_fast_path() {
    // n = 10, f = 2: quorum 7, slack c = 1: nine prepares decide at once.
    let mut c = cfg(10);
    c.pbft = PbftConfig {
        checkpoint_interval: 4,
        window: 16,
        max_batch: 1,
        ..PbftConfig::with_faults(10, 2).unwrap()
    };
    let mut s = sim(c, 4, NetworkConfig::fixed(MS(10)), true);
    s.make_byzantine(NodeId(9), Silent { after: Time::ZERO });
    load(&mut s, &NodeId::all(9).collect::<Vec<_>>(), 9, MS(5));
    live(&mut s, 9, Time::from_secs(5));
    let (decided, fell_back) = fast_stats(&s);
    assert_eq!((decided, fell_back), (9 * 9, 0));
}

/// A collector that strips one prepare from every commit proof: the result
/// is still a quorum (a slow-path prepare certificate) but no fast proof.
#[derive(Clone, Copy, Debug, Default)]
struct TruncateProofs;

impl Adversary<LinearPbft> for TruncateProofs {
    fn name(&self) -> &'static str {
        "truncate-proofs"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, LinearPbft>, output: OutputOf<LinearPbft>) {
        match output {
            Output::Send {
                to,
                msg: AggMessage::Pbft(Message::Certificate(mut c)),
            } if c.phase == VotePhase::Prepare => {
                c.votes.pop();
                ctx.send(to, AggMessage::Pbft(Message::Certificate(c)));
            }
            o => ctx.emit(o),
        }
    }
}

#[test]
fn byzantine_collectors_cannot_fake_or_block_decisions() {
    // Withheld proofs, forged proofs (other digest), truncated proofs.
    for (i, seed) in [(0, 11u64), (1, 12), (2, 13)] {
        let n = 4;
        let mut s = sim(cfg(n), seed, NetworkConfig::default(), true);
        match i {
            0 => s.make_byzantine(NodeId(0), WithholdCertificates),
            1 => s.make_byzantine(NodeId(0), ForgeCertificates),
            _ => s.make_byzantine(NodeId(0), TruncateProofs),
        }
        let honest: Vec<NodeId> = NodeId::all(n).skip(1).collect();
        load(&mut s, &honest, 20, MS(3));
        live(&mut s, 20, Time::from_secs(30));
        if i == 2 {
            // A truncated proof is only a prepare certificate: backups take
            // the slow path (commit votes) instead of deciding on it.
            assert!(sent(&s, "commit") > 0, "backups decided on a short proof");
        }
        if i == 1 {
            let accused = s
                .evidence()
                .iter()
                .any(|(_, r, ev)| s.is_honest(*r) && ev.culprit == NodeId(0));
            assert!(accused, "forged proofs are evidence against the collector");
        }
    }
}

#[test]
fn invalid_shares_force_the_slow_path_and_are_named() {
    let n = 4;
    let mut s = sim(cfg(n), 21, NetworkConfig::fixed(MS(10)), true);
    s.make_byzantine(NodeId(2), InvalidSignature { probability: 1.0 });
    load(&mut s, &[NodeId(0), NodeId(1), NodeId(3)], 10, MS(5));
    live(&mut s, 10, Time::from_secs(10));
    let (_, fell_back) = fast_stats(&s);
    assert!(fell_back > 0);
    let named = s.evidence().iter().any(|(_, r, ev)| {
        s.is_honest(*r) && ev.culprit == NodeId(2) && matches!(ev.fault, Fault::InvalidSignature)
    });
    assert!(named, "the collector names the bad signer");
}

/// Replica 0 decides `request(0)` on the fast path, but its commit proof
/// never leaves (one-way partition); the others change views without any
/// prepared certificate, holding only another request, `request(5)`. The
/// new view must re-propose `request(0)` at sequence number 1 from the
/// reported votes (classic PBFT's rule would put `request(5)` there and
/// contradict replica 0); with `restart`, two voters crash and restart in
/// between and must report their votes from disk.
fn view_change_after_fast_decision(restart: bool, seed: u64) {
    let n = 4;
    let mut c = cfg(n);
    c.pbft.status_interval = None;
    let mut s = sim(c, seed, NetworkConfig::fixed(MS(10)), true);
    let backups: Vec<NodeId> = NodeId::all(n).skip(1).collect();
    // Pre-prepare at 0 ms, prepares at the collector at 20 ms.
    s.submit(Time::ZERO, NodeId(0), request(0));
    for b in &backups {
        s.submit(Time::from_millis(12), *b, request(5));
    }
    s.partition_between(
        Time::from_millis(15),
        Time::from_secs(4),
        Partition::one_way(vec![NodeId(0)], backups.clone()),
    );
    s.run_until(Time::from_millis(45));
    let p0 = s.engine(NodeId(0)).unwrap().pbft().stats();
    assert_eq!((p0.fast_decisions, p0.delivered), (1, 1), "SEED={seed}");
    for b in &backups {
        assert_eq!(s.delivered(*b).len(), 0, "SEED={seed}: {b} saw no proof");
    }
    if restart {
        for b in [NodeId(1), NodeId(2)] {
            s.schedule(Time::from_millis(60), FaultEvent::Crash(b));
            s.schedule(Time::from_millis(80), FaultEvent::Restart(b));
            // The restarted replicas forgot the request: give it again.
            s.submit(Time::from_millis(100), b, request(5));
        }
    }
    s.submit(Time::from_millis(1500), NodeId(2), request(1));
    live(&mut s, 3, Time::from_secs(20));
    for id in NodeId::all(n) {
        assert_eq!(
            s.delivered(id).first(),
            Some(&request(0)),
            "SEED={seed}: replica {id} lost the fast decision"
        );
    }
    let views: Vec<u64> = backups
        .iter()
        .map(|b| s.engine(*b).unwrap().pbft().view())
        .collect();
    assert!(views.iter().all(|v| *v > 0), "SEED={seed}: {views:?}");
}

#[test]
fn a_fast_decision_survives_the_view_change() {
    view_change_after_fast_decision(false, 31);
}

#[test]
fn voters_report_their_votes_after_crash_restart() {
    view_change_after_fast_decision(true, 32);
}

#[test]
fn lagging_replica_catches_up_over_fast_proofs() {
    let n = 4;
    let mut s = sim(cfg(n), 41, NetworkConfig::fixed(MS(5)), true);
    // Replica 3 misses a stretch of fast decisions, then catches up.
    s.partition_between(
        Time::from_millis(200),
        Time::from_millis(600),
        Partition::isolate(vec![NodeId(3)]),
    );
    load(&mut s, &NodeId::all(3).collect::<Vec<_>>(), 60, MS(10));
    live(&mut s, 60, Time::from_secs(20));
    let (decided, fell_back) = fast_stats(&s);
    assert!(decided > 0 && fell_back > 0, "{decided} {fell_back}");
    assert!(s.engine(NodeId(3)).unwrap().pbft().stats().caught_up > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    /// Random seeds and faults (silent backup, lossy links, partitioned
    /// collector, crash-restart of a backup): safe and live.
    #[test]
    fn seed_sweep(seed in 0u64..1_000_000, fault in 0u8..4, wide in any::<bool>()) {
        let n = if wide { 7 } else { 4 };
        let net = if fault == 1 {
            NetworkConfig { loss: 0.1, ..NetworkConfig::default() }
        } else {
            NetworkConfig::default()
        };
        let mut s = sim(cfg(n), seed, net, false);
        let mut entry: Vec<NodeId> = NodeId::all(n).collect();
        match fault {
            0 => {
                s.make_byzantine(NodeId(n as u32 - 1), Silent { after: Time::from_millis(100) });
                entry.pop();
            }
            2 => s.partition_between(
                Time::from_millis(50),
                Time::from_millis(900),
                Partition::isolate(vec![NodeId(0)]),
            ),
            3 => {
                s.schedule(Time::from_millis(80), FaultEvent::Crash(NodeId(1)));
                s.schedule(Time::from_millis(500), FaultEvent::Restart(NodeId(1)));
                entry.retain(|id| *id != NodeId(1));
            }
            _ => {}
        }
        load(&mut s, &entry, 30, MS(7));
        live(&mut s, 30, Time::from_secs(40));
    }
}

fn bls_cfg(n: usize) -> LinearConfig {
    let mut c = cfg(n);
    c.bls_certificates = true;
    c
}

#[test]
fn bls_decision_certificates_on_the_wire() {
    let n = 4;
    let mut s = sim(bls_cfg(n), 51, NetworkConfig::fixed(MS(10)), true);
    load(&mut s, &NodeId::all(n).collect::<Vec<_>>(), 8, MS(5));
    live(&mut s, 8, Time::from_secs(5));
    assert_eq!(fast_stats(&s), (8 * n as u64, 0));
    // Every proof went out as one BLS aggregate (96-byte signature, bitmap).
    let proofs = s.stats().kind("prepare-cert").expect("proofs sent");
    assert_eq!(proofs.sent, 8 * (n as u64 - 1));
    assert!(proofs.sent_bytes / proofs.sent < 160, "{proofs:?}");
    // Slow path: commit certificates as BLS aggregates too.
    let mut s = sim(bls_cfg(n), 52, NetworkConfig::fixed(MS(10)), true);
    s.make_byzantine(NodeId(3), Silent { after: Time::ZERO });
    load(&mut s, &NodeId::all(3).collect::<Vec<_>>(), 6, MS(5));
    live(&mut s, 6, Time::from_secs(5));
    let commits = s.stats().kind("commit-cert").expect("commit certificates");
    assert!(commits.sent_bytes / commits.sent < 160, "{commits:?}");
}

/// A replica whose BLS shares are signed with a foreign key (its sr25519
/// votes stay valid).
#[derive(Clone, Debug)]
struct BadShares;

impl Adversary<LinearPbft> for BadShares {
    fn name(&self) -> &'static str {
        "bad-shares"
    }

    fn on_output(&mut self, ctx: &mut AdversaryCtx<'_, LinearPbft>, output: OutputOf<LinearPbft>) {
        match output {
            Output::Send {
                to,
                msg: AggMessage::BlsVote { vote, .. },
            } => {
                let share = dwcp_crypto::AggKeyring::bls(1, 99).secrets[0].sign(b"junk");
                ctx.send(to, AggMessage::BlsVote { vote, share });
            }
            o => ctx.emit(o),
        }
    }
}

#[test]
fn bls_mode_with_bad_shares_and_forging_collectors() {
    let n = 4;
    let mut s = sim(bls_cfg(n), 53, NetworkConfig::fixed(MS(10)), true);
    s.make_byzantine(NodeId(2), BadShares);
    load(&mut s, &[NodeId(0), NodeId(1), NodeId(3)], 6, MS(5));
    live(&mut s, 6, Time::from_secs(10));
    let named = s
        .evidence()
        .iter()
        .any(|(_, r, ev)| s.is_honest(*r) && ev.culprit == NodeId(2));
    assert!(named, "the collector names the bad share's signer");
    for (i, seed) in [(0, 54u64), (1, 55)] {
        let mut s = sim(bls_cfg(n), seed, NetworkConfig::default(), true);
        if i == 0 {
            s.make_byzantine(NodeId(0), ForgeCertificates);
        } else {
            s.make_byzantine(NodeId(0), WithholdCertificates);
        }
        load(
            &mut s,
            &NodeId::all(n).skip(1).collect::<Vec<_>>(),
            8,
            MS(3),
        );
        live(&mut s, 8, Time::from_secs(30));
    }
}
