//! Normal case: requests, batching, pre-prepare, prepare, commit, execute.

use super::*;
use crate::message::corrupt_signature;
use dwcp_core::{Duration, Fault};

#[test]
fn single_replica_orders_alone() {
    let k = keys(1);
    let mut e = replica(1, 0, &k);
    e.handle_request(T0, req(1));
    assert!(
        delivered(&drain(&mut e)).is_empty(),
        "waits for the batch timeout"
    );
    let t = e.next_deadline().unwrap();
    assert_eq!(t, T0 + e.config().batch_timeout);
    e.handle_timeout(t);
    let outs = drain(&mut e);
    assert_eq!(delivered(&outs), vec![req(1)]);
    // Persist the execution before delivering it.
    let exec = outs
        .iter()
        .position(|o| matches!(o, Output::Persist(Record::Executed { .. })))
        .unwrap();
    let del = outs
        .iter()
        .position(|o| matches!(o, Output::Deliver(_)))
        .unwrap();
    assert!(exec < del);
    // A duplicate request is never delivered again.
    e.handle_request(t, req(1));
    e.handle_timeout(t + Duration::from_secs(1));
    assert!(delivered(&drain(&mut e)).is_empty());
    assert_eq!(e.stats().last_executed, 1);
}

#[test]
fn full_batches_go_out_at_once_and_pipeline_to_the_window() {
    let k = keys(4);
    let mut e = replica(4, 0, &k);
    assert!(e.is_primary());
    for i in 0..20 {
        e.handle_request(T0, req(i));
    }
    let outs = drain(&mut e);
    let pps: Vec<(u64, usize)> = sends(&outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::PrePrepare { pre_prepare, batch } => Some((pre_prepare.body.seq, batch.len())),
            _ => None,
        })
        .collect();
    // max_batch = 2, window L = 4: four full batches, then the window is full.
    assert_eq!(pps, vec![(1, 2), (2, 2), (3, 2), (4, 2)]);
    assert_eq!(
        e.next_deadline(),
        None,
        "no batch deadline while the window is full"
    );
    // Each pre-prepare was persisted before it was sent.
    let first_pp = outs
        .iter()
        .position(|o| matches!(o, Output::Send { .. }))
        .unwrap();
    assert!(matches!(
        outs[first_pp - 1],
        Output::Persist(Record::PrePrepare { .. })
    ));
}

#[test]
fn backup_forwards_requests_to_the_primary_and_arms_a_timer() {
    let k = keys(4);
    let mut e = replica(4, 2, &k);
    e.handle_request(T0, req(7));
    let s = sends(&drain(&mut e));
    assert_eq!(s, vec![(Target::One(NodeId(0)), Message::Request(req(7)))]);
    assert_eq!(e.next_deadline(), Some(T0 + e.config().request_timeout));
    // A request forwarded by a peer is timed too, but not forwarded again.
    let mut e = replica(4, 3, &k);
    e.handle_message(T0, NodeId(2), Message::Request(req(7)));
    assert!(sends(&drain(&mut e)).is_empty());
    assert!(e.next_deadline().is_some());
}

#[test]
fn three_phases_then_execution() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    let batch = vec![req(1), req(2)];
    let d = digest_of(&batch);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch.clone()));
    let outs = drain(&mut e);
    assert_eq!(sent_votes(&outs, VotePhase::Prepare), vec![(0, 1, d)]);
    assert!(
        matches!(outs[0], Output::Persist(Record::Vote(_))),
        "persist before send"
    );
    // Prepared needs the primary plus two backups (us and replica 2).
    e.handle_message(T0, NodeId(2), vote(&k, VotePhase::Prepare, 0, 1, d, 2));
    let outs = drain(&mut e);
    assert_eq!(sent_votes(&outs, VotePhase::Commit), vec![(0, 1, d)]);
    let recs = records(&outs);
    assert!(matches!(recs[0], Record::Prepared(_)) && matches!(recs[1], Record::Vote(_)));
    // A late prepare changes nothing.
    e.handle_message(T0, NodeId(3), vote(&k, VotePhase::Prepare, 0, 1, d, 3));
    assert!(drain(&mut e).is_empty());
    e.handle_message(T0, NodeId(0), vote(&k, VotePhase::Commit, 0, 1, d, 0));
    assert!(
        delivered(&drain(&mut e)).is_empty(),
        "two commits are not a quorum"
    );
    e.handle_message(T0, NodeId(3), vote(&k, VotePhase::Commit, 0, 1, d, 3));
    assert_eq!(delivered(&drain(&mut e)), batch);
    assert_eq!(e.stats().last_executed, 1);
}

#[test]
fn commits_before_prepares_are_kept() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    for who in [0, 2, 3] {
        e.handle_message(T0, NodeId(who), vote(&k, VotePhase::Commit, 0, 1, d, who));
    }
    e.handle_message(T0, NodeId(2), vote(&k, VotePhase::Prepare, 0, 1, d, 2));
    assert!(drain(&mut e).is_empty(), "nothing without the pre-prepare");
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch.clone()));
    assert_eq!(delivered(&drain(&mut e)), batch);
}

#[test]
fn equivocating_pre_prepare_is_evidence_and_prepared_once() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    let first = drain(&mut e);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(2)]));
    let second = drain(&mut e);
    assert_eq!(sent_votes(&first, VotePhase::Prepare).len(), 1);
    assert!(sent_votes(&second, VotePhase::Prepare).is_empty());
    let ev = evidence(&second);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].culprit, NodeId(0));
    let Fault::Equivocation { first, second } = &ev[0].fault else {
        panic!("{ev:?}")
    };
    // The evidence is transferable: both halves decode and verify.
    for bytes in [first, second] {
        let s: Signed<crate::PrePrepare> = dwcp_core::codec::decode(bytes).unwrap();
        assert!(s.verify(&k.publics));
    }
    // The same pre-prepare again is a harmless duplicate.
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    assert!(drain(&mut e).is_empty());
}

