//! The fast path: the collector's wait and fallback, the commit proof at
//! backups, reported own votes and the new-view rule.

use super::*;
use crate::message::{PreparedProof, ViewChange, VotedProof};
use crate::verify::{self, SigBatch};
use crate::{ClassicPolicy, VoteCertificate, compute_new_view, compute_new_view_with};
use dwcp_core::{Committee, Duration};

const WAIT: Duration = Duration::from_millis(5);

fn policy() -> ClassicPolicy {
    ClassicPolicy::linear_fast(Committee::new(4).unwrap(), WAIT)
}

fn fast_replica(id: u32, k: &Keyring) -> Pbft<ClassicPolicy> {
    let mut c = cfg(4);
    c.max_batch = 1;
    Pbft::with_policy(
        c,
        policy(),
        NodeId(id),
        k.secrets[id as usize].clone(),
        k.publics.clone(),
        rng::seeded(id as u64),
    )
    .unwrap()
}

fn drain_p(e: &mut Pbft<ClassicPolicy>) -> Vec<PbftOutput> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

fn certificates(outs: &[PbftOutput]) -> Vec<VoteCertificate> {
    sends(outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Certificate(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Primary 0 proposes `req(1)`; returns the replica and the batch digest.
fn proposing(k: &Keyring) -> (Pbft<ClassicPolicy>, Digest) {
    let mut p = fast_replica(0, k);
    p.handle_request(T0, req(1));
    let outs = drain_p(&mut p);
    assert!(
        records(&outs)
            .iter()
            .any(|r| matches!(r, Record::Voted(v) if v.prepare.is_none())),
        "the primary reports its pre-prepare as its vote"
    );
    (p, digest_of(&[req(1)]))
}

#[test]
fn all_prepares_make_a_commit_proof_without_a_commit_phase() {
    let k = keys(4);
    let (mut p, d) = proposing(&k);
    for w in [1, 2] {
        p.handle_message(T0, NodeId(w), vote(&k, VotePhase::Prepare, 0, 1, d, w));
    }
    let outs = drain_p(&mut p);
    assert!(certificates(&outs).is_empty(), "a quorum is not enough yet");
    assert!(delivered(&outs).is_empty());
    assert_eq!(p.next_deadline(), Some(T0 + WAIT));
    p.handle_message(T0, NodeId(3), vote(&k, VotePhase::Prepare, 0, 1, d, 3));
    let outs = drain_p(&mut p);
    let certs = certificates(&outs);
    assert_eq!(certs.len(), 1);
    assert_eq!(
        (certs[0].phase, certs[0].votes.len()),
        (VotePhase::Prepare, 3)
    );
    assert_eq!(delivered(&outs), vec![req(1)]);
    assert_eq!((p.stats().fast_decisions, p.stats().fast_fallbacks), (1, 0));

    // A backup decides on the proof alone and sends no commit.
    let mut b = fast_replica(2, &k);
    b.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    let outs = drain_p(&mut b);
    assert!(
        records(&outs)
            .iter()
            .any(|r| matches!(r, Record::Voted(v) if v.prepare.is_some()))
    );
    b.handle_message(T0, NodeId(0), Message::Certificate(certs[0].clone()));
    let outs = drain_p(&mut b);
    assert_eq!(delivered(&outs), vec![req(1)]);
    assert!(sent_votes(&outs, VotePhase::Commit).is_empty());
    assert_eq!(b.stats().fast_decisions, 1);
}

#[test]
fn the_collector_falls_back_after_the_wait() {
    let k = keys(4);
    let (mut p, d) = proposing(&k);
    for w in [1, 2] {
        p.handle_message(T0, NodeId(w), vote(&k, VotePhase::Prepare, 0, 1, d, w));
    }
    drain_p(&mut p);
    p.handle_timeout(T0 + WAIT);
    let outs = drain_p(&mut p);
    let certs = certificates(&outs);
    assert_eq!(certs.len(), 1, "the slow path's prepare certificate");
    assert_eq!(certs[0].votes.len(), 2);
    assert_eq!(p.stats().fast_fallbacks, 1);
    // A late third prepare decides locally but sends no second certificate.
    p.handle_message(T0, NodeId(3), vote(&k, VotePhase::Prepare, 0, 1, d, 3));
    let outs = drain_p(&mut p);
    assert!(certificates(&outs).is_empty());
    assert_eq!(delivered(&outs), vec![req(1)]);

    // A backup given the non-fast certificate takes the slow path.
    let mut b = fast_replica(1, &k);
    b.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, vec![req(1)]));
    b.handle_message(T0, NodeId(0), Message::Certificate(certs[0].clone()));
    let outs = drain_p(&mut b);
    assert!(delivered(&outs).is_empty());
    assert_eq!(
        sent_votes(&outs, VotePhase::Commit),
        vec![(0, 1, d)],
        "commit vote to the collector"
    );
}

fn prepared(k: &Keyring, view: u64, seq: u64, batch: &[Request]) -> PreparedProof {
    let pre_prepare = signed_pp(k, view, seq, batch);
    let primary = pre_prepare.body.primary.0;
    let prepares = (0..4u32)
        .filter(|w| *w != primary)
        .take(2)
        .map(|w| {
            let Message::Vote(v) = vote(k, VotePhase::Prepare, view, seq, digest_of(batch), w)
            else {
                unreachable!()
            };
            (NodeId(w), v.signature)
        })
        .collect();
    PreparedProof {
        pre_prepare,
        batch: batch.to_vec(),
        prepares,
    }
}

fn vc(
    k: &Keyring,
    view: u64,
    who: u32,
    prepared: Vec<PreparedProof>,
    voted: Vec<VotedProof>,
) -> Signed<ViewChange> {
    let body = ViewChange {
        view,
        replica: NodeId(who),
        stable: genesis(),
        prepared,
        voted,
    };
    Signed::sign(body, &k.secrets[who as usize])
}

fn valid(k: &Keyring, v: &Signed<ViewChange>) -> Result<bool, &'static str> {
    let mut sigs = SigBatch::default();
    verify::view_change(&policy(), 4, v, &mut sigs).map(|()| sigs.verify(&k.publics).is_ok())
}

