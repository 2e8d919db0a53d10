//! Equivocating primaries caught from pre-prepares relayed in view-changes
//! ([`crate::relay`]).

use super::*;
use crate::message::{NewView, PrePrepare, ViewChange, VotedProof};
use dwcp_core::Fault;

fn vc(k: &Keyring, view: u64, who: u32, voted: Vec<VotedProof>) -> Signed<ViewChange> {
    let body = ViewChange {
        view,
        replica: NodeId(who),
        stable: genesis(),
        prepared: vec![],
        voted,
    };
    Signed::sign(body, &k.secrets[who as usize])
}

/// A new-view for view 1 (primary 1) from view-changes of 1, 2 and 3, where
/// 2 voted for `x` and 3 for `y` at (view 0, seq 1).
fn new_view(k: &Keyring, x: &[Request], y: &[Request]) -> Message {
    let vcs = vec![
        vc(k, 1, 1, vec![]),
        vc(k, 1, 2, vec![own(k, 2, 0, 1, x)]),
        vc(k, 1, 3, vec![own(k, 3, 0, 1, y)]),
    ];
    // Classic PBFT ignores reported votes: O is empty.
    Message::NewView(Signed::sign(
        NewView {
            view: 1,
            primary: NodeId(1),
            view_changes: vcs,
            pre_prepares: vec![],
        },
        &k.secrets[1],
    ))
}

fn equivocations(outs: &[PbftOutput]) -> Vec<(NodeId, Vec<u8>, Vec<u8>)> {
    evidence(outs)
        .into_iter()
        .filter_map(|e| match e.fault {
            Fault::Equivocation { first, second } => Some((e.culprit, first, second)),
            _ => None,
        })
        .collect()
}

#[test]
fn conflicting_relayed_pre_prepares_in_a_new_view_are_evidence_against_the_primary() {
    let k = keys(4);
    let (x, y) = ([req(1)], [req(2)]);
    let mut r = replica(4, 0, &k);
    r.handle_message(T0, NodeId(1), new_view(&k, &x, &y));
    let outs = drain(&mut r);
    assert_eq!(r.view(), 1, "the new-view itself is valid");
    let found = equivocations(&outs);
    assert_eq!(found.len(), 1, "{outs:?}");
    let (culprit, first, second) = &found[0];
    assert_eq!(*culprit, NodeId(0));
    // Both encodings are the primary's validly signed, conflicting
    // pre-prepares for the same slot: transferable.
    let a: Signed<PrePrepare> = dwcp_core::codec::decode(first).unwrap();
    let b: Signed<PrePrepare> = dwcp_core::codec::decode(second).unwrap();
    assert!(a.verify(&k.publics) && b.verify(&k.publics));
    assert_eq!((a.body.view, a.body.seq), (b.body.view, b.body.seq));
    assert_ne!(a.body.digest, b.body.digest);
    assert_eq!(a.body.primary, NodeId(0));
}

#[test]
fn matching_relayed_pre_prepares_are_not_evidence() {
    let k = keys(4);
    let x = [req(1)];
    let mut r = replica(4, 0, &k);
    r.handle_message(T0, NodeId(1), new_view(&k, &x, &x));
    let outs = drain(&mut r);
    assert_eq!(r.view(), 1);
    assert!(equivocations(&outs).is_empty(), "{outs:?}");
}

/// Classic PBFT with the relay switched on.
#[derive(Clone, Debug)]
struct Relaying(crate::ClassicPolicy);

impl crate::Policy for Relaying {
    fn n(&self) -> usize {
        self.0.n()
    }
    fn primary(&self, view: u64) -> NodeId {
        self.0.primary(view)
    }
    fn is_quorum(&self, voters: &std::collections::BTreeSet<NodeId>) -> bool {
        self.0.is_quorum(voters)
    }
    fn is_weak_quorum(&self, voters: &std::collections::BTreeSet<NodeId>) -> bool {
        self.0.is_weak_quorum(voters)
    }
    fn report_own_votes(&self) -> bool {
        true
    }
}

/// The view-changes replica 2 sends after voting for a pre-prepare of a
/// request it holds and timing out.
fn view_changes_after_a_vote<P: crate::Policy>(mut r: Pbft<P>, k: &Keyring) -> Vec<ViewChange> {
    let batch = vec![req(1)];
    r.handle_request(T0, req(1));
    r.handle_message(T0, NodeId(0), pp(k, 4, 0, 1, batch));
    while r.poll_output().is_some() {}
    r.handle_timeout(Time::ZERO + dwcp_core::Duration::from_secs(60));
    std::iter::from_fn(|| r.poll_output())
        .filter_map(|o| match o {
            Output::Send {
                msg: Message::ViewChange(v),
                ..
            } => Some(v.body),
            _ => None,
        })
        .collect()
}

#[test]
fn own_votes_are_reported_only_when_the_policy_asks() {
    let k = keys(4);
    // Classic: prepared certificates only, as in the paper.
    let vcs = view_changes_after_a_vote(replica(4, 2, &k), &k);
    assert!(!vcs.is_empty(), "the request timer starts a view change");
    assert!(vcs.iter().all(|v| v.voted.is_empty()));
    // Relaying: the pre-prepare it voted for travels with the view-change.
    let policy = Relaying(crate::ClassicPolicy::new(
        dwcp_core::Committee::new(4).unwrap(),
    ));
    let r = Pbft::with_policy(
        cfg(4),
        policy,
        NodeId(2),
        k.secrets[2].clone(),
        k.publics.clone(),
        rng::seeded(2),
    )
    .unwrap();
    let vcs = view_changes_after_a_vote(r, &k);
    assert!(!vcs.is_empty());
    for v in &vcs {
        assert_eq!(v.voted.len(), 1);
        assert_eq!(v.voted[0].pre_prepare.body.digest, digest_of(&[req(1)]));
    }
}
