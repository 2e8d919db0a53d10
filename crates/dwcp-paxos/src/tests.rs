//! Unit tests driving single replicas by hand: phase 1 recovers accepted
//! values, promises and accepts are refused below the promise, the lease,
//! in-order delivery, restore.

use crate::config::PaxosConfig;
use crate::message::{AcceptedEntry, Ballot, Batch, Decision, Message, Record, Tx};
use crate::replica::Paxos;
use dwcp_core::{Engine, NodeId, Output, Time, rng};

type Out = Output<Message, Record, Decision>;

fn replica(id: u32) -> Paxos {
    let mut cfg = PaxosConfig::new(3);
    cfg.initial_leader = None;
    Paxos::new(cfg, NodeId(id), rng::seeded(u64::from(id))).unwrap()
}

fn drain(r: &mut Paxos) -> Vec<Out> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

fn ballot(round: u64, leader: u32) -> Ballot {
    Ballot {
        round,
        leader: NodeId(leader),
    }
}

fn batch(ids: &[u64]) -> Batch {
    Batch::from(ids.iter().map(|&i| Tx::new(i, vec![1])).collect::<Vec<_>>())
}

#[test]
fn a_new_leader_re_proposes_what_a_majority_may_have_chosen() {
    let mut c = replica(2);
    // Its election timer fires: it campaigns with a fresh ballot.
    let t = c.next_deadline().unwrap();
    c.handle_timeout(t);
    let out = drain(&mut c);
    let b = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                msg: Message::Prepare { ballot, .. },
                ..
            } => Some(*ballot),
            _ => None,
        })
        .expect("a prepare");
    assert!(matches!(out.first(), Some(Output::Persist(Record::Promised(p))) if *p == b));
    // Node 1 accepted [7, 8] for slot 0 under an older ballot of node 0.
    let old = AcceptedEntry {
        slot: 0,
        ballot: ballot(1, 0),
        batch: batch(&[7, 8]),
    };
    let promise = Message::Promise {
        ballot: b,
        decided: 0,
        retained_from: 0,
        accepted: vec![old],
    };
    c.handle_message(t, NodeId(1), promise);
    let out = drain(&mut c);
    assert!(c.is_leader());
    let reproposed = out.iter().find_map(|o| match o {
        Output::Send {
            msg:
                Message::Accept {
                    slot: 0,
                    batch,
                    ballot,
                    ..
                },
            ..
        } if *ballot == b => Some(batch.ids()),
        _ => None,
    });
    assert_eq!(reproposed, Some(vec![7, 8]));
    // Chosen once a majority (itself and node 1) accepted: delivered.
    c.handle_message(t, NodeId(1), Message::Accepted { ballot: b, slot: 0 });
    let out = drain(&mut c);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Deliver(d) if d.slot == 0 && d.txs == vec![7, 8]))
    );
}

#[test]
fn acceptors_refuse_ballots_below_their_promise_and_persist_first() {
    let mut a = replica(1);
    a.handle_message(
        Time::ZERO,
        NodeId(2),
        Message::Prepare {
            ballot: ballot(5, 2),
            from_slot: 0,
        },
    );
    let out = drain(&mut a);
    assert!(
        matches!(out.first(), Some(Output::Persist(Record::Promised(b))) if *b == ballot(5, 2))
    );
    assert!(matches!(
        out.last(),
        Some(Output::Send {
            msg: Message::Promise { .. },
            ..
        })
    ));
    let accept = Message::Accept {
        ballot: ballot(4, 0),
        slot: 0,
        batch: batch(&[1]),
        commit: 0,
    };
    a.handle_message(Time::ZERO, NodeId(0), accept);
    let out = drain(&mut a);
    assert!(matches!(
        out.as_slice(),
        [Output::Send {
            msg: Message::Reject { .. },
            ..
        }]
    ));
    // Restored, it still refuses.
    let mut again = replica(1);
    again.restore(Time::ZERO, vec![Record::Promised(ballot(5, 2))]);
    again.handle_message(
        Time::ZERO,
        NodeId(0),
        Message::Prepare {
            ballot: ballot(4, 0),
            from_slot: 0,
        },
    );
    assert!(matches!(
        drain(&mut again).as_slice(),
        [Output::Send {
            msg: Message::Reject { .. },
            ..
        }]
    ));
}

#[test]
fn the_lease_keeps_a_live_leader_and_delivery_is_in_slot_order() {
    let mut f = replica(1);
    let b = ballot(1, 0);
    // Slot 1 arrives before slot 0; the commit point covers both.
    for (slot, ids) in [(1, [2u64]), (0, [1])] {
        let msg = Message::Accept {
            ballot: b,
            slot,
            batch: batch(&ids),
            commit: 0,
        };
        f.handle_message(Time::from_millis(10), NodeId(0), msg);
    }
    drain(&mut f);
    f.handle_message(
        Time::from_millis(20),
        NodeId(0),
        Message::Heartbeat {
            ballot: b,
            commit: 2,
        },
    );
    let slots: Vec<u64> = drain(&mut f)
        .into_iter()
        .filter_map(|o| match o {
            Output::Deliver(d) => Some(d.slot),
            _ => None,
        })
        .collect();
    assert_eq!(slots, vec![0, 1]);
    // Within the lease another candidate is refused.
    f.handle_message(
        Time::from_millis(30),
        NodeId(2),
        Message::Prepare {
            ballot: ballot(2, 2),
            from_slot: 2,
        },
    );
    assert!(matches!(
        drain(&mut f).as_slice(),
        [Output::Send {
            msg: Message::Reject { .. },
            ..
        }]
    ));
    // After it, promised.
    let later = Time::from_millis(30) + f.config().lease;
    f.handle_message(
        later,
        NodeId(2),
        Message::Prepare {
            ballot: ballot(2, 2),
            from_slot: 2,
        },
    );
    assert!(drain(&mut f).iter().any(|o| matches!(
        o,
        Output::Send {
            msg: Message::Promise { .. },
            ..
        }
    )));
    assert_eq!(f.delivered_upto(), 2);
}