#[test]
fn f_plus_one_own_votes_carry_a_fast_decision_into_the_new_view() {
    // x was decided on the fast path at (view 0, seq 1) by replica 0 alone;
    // replicas 1, 2, 3 never saw a certificate.
    let k = keys(4);
    let x = [req(7)];
    let vcs: Vec<Signed<ViewChange>> = (1..=3)
        .map(|w| vc(&k, 1, w, vec![], vec![own(&k, w, 0, 1, &x)]))
        .collect();
    for v in &vcs {
        assert_eq!(valid(&k, v), Ok(true));
    }
    let bodies = || vcs.iter().map(|v| &v.body);
    assert!(
        compute_new_view(bodies()).entries.is_empty(),
        "classic PBFT would lose x: nothing is prepared"
    );
    let plan = compute_new_view_with(&policy(), bodies());
    assert_eq!(plan.entries.get(&1), Some(&(digest_of(&x), x.to_vec())));
    // One witness is not enough (f + 1 = 2 are needed).
    let lone = [
        vc(&k, 1, 1, vec![], vec![own(&k, 1, 0, 1, &x)]),
        vc(&k, 1, 2, vec![], vec![]),
        vc(&k, 1, 3, vec![], vec![]),
    ];
    assert!(
        compute_new_view_with(&policy(), lone.iter().map(|v| &v.body))
            .entries
            .is_empty()
    );
    // Without the fast path in the policy the votes are ignored.
    let classic = ClassicPolicy::linear(Committee::new(4).unwrap());
    assert!(compute_new_view_with(&classic, bodies()).entries.is_empty());
}

