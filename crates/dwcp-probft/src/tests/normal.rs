//! One replica driven by hand (no simulator): what it sends to whom, what it
//! refuses, and what it remembers across a restart.

use crate::message::{Message, Phase, Proposal, Request, Signed, Vote, VoteMsg, batch_digest};
use crate::sample::{Draw, VRF_CONTEXT, own_sample};
use crate::{Probft, ProbftConfig, ProbftOutput, Record};
use dwcp_core::{Digest, Engine, Evidence, Fault, NodeId, Output, Target, Time, rng};
use dwcp_crypto::Keyring;

const N: usize = 16;
const ME: NodeId = NodeId(1);

fn keys() -> Keyring {
    Keyring::sr25519(N, 99)
}

fn replica(k: &Keyring, id: NodeId) -> Probft {
    let mut cfg = ProbftConfig::new(N).unwrap();
    cfg.max_batch = 1;
    Probft::new(
        cfg,
        id,
        k.secrets[id.index()].clone(),
        k.publics.clone(),
        rng::derive(7, id.0.into()),
    )
    .unwrap()
}

fn drain(r: &mut Probft) -> Vec<ProbftOutput> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

fn evidence(out: &[ProbftOutput]) -> Vec<Evidence> {
    out.iter()
        .filter_map(|o| {
            if let Output::Evidence(e) = o {
                Some(e.clone())
            } else {
                None
            }
        })
        .collect()
}

