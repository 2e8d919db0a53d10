//! Crash recovery: what comes back, and what is never signed twice.

use super::*;
use dwcp_core::Duration;

#[test]
fn restarted_backup_never_prepares_a_conflicting_batch() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    let recs = records(&drain(&mut e));
    assert!(matches!(recs.as_slice(), [Record::Vote(_)]));
    // Crash: a fresh engine restores from the records, and a (Byzantine)
    // primary now offers another batch for the same slot.
    let mut e = replica(4, 1, &k);
    e.restore(T0, recs.clone());
    drain(&mut e);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(2)]));
    let outs = drain(&mut e);
    assert!(
        sent_votes(&outs, VotePhase::Prepare).is_empty(),
        "must not prepare the conflicting batch"
    );
    assert!(records(&outs).is_empty());
    // Without the records it would have (the test can fail).
    let mut amnesiac = replica(4, 1, &k);
    amnesiac.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(2)]));
    assert_eq!(
        sent_votes(&drain(&mut amnesiac), VotePhase::Prepare).len(),
        1
    );
}

#[test]
fn restarted_backup_never_commits_a_conflicting_batch() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    let a = vec![req(1)];
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, a.clone()));
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Prepare, 0, 1, digest_of(&a), 2),
    );
    let recs = records(&drain(&mut e));
    assert!(recs.iter().any(|r| matches!(r, Record::Prepared(_))));
    let mut e = replica(4, 1, &k);
    e.restore(T0, recs);
    drain(&mut e);
    // The restored prepared certificate survives for the next view-change.
    assert_eq!(e.log.prepared.len(), 1);
    let b = vec![req(2)];
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, b.clone()));
    e.handle_message(
        T0,
        NodeId(2),
        vote(&k, VotePhase::Prepare, 0, 1, digest_of(&b), 2),
    );
    e.handle_message(
        T0,
        NodeId(3),
        vote(&k, VotePhase::Prepare, 0, 1, digest_of(&b), 3),
    );
    let outs = drain(&mut e);
    assert!(
        sent_votes(&outs, VotePhase::Commit)
            .iter()
            .all(|v| v.2 != digest_of(&b))
    );
    assert!(sent_votes(&outs, VotePhase::Prepare).is_empty());
}

#[test]
fn restarted_replica_stays_in_its_view_change() {
    let k = keys(4);
    let mut e = replica(4, 2, &k);
    e.handle_request(T0, req(1));
    drain(&mut e);
    let t = e.next_deadline().unwrap();
    e.handle_timeout(t);
    let recs = records(&drain(&mut e));
    let mut e = replica(4, 2, &k);
    e.restore(t, recs);
    let outs = drain(&mut e);
    assert_eq!(
        (e.view(), e.is_active()),
        (1, false),
        "never back to view 0"
    );
    assert!(
        sends(&outs)
            .iter()
            .any(|(_, m)| matches!(m, Message::ViewChange(v) if v.body.view == 1))
    );
    e.handle_message(t, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    assert!(
        sent_votes(&drain(&mut e), VotePhase::Prepare).is_empty(),
        "view 0 is over for it"
    );
    // Its view-change timer runs again once a quorum wants view 1.
    assert_eq!(e.vc.timer, None);
    for who in [0, 3] {
        let vc = crate::ViewChange {
            view: 1,
            replica: NodeId(who),
            stable: e.log.stable.clone(),
            prepared: vec![],
            voted: vec![],
        };
        e.handle_message(
            t,
            NodeId(who),
            Message::ViewChange(Signed::sign(vc, &k.secrets[who as usize])),
        );
    }
    assert!(e.vc.timer.is_some());
}

#[test]
fn restarted_primary_resends_and_never_reuses_sequence_numbers() {
    let k = keys(4);
    let mut e = replica(4, 0, &k);
    e.handle_request(T0, req(1));
    e.handle_request(T0, req(2));
    let recs = records(&drain(&mut e));
    let mut e = replica(4, 0, &k);
    e.restore(T0, recs.clone());
    let outs = drain(&mut e);
    let resent: Vec<u64> = sends(&outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::PrePrepare { pre_prepare, .. } => Some(pre_prepare.body.seq),
            _ => None,
        })
        .collect();
    assert_eq!(resent, vec![1]);
    e.handle_request(T0, req(3));
    e.handle_request(T0, req(4));
    let outs = drain(&mut e);
    let fresh: Vec<u64> = sends(&outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::PrePrepare { pre_prepare, .. } => Some(pre_prepare.body.seq),
            _ => None,
        })
        .collect();
    assert_eq!(fresh, vec![2]);
}

#[test]
fn restored_execution_point_prevents_duplicate_delivery() {
    let k = keys(1);
    let mut e = replica(1, 0, &k);
    e.handle_request(T0, req(1));
    let t = T0 + Duration::from_secs(1);
    e.handle_timeout(t);
    let recs = records(&drain(&mut e));
    let mut e = replica(1, 0, &k);
    e.restore(t, recs);
    drain(&mut e);
    assert_eq!(e.stats().last_executed, 1);
    e.handle_request(t, req(1));
    e.handle_request(t, req(2));
    e.handle_timeout(t + Duration::from_secs(1));
    let outs = drain(&mut e);
    assert_eq!(delivered(&outs), vec![req(2)]);
    assert!(
        records(&outs)
            .iter()
            .any(|r| matches!(r, Record::Executed { seq: 2, .. }))
    );
}

#[test]
fn foreign_or_forged_records_are_skipped() {
    let k = keys(4);
    let mut other = replica(4, 2, &k);
    other.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    let foreign = records(&drain(&mut other));
    let mut e = replica(4, 1, &k);
    e.restore(T0, foreign);
    drain(&mut e);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(2)]));
    assert_eq!(
        sent_votes(&drain(&mut e), VotePhase::Prepare).len(),
        1,
        "replica 2's vote does not bind replica 1"
    );
}
