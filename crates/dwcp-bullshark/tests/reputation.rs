//! The reputation-based leader schedule: every honest node derives the same
//! schedule and the same total order, whatever order certificates arrive
//! in, and anchors of crashed nodes stop being waited for.

use dwcp_bullshark::harness::{self, CryptoMode};
use dwcp_bullshark::{Bullshark, BullsharkNode, Reputation};
use dwcp_core::rng::{Rng, RngCore, seeded};
use dwcp_core::{NodeId, Time};
use dwcp_narwhal::testing::{DagBuilder, Slot, feed};
use dwcp_narwhal::{Orderer, Round, Vertex};
use dwcp_sim::{FaultEvent, NetworkConfig, Partition, SimConfig, Simulation};
use std::collections::BTreeSet;

fn rep(n: usize, f: usize) -> Bullshark {
    Bullshark::with_reputation(n, f, 50, Reputation::default())
}

type Log = Vec<(Round, Vec<NodeId>)>;

fn run(o: &mut Bullshark, n: usize, log: &[Vertex]) -> (Vec<Slot>, Vec<Slot>, Log) {
    let (leaders, order) = feed(o, n, log);
    let sched = o
        .schedule()
        .map(|s| s.log().cloned().collect())
        .unwrap_or_default();
    (leaders, order, sched)
}

#[test]
fn dead_node_is_dropped_from_the_schedule() {
    // Node 3 of 4 never produces anything; round robin would make it the
    // anchor of rounds 6, 14 and 22.
    let mut b = DagBuilder::new(4);
    b.rounds(1..=25, &[0, 1, 2]);
    let (rr, _) = feed(&mut Bullshark::new(4, 1, 50), 4, &b.log);
    let mut o = rep(4, 1);
    let (leaders, order, sched) = run(&mut o, 4, &b.log);
    assert_eq!(rr.len(), 9, "round robin skips the dead node's anchors");
    // Every anchor round 2..=24 commits once node 3 is excluded (after the
    // second committed anchor).
    assert_eq!(leaders.len(), 12);
    assert!(leaders.iter().all(|(_, a)| *a != NodeId(3)));
    assert_eq!(sched, vec![(4, vec![NodeId(0), NodeId(1), NodeId(2)])]);
    let set: BTreeSet<_> = order.iter().collect();
    assert_eq!(set.len(), order.len());
    // The proposer's steady leader follows the schedule.
    assert_eq!(o.steady_leader(26), Some(NodeId(1)));
}

#[test]
fn schedule_change_inside_a_chain_of_anchors() {
    // Seven nodes, node 0 dead. With `min_history` 1 the commit of the
    // first anchor (round 2, node 1) drops node 0 from the schedule, which
    // moves every later anchor: round 4 is led by node 3, no longer node 2.
    let mut b = DagBuilder::new(7);
    b.rounds(1..=2, &[1, 2, 3, 4, 5, 6]);
    // Round 3: nodes 1, 2 and 3 vote for the anchor of round 2 (f + 1 = 3).
    for a in 1..=6 {
        let parents: &[u32] = if a <= 3 {
            &[1, 2, 3, 4, 5, 6]
        } else {
            &[2, 3, 4, 5, 6]
        };
        b.add(3, a, parents);
    }
    // Nobody builds on node 3's vote, so it can arrive last.
    for a in 1..=6 {
        b.add(4, a, &[1, 2, 4, 5, 6]);
    }
    b.rounds(5..=12, &[1, 2, 3, 4, 5, 6]);
    let cfg = Reputation {
        window: 8,
        min_history: 1,
    };
    let in_order = b.log.clone();
    // The late vote: round 2's anchor then commits only through a path from
    // the old schedule's anchor of round 4 (node 2), in one chain with it.
    let mut late = b.log.clone();
    let i = late
        .iter()
        .position(|v| v.round() == 3 && v.author() == NodeId(3))
        .unwrap();
    let vote = late.remove(i);
    late.push(vote);
    let a = run(&mut Bullshark::with_reputation(7, 2, 50, cfg), 7, &in_order);
    let c = run(&mut Bullshark::with_reputation(7, 2, 50, cfg), 7, &late);
    assert_eq!(a.0[..2], [(2, NodeId(1)), (4, NodeId(3))]);
    assert_eq!(a, c, "the chain must be re-derived under the new schedule");
}

/// A random DAG: `n` nodes, node `n - 1` dead, every other node absent
/// from a round with probability 1/4 (keeping a quorum), every vertex
/// with a random quorum-or-more (mostly a bare quorum) of the previous
/// round as parents, so that many anchors lack votes and commit late
/// through paths.
fn random_dag(n: usize, rounds: Round, rng: &mut Rng) -> DagBuilder {
    let q = 2 * ((n - 1) / 3) + 1;
    let mut b = DagBuilder::new(n);
    let mut prev: Vec<u32> = (0..n as u32).collect();
    for r in 1..=rounds {
        let mut cur: Vec<u32> = (0..n as u32 - 1)
            .filter(|_| !rng.next_u32().is_multiple_of(4))
            .collect();
        let mut k = 0;
        while cur.len() < q {
            if !cur.contains(&k) {
                cur.push(k);
            }
            k += 1;
        }
        cur.sort_unstable();
        for &a in &cur {
            let mut parents: Vec<u32> = prev.clone();
            while parents.len() > q && !rng.next_u32().is_multiple_of(3) {
                let i = rng.next_u32() as usize % parents.len();
                parents.remove(i);
            }
            b.add(r, a, &parents);
        }
        prev = cur;
    }
    b
}

