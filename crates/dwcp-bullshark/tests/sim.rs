//! Simulated Bullshark clusters under faults: every honest node delivers the
//! same total order, and every transaction submitted to an honest node
//! commits once the network behaves.

use dwcp_bullshark::BullsharkNode;
use dwcp_bullshark::harness::{self, CryptoMode};
use dwcp_core::{Duration, Fault, NodeId, Output, Target, Time, WireMessage};
use dwcp_crypto::Signed;
use dwcp_narwhal::{Keys, Message, Orderer};
use dwcp_sim::adversary::{FnAdversary, Silent};
use dwcp_sim::{AdversaryCtx, FaultEvent, LinkEffect, NetworkConfig, OutputOf, Partition};
use dwcp_sim::{SimConfig, Simulation};
use std::sync::Arc;

fn cluster(n: usize, seed: u64, net: NetworkConfig) -> Simulation<BullsharkNode> {
    harness::cluster_with(
        harness::test_config(n),
        SimConfig::new(n, seed).with_network(net),
        CryptoMode::Real,
    )
}

#[test]
fn fault_free_cluster_orders_identically() {
    let mut sim = cluster(4, 1, NetworkConfig::wan());
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(30)).unwrap();
    let e = sim.engine(NodeId(0)).unwrap();
    assert!(e.orderer().last_committed_round() >= 2);
}

#[test]
fn equivocating_author_is_caught_and_order_agrees() {
    let mut sim = cluster(4, 2, NetworkConfig::default());
    let keys = Keys::generate(4, 2);
    let key = keys[3].sign.clone();
    // Node 3 signs a second header for every round it proposes: the
    // original goes to nodes 0 and 1, the twin (other batches) to node 2 and
    // also to node 0, which therefore holds both.
    sim.make_byzantine(
        NodeId(3),
        FnAdversary::new(
            "equivocating-headers",
            move |ctx: &mut AdversaryCtx<'_, BullsharkNode>, out: OutputOf<BullsharkNode>| {
                if let Output::Send {
                    msg: Message::Header(h),
                    ..
                } = &out
                {
                    let mut twin = h.body.clone();
                    twin.batches
                        .push(dwcp_core::Digest::of(&twin.round.to_le_bytes()));
                    let twin = Message::Header(Arc::new(Signed::sign(twin, &key)));
                    ctx.send(
                        Target::many(vec![NodeId(0), NodeId(1)]),
                        Message::Header(h.clone()),
                    );
                    ctx.send(Target::many(vec![NodeId(0), NodeId(2)]), twin);
                    return;
                }
                ctx.emit(out);
            },
        ),
    );
    harness::load_and_check(
        &mut sim,
        40,
        &[NodeId(0), NodeId(1), NodeId(2)],
        Time::from_secs(30),
    )
    .unwrap();
    let caught = sim.evidence().iter().any(|(_, by, e)| {
        *by == NodeId(0) && e.culprit == NodeId(3) && matches!(e.fault, Fault::Equivocation { .. })
    });
    assert!(caught, "node 0 saw both headers and must report them");
}

#[test]
fn withheld_votes_and_certificates_do_not_stop_the_others() {
    let mut sim = cluster(4, 3, NetworkConfig::default());
    sim.make_byzantine(
        NodeId(2),
        FnAdversary::new(
            "withhold-votes",
            |ctx: &mut AdversaryCtx<'_, BullsharkNode>, out: OutputOf<BullsharkNode>| match &out {
                Output::Send { msg, .. } if msg.kind() == "vote" => {}
                _ => ctx.emit(out),
            },
        ),
    );
    harness::load_and_check(
        &mut sim,
        40,
        &[NodeId(0), NodeId(1), NodeId(3)],
        Time::from_secs(30),
    )
    .unwrap();
}

