//! Engine-level tests of one node fed by hand: voting rules, evidence,
//! bounds, persistence order, restore.

use crate::Dag;
use crate::config::{Keys, NarwhalConfig};
use crate::message::{Message, Record};
use crate::node::Narwhal;
use crate::order::NoOrder;
use crate::types::{Batch, Certificate, Header, Transaction, Vote, vote_message};
use dwcp_core::{Digest, Engine, Fault, NodeId, Output, Time, rng};
use dwcp_crypto::{Signed, aggregate};
use std::collections::BTreeMap;
use std::sync::Arc;

const N: usize = 4;
const ME: NodeId = NodeId(0);

fn setup() -> (Vec<Keys>, Narwhal<NoOrder>) {
    let keys = Keys::split(
        dwcp_crypto::Keyring::insecure_mock(N, 3),
        dwcp_crypto::AggKeyring::insecure_mock(N, 3),
    );
    let node = Narwhal::new(
        NarwhalConfig::new(N).unwrap(),
        ME,
        keys[0].clone(),
        NoOrder,
        rng::seeded(1),
    )
    .unwrap();
    (keys, node)
}

fn drain(node: &mut Narwhal<NoOrder>) -> Vec<Output<Message, Record, crate::Committed>> {
    std::iter::from_fn(|| node.poll_output()).collect()
}

fn genesis() -> Vec<Digest> {
    Dag::genesis(N).iter().map(|v| v.digest).collect()
}

fn header(keys: &[Keys], author: u32, round: u64, parents: Vec<Digest>) -> Arc<Signed<Header>> {
    let h = Header {
        author: NodeId(author),
        round,
        batches: vec![],
        parents,
        coin: None,
    };
    Arc::new(Signed::sign(h, &keys[author as usize].sign))
}

fn certify(keys: &[Keys], h: &Header) -> Arc<Certificate> {
    let d = h.digest();
    let sigs: BTreeMap<NodeId, _> = (0..3)
        .map(|i| (NodeId(i), keys[i as usize].vote.sign(&vote_message(&d))))
        .collect();
    let agg = aggregate(&keys[0].vote_publics, &vote_message(&d), &sigs);
    Arc::new(Certificate {
        header: h.clone(),
        votes: Some(agg.cert),
    })
}

fn votes_sent(out: &[Output<Message, Record, crate::Committed>]) -> usize {
    out.iter()
        .filter(|o| {
            matches!(
                o,
                Output::Send {
                    msg: Message::Vote(_),
                    ..
                }
            )
        })
        .count()
}

#[test]
fn votes_once_per_slot_persisting_first_and_reports_equivocation() {
    let (keys, mut node) = setup();
    let h = header(&keys, 1, 1, genesis());
    node.handle_message(Time::ZERO, NodeId(1), Message::Header(h.clone()));
    let out = drain(&mut node);
    let persist = out
        .iter()
        .position(|o| matches!(o, Output::Persist(Record::Vote { .. })));
    let vote = out.iter().position(|o| {
        matches!(
            o,
            Output::Send {
                msg: Message::Vote(_),
                ..
            }
        )
    });
    assert!(
        persist.is_some() && persist < vote,
        "vote must be persisted first"
    );
    // A twin header for the same slot: evidence with both encodings, no vote.
    let mut twin = genesis();
    twin.pop();
    let twin = header(&keys, 1, 1, twin);
    node.handle_message(Time::ZERO, NodeId(1), Message::Header(twin));
    let out = drain(&mut node);
    assert_eq!(votes_sent(&out), 0);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Evidence(e) if e.culprit == NodeId(1) && matches!(e.fault, Fault::Equivocation { .. })
    )));
    // The same header again: the vote is re-sent, not re-cast.
    node.handle_message(Time::ZERO, NodeId(1), Message::Header(h));
    let out = drain(&mut node);
    assert_eq!(votes_sent(&out), 1);
    assert!(!out.iter().any(|o| matches!(o, Output::Persist(_))));
}

