//! HotStuff in the simulator: safety by dwcp-sim's independent checkers (no
//! duplicates, one total order, one block per height, validity) plus "no
//! honest replica voted twice in a view or accused an honest one", and
//! liveness as "every submitted transaction delivered by every running
//! honest replica by a deadline after the faults end". Real blsttc and
//! sr25519 keys at n = 4; the insecure mock at larger n.

#![cfg(feature = "sim")]

use dwcp_core::{Duration, Fault, NodeId, Time};
use dwcp_crypto::{Keyring, ThresholdSetup};
use dwcp_hotstuff::adversary::{BadShares, Equivocator};
use dwcp_hotstuff::harness::{self, ClusterKeys, check, run_until_committed, submit_txs};
use dwcp_hotstuff::{HotStuff, HotStuffConfig, Record};
use dwcp_sim::adversary::Silent;
use dwcp_sim::workload::{LoadSpec, ThroughputConfig};
use dwcp_sim::{FaultEvent, Gst, NetworkConfig, Partition, RegionMatrix, SimConfig, Simulation};
use proptest::prelude::*;
use std::collections::BTreeSet;

const MS: fn(u64) -> Duration = Duration::from_millis;
const AT: fn(u64) -> Time = Time::from_millis;

fn mock_keys(n: usize, seed: u64) -> ClusterKeys {
    let f = (n - 1) / 3;
    ClusterKeys {
        keyring: Keyring::insecure_mock(n, seed),
        threshold: ThresholdSetup::insecure_mock(n, n - f, seed),
    }
}

fn nodes(range: std::ops::Range<u32>) -> Vec<NodeId> {
    range.map(NodeId).collect()
}

