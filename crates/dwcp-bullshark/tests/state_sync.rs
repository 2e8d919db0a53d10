//! State sync: a node down for many times the GC + archive window rejoins
//! by adopting a checkpoint `f + 1` peers agree on, and from there on
//! delivers exactly the others' order; forged checkpoints from `f` peers
//! are not adopted; sync-request spam keeps memory bounded.

use dwcp_bullshark::harness::{self, CryptoMode};
use dwcp_bullshark::{BullsharkNode, Reputation};
use dwcp_core::{Digest, Duration, NodeId, Output, Target, Time};
use dwcp_narwhal::harness::{check_synced, delivered_all, submit_and_deliver};
use dwcp_narwhal::{Message, NarwhalConfig, Orderer, SyncState};
use dwcp_sim::adversary::FnAdversary;
use dwcp_sim::{AdversaryCtx, FaultEvent, NetworkConfig, OutputOf, SimConfig, Simulation};
use std::sync::Arc;

/// GC depth 10, 20 rounds of archive, a checkpoint every 4 rounds.
fn sync_config(n: usize) -> NarwhalConfig {
    let mut c = harness::test_config(n);
    c.gc_depth = 10;
    c.sync_retention = 20;
    c.checkpoint_interval = 4;
    c
}

fn cluster(n: usize, seed: u64, reputation: bool) -> Simulation<BullsharkNode> {
    let cfg = sync_config(n);
    let o = if reputation {
        dwcp_bullshark::orderer_with_reputation(&cfg, Reputation::default())
    } else {
        dwcp_bullshark::orderer(&cfg)
    };
    let keys = CryptoMode::InsecureMock.keys(n, seed);
    let sim = SimConfig::new(n, seed).with_network(NetworkConfig::default());
    dwcp_narwhal::harness::cluster(cfg, sim, keys, move |_| o.clone())
}

/// The jump markers in `node`'s log.
fn jumps(sim: &Simulation<BullsharkNode>, node: NodeId) -> Vec<dwcp_narwhal::SyncPoint> {
    sim.delivered(node)
        .iter()
        .filter_map(|v| v.sync.clone())
        .collect()
}

/// Node 3 is down from 1 s to 15 s (hundreds of rounds); load goes to the
/// others meanwhile and to everybody afterwards, when node 3 must deliver
/// too. Then it crashes again briefly: the restart replays the jump.
#[test]
fn node_down_for_many_windows_rejoins_with_the_same_order() {
    let mut sim = cluster(4, 21, true);
    let lagger = NodeId(3);
    sim.schedule(Time::from_secs(1), FaultEvent::Crash(lagger));
    sim.schedule(Time::from_secs(15), FaultEvent::Restart(lagger));
    let others = [NodeId(0), NodeId(1), NodeId(2)];
    harness::submit(
        &mut sim,
        300,
        Time::from_millis(100),
        Duration::from_millis(50),
        &others,
    );
    sim.run_until(Time::from_millis(990));
    let crash_round = sim.engine(lagger).unwrap().round();
    // Transactions 1000.. go to everybody after the restart.
    assert!(
        submit_and_deliver(&mut sim, Time::from_secs(16), 1000, 60, Time::from_secs(40)),
        "the restarted node did not catch up"
    );
    let cfg = sync_config(4);
    let marks = jumps(&sim, lagger);
    assert_eq!(marks.len(), 1, "exactly one jump");
    let window = cfg.gc_depth + cfg.sync_retention;
    assert!(
        marks[0].anchor_round > crash_round + 5 * window,
        "down for only {} rounds",
        marks[0].anchor_round - crash_round
    );
    let checked = check_synced(&sim).unwrap();
    assert!(checked >= 20, "only {checked} values after the jump");
    // The whole ordering state (order length and digest, batch window,
    // reputation schedule) agrees with the others' at later checkpoints.
    assert_checkpoints_agree(&sim);

    // A restart after the sync replays it and carries on.
    let t = sim.now();
    sim.schedule(t + Duration::from_millis(100), FaultEvent::Crash(lagger));
    sim.schedule(t + Duration::from_millis(600), FaultEvent::Restart(lagger));
    let resume = t + Duration::from_secs(1);
    assert!(submit_and_deliver(
        &mut sim,
        resume,
        2000,
        20,
        t + Duration::from_secs(20)
    ));
    assert_eq!(
        jumps(&sim, lagger).len(),
        1,
        "the replay delivers no marker"
    );
    assert!(check_synced(&sim).unwrap() > checked);
    assert_checkpoints_agree(&sim);
}