#[test]
fn bad_signatures_relays_and_far_rounds_are_refused() {
    let (keys, mut node) = setup();
    // Signed by node 2's key, claiming node 1.
    let forged = Arc::new(Signed::sign(
        Header {
            author: NodeId(1),
            round: 1,
            batches: vec![],
            parents: genesis(),
            coin: None,
        },
        &keys[2].sign,
    ));
    node.handle_message(Time::ZERO, NodeId(1), Message::Header(forged));
    let out = drain(&mut node);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Evidence(e) if e.fault == Fault::InvalidSignature
    )));
    assert_eq!(votes_sent(&out), 0);
    // Relayed by someone else than its author: ignored.
    node.handle_message(
        Time::ZERO,
        NodeId(2),
        Message::Header(header(&keys, 1, 1, genesis())),
    );
    assert_eq!(votes_sent(&drain(&mut node)), 0);
    // Far ahead: ignored, nothing remembered.
    node.handle_message(
        Time::ZERO,
        NodeId(3),
        Message::Header(header(&keys, 3, 10_000, genesis())),
    );
    assert!(drain(&mut node).iter().all(|o| !matches!(
        o,
        Output::Send {
            msg: Message::Vote(_),
            ..
        }
    )));
    assert_eq!(node.memory().headers, 1, "only the node's own header");
    // Too few parents.
    let mut few = genesis();
    few.truncate(2);
    node.handle_message(
        Time::ZERO,
        NodeId(3),
        Message::Header(header(&keys, 3, 1, few)),
    );
    assert!(drain(&mut node).iter().any(|o| matches!(
        o,
        Output::Evidence(e) if matches!(e.fault, Fault::Protocol(_))
    )));
}

#[test]
fn certificates_are_verified_and_parked_until_parents_arrive() {
    let (keys, mut node) = setup();
    let r1: Vec<Arc<Certificate>> = (1..4)
        .map(|a| certify(&keys, &header(&keys, a, 1, genesis()).body))
        .collect();
    let parents: Vec<Digest> = r1.iter().map(|c| c.header.digest()).collect();
    let r2 = certify(&keys, &header(&keys, 1, 2, parents).body);
    node.handle_message(Time::ZERO, NodeId(1), Message::Certificate(r2.clone()));
    let out = drain(&mut node);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Send { msg: Message::CertificateRequest(ds), .. } if ds.len() == 3
    )));
    assert_eq!(node.memory().pending_certificates, 1);
    for c in &r1 {
        node.handle_message(Time::ZERO, NodeId(2), Message::Certificate(c.clone()));
    }
    drain(&mut node);
    assert_eq!(node.memory().pending_certificates, 0);
    assert!(node.dag().contains(&r2.header.digest()));
    // One signer short of a quorum: refused with evidence against the sender.
    let mut weak = (*certify(&keys, &header(&keys, 2, 2, vec![]).body)).clone();
    weak.header.parents = r1.iter().map(|c| c.header.digest()).collect();
    node.handle_message(Time::ZERO, NodeId(3), Message::Certificate(Arc::new(weak)));
    assert!(drain(&mut node).iter().any(|o| matches!(
        o,
        Output::Evidence(e) if e.culprit == NodeId(3) && e.fault == Fault::InvalidSignature
    )));
}

#[test]
fn batches_are_capped_per_author_and_need_their_author() {
    let (_, mut node) = setup();
    node.cfg.max_batches_per_author = 3;
    for seq in 0..10 {
        let b = Arc::new(Batch {
            author: NodeId(2),
            seq,
            txs: vec![Transaction::new(vec![seq as u8; 8])],
        });
        node.handle_message(Time::ZERO, NodeId(2), Message::Batch(b));
    }
    // A batch claiming node 1 as author, sent unsolicited by node 3.
    let fake = Arc::new(Batch {
        author: NodeId(1),
        seq: 0,
        txs: vec![],
    });
    node.handle_message(Time::ZERO, NodeId(3), Message::Batch(fake));
    drain(&mut node);
    assert_eq!(node.memory().batches, 3);
}

