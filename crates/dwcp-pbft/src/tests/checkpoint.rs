//! Checkpoints, watermarks, garbage collection, catch-up.

use super::*;
use crate::message::{CatchUp, Checkpoint, Decided, Status, VoteCertificate};
use crate::state::{genesis_state, next_state};
use dwcp_core::Fault;

fn checkpoint(k: &Keyring, seq: u64, state: Digest, who: u32) -> Message {
    Message::Checkpoint(Signed::sign(
        Checkpoint {
            seq,
            state,
            replica: NodeId(who),
        },
        &k.secrets[who as usize],
    ))
}

/// Drives replica 1 of 4 through `seqs` committed single-request batches.
fn commit_all(e: &mut Pbft, k: &Keyring, seqs: std::ops::RangeInclusive<u64>) -> Vec<PbftOutput> {
    let mut all = vec![];
    for seq in seqs {
        let batch = vec![req(seq)];
        let d = digest_of(&batch);
        e.handle_message(T0, NodeId(0), pp(k, 4, 0, seq, batch));
        e.handle_message(T0, NodeId(2), vote(k, VotePhase::Prepare, 0, seq, d, 2));
        e.handle_message(T0, NodeId(0), vote(k, VotePhase::Commit, 0, seq, d, 0));
        e.handle_message(T0, NodeId(2), vote(k, VotePhase::Commit, 0, seq, d, 2));
        all.extend(drain(e));
    }
    all
}

#[test]
fn checkpoints_become_stable_and_collect_garbage() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    let outs = commit_all(&mut e, &k, 1..=2);
    assert_eq!(delivered(&outs).len(), 2);
    // Executing seq 2 (K = 2) produced our checkpoint.
    let state = e.state_digest();
    let expected = next_state(
        next_state(genesis_state(), 1, digest_of(&[req(1)])),
        2,
        digest_of(&[req(2)]),
    );
    assert_eq!(state, expected);
    assert!(
        sends(&outs)
            .iter()
            .any(|(_, m)| matches!(m, Message::Checkpoint(c) if c.body.seq == 2))
    );
    assert_eq!(e.stats().stable_checkpoint, 0);
    // One matching checkpoint is not enough; a wrong one does not count.
    e.handle_message(T0, NodeId(0), checkpoint(&k, 2, state, 0));
    e.handle_message(T0, NodeId(3), checkpoint(&k, 2, Digest::of(b"junk"), 3));
    assert_eq!(e.stats().stable_checkpoint, 0);
    e.handle_message(T0, NodeId(2), checkpoint(&k, 2, state, 2));
    let outs = drain(&mut e);
    assert!(
        records(&outs)
            .iter()
            .any(|r| matches!(r, Record::Stable(p) if p.seq == 2 && p.signatures.len() == 3))
    );
    assert_eq!(e.stats().stable_checkpoint, 2);
    assert!(e.log.slots.keys().all(|s| *s > 2));
    assert!(e.checkpoints.keys().all(|s| *s > 2));
    // Now the window is (2, 6]: seq 6 is accepted, 7 buffered.
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 6, vec![req(6)]));
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 7, vec![req(7)]));
    let outs = drain(&mut e);
    assert_eq!(
        sent_votes(&outs, VotePhase::Prepare)
            .iter()
            .map(|v| v.1)
            .collect::<Vec<_>>(),
        vec![6]
    );
    assert_eq!(e.early.get(&NodeId(0)).map(|q| q.len()), Some(1));
}

#[test]
fn buffered_messages_are_processed_when_the_window_moves() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 6, vec![req(6)]));
    assert!(drain(&mut e).is_empty(), "beyond h + L = 4: buffered");
    // A quorum of checkpoints at 2 (which we never executed) moves h to 2.
    let s = Digest::of(b"state at 2");
    for who in [0, 2, 3] {
        e.handle_message(T0, NodeId(who), checkpoint(&k, 2, s, who));
    }
    let outs = drain(&mut e);
    assert_eq!(e.stats().stable_checkpoint, 2);
    assert_eq!(
        sent_votes(&outs, VotePhase::Prepare)
            .iter()
            .map(|v| v.1)
            .collect::<Vec<_>>(),
        vec![6]
    );
    // We are behind the certified checkpoint: we asked a signer for help.
    assert!(
        sends(&outs)
            .iter()
            .any(|(_, m)| matches!(m, Message::Status(st) if st.probe && st.executed == 0))
    );
}

