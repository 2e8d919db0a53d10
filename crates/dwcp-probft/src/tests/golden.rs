//! The wire format, pinned: changing this hash means changing the format.

use crate::message::{Message, Phase, Proposal, Request, Signed, ViewChange, Vote, VoteMsg};
use crate::sample::{Draw, VRF_CONTEXT};
use crate::{NewView, Record};
use dwcp_core::codec::{encode, golden_hash};
use dwcp_core::{Digest, NodeId};
use dwcp_crypto::Keyring;

#[test]
fn golden_encodings() {
    let k = Keyring::sr25519(4, 1);
    let req = Request {
        client: 1,
        id: 2,
        payload: vec![3, 4],
        auth: None,
    };
    let p = Proposal::new(1, 2, vec![req.clone()], NodeId(1), &k.secrets[1]);
    let vote = Signed::sign(
        Vote {
            phase: Phase::Commit,
            view: 1,
            slot: 2,
            digest: p.header.body.digest,
            voter: NodeId(2),
        },
        &k.secrets[2],
    );
    let proof = k.secrets[2]
        .vrf_prove(
            VRF_CONTEXT,
            &Draw {
                phase: Phase::Commit,
                view: 1,
                slot: 2,
            }
            .input(),
        )
        .1;
    let vm = VoteMsg {
        vote,
        proof,
        leader_signature: p.header.signature,
    };
    let vc = Signed::sign(
        ViewChange {
            view: 2,
            replica: NodeId(3),
            next_slot: 2,
            certs: vec![],
        },
        &k.secrets[3],
    );
    let nv = Signed::sign(
        NewView {
            view: 2,
            leader: NodeId(2),
            view_changes: vec![vc.clone()],
            proposals: vec![],
        },
        &k.secrets[2],
    );
    let msgs = [
        Message::Request(req.clone()),
        Message::Propose(p.clone()),
        Message::Vote(vm),
        Message::ViewChange(vc),
        Message::NewView(nv),
        Message::Fetch { slot: 7 },
        Message::Decided {
            slot: 7,
            batch: vec![req.clone()],
            next: 9,
        },
    ];
    let mut enc: Vec<Vec<u8>> = msgs.iter().map(encode).collect();
    enc.push(encode(&Record::Decided {
        slot: 7,
        batch: vec![req],
    }));
    enc.push(encode(&Record::View {
        view: 2,
        active: true,
        start: 3,
    }));
    enc.push(encode(&Digest::of(b"x")));
    assert_eq!(
        golden_hash(&enc),
        "f223a7b51e03ddf3d68dd5491222c90b53dcc59b947c354bb241557580e2f6d1"
    );
}
