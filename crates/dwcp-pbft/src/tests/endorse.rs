//! Endorsed proposals ([`crate::endorse`]): backups prepare only once the
//! policy accepts the group's shares.

use super::*;
use crate::{ClassicPolicy, Endorsement, Endorser, Policy};
use dwcp_core::Committee;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Classic PBFT whose proposals need shares from 2 of the group {0, 1, 2};
/// a "share" is the member's id followed by the signed bytes.
#[derive(Clone, Debug)]
struct Grouped(ClassicPolicy);

impl Policy for Grouped {
    fn n(&self) -> usize {
        self.0.n()
    }
    fn primary(&self, view: u64) -> NodeId {
        self.0.primary(view)
    }
    fn is_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.0.is_quorum(voters)
    }
    fn is_weak_quorum(&self, voters: &BTreeSet<NodeId>) -> bool {
        self.0.is_weak_quorum(voters)
    }
    fn requires_endorsement(&self, _view: u64) -> bool {
        true
    }
    fn is_endorser(&self, node: NodeId, _view: u64) -> bool {
        node.0 < 3
    }
    fn verify_endorsement(
        &self,
        view: u64,
        seq: u64,
        digest: &Digest,
        shares: &BTreeMap<NodeId, Vec<u8>>,
    ) -> bool {
        let bytes = Endorsement::signing_bytes(view, seq, digest);
        let good = shares
            .iter()
            .filter(|(id, s)| s.first() == Some(&(id.0 as u8)) && s.get(1..) == Some(&bytes[..]))
            .count();
        good >= 2
    }
}

struct Mock(u8);

impl Endorser for Mock {
    fn share(&self, bytes: &[u8]) -> Vec<u8> {
        let mut s = vec![self.0];
        s.extend_from_slice(bytes);
        s
    }
}

fn grouped(id: u32, k: &Keyring) -> Pbft<Grouped> {
    let policy = Grouped(ClassicPolicy::new(Committee::new(4).unwrap()));
    let mut r = Pbft::with_policy(
        cfg(4),
        policy,
        NodeId(id),
        k.secrets[id as usize].clone(),
        k.publics.clone(),
        rng::seeded(id as u64),
    )
    .unwrap();
    if id < 3 {
        r.set_endorser(Arc::new(Mock(id as u8)));
    }
    r
}

fn outputs(r: &mut Pbft<Grouped>) -> Vec<PbftOutput> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

fn endorsement(member: u32, view: u64, seq: u64, digest: Digest, share: Vec<u8>) -> Message {
    Message::Endorsement(Endorsement {
        view,
        seq,
        digest,
        member: NodeId(member),
        share,
    })
}

#[test]
fn a_backup_prepares_only_once_the_group_endorsed_the_proposal() {
    let k = keys(4);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    // Replica 3 is not in the group: the pre-prepare alone is not enough.
    let mut r = grouped(3, &k);
    r.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch.clone()));
    let outs = outputs(&mut r);
    assert!(sent_votes(&outs, VotePhase::Prepare).is_empty());
    // One good share, a forged one (member 2's share sent by 1) and a bad
    // one: still nothing.
    let bytes = Endorsement::signing_bytes(0, 1, &d);
    let share = |m: u8| [vec![m], bytes.clone()].concat();
    r.handle_message(T0, NodeId(0), endorsement(0, 0, 1, d, share(0)));
    r.handle_message(T0, NodeId(1), endorsement(2, 0, 1, d, share(2)));
    r.handle_message(T0, NodeId(1), endorsement(1, 0, 1, d, vec![9]));
    let outs = outputs(&mut r);
    assert!(sent_votes(&outs, VotePhase::Prepare).is_empty());
    assert_eq!(evidence(&outs).len(), 1, "the forged relay is evidence");
    // Member 2's own share completes it: the backup prepares.
    r.handle_message(T0, NodeId(2), endorsement(2, 0, 1, d, share(2)));
    let outs = outputs(&mut r);
    assert_eq!(sent_votes(&outs, VotePhase::Prepare), vec![(0, 1, d)]);
}

#[test]
fn group_members_broadcast_their_share_on_accepting_a_proposal() {
    let k = keys(4);
    let batch = vec![req(1)];
    let d = digest_of(&batch);
    let mut r = grouped(1, &k);
    r.handle_message(T0, NodeId(0), pp(&k, 4, 0, 1, batch));
    let outs = outputs(&mut r);
    let shares: Vec<Endorsement> = sends(&outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Endorsement(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(shares.len(), 1);
    assert_eq!((shares[0].member, shares[0].digest), (NodeId(1), d));
    // Its own share is one of two: no prepare yet.
    assert!(sent_votes(&outs, VotePhase::Prepare).is_empty());
}