/// Checkpoints of the same anchor are identical at every running node.
fn assert_checkpoints_agree(sim: &Simulation<BullsharkNode>) {
    let mut seen: std::collections::BTreeMap<u64, (NodeId, SyncState)> = Default::default();
    let mut overlaps = 0;
    for id in sim.honest().into_iter().filter(|id| sim.is_up(*id)) {
        for cp in sim.engine(id).unwrap().checkpoints() {
            match seen.get(&cp.anchor_round) {
                Some((other, s)) => {
                    assert_eq!(
                        s, cp,
                        "{id:?} and {other:?} disagree at {}",
                        cp.anchor_round
                    );
                    overlaps += 1;
                }
                None => {
                    seen.insert(cp.anchor_round, (id, cp.clone()));
                }
            }
        }
    }
    assert!(overlaps > 0, "no common checkpoint to compare");
}

/// A forged checkpoint: the anchor two rounds later, the order 1000
/// certificates longer, the window moved along.
fn forge(s: &SyncState) -> SyncState {
    let mut f = s.clone();
    f.anchor_round += 2;
    f.orderer.last_committed_round += 2;
    f.next_index += 1000;
    f.sequence = Digest::of(b"forged");
    let floor = f.anchor_round - 10;
    f.orderer.ordered.retain(|(r, _)| *r >= floor);
    f.delivered_batches.retain(|(_, r)| *r >= floor);
    f
}

/// `f = 2` of 7 answer every sync request with the same forged checkpoint,
/// higher than any honest one: with the `f + 1` rule the lagging node
/// adopts an honest checkpoint and its order matches; any weaker rule
/// would adopt the forged one and break the comparison.
#[test]
fn f_forged_checkpoints_are_not_adopted() {
    let n = 7;
    let mut sim = cluster(n, 22, false);
    for liar in [NodeId(5), NodeId(6)] {
        sim.make_byzantine(
            liar,
            FnAdversary::new(
                "forged-checkpoints",
                |ctx: &mut AdversaryCtx<'_, BullsharkNode>, out: OutputOf<BullsharkNode>| match out
                {
                    Output::Send {
                        to,
                        msg: Message::SyncResponse(states),
                    } => {
                        let forged = states.iter().map(|s| Arc::new(forge(s))).collect();
                        ctx.send(to, Message::SyncResponse(forged));
                    }
                    other => ctx.emit(other),
                },
            ),
        );
    }
    let lagger = NodeId(4);
    sim.schedule(Time::from_millis(800), FaultEvent::Crash(lagger));
    sim.schedule(Time::from_secs(10), FaultEvent::Restart(lagger));
    let honest = [0, 1, 2, 3].map(NodeId);
    harness::submit(
        &mut sim,
        200,
        Time::from_millis(100),
        Duration::from_millis(50),
        &honest,
    );
    let late = (0..40u64).map(|i| {
        let at = Time::from_secs(11) + Duration::from_millis(30) * (i as u32);
        (at, NodeId((i % 5) as u32), harness::tx(1000 + i, 16))
    });
    sim.submit_many(late.collect::<Vec<_>>());
    let ok = sim.run_until_cond(Time::from_secs(40), |s| {
        s.honest()
            .into_iter()
            .filter(|id| s.is_up(*id))
            .all(|id| harness::delivered_txs(s, id) > 0 && delivered_all(s, id, 1000..1040))
    });
    assert!(ok, "the lagging node did not catch up");
    let marks = jumps(&sim, lagger);
    assert_eq!(marks.len(), 1);
    let checked = check_synced(&sim).unwrap();
    assert!(checked >= 10, "only {checked} values after the jump");
    let forged_offers = sim
        .stats()
        .kinds
        .iter()
        .any(|k| k.kind == "sync-response" && k.sent > 0);
    assert!(forged_offers);
}

