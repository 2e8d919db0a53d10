//! Pinned wire format: changing any encoding changes this hash.

use super::*;
use crate::message::{
    CatchUp, Checkpoint, CheckpointProof, Decided, NewView, Status, ViewChange, VoteCertificate,
};
use crate::state::genesis_state;
use dwcp_core::codec::{self, golden_hash};

fn samples() -> Vec<Message> {
    let k = keys(4);
    let batch = vec![
        req(1),
        Request {
            client: u64::MAX,
            id: 0,
            payload: vec![0xde, 0xad],
            auth: None,
        },
    ];
    let d = digest_of(&batch);
    let Message::Vote(prepare) = vote(&k, VotePhase::Prepare, 3, 7, d, 2) else {
        unreachable!()
    };
    let Message::Vote(commit) = vote(&k, VotePhase::Commit, 3, 7, d, 1) else {
        unreachable!()
    };
    let Message::PrePrepare { pre_prepare, .. } = pp(&k, 4, 3, 7, batch.clone()) else {
        unreachable!()
    };
    let cert = VoteCertificate {
        phase: VotePhase::Commit,
        view: 3,
        seq: 7,
        digest: d,
        votes: vec![(NodeId(1), commit.signature)],
    };
    let ckpt = Signed::sign(
        Checkpoint {
            seq: 16,
            state: genesis_state(),
            replica: NodeId(3),
        },
        &k.secrets[3],
    );
    let proof = CheckpointProof {
        seq: 16,
        state: genesis_state(),
        signatures: vec![(NodeId(3), ckpt.signature)],
    };
    let prepared = crate::PreparedProof {
        pre_prepare: pre_prepare.clone(),
        batch: batch.clone(),
        prepares: vec![(NodeId(2), prepare.signature)],
    };
    let vc = Signed::sign(
        ViewChange {
            view: 4,
            replica: NodeId(1),
            stable: proof.clone(),
            prepared: vec![prepared],
            voted: vec![crate::VotedProof {
                pre_prepare: pre_prepare.clone(),
                batch: batch.clone(),
                prepare: Some(prepare.signature),
            }],
        },
        &k.secrets[1],
    );
    let nv = Signed::sign(
        NewView {
            view: 4,
            primary: NodeId(0),
            view_changes: vec![vc.clone()],
            pre_prepares: vec![pre_prepare.clone()],
        },
        &k.secrets[0],
    );
    vec![
        Message::Request(req(5)),
        Message::PrePrepare {
            pre_prepare,
            batch: batch.clone(),
        },
        Message::Vote(prepare),
        Message::Vote(commit),
        Message::Certificate(cert.clone()),
        Message::Checkpoint(ckpt),
        Message::ViewChange(vc),
        Message::NewView(nv),
        Message::Status(Status {
            view: 1,
            active: false,
            executed: 9,
            stable: 8,
            probe: true,
        }),
        Message::CatchUp(CatchUp {
            stable: Some(proof),
            decided: vec![Decided {
                batch,
                certificate: cert,
            }],
        }),
    ]
}

#[test]
fn golden_encodings() {
    let msgs = samples();
    let enc: Vec<Vec<u8>> = msgs.iter().map(codec::encode).collect();
    for (m, bytes) in msgs.iter().zip(&enc) {
        assert_eq!(&codec::decode::<Message>(bytes).unwrap(), m);
        assert_eq!(dwcp_core::WireMessage::wire_size(m), bytes.len());
    }
    let kinds: Vec<&str> = msgs.iter().map(dwcp_core::WireMessage::kind).collect();
    assert_eq!(
        kinds,
        [
            "request",
            "pre-prepare",
            "prepare",
            "commit",
            "certificate",
            "checkpoint",
            "view-change",
            "new-view",
            "status",
            "catch-up"
        ]
    );
    // Changing this hash changes the wire format: make it deliberate.
    // Last change: view-changes carry the replica's own prepare votes
    // (`ViewChange::voted`, the fast path's view-change rule).
    assert_eq!(
        golden_hash(&enc),
        "ff585c7b277a0b1487aebdc3e279edbd1118d84745498b8360586df853274645"
    );
}