fn sent_votes(out: &[ProbftOutput], phase: Phase) -> Vec<(Target, VoteMsg)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                to,
                msg: Message::Vote(v),
            } if v.vote.body.phase == phase => Some((to.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

fn req(i: u64) -> Request {
    Request {
        client: 3,
        id: i,
        payload: vec![i as u8],
        auth: None,
    }
}

/// A vote by `voter` for `p`, with the voter's real proof and the leader's
/// signature from `p`.
fn vote(k: &Keyring, voter: NodeId, phase: Phase, p: &Proposal) -> VoteMsg {
    let h = &p.header.body;
    let body = Vote {
        phase,
        view: h.view,
        slot: h.slot,
        digest: h.digest,
        voter,
    };
    let draw = Draw {
        phase,
        view: h.view,
        slot: h.slot,
    };
    let proof = k.secrets[voter.index()]
        .vrf_prove(VRF_CONTEXT, &draw.input())
        .1;
    VoteMsg {
        vote: Signed::sign(body, &k.secrets[voter.index()]),
        proof,
        leader_signature: p.header.signature,
    }
}

/// Voters (other than `me` and `skip`) whose `phase` sample holds `me`, or not.
fn voters(k: &Keyring, me: NodeId, phase: Phase, holding: bool) -> Vec<NodeId> {
    let s = ProbftConfig::new(N).unwrap().sample_size();
    NodeId::all(N)
        .filter(|v| *v != me && *v != NodeId(0))
        .filter(|v| {
            let (sample, _) = own_sample(
                &k.secrets[v.index()],
                *v,
                N,
                s,
                Draw {
                    phase,
                    view: 0,
                    slot: 0,
                },
            );
            sample.contains(&me) == holding
        })
        .collect()
}

#[test]
fn votes_go_to_the_vrf_sample_only() {
    let k = keys();
    let mut leader = replica(&k, NodeId(0));
    leader.handle_request(Time::ZERO, req(1));
    let out = drain(&mut leader);
    let Some(Output::Send {
        msg: Message::Propose(p),
        to,
    }) = out.iter().find(|o| {
        matches!(
            o,
            Output::Send {
                msg: Message::Propose(_),
                ..
            }
        )
    })
    else {
        panic!("no proposal: {out:?}")
    };
    assert_eq!(*to, Target::all_but(NodeId(0)));
    let mut r = replica(&k, ME);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(p.clone()));
    let out = drain(&mut r);
    let votes = sent_votes(&out, Phase::Prepare);
    assert_eq!(votes.len(), 1);
    let (sample, _) = own_sample(
        &k.secrets[1],
        ME,
        N,
        r.sizes().0,
        Draw {
            phase: Phase::Prepare,
            view: 0,
            slot: 0,
        },
    );
    assert_eq!(votes[0].0, Target::Many(sample.clone()));
    assert_eq!(sample.len(), 8);
    // The vote was persisted before it was sent.
    let persisted = out
        .iter()
        .position(|o| matches!(o, Output::Persist(Record::Vote(_))));
    let sent = out.iter().position(|o| {
        matches!(
            o,
            Output::Send {
                msg: Message::Vote(_),
                ..
            }
        )
    });
    assert!(persisted < sent);
}

#[test]
fn bad_votes_are_dropped_with_evidence_and_never_counted() {
    let k = keys();
    let p = Proposal::new(0, 0, vec![req(1)], NodeId(0), &k.secrets[0]);
    let mut r = replica(&k, ME);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(p.clone()));
    drain(&mut r);
    let q = r.sizes().1;
    let inside = voters(&k, ME, Phase::Prepare, true);
    let outside = voters(&k, ME, Phase::Prepare, false);
    assert!(
        inside.len() >= q && !outside.is_empty(),
        "{inside:?} {outside:?}"
    );
    type Case = (NodeId, VoteMsg, fn(&Fault) -> bool);
    let bad: Vec<Case> = vec![
        // Outside the sender's sample.
        (
            outside[0],
            vote(&k, outside[0], Phase::Prepare, &p),
            |f| matches!(f, Fault::Protocol(r) if r.contains("outside")),
        ),
        // A proof for another input (the commit phase).
        (
            inside[0],
            {
                let mut v = vote(&k, inside[0], Phase::Prepare, &p);
                v.proof = vote(&k, inside[0], Phase::Commit, &p).proof;
                v
            },
            |f| *f == Fault::InvalidProof,
        ),
        // A bad signature.
        (
            inside[1],
            {
                let mut v = vote(&k, inside[1], Phase::Prepare, &p);
                v.vote.signature = dwcp_pbft::corrupt_signature(&v.vote.signature);
                v
            },
            |f| *f == Fault::InvalidSignature,
        ),
        // A bad leader signature on the header.
        (
            inside[2],
            {
                let mut v = vote(&k, inside[2], Phase::Prepare, &p);
                v.leader_signature = dwcp_pbft::corrupt_signature(&v.leader_signature);
                v
            },
            |f| matches!(f, Fault::Protocol(r) if r.contains("leader signature")),
        ),
        // Relayed by someone else.
        (
            inside[4],
            vote(&k, inside[3], Phase::Prepare, &p),
            |f| matches!(f, Fault::Protocol(r) if r.contains("voter")),
        ),
    ];
    for (from, v, want) in bad {
        r.handle_message(Time::ZERO, from, Message::Vote(v));
        let out = drain(&mut r);
        let ev = evidence(&out);
        assert_eq!(ev.len(), 1, "{out:?}");
        assert!(want(&ev[0].fault) && ev[0].culprit == from, "{:?}", ev[0]);
        assert!(sent_votes(&out, Phase::Commit).is_empty());
    }
    // Only valid votes count: own + (q − 2) valid prepares (voters 0 and 1
    // of `inside` sent bad ones and are skipped) is one short...
    let good: Vec<NodeId> = inside.iter().copied().skip(5).take(q - 1).collect();
    assert_eq!(good.len(), q - 1, "enough distinct valid voters");
    for v in &good[..q - 2] {
        r.handle_message(
            Time::ZERO,
            *v,
            Message::Vote(vote(&k, *v, Phase::Prepare, &p)),
        );
        assert!(sent_votes(&drain(&mut r), Phase::Commit).is_empty());
    }
    // ...and one more valid prepare makes q: the replica commits.
    r.handle_message(
        Time::ZERO,
        good[q - 2],
        Message::Vote(vote(&k, good[q - 2], Phase::Prepare, &p)),
    );
    let out = drain(&mut r);
    assert_eq!(sent_votes(&out, Phase::Commit).len(), 1, "{out:?}");
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Persist(Record::Prepared(c)) if c.prepares.len() == q))
    );
}