/// A Byzantine node floods node 0 with sync requests and junk offers on
/// every step: node 0 answers at most once per half `sync_retry`, holds no
/// offer (it asked for none), and its memory stays bounded.
#[test]
fn sync_request_spam_keeps_memory_bounded() {
    let mut sim = cluster(4, 23, true);
    sim.make_byzantine(
        NodeId(3),
        FnAdversary::new(
            "sync-spam",
            |ctx: &mut AdversaryCtx<'_, BullsharkNode>, out: OutputOf<BullsharkNode>| {
                for r in 0..20 {
                    ctx.send(Target::One(NodeId(0)), Message::SyncRequest(r));
                }
                ctx.emit(out);
            },
        ),
    );
    harness::submit(
        &mut sim,
        100,
        Time::from_millis(100),
        Duration::from_millis(40),
        &[NodeId(0), NodeId(1), NodeId(2)],
    );
    let cfg = sync_config(4);
    let mut peak = 0;
    for _ in 0..50 {
        sim.run_for(Duration::from_millis(100));
        let m = sim.engine(NodeId(0)).unwrap().memory();
        assert!(m.sync <= 2 + 2 * 4, "{m:?}");
        peak = peak.max(m.total());
    }
    let requests = kind_sent(&sim, "sync-request");
    let responses = kind_sent(&sim, "sync-response");
    let elapsed_ms = sim.now().as_nanos() / 1_000_000;
    let retry_ms = cfg.sync_retry.as_nanos() as u64 / 1_000_000;
    assert!(requests > 10_000, "only {requests} spam requests");
    assert!(
        responses <= elapsed_ms / (retry_ms / 2) + 1,
        "{responses} answers to {requests} requests"
    );
    assert!(peak < 4 * 200, "peak {peak}");
    harness::run_until_txs(&mut sim, 100, Time::from_secs(30)).unwrap();
    harness::check(&sim).unwrap();
    assert!(
        sim.engine(NodeId(0))
            .unwrap()
            .orderer()
            .last_committed_round()
            > 20
    );
}

fn kind_sent(sim: &Simulation<BullsharkNode>, kind: &str) -> u64 {
    sim.stats()
        .kinds
        .iter()
        .filter(|k| k.kind == kind)
        .map(|k| k.sent)
        .sum()
}

/// Not a crash but a long partition: node 2 keeps running alone (its own
/// headers go nowhere) for 14 s, then rejoins through a jump.
#[test]
fn node_isolated_for_many_windows_rejoins_with_the_same_order() {
    let mut sim = cluster(4, 24, false);
    let lagger = NodeId(2);
    sim.partition_between(
        Time::from_secs(1),
        Time::from_secs(15),
        dwcp_sim::Partition::isolate(vec![lagger]),
    );
    harness::submit(
        &mut sim,
        300,
        Time::from_millis(100),
        Duration::from_millis(50),
        &[NodeId(0), NodeId(1), NodeId(3)],
    );
    assert!(
        submit_and_deliver(&mut sim, Time::from_secs(16), 1000, 60, Time::from_secs(40)),
        "the isolated node did not catch up"
    );
    assert_eq!(jumps(&sim, lagger).len(), 1, "exactly one jump");
    let checked = check_synced(&sim).unwrap();
    assert!(checked >= 20, "only {checked} values after the jump");
    assert_checkpoints_agree(&sim);
}