#[test]
fn prepared_certificates_of_the_same_or_a_higher_view_win() {
    let k = keys(4);
    let (x, y) = ([req(1)], [req(2)]);
    let plan_of = |vcs: &[Signed<ViewChange>]| {
        compute_new_view_with(&policy(), vcs.iter().map(|v| &v.body))
            .entries
            .get(&1)
            .map(|(d, _)| *d)
    };
    // Votes for x in view 1, a prepared certificate for y in view 2: y.
    let a = [
        vc(&k, 3, 1, vec![], vec![own(&k, 1, 1, 1, &x)]),
        vc(&k, 3, 3, vec![], vec![own(&k, 3, 1, 1, &x)]),
        vc(&k, 3, 2, vec![prepared(&k, 2, 1, &y)], vec![]),
    ];
    assert_eq!(plan_of(&a), Some(digest_of(&y)));
    // Same view: the certificate wins too (a slow decision may lie behind it).
    let b = [
        vc(&k, 3, 0, vec![], vec![own(&k, 0, 2, 1, &x)]),
        vc(&k, 3, 3, vec![], vec![own(&k, 3, 2, 1, &x)]),
        vc(&k, 3, 1, vec![prepared(&k, 2, 1, &y)], vec![]),
    ];
    assert_eq!(plan_of(&b), Some(digest_of(&y)));
    // Votes for x from views 2 and 3 (one each) count together above a
    // certificate for y from view 1: x.
    let c = [
        vc(&k, 4, 1, vec![], vec![own(&k, 1, 2, 1, &x)]),
        vc(&k, 4, 0, vec![], vec![own(&k, 0, 3, 1, &x)]),
        vc(&k, 4, 2, vec![prepared(&k, 1, 1, &y)], vec![]),
    ];
    assert_eq!(plan_of(&c), Some(digest_of(&x)));
    for v in a.iter().chain(&b).chain(&c) {
        assert_eq!(valid(&k, v), Ok(true), "{:?}", v.body.replica);
    }
}

#[test]
fn bad_reported_votes_are_refused() {
    let k = keys(4);
    let x = [req(1)];
    // Replica 1 reports replica 2's vote as its own.
    let stolen = vc(&k, 1, 1, vec![], vec![own(&k, 2, 0, 1, &x)]);
    assert_eq!(valid(&k, &stolen), Ok(false));
    // A backup without a prepare signature.
    let mut bare = own(&k, 1, 0, 1, &x);
    bare.prepare = None;
    assert!(valid(&k, &vc(&k, 1, 1, vec![], vec![bare])).is_err());
    // The wrong batch.
    let mut swapped = own(&k, 1, 0, 1, &x);
    swapped.batch = vec![req(2)];
    assert!(valid(&k, &vc(&k, 1, 1, vec![], vec![swapped])).is_err());
    // A vote from the view being entered, or not ascending.
    assert!(valid(&k, &vc(&k, 1, 2, vec![], vec![own(&k, 2, 1, 1, &x)])).is_err());
    let twice = vec![own(&k, 1, 0, 2, &x), own(&k, 1, 0, 1, &x)];
    assert!(valid(&k, &vc(&k, 1, 1, vec![], twice)).is_err());
}

#[test]
fn catch_up_accepts_only_full_fast_proofs() {
    let k = keys(4);
    let d = digest_of(&[req(1)]);
    let proof = |voters: &[u32]| VoteCertificate {
        phase: VotePhase::Prepare,
        view: 0,
        seq: 1,
        digest: d,
        votes: voters
            .iter()
            .map(|w| {
                let Message::Vote(v) = vote(&k, VotePhase::Prepare, 0, 1, d, *w) else {
                    unreachable!()
                };
                (NodeId(*w), v.signature)
            })
            .collect(),
    };
    let catch_up = |cert| {
        Message::CatchUp(crate::CatchUp {
            stable: None,
            decided: vec![crate::Decided {
                batch: vec![req(1)],
                certificate: cert,
            }],
        })
    };
    let mut lagging = fast_replica(3, &k);
    lagging.handle_message(T0, NodeId(1), catch_up(proof(&[1, 2])));
    let outs = drain_p(&mut lagging);
    assert!(delivered(&outs).is_empty());
    assert_eq!(evidence(&outs).len(), 1, "a quorum is not a fast proof");
    lagging.handle_message(T0, NodeId(1), catch_up(proof(&[1, 2, 3])));
    assert_eq!(delivered(&drain_p(&mut lagging)), vec![req(1)]);
}