#[test]
fn an_equivocating_leader_is_caught_and_replaced() {
    let k = keys();
    let x = Proposal::new(0, 0, vec![req(1)], NodeId(0), &k.secrets[0]);
    let y = Proposal::new(0, 0, vec![req(2)], NodeId(0), &k.secrets[0]);
    let mut r = replica(&k, ME);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(x));
    drain(&mut r);
    // A vote for y carries the leader's signature on y: proof of equivocation.
    let voter = voters(&k, ME, Phase::Prepare, true)[0];
    r.handle_message(
        Time::ZERO,
        voter,
        Message::Vote(vote(&k, voter, Phase::Prepare, &y)),
    );
    let out = drain(&mut r);
    let ev = evidence(&out);
    assert!(
        ev.iter()
            .any(|e| e.culprit == NodeId(0) && matches!(e.fault, Fault::Equivocation { .. })),
        "{ev:?}"
    );
    assert!(!r.is_active() && r.view() == 1, "moved to view 1");
    assert!(out.iter().any(
        |o| matches!(o, Output::Send { msg: Message::ViewChange(v), .. } if v.body.view == 1)
    ));
    // Nothing of the old view counts any more: y's proposal gets no prepare.
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(y.clone()));
    assert!(sent_votes(&drain(&mut r), Phase::Prepare).is_empty());
    assert_ne!(y.header.body.digest, batch_digest(&[req(1)]));
}

#[test]
fn a_restarted_replica_never_votes_twice_and_resumes() {
    let k = keys();
    let x = Proposal::new(0, 0, vec![req(1)], NodeId(0), &k.secrets[0]);
    let mut r = replica(&k, ME);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(x.clone()));
    let records: Vec<Record> = drain(&mut r)
        .into_iter()
        .filter_map(|o| {
            if let Output::Persist(rec) = o {
                Some(rec)
            } else {
                None
            }
        })
        .collect();
    assert!(
        matches!(records.as_slice(), [Record::Vote(v)] if v.body.digest == x.header.body.digest)
    );
    // Crash, restart, and the leader equivocates towards the restarted replica.
    let mut back = replica(&k, ME);
    back.restore(Time::from_millis(5), records.clone());
    drain(&mut back);
    let y = Proposal::new(0, 0, vec![req(2)], NodeId(0), &k.secrets[0]);
    back.handle_message(Time::from_millis(6), NodeId(0), Message::Propose(y));
    let out = drain(&mut back);
    assert!(
        sent_votes(&out, Phase::Prepare).is_empty(),
        "voted twice: {out:?}"
    );
    // Decided slots survive: a replica restored from a decision resumes after it.
    let mut records = records;
    records.push(Record::Decided {
        slot: 0,
        batch: vec![req(1)],
    });
    let mut again = replica(&k, ME);
    again.restore(Time::from_millis(7), records);
    let out = drain(&mut again);
    assert_eq!(again.next_slot(), 1);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Deliver(_))),
        "nothing delivered twice"
    );
    assert_eq!(again.decided_digest(0), Some(x.header.body.digest));
    // It asks what it missed.
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Send {
            msg: Message::Fetch { slot: 1 },
            ..
        }
    )));
    // Records that are not its own are skipped.
    let forged = Signed::sign(
        Vote {
            phase: Phase::Commit,
            view: 0,
            slot: 0,
            digest: Digest::of(b"z"),
            voter: ME,
        },
        &k.secrets[2],
    );
    let mut skeptic = replica(&k, ME);
    skeptic.restore(Time::ZERO, vec![Record::Vote(forged)]);
    drain(&mut skeptic);
    skeptic.handle_message(Time::ZERO, NodeId(0), Message::Propose(x));
    assert_eq!(sent_votes(&drain(&mut skeptic), Phase::Prepare).len(), 1);
}