/// A random causal order of `log` (parents always first) in which about a
/// third of the vertices arrive as late as causality allows: late votes
/// turn direct commits into commits through paths.
fn shuffle_causally(log: &[Vertex], rng: &mut Rng) -> Vec<Vertex> {
    let mut done: BTreeSet<dwcp_core::Digest> = BTreeSet::new();
    let mut left: Vec<(bool, Vertex)> = log
        .iter()
        .map(|v| (rng.next_u32().is_multiple_of(3), v.clone()))
        .collect();
    let mut out = vec![];
    while !left.is_empty() {
        let ready: Vec<usize> = (0..left.len())
            .filter(|&i| {
                let v = &left[i].1;
                v.round() == 1 || v.parents().iter().all(|p| done.contains(p))
            })
            .collect();
        let prompt: Vec<usize> = ready.iter().copied().filter(|&i| !left[i].0).collect();
        let pool = if prompt.is_empty() { &ready } else { &prompt };
        let i = pool[rng.next_u32() as usize % pool.len()];
        let (_, v) = left.remove(i);
        done.insert(v.digest);
        out.push(v);
    }
    out
}

fn is_prefix<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let k = a.len().min(b.len());
    a[..k] == b[..k]
}

#[test]
fn schedule_and_order_agree_across_arrival_orders() {
    let mut changes = 0;
    for seed in 0..150 {
        let mut rng = seeded(seed);
        let n = [4, 7, 10][seed as usize % 3];
        let f = (n - 1) / 3;
        let b = random_dag(n, 40, &mut rng);
        let a = run(&mut rep(n, f), n, &b.log);
        let shuffled = shuffle_causally(&b.log, &mut rng);
        let c = run(&mut rep(n, f), n, &shuffled);
        changes += a.2.len();
        assert!(
            is_prefix(&a.0, &c.0),
            "seed {seed}: anchors differ\n{:?}\n{:?}",
            a.0,
            c.0
        );
        assert!(is_prefix(&a.1, &c.1), "seed {seed}: orders differ");
        assert!(
            is_prefix(&a.2, &c.2),
            "seed {seed}: schedules differ\n{:?}\n{:?}",
            a.2,
            c.2
        );
        let set: BTreeSet<_> = a.1.iter().collect();
        assert_eq!(set.len(), a.1.len(), "seed {seed}: ordered twice");
    }
    // The schedule did change (the dead node, and absent leaders), so the
    // comparison above covered anchors committed under several schedules.
    assert!(changes >= 150, "only {changes} schedule changes");
}

fn cluster(n: usize, seed: u64, net: NetworkConfig) -> Simulation<BullsharkNode> {
    let cfg = harness::test_config(n);
    let o = dwcp_bullshark::orderer_with_reputation(&cfg, Reputation::default());
    let keys = CryptoMode::InsecureMock.keys(n, seed);
    dwcp_narwhal::harness::cluster(
        cfg,
        SimConfig::new(n, seed).with_network(net),
        keys,
        move |_| o.clone(),
    )
}

/// Every pair of honest running nodes holds prefix-consistent schedule
/// logs; returns the longest.
fn schedules_agree(sim: &Simulation<BullsharkNode>) -> Log {
    let logs: Vec<(NodeId, Log)> = sim
        .honest()
        .into_iter()
        .filter(|id| sim.is_up(*id))
        .filter_map(|id| {
            let s = sim.engine(id)?.orderer().schedule()?;
            Some((id, s.log().cloned().collect()))
        })
        .collect();
    for (a, la) in &logs {
        for (b, lb) in &logs {
            assert!(
                is_prefix(la, lb),
                "{a:?} and {b:?} disagree on the schedule:\n{la:?}\n{lb:?}"
            );
        }
    }
    logs.into_iter()
        .map(|(_, l)| l)
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

#[test]
fn crashed_nodes_are_excluded_by_every_honest_node() {
    let mut sim = cluster(7, 11, NetworkConfig::wan());
    for id in [5, 6] {
        sim.schedule(Time::ZERO, FaultEvent::Crash(NodeId(id)));
    }
    let live: Vec<NodeId> = NodeId::all(5).collect();
    harness::load_and_check(&mut sim, 100, &live, Time::from_secs(40)).unwrap();
    let log = schedules_agree(&sim);
    let last = log.last().map(|(_, c)| c.clone()).unwrap_or_default();
    assert_eq!(last, live, "the crashed nodes lead no more anchors");
}

#[test]
fn schedules_agree_through_crash_restart_and_partition() {
    let mut sim = cluster(4, 12, NetworkConfig::default());
    sim.schedule(Time::from_millis(700), FaultEvent::Crash(NodeId(2)));
    sim.schedule(Time::from_millis(2200), FaultEvent::Restart(NodeId(2)));
    sim.partition_between(
        Time::from_millis(3000),
        Time::from_secs(5),
        Partition::isolate(vec![NodeId(3)]),
    );
    harness::load_and_check(&mut sim, 120, &[NodeId(0), NodeId(1)], Time::from_secs(40)).unwrap();
    let log = schedules_agree(&sim);
    assert!(!log.is_empty(), "the crash changed the schedule");
}
