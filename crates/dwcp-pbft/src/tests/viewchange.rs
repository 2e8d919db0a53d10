//! View change and new view: timers, back-off, `O`, validation.

use super::*;
use crate::message::{CheckpointProof, NewView, PrePrepare, PreparedProof, ViewChange};
use crate::state::genesis_state;
use crate::verify::{self, SigBatch};
use crate::{compute_new_view, corrupt_signature};
use dwcp_core::{Duration, Fault};

fn genesis() -> CheckpointProof {
    CheckpointProof {
        seq: 0,
        state: genesis_state(),
        signatures: vec![],
    }
}

/// A real prepared certificate for `batch` at `(view, seq)` in a 4-committee.
fn prepared(k: &Keyring, view: u64, seq: u64, batch: Vec<Request>) -> PreparedProof {
    let Message::PrePrepare { pre_prepare, batch } = pp(k, 4, view, seq, batch) else {
        unreachable!()
    };
    let primary = pre_prepare.body.primary.0;
    let d = pre_prepare.body.digest;
    let prepares = (0..4u32)
        .filter(|w| *w != primary)
        .take(2)
        .map(|w| {
            let Message::Vote(v) = vote(k, VotePhase::Prepare, view, seq, d, w) else {
                unreachable!()
            };
            (NodeId(w), v.signature)
        })
        .collect();
    PreparedProof {
        pre_prepare,
        batch,
        prepares,
    }
}

fn view_change(
    k: &Keyring,
    view: u64,
    who: u32,
    prepared: Vec<PreparedProof>,
) -> Signed<ViewChange> {
    let body = ViewChange {
        view,
        replica: NodeId(who),
        stable: genesis(),
        prepared,
        voted: vec![],
    };
    Signed::sign(body, &k.secrets[who as usize])
}

#[test]
fn o_takes_the_highest_view_and_fills_gaps_with_null_requests() {
    let k = keys(4);
    let a = view_change(
        &k,
        3,
        1,
        vec![
            prepared(&k, 0, 1, vec![req(1)]),
            prepared(&k, 0, 4, vec![req(4)]),
        ],
    );
    let b = view_change(&k, 3, 2, vec![prepared(&k, 2, 1, vec![req(9)])]);
    let c = view_change(&k, 3, 3, vec![]);
    let plan = compute_new_view([&a.body, &b.body, &c.body]);
    let got: Vec<(u64, Digest)> = plan.entries.iter().map(|(s, (d, _))| (*s, *d)).collect();
    let null = digest_of(&[]);
    assert_eq!(
        got,
        vec![
            (1, digest_of(&[req(9)])),
            (2, null),
            (3, null),
            (4, digest_of(&[req(4)]))
        ]
    );
    assert_eq!(plan.entries[&1].1, vec![req(9)]);
    assert_eq!(plan.stable.seq, 0);
    // No prepared certificates: O is empty.
    assert!(compute_new_view([&c.body]).entries.is_empty());
    // Every certificate used here is valid.
    for vc in [&a, &b, &c] {
        let mut sigs = SigBatch::default();
        verify::view_change(&ViewChangeTestPolicy::get(), 4, vc, &mut sigs).unwrap();
        sigs.verify(&k.publics).unwrap();
    }
}

struct ViewChangeTestPolicy;
impl ViewChangeTestPolicy {
    fn get() -> crate::ClassicPolicy {
        crate::ClassicPolicy::new(dwcp_core::Committee::new(4).unwrap())
    }
}