#[test]
fn view_change_restore_resends_the_same_view_change() {
    let k = keys();
    let mut r = replica(&k, ME);
    r.handle_request(Time::ZERO, req(1));
    drain(&mut r);
    // No proposal comes: the progress timer fires (a fetch first), then again.
    let mut now = Time::ZERO;
    let mut records = vec![];
    for _ in 0..4 {
        now = r.next_deadline().unwrap();
        r.handle_timeout(now);
        records.extend(drain(&mut r).into_iter().filter_map(|o| {
            if let Output::Persist(x) = o {
                Some(x)
            } else {
                None
            }
        }));
    }
    assert!(
        !r.is_active() && r.view() == 1,
        "view {} active {}",
        r.view(),
        r.is_active()
    );
    let first = records
        .iter()
        .find_map(|x| {
            if let Record::ViewChange(v) = x {
                Some(v.clone())
            } else {
                None
            }
        })
        .unwrap();
    let mut back = replica(&k, ME);
    back.restore(now, records);
    let out = drain(&mut back);
    assert!(!back.is_active() && back.view() == 1);
    let resent = out.iter().find_map(|o| match o {
        Output::Send {
            msg: Message::ViewChange(v),
            ..
        } => Some(v.clone()),
        _ => None,
    });
    assert_eq!(resent, Some(first));
}

/// With client keys configured, a request its client did not sign is never
/// ordered: a client's is dropped, a forwarded one accuses the forwarder, a
/// proposal holding one accuses the leader and gets no vote.
#[test]
fn unsigned_requests_are_refused_when_clients_are_authenticated() {
    let k = keys();
    let clients = Keyring::sr25519(4, 5);
    let authenticated = |id: NodeId| {
        let mut r = replica(&k, id);
        r.cfg.clients = Some(clients.publics.clone());
        r
    };
    let signed = Request::signed(3, 1, vec![1], &clients.secrets[3]);
    // A client's unsigned request: dropped, nothing forwarded.
    let mut r = authenticated(ME);
    r.handle_request(Time::ZERO, req(1));
    assert!(drain(&mut r).is_empty());
    // Its signed one is forwarded to the leader.
    r.handle_request(Time::ZERO, signed.clone());
    let out = drain(&mut r);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Send { msg: Message::Request(x), .. } if *x == signed)),
        "{out:?}"
    );
    // A forwarded forgery accuses the forwarder.
    let mut forged = signed.clone();
    forged.payload = vec![9];
    r.handle_message(Time::ZERO, NodeId(5), Message::Request(forged.clone()));
    let ev = evidence(&drain(&mut r));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].culprit, NodeId(5));
    assert_eq!(ev[0].fault, Fault::InvalidSignature);
    // A proposal holding it accuses the leader and gets no prepare.
    let p = Proposal::new(0, 0, vec![forged], NodeId(0), &k.secrets[0]);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(p));
    let out = drain(&mut r);
    assert!(sent_votes(&out, Phase::Prepare).is_empty(), "{out:?}");
    let ev = evidence(&out);
    assert_eq!(ev.len(), 1, "{out:?}");
    assert_eq!(ev[0].culprit, NodeId(0));
    // The same proposal with the signed request is voted for.
    let p = Proposal::new(0, 0, vec![signed], NodeId(0), &k.secrets[0]);
    let mut r = authenticated(ME);
    r.handle_message(Time::ZERO, NodeId(0), Message::Propose(p));
    assert_eq!(sent_votes(&drain(&mut r), Phase::Prepare).len(), 1);
}