#[test]
fn own_header_certified_from_votes_and_restore_keeps_it() {
    let (keys, mut node) = setup();
    node.handle_timeout(Time::ZERO);
    let out = drain(&mut node);
    let own = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                msg: Message::Header(h),
                ..
            } => Some(h.clone()),
            _ => None,
        })
        .expect("round 1 is proposed at once");
    assert_eq!(own.body.round, 1);
    let d = own.body.digest();
    for v in 1..3u32 {
        let vote = Vote {
            header: d,
            round: 1,
            author: ME,
            voter: NodeId(v),
            sig: keys[v as usize].vote.sign(&vote_message(&d)),
        };
        node.handle_message(Time::ZERO, NodeId(v), Message::Vote(Box::new(vote)));
    }
    let out = drain(&mut node);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Send {
            msg: Message::Certificate(_),
            ..
        }
    )));
    assert_eq!(node.stats().certificates, 1);
    // Restart from the persisted records: same round, no second header for
    // round 1.
    let records: Vec<Record> = out
        .into_iter()
        .filter_map(|o| match o {
            Output::Persist(r) => Some(r),
            _ => None,
        })
        .chain([Record::Header(own)])
        .collect();
    let (_, mut again) = setup();
    again.restore(Time::from_millis(5), records);
    assert_eq!(again.round(), 1);
    assert_eq!(again.dag().count(1), 1);
    let out = drain(&mut again);
    assert!(
        !out.iter().any(
            |o| matches!(o, Output::Send { msg: Message::Header(h), .. } if h.body.round == 1)
        )
    );
}

#[test]
fn decoders_never_panic_on_garbage() {
    let mut r = rng::seeded(9);
    for len in 0..300 {
        let mut bytes = vec![0u8; len];
        dwcp_core::rng::RngCore::fill_bytes(&mut r, &mut bytes);
        crate::fuzzing::fuzz_decode(&bytes);
    }
    let msg = Message::CertificateRequest(vec![Digest::of(b"x")]);
    crate::fuzzing::fuzz_decode(&dwcp_core::codec::encode(&msg));
    let state = crate::SyncState {
        anchor_round: 12,
        anchor_author: NodeId(2),
        anchor: Digest::of(b"a"),
        next_index: 40,
        sequence: Digest::of(b"s"),
        delivered_batches: vec![(Digest::of(b"b"), 11)],
        orderer: crate::OrdererState {
            last_committed_round: 12,
            ordered: vec![(11, NodeId(0)), (12, NodeId(2))],
            extra: vec![1, 2, 3],
        },
    };
    let sync = [
        Message::SyncRequest(7),
        Message::SyncResponse(vec![std::sync::Arc::new(state.clone())]),
    ];
    for m in &sync {
        let bytes = dwcp_core::codec::encode(m);
        assert_eq!(dwcp_core::codec::decode::<Message>(&bytes).as_ref(), Ok(m));
        crate::fuzzing::fuzz_decode(&bytes);
        // Truncations never panic.
        for cut in 0..bytes.len() {
            crate::fuzzing::fuzz_decode(&bytes[..cut]);
        }
    }
    let rec = Record::Synced(std::sync::Arc::new(state));
    crate::fuzzing::fuzz_decode(&dwcp_core::codec::encode(&rec));
}

#[test]
fn engine_script_fuzzing_holds_its_invariants() {
    let mut r = rng::seeded(21);
    for len in [16usize, 64, 256, 1024] {
        for _ in 0..8 {
            let mut bytes = vec![0u8; len];
            dwcp_core::rng::RngCore::fill_bytes(&mut r, &mut bytes);
            crate::fuzzing::fuzz_dag(&bytes);
        }
    }
}