#[test]
fn silent_leader_is_skipped_by_timeouts() {
    // Node 1 leads rounds 2, 10, 18, …
    let mut sim = cluster(4, 4, NetworkConfig::default());
    sim.make_byzantine(NodeId(1), Silent { after: Time::ZERO });
    harness::load_and_check(
        &mut sim,
        40,
        &[NodeId(0), NodeId(2), NodeId(3)],
        Time::from_secs(30),
    )
    .unwrap();
    let e = sim.engine(NodeId(0)).unwrap();
    assert!(e.orderer().last_committed_round() >= 4);
}

#[test]
fn slow_leader_still_commits_identically() {
    let mut sim = cluster(4, 5, NetworkConfig::default());
    let slow = Partition::one_way(vec![NodeId(1)], vec![NodeId(0), NodeId(2), NodeId(3)]);
    sim.link_fault_between(
        Time::ZERO,
        Time::from_secs(5),
        slow,
        LinkEffect::Delay(Duration::from_millis(250)),
    );
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(30)).unwrap();
}

#[test]
fn missing_parents_are_fetched() {
    // Node 3 sends its certificates to node 0 only, and 5% of all copies
    // are lost: nodes 1 and 2 must fetch parents and batches.
    let net = NetworkConfig {
        loss: 0.05,
        ..NetworkConfig::default()
    };
    let mut sim = cluster(4, 6, net);
    sim.make_byzantine(
        NodeId(3),
        FnAdversary::new(
            "hoard-certificates",
            |ctx: &mut AdversaryCtx<'_, BullsharkNode>, out: OutputOf<BullsharkNode>| match out {
                Output::Send {
                    msg: m @ Message::Certificate(_),
                    ..
                } => ctx.send(Target::One(NodeId(0)), m),
                other => ctx.emit(other),
            },
        ),
    );
    harness::load_and_check(
        &mut sim,
        40,
        &[NodeId(0), NodeId(1), NodeId(2)],
        Time::from_secs(40),
    )
    .unwrap();
    let fetched = sim
        .stats()
        .kinds
        .iter()
        .any(|k| k.kind == "certificate-request" && k.sent > 0);
    assert!(fetched);
}

#[test]
fn partition_heals_and_everybody_catches_up() {
    let mut sim = cluster(4, 7, NetworkConfig::default());
    sim.partition_between(
        Time::from_millis(500),
        Time::from_secs(3),
        Partition::split(vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2), NodeId(3)]]),
    );
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(30)).unwrap();
}

#[test]
fn minority_partition_catches_up_after_heal() {
    let mut sim = cluster(4, 8, NetworkConfig::default());
    sim.partition_between(
        Time::from_millis(300),
        Time::from_secs(4),
        Partition::isolate(vec![NodeId(3)]),
    );
    harness::load_and_check(&mut sim, 60, &[], Time::from_secs(30)).unwrap();
}

#[test]
fn crash_restart_resumes_without_double_votes_or_deliveries() {
    let mut sim = cluster(4, 9, NetworkConfig::default());
    sim.schedule(Time::from_millis(700), FaultEvent::Crash(NodeId(2)));
    sim.schedule(Time::from_millis(2200), FaultEvent::Restart(NodeId(2)));
    sim.schedule(Time::from_millis(2600), FaultEvent::Crash(NodeId(0)));
    sim.schedule(Time::from_millis(2700), FaultEvent::Restart(NodeId(0)));
    harness::load_and_check(&mut sim, 80, &[NodeId(1), NodeId(3)], Time::from_secs(30)).unwrap();
    // Votes persisted across the restarts: at most one per (author, round).
    for node in [NodeId(0), NodeId(2)] {
        let mut votes = std::collections::BTreeMap::new();
        for r in sim.persisted(node) {
            if let dwcp_narwhal::Record::Vote {
                round,
                author,
                digest,
            } = r
            {
                let prev = votes.insert((*round, *author), *digest);
                assert!(prev.is_none_or(|d| d == *digest), "double vote by {node:?}");
            }
        }
    }
}