#[test]
fn bad_prepared_certificates_are_refused() {
    let k = keys(4);
    let p = ViewChangeTestPolicy::get();
    let check = |vc: &Signed<ViewChange>| {
        let mut sigs = SigBatch::default();
        verify::view_change(&p, 4, vc, &mut sigs).map(|()| sigs.verify(&k.publics).is_ok())
    };
    let mut short = prepared(&k, 0, 1, vec![req(1)]);
    short.prepares.truncate(1);
    assert!(check(&view_change(&k, 1, 1, vec![short])).is_err());
    let mut by_primary = prepared(&k, 0, 1, vec![req(1)]);
    by_primary.prepares[0].0 = NodeId(0);
    assert!(check(&view_change(&k, 1, 1, vec![by_primary])).is_err());
    let future = prepared(&k, 1, 1, vec![req(1)]);
    assert!(
        check(&view_change(&k, 1, 1, vec![future])).is_err(),
        "certificate from the new view itself"
    );
    let beyond = prepared(&k, 0, 5, vec![req(1)]);
    assert!(
        check(&view_change(&k, 1, 1, vec![beyond])).is_err(),
        "beyond h + L"
    );
    let unordered = vec![
        prepared(&k, 0, 2, vec![req(1)]),
        prepared(&k, 0, 1, vec![req(1)]),
    ];
    assert!(check(&view_change(&k, 1, 1, unordered)).is_err());
    let mut forged = prepared(&k, 0, 1, vec![req(1)]);
    forged.prepares[1].1 = corrupt_signature(&forged.prepares[1].1);
    assert_eq!(check(&view_change(&k, 1, 1, vec![forged])), Ok(false));
    assert_eq!(
        check(&view_change(
            &k,
            1,
            1,
            vec![prepared(&k, 0, 1, vec![req(1)])]
        )),
        Ok(true)
    );
}

#[test]
fn request_timeout_starts_a_view_change_with_prepared_certificates_and_backoff() {
    let k = keys(4);
    let mut e = replica(4, 3, &k);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    e.handle_request(T0, req(1));
    e.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch));
    e.handle_message(T0, NodeId(2), vote(&k, VotePhase::Prepare, 0, 1, d, 2));
    drain(&mut e);
    let t1 = e.next_deadline().unwrap();
    assert_eq!(t1, T0 + e.config().request_timeout);
    e.handle_timeout(t1);
    let outs = drain(&mut e);
    assert!(!e.is_active() && e.view() == 1);
    let recs = records(&outs);
    assert!(matches!(
        recs[0],
        Record::View {
            view: 1,
            active: false
        }
    ));
    let vc = sends(&outs)
        .into_iter()
        .find_map(|(_, m)| match m {
            Message::ViewChange(v) => Some(v),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        vc.body.prepared.len(),
        1,
        "carries the prepared certificate for seq 1"
    );
    assert!(
        sends(&outs)
            .iter()
            .any(|(_, m)| *m == Message::Request(req(1))),
        "re-broadcasts its client's request"
    );
    // The view-change timer starts only once a quorum wants view 1...
    assert_eq!(e.vc.timer, None);
    e.handle_message(
        t1,
        NodeId(2),
        Message::ViewChange(view_change(&k, 1, 2, vec![])),
    );
    assert_eq!(e.vc.timer, None);
    e.handle_message(
        t1,
        NodeId(1),
        Message::ViewChange(view_change(&k, 1, 1, vec![])),
    );
    let t2 = e.vc.timer.unwrap();
    assert_eq!(t2 - t1, e.config().view_change_timeout);
    // ...and doubles with every view change that does not succeed.
    e.handle_timeout(t2);
    drain(&mut e);
    assert_eq!(e.view(), 2);
    e.handle_message(
        t2,
        NodeId(2),
        Message::ViewChange(view_change(&k, 2, 2, vec![])),
    );
    e.handle_message(
        t2,
        NodeId(1),
        Message::ViewChange(view_change(&k, 2, 1, vec![])),
    );
    drain(&mut e);
    let t3 = e.vc.timer.unwrap();
    assert_eq!(t3 - t2, e.config().view_change_timeout * 2);
    // Normal-case messages are ignored (buffered) while changing views.
    e.handle_message(t3, NodeId(0), pp(&k, 4, 2, 2, vec![req(2)]));
    assert!(drain(&mut e).is_empty());
    assert_eq!(e.stats().view_changes, 2);
}

#[test]
fn f_plus_one_view_changes_pull_a_replica_along() {
    let k = keys(4);
    let mut e = replica(4, 3, &k);
    e.handle_message(
        T0,
        NodeId(1),
        Message::ViewChange(view_change(&k, 5, 1, vec![])),
    );
    assert!(drain(&mut e).is_empty() && e.view() == 0);
    e.handle_message(
        T0,
        NodeId(2),
        Message::ViewChange(view_change(&k, 7, 2, vec![])),
    );
    let outs = drain(&mut e);
    assert_eq!(e.view(), 5, "joins the smallest view of the f + 1");
    assert!(
        sends(&outs)
            .iter()
            .any(|(_, m)| matches!(m, Message::ViewChange(v) if v.body.view == 5))
    );
    let mut bad = view_change(&k, 9, 0, vec![]);
    bad.signature = corrupt_signature(&bad.signature);
    e.handle_message(T0, NodeId(0), Message::ViewChange(bad));
    assert_eq!(evidence(&drain(&mut e)).len(), 1);
}