#[test]
fn invalid_signatures_are_evidence_and_never_counted() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch));
    drain(&mut e);
    let mut bad = vote(&k, VotePhase::Prepare, 0, 1, d, 2);
    let sig = bad.signature_mut().unwrap();
    *sig = corrupt_signature(sig);
    e.handle_message(T0, NodeId(2), bad);
    let outs = drain(&mut e);
    assert_eq!(
        evidence(&outs),
        vec![dwcp_core::Evidence {
            culprit: NodeId(2),
            fault: Fault::InvalidSignature
        }]
    );
    assert!(
        sent_votes(&outs, VotePhase::Commit).is_empty(),
        "the bad prepare did not count"
    );
    // A forged pre-prepare from a non-primary is refused outright.
    let forged = Message::pre_prepare(0, 2, vec![], &k.secrets[3], NodeId(3));
    e.handle_message(T0, NodeId(3), forged);
    assert_eq!(evidence(&drain(&mut e)).len(), 1);
    // A batch that does not match the signed digest.
    let Message::PrePrepare { pre_prepare, .. } = pp(&k, 4, 0, 2, vec![req(5)]) else {
        unreachable!()
    };
    e.handle_message(
        T0,
        NodeId(0),
        Message::PrePrepare {
            pre_prepare,
            batch: vec![req(6)],
        },
    );
    assert_eq!(evidence(&drain(&mut e)).len(), 1);
    // The valid prepare still counts.
    e.handle_message(T0, NodeId(3), vote(&k, VotePhase::Prepare, 0, 1, d, 3));
    assert_eq!(sent_votes(&drain(&mut e), VotePhase::Commit).len(), 1);
    assert_eq!(e.stats().evidence, 3);
}

#[test]
fn conflicting_votes_are_equivocation_and_a_primary_prepare_is_refused() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Commit, 0, 1, Digest::of(b"a"), 2),
    );
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Commit, 0, 1, Digest::of(b"b"), 2),
    );
    let ev = evidence(&drain(&mut e));
    assert!(matches!(
        ev.as_slice(),
        [dwcp_core::Evidence {
            culprit: NodeId(2),
            fault: Fault::Equivocation { .. }
        }]
    ));
    e.handle_message(
        T0,
        NodeId(0),
        vote(&k, VotePhase::Prepare, 0, 1, Digest::of(b"a"), 0),
    );
    assert!(matches!(
        evidence(&drain(&mut e)).as_slice(),
        [dwcp_core::Evidence {
            fault: Fault::Protocol(_),
            ..
        }]
    ));
}

#[test]
fn stale_and_far_messages_are_dropped_silently() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    // Beyond the buffered range (h + 2L = 8), and an absurd view.
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 9, vec![req(1)]));
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Prepare, u64::MAX, 1, Digest::of(b"a"), 2),
    );
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Prepare, 0, 0, Digest::of(b"a"), 2),
    );
    assert!(drain(&mut e).is_empty());
    assert!(e.early.is_empty() && e.log.slots.is_empty());
}

#[test]
fn early_buffer_is_bounded_per_peer() {
    let k = keys(4);
    let mut c = cfg(4);
    c.buffer_per_peer = 3;
    let mut e = replica_with(c, 1, &k);
    for i in 0..10 {
        e.handle_message(
            T0,
            NodeId(2),
            vote(&k, VotePhase::Commit, 1 + i, 1, Digest::of(b"a"), 2),
        );
    }
    assert_eq!(e.early.get(&NodeId(2)).map(|q| q.len()), Some(3));
}

#[test]
fn stuck_slots_are_retransmitted_until_they_commit() {
    let k = keys(4);
    let mut c = cfg(4);
    c.retransmit_timeout = Some(Duration::from_millis(100));
    let mut primary = replica_with(c.clone(), 0, &k);
    primary.handle_request(T0, req(1));
    primary.handle_request(T0, req(2));
    let first = sends(&drain(&mut primary));
    assert_eq!(first.len(), 1, "one pre-prepare");
    let t = primary.next_deadline().unwrap();
    assert_eq!(t, T0 + Duration::from_millis(100));
    primary.handle_timeout(t);
    assert_eq!(
        sends(&drain(&mut primary)),
        first,
        "the same signed pre-prepare again"
    );
    // A backup re-sends its prepare (and later its commit), not the pre-prepare.
    let mut backup = replica_with(c, 1, &k);
    let Message::PrePrepare { pre_prepare, batch } = first[0].1.clone() else {
        unreachable!()
    };
    let d = pre_prepare.body.digest;
    backup.handle_message(T0, NodeId(0), Message::PrePrepare { pre_prepare, batch });
    let prepare = sends(&drain(&mut backup));
    backup.handle_timeout(t);
    assert_eq!(sends(&drain(&mut backup)), prepare);
    // Once committed, nothing more is retransmitted.
    for who in [2, 3] {
        backup.handle_message(t, NodeId(who), vote(&k, VotePhase::Prepare, 0, 1, d, who));
        backup.handle_message(t, NodeId(who), vote(&k, VotePhase::Commit, 0, 1, d, who));
    }
    assert_eq!(delivered(&drain(&mut backup)).len(), 2);
    assert_eq!(backup.next_deadline(), None);
}