/// The harness checks, plus: no honest replica persisted two votes for one
/// view (restarts included), and no honest replica accused an honest one.
fn check_all(s: &Simulation<HotStuff>) {
    check(s).unwrap_or_else(|v| panic!("{v}"));
    for id in s.honest() {
        let mut voted = BTreeSet::new();
        for r in s.persisted(id) {
            if let Record::Voted(v) = r {
                assert!(
                    voted.insert(*v),
                    "SEED={} {id} voted twice in view {v}",
                    s.config().seed
                );
            }
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

fn accused(s: &Simulation<HotStuff>, culprit: NodeId, pred: impl Fn(&Fault) -> bool) -> bool {
    s.evidence()
        .iter()
        .any(|(_, r, ev)| s.is_honest(*r) && ev.culprit == culprit && pred(&ev.fault))
}

#[test]
fn commits_with_real_threshold_signatures() {
    let mut s = harness::cluster(4, 1, NetworkConfig::default(), ClusterKeys::real(4, 1, 1));
    submit_txs(&mut s, 0..200, AT(0), MS(2), &nodes(0..4));
    run_until_committed(&mut s, 200, AT(10_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    let e = s.engine(NodeId(0)).expect("up");
    assert!(
        e.stats().qcs_formed > 0 && e.stats().timeouts == 0,
        "{:?}",
        e.stats()
    );
    assert!(e.locked_qc().view > 0);
}

#[test]
fn single_replica_commits_alone() {
    let mut s = harness::cluster(1, 2, NetworkConfig::default(), mock_keys(1, 2));
    submit_txs(&mut s, 0..20, AT(0), MS(1), &nodes(0..1));
    run_until_committed(&mut s, 20, AT(2_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
}

#[test]
fn silent_leader_is_skipped_by_timeout_certificates() {
    let mut s = harness::cluster(4, 3, NetworkConfig::default(), ClusterKeys::real(4, 1, 3));
    s.make_byzantine(NodeId(2), Silent { after: AT(0) });
    submit_txs(
        &mut s,
        0..100,
        AT(0),
        MS(10),
        &[NodeId(0), NodeId(1), NodeId(3)],
    );
    run_until_committed(&mut s, 100, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    let e = s.engine(NodeId(0)).expect("up");
    assert!(e.stats().tcs_formed > 0, "{:?}", e.stats());
}

#[test]
fn equivocating_leader_is_caught_and_safety_holds() {
    let keys = ClusterKeys::real(4, 1, 4);
    let mut s = harness::cluster(4, 4, NetworkConfig::default(), keys.clone());
    s.make_byzantine(
        NodeId(3),
        Equivocator::new(keys.keyring.secrets[3].clone(), AT(0)),
    );
    submit_txs(&mut s, 0..100, AT(0), MS(10), &nodes(0..3));
    run_until_committed(&mut s, 100, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    assert!(accused(&s, NodeId(3), |f| matches!(
        f,
        Fault::Equivocation { .. }
    )));
}

#[test]
fn invalid_shares_are_named_by_bisection() {
    let keys = ClusterKeys::real(4, 1, 5);
    let mut s = harness::cluster(4, 5, NetworkConfig::default(), keys.clone());
    s.make_byzantine(NodeId(0), BadShares::new(keys.threshold.shares[0].clone()));
    submit_txs(&mut s, 0..100, AT(0), MS(10), &nodes(1..4));
    run_until_committed(&mut s, 100, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    assert!(accused(&s, NodeId(0), |f| *f == Fault::InvalidSignature));
}

#[test]
fn crash_restart_never_votes_twice_and_catches_up() {
    let mut s = harness::cluster(7, 6, NetworkConfig::default(), mock_keys(7, 6));
    s.schedule(AT(400), FaultEvent::Crash(NodeId(2)));
    s.schedule(AT(2_000), FaultEvent::Restart(NodeId(2)));
    s.schedule(AT(2_500), FaultEvent::Crash(NodeId(5)));
    s.schedule(AT(2_700), FaultEvent::Restart(NodeId(5)));
    submit_txs(
        &mut s,
        0..300,
        AT(0),
        MS(10),
        &[NodeId(0), NodeId(1), NodeId(3)],
    );
    run_until_committed(&mut s, 300, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    assert!(s.engine(NodeId(2)).is_some_and(|e| e.stats().fetched > 0));
}

#[test]
fn partition_heals_and_the_minority_catches_up() {
    let mut s = harness::cluster(7, 7, NetworkConfig::default(), mock_keys(7, 7));
    s.partition_between(
        AT(300),
        AT(2_500),
        Partition::isolate(vec![NodeId(5), NodeId(6)]),
    );
    submit_txs(&mut s, 0..300, AT(0), MS(10), &nodes(0..5));
    s.run_until(AT(2_500));
    check_all(&s);
    run_until_committed(&mut s, 300, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
}

#[test]
fn no_progress_during_a_split_then_live_after_gst() {
    // No side has n - f: nothing commits during the split; after it heals
    // (and GST) everything does.
    let net = NetworkConfig {
        loss: 0.01,
        duplicate: 0.01,
        gst: Some(Gst {
            at: AT(3_000),
            loss_before: 0.1,
            extra_delay_before: MS(100),
            delta: MS(50),
        }),
        ..NetworkConfig::default()
    };
    let mut s = harness::cluster(7, 8, net, mock_keys(7, 8));
    let split = Partition::split(vec![nodes(0..4), nodes(4..7)]);
    s.partition_between(AT(0), AT(2_000), split);
    submit_txs(&mut s, 0..200, AT(0), MS(10), &nodes(0..7));
    s.run_until(AT(1_900));
    assert!(s.honest().iter().all(|id| s.delivered(*id).is_empty()));
    run_until_committed(&mut s, 200, AT(30_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
}

#[test]
fn f_byzantine_replicas_together() {
    // n = 7, f = 2: an equivocating leader and a replica with bad shares,
    // on a lossy network that stabilises.
    let keys = mock_keys(7, 9);
    let net = NetworkConfig {
        loss: 0.01,
        gst: Some(Gst {
            at: AT(2_000),
            loss_before: 0.05,
            extra_delay_before: MS(50),
            delta: MS(40),
        }),
        ..NetworkConfig::default()
    };
    let mut s = harness::cluster(7, 9, net, keys.clone());
    s.make_byzantine(
        NodeId(1),
        Equivocator::new(keys.keyring.secrets[1].clone(), AT(0)),
    );
    s.make_byzantine(NodeId(4), BadShares::new(keys.threshold.shares[4].clone()));
    submit_txs(
        &mut s,
        0..300,
        AT(0),
        MS(10),
        &[NodeId(0), NodeId(2), NodeId(3), NodeId(5), NodeId(6)],
    );
    run_until_committed(&mut s, 300, AT(30_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
}

#[test]
fn memory_stays_bounded_over_many_views() {
    let mut cfg = HotStuffConfig::new(4);
    cfg.retention = 8;
    cfg.max_block_txs = 2;
    cfg.resubmit_timeout = Duration::from_secs(60);
    let mut s = harness::cluster_with(cfg, SimConfig::new(4, 10), mock_keys(4, 10));
    submit_txs(&mut s, 0..1_500, AT(0), MS(2), &nodes(0..4));
    run_until_committed(&mut s, 1_500, AT(60_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    for id in NodeId::all(4) {
        let e = s.engine(id).expect("up");
        assert!(e.committed_tip().0 >= 750);
        assert!(e.stored_blocks() <= 8 + 8, "{} blocks", e.stored_blocks());
    }
}

#[test]
fn throughput_run_commits_the_offered_load() {
    for crashed in [0, 1] {
        let r = harness::throughput(&ThroughputConfig {
            n: 4,
            crashed,
            seed: 11,
            network: NetworkConfig {
                latency: dwcp_sim::LatencyModel::Regions(RegionMatrix::five_regions()),
                ..NetworkConfig::default()
            },
            uplink_bytes_per_s: Some(10_000_000),
            load: LoadSpec {
                tx_size: 512,
                rate: 500.0,
                start: Time::ZERO,
                warmup: MS(1_000),
                duration: MS(3_000),
                drain: MS(15_000),
                clients: vec![],
            },
            real_crypto: false,
        });
        assert_eq!(r.committed, r.offered, "crashed = {crashed}: {r:?}");
        if crashed == 0 {
            assert!(r.tx_per_s > 300.0, "{r:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn safe_and_live_under_random_faults(
        seed in any::<u64>(),
        n in 4usize..=8,
        strategies in proptest::collection::vec(0u8..3, 2),
        cut_start in 0u64..800,
        cut_len in 0u64..2_000,
        crash in any::<bool>(),
        loss in 0u32..3,
    ) {
        let f = (n - 1) / 3;
        let keys = mock_keys(n, seed);
        let net = NetworkConfig { loss: f64::from(loss) / 100.0, duplicate: 0.01, ..NetworkConfig::default() };
        let mut s = harness::cluster(n, seed, net, keys.clone());
        let byz: Vec<NodeId> = (0..f as u32).map(|i| NodeId(1 + i)).collect();
        for (b, st) in byz.iter().zip(&strategies) {
            match st {
                0 => s.make_byzantine(*b, Equivocator::new(keys.keyring.secrets[b.index()].clone(), Time::ZERO)),
                1 => s.make_byzantine(*b, BadShares::new(keys.threshold.shares[b.index()].clone())),
                _ => s.make_byzantine(*b, Silent { after: Time::from_millis(300) }),
            }
        }
        let good: Vec<NodeId> = NodeId::all(n).filter(|id| !byz.contains(id)).collect();
        let cut = good[good.len() - 1];
        s.partition_between(Time::from_millis(cut_start), Time::from_millis(cut_start + cut_len), Partition::isolate(vec![cut]));
        let crashed = good[0];
        if crash {
            s.schedule(Time::from_millis(500), FaultEvent::Crash(crashed));
            s.schedule(Time::from_millis(1_500), FaultEvent::Restart(crashed));
        }
        let clients: Vec<NodeId> = good.iter().copied().filter(|id| !crash || *id != crashed).collect();
        submit_txs(&mut s, 0..60, Time::ZERO, MS(20), &clients);
        s.run_until(Time::from_millis(3_000));
        check(&s).map_err(|v| TestCaseError::fail(v.to_string()))?;
        run_until_committed(&mut s, 60, Time::from_millis(40_000)).map_err(|v| TestCaseError::fail(v.to_string()))?;
        check_all(&s);
    }
}

/// A leader that appends an invented transaction to every block it proposes
/// (to everybody alike, with a valid proposal signature).
struct Inventor(dwcp_crypto::SecretKey);

impl dwcp_sim::Adversary<HotStuff> for Inventor {
    fn name(&self) -> &'static str {
        "inventing-leader"
    }

    fn on_output(
        &mut self,
        ctx: &mut dwcp_sim::AdversaryCtx<'_, HotStuff>,
        output: dwcp_sim::OutputOf<HotStuff>,
    ) {
        match output {
            dwcp_core::Output::Send {
                to,
                msg: dwcp_hotstuff::Message::Propose { block, tc, .. },
            } => {
                let (proposal, block) = dwcp_hotstuff::adversary::conflicting(&block, &self.0);
                ctx.send(
                    to,
                    dwcp_hotstuff::Message::Propose {
                        proposal,
                        block,
                        tc,
                    },
                );
            }
            other => ctx.emit(other),
        }
    }
}

#[test]
fn with_client_keys_invented_transactions_are_never_committed() {
    let clients = Keyring::insecure_mock(2, 41);
    let keys = mock_keys(4, 41);
    let mut cfg = HotStuffConfig::new(4);
    cfg.base_timeout = MS(300);
    cfg.clients = Some(clients.publics.clone());
    let mut s = harness::cluster_with(cfg, SimConfig::new(4, 41), keys.clone());
    s.make_byzantine(NodeId(3), Inventor(keys.keyring.secrets[3].clone()));
    let secrets = clients.secrets.clone();
    dwcp_sim::workload::submit_txs(&mut s, 0..60, AT(0), MS(10), &nodes(0..3), move |i| {
        let c = (i % 2) as u32;
        dwcp_hotstuff::client::sign_tx(i, c, &i.to_le_bytes(), &secrets[c as usize])
    });
    run_until_committed(&mut s, 60, AT(20_000)).unwrap_or_else(|v| panic!("{v}"));
    check_all(&s);
    for id in nodes(0..3) {
        let got = harness::committed_ids(&s, id);
        assert!(
            got.iter().all(|t| *t < 60),
            "{id} committed an invented transaction"
        );
    }
    assert!(accused(&s, NodeId(3), |f| matches!(f, Fault::Protocol(_))));
}