#[test]
fn conflicting_checkpoints_are_equivocation() {
    let k = keys(4);
    let mut e = replica(4, 1, &k);
    e.handle_message(T0, NodeId(2), checkpoint(&k, 2, Digest::of(b"a"), 2));
    e.handle_message(T0, NodeId(2), checkpoint(&k, 2, Digest::of(b"b"), 2));
    e.handle_message(T0, NodeId(2), checkpoint(&k, 3, Digest::of(b"b"), 2));
    let ev = evidence(&drain(&mut e));
    assert!(matches!(
        ev.as_slice(),
        [dwcp_core::Evidence {
            culprit: NodeId(2),
            fault: Fault::Equivocation { .. }
        }]
    ));
}

#[test]
fn lagging_replica_catches_up_from_certified_batches() {
    let k = keys(4);
    let mut ahead = replica(4, 1, &k);
    commit_all(&mut ahead, &k, 1..=3);
    let mut behind = replica(4, 3, &k);
    // The lagging replica probes; the replica ahead answers with catch-up.
    ahead.handle_message(
        T0,
        NodeId(3),
        Message::Status(Status {
            view: 0,
            active: true,
            executed: 0,
            stable: 0,
            probe: true,
        }),
    );
    let reply = sends(&drain(&mut ahead));
    let [(Target::One(NodeId(3)), Message::CatchUp(c))] = reply.as_slice() else {
        panic!("{reply:?}")
    };
    assert_eq!(c.decided.len(), 3);
    // A tampered certificate is evidence against the sender, nothing executes.
    let mut bad = c.clone();
    bad.decided[1].certificate.votes.truncate(1);
    behind.handle_message(T0, NodeId(1), Message::CatchUp(bad));
    let outs = drain(&mut behind);
    assert_eq!(evidence(&outs).len(), 1);
    assert!(delivered(&outs).is_empty());
    let mut swapped = c.clone();
    swapped.decided[0].batch = vec![req(99)];
    behind.handle_message(T0, NodeId(1), Message::CatchUp(swapped));
    assert_eq!(evidence(&drain(&mut behind)).len(), 1);
    behind.handle_message(T0, NodeId(1), Message::CatchUp(c.clone()));
    let outs = drain(&mut behind);
    assert_eq!(delivered(&outs), vec![req(1), req(2), req(3)]);
    assert_eq!(behind.state_digest(), ahead.state_digest());
    assert_eq!(behind.stats().caught_up, 3);
    // Replaying it is harmless.
    behind.handle_message(T0, NodeId(1), Message::CatchUp(c.clone()));
    assert!(drain(&mut behind).is_empty());
}

#[test]
fn catch_up_needs_a_quorum_of_commits() {
    let k = keys(4);
    let mut e = replica(4, 3, &k);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    let sign = |who: u32| {
        let Message::Vote(v) = vote(&k, VotePhase::Commit, 0, 1, d, who) else {
            unreachable!()
        };
        (NodeId(who), v.signature)
    };
    let cert = VoteCertificate {
        phase: VotePhase::Commit,
        view: 0,
        seq: 1,
        digest: d,
        votes: vec![sign(0), sign(1)],
    };
    let msg = CatchUp {
        stable: None,
        decided: vec![Decided {
            batch: batch.clone(),
            certificate: cert.clone(),
        }],
    };
    e.handle_message(T0, NodeId(1), Message::CatchUp(msg));
    assert!(delivered(&drain(&mut e)).is_empty());
    let dup = VoteCertificate {
        votes: vec![sign(0), sign(1), sign(1)],
        ..cert.clone()
    };
    let msg = CatchUp {
        stable: None,
        decided: vec![Decided {
            batch: batch.clone(),
            certificate: dup,
        }],
    };
    e.handle_message(T0, NodeId(1), Message::CatchUp(msg));
    assert!(
        delivered(&drain(&mut e)).is_empty(),
        "a signer counted twice is not a quorum"
    );
    let ok = VoteCertificate {
        votes: vec![sign(0), sign(1), sign(2)],
        ..cert
    };
    let msg = CatchUp {
        stable: None,
        decided: vec![Decided {
            batch: batch.clone(),
            certificate: ok,
        }],
    };
    e.handle_message(T0, NodeId(1), Message::CatchUp(msg));
    assert_eq!(delivered(&drain(&mut e)), batch);
}