/// Replicas 1, 2, 3 time out in view 0; replica 1 is the new primary.
#[test]
fn new_primary_recomputes_o_and_backups_verify_it() {
    let k = keys(4);
    let mut reps: Vec<Pbft> = (0..4).map(|i| replica(4, i, &k)).collect();
    // Seq 1 prepared at replicas 1 and 2 (view 0); replica 3 saw nothing.
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    for i in [1, 2] {
        reps[i].handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch.clone()));
        let other = 3 - i as u32;
        reps[i].handle_message(
            T0,
            NodeId(other),
            vote(&k, VotePhase::Prepare, 0, 1, d, other),
        );
        drain(&mut reps[i]);
    }
    let mut vcs = vec![];
    for i in [1, 2, 3] {
        reps[i].handle_request(T0, req(50 + i as u64));
        drain(&mut reps[i]);
        let t = reps[i].next_deadline().unwrap();
        reps[i].handle_timeout(t);
        vcs.extend(
            sends(&drain(&mut reps[i]))
                .into_iter()
                .filter(|(_, m)| matches!(m, Message::ViewChange(_))),
        );
    }
    let t = T0 + Duration::from_secs(1);
    let mut nv = None;
    for (_, m) in &vcs {
        let Message::ViewChange(v) = m else { continue };
        reps[1].handle_message(t, v.signer(), m.clone());
        for (_, out) in sends(&drain(&mut reps[1])) {
            if let Message::NewView(n) = out {
                nv = Some(n);
            }
        }
    }
    let nv = nv.expect("new primary sent a new-view");
    assert!(reps[1].is_active() && reps[1].is_primary() && reps[1].view() == 1);
    assert_eq!(nv.body.pre_prepares.len(), 1);
    assert_eq!(
        nv.body.pre_prepares[0].body.digest, d,
        "the prepared batch is re-proposed"
    );
    // A tampered O is refused with evidence; the honest one is accepted.
    let mut tampered = nv.clone();
    tampered.body.pre_prepares[0] = Signed::sign(
        PrePrepare {
            view: 1,
            seq: 1,
            digest: digest_of(&[]),
            primary: NodeId(1),
        },
        &k.secrets[1],
    );
    tampered = Signed::sign(tampered.body, &k.secrets[1]);
    reps[3].handle_message(t, NodeId(1), Message::NewView(tampered));
    assert!(matches!(
        evidence(&drain(&mut reps[3])).as_slice(),
        [dwcp_core::Evidence {
            fault: Fault::Protocol(_),
            ..
        }]
    ));
    assert!(!reps[3].is_active());
    let short = NewView {
        view_changes: nv.body.view_changes[..2].to_vec(),
        ..nv.body.clone()
    };
    reps[3].handle_message(
        t,
        NodeId(1),
        Message::NewView(Signed::sign(short, &k.secrets[1])),
    );
    assert_eq!(
        evidence(&drain(&mut reps[3])).len(),
        1,
        "two view-changes are not a quorum"
    );
    reps[3].handle_message(t, NodeId(1), Message::NewView(nv.clone()));
    let outs = drain(&mut reps[3]);
    assert!(reps[3].is_active() && reps[3].view() == 1);
    assert_eq!(sent_votes(&outs, VotePhase::Prepare), vec![(1, 1, d)]);
    assert!(matches!(
        records(&outs).first(),
        Some(Record::View {
            view: 1,
            active: true
        })
    ));
    // Replica 3 re-sends its client's request to the new primary.
    assert!(sends(&outs).contains(&(Target::One(NodeId(1)), Message::Request(req(53)))));
    // The old primary, still in view 0, accepts the new-view too.
    reps[0].handle_message(t, NodeId(1), Message::NewView(nv));
    drain(&mut reps[0]);
    assert_eq!((reps[0].view(), reps[0].is_active()), (1, true));
}
