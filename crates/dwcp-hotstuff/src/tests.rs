//! Unit tests on hand-built chains: the three-chain commit rule, the lock,
//! equivocation evidence, fetching a missing parent, restore.

use crate::config::HotStuffConfig;
use crate::message::{
    Block, Committed, Message, Proposal, Qc, Record, Tc, timeout_bytes, vote_bytes,
};
use crate::replica::{HotStuff, Keys};
use crate::tx::{Batch, Tx};
use dwcp_core::{Engine, Fault, NodeId, Output, Time};
use dwcp_crypto::{Certificate, Keyring, PartialSig, Signed, ThresholdSetup};
use std::collections::BTreeMap;

/// Ten replicas (f = 3, certificates need 7 shares); this one never leads
/// the views the tests use.
const N: usize = 10;
const ME: NodeId = NodeId(9);

struct World {
    ring: Keyring,
    th: ThresholdSetup,
}

impl World {
    fn new() -> World {
        World {
            ring: Keyring::sr25519(N, 5),
            th: ThresholdSetup::generate(N, 7, 5),
        }
    }

    fn replica(&self) -> HotStuff {
        let keys = Keys {
            secret: self.ring.secrets[ME.index()].clone(),
            publics: self.ring.publics.clone(),
            share: self.th.shares[ME.index()].clone(),
            threshold: self.th.public.clone(),
        };
        HotStuff::new(HotStuffConfig::new(N), ME, keys).unwrap()
    }

    fn cert(&self, msg: &[u8]) -> Certificate {
        let shares: BTreeMap<NodeId, PartialSig> = (0..7u32)
            .map(|i| (NodeId(i), self.th.shares[i as usize].sign(msg)))
            .collect();
        self.th.public.combine(msg, &shares).unwrap()
    }

    fn qc(&self, b: &Block) -> Qc {
        let d = b.digest();
        Qc {
            view: b.view,
            block: d,
            cert: (b.view > 0).then(|| self.cert(&vote_bytes(b.view, &d))),
        }
    }

    /// A block of `view` extending `parent`, with one transaction `tx`.
    fn block(&self, parent: &Block, view: u64, tx: u64) -> Block {
        Block {
            view,
            height: parent.height + 1,
            parent: parent.digest(),
            justify: self.qc(parent),
            author: NodeId((view % N as u64) as u32),
            txs: Batch::from(vec![Tx::new(tx, vec![tx as u8])]),
        }
    }

    /// Blocks extending `parent` one after another, block `k` at view
    /// `views[k]` carrying transaction `views[k]`.
    fn chain<const K: usize>(&self, parent: &Block, views: [u64; K]) -> [Block; K] {
        let mut tip = parent.clone();
        views.map(|v| {
            tip = self.block(&tip, v, v);
            tip.clone()
        })
    }

    fn propose(&self, b: &Block, tc: Option<Tc>) -> (NodeId, Message) {
        let author = b.author;
        let proposal = Signed::sign(
            Proposal {
                view: b.view,
                block: b.digest(),
                author,
            },
            &self.ring.secrets[author.index()],
        );
        let msg = Message::Propose {
            proposal,
            block: b.clone(),
            tc,
        };
        (author, msg)
    }

    fn tc(&self, view: u64) -> Tc {
        Tc {
            view,
            cert: self.cert(&timeout_bytes(view)),
        }
    }
}

fn feed(
    r: &mut HotStuff,
    (from, msg): (NodeId, Message),
) -> Vec<Output<Message, Record, Committed>> {
    r.handle_message(Time::ZERO, from, msg);
    std::iter::from_fn(|| r.poll_output()).collect()
}

fn delivered(outs: &[Output<Message, Record, Committed>]) -> Vec<u64> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Deliver(c) => Some(c.txs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn three_consecutive_views_commit_the_first() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let [b1, b2, b3, b4] = w.chain(&g, [1, 2, 3, 4]);
    assert!(delivered(&feed(&mut r, w.propose(&b1, None))).is_empty());
    assert!(delivered(&feed(&mut r, w.propose(&b2, None))).is_empty());
    // b3 carries QC(b2): lock on QC(b1), nothing committed yet.
    assert!(delivered(&feed(&mut r, w.propose(&b3, None))).is_empty());
    assert_eq!(r.locked_qc().view, 1);
    // b4 carries QC(b3): b1 <- b2 <- b3 have consecutive views, b1 commits.
    let out = feed(&mut r, w.propose(&b4, None));
    assert_eq!(delivered(&out), vec![1]);
    assert_eq!(r.committed_tip(), (1, b1.digest()));
    assert_eq!(r.locked_qc().view, 2);
    // The commit was persisted before it was delivered.
    let persist = out
        .iter()
        .position(|o| matches!(o, Output::Persist(Record::Committed { .. })));
    let deliver = out.iter().position(|o| matches!(o, Output::Deliver(_)));
    assert!(persist < deliver);
}

#[test]
fn a_gap_in_views_delays_the_commit_until_a_new_three_chain() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let [b1, b2] = w.chain(&g, [1, 2]);
    // View 3 timed out: b4 extends b2 with a TC for view 3.
    let [b4, b5, b6, b7] = w.chain(&b2, [4, 5, 6, 7]);
    for b in [&b1, &b2] {
        feed(&mut r, w.propose(b, None));
    }
    assert!(delivered(&feed(&mut r, w.propose(&b4, Some(w.tc(3))))).is_empty());
    // QC(b4): b1, b2, b4 not consecutive. QC(b5): b2, b4, b5 neither.
    assert!(delivered(&feed(&mut r, w.propose(&b5, None))).is_empty());
    assert!(delivered(&feed(&mut r, w.propose(&b6, None))).is_empty());
    // QC(b6): b4 <- b5 <- b6 consecutive: b4 commits with b1 and b2 first.
    assert_eq!(
        delivered(&feed(&mut r, w.propose(&b7, None))),
        vec![1, 2, 4]
    );
}

#[test]
fn votes_only_for_blocks_at_or_above_the_lock() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let [b1, b2, b3] = w.chain(&g, [1, 2, 3]);
    for b in [&b1, &b2, &b3] {
        feed(&mut r, w.propose(b, None));
    }
    assert_eq!(r.locked_qc().view, 1);
    // A fork from genesis in view 4 (with a TC for view 3) justified by the
    // genesis QC, below the lock: no vote.
    let fork = w.block(&g, 4, 9);
    let out = feed(&mut r, w.propose(&fork, Some(w.tc(3))));
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Persist(Record::Voted(4))))
    );
    // A block of view 5 extending b2 (QC view 2 >= lock 1): vote.
    let ok = w.block(&b2, 5, 5);
    let out = feed(&mut r, w.propose(&ok, Some(w.tc(4))));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Persist(Record::Voted(5))))
    );
}

#[test]
fn equivocating_proposals_are_evidence() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let b1 = w.block(&g, 1, 1);
    let other = w.block(&g, 1, 2);
    feed(&mut r, w.propose(&b1, None));
    let out = feed(&mut r, w.propose(&other, None));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Evidence(e) if e.culprit == NodeId(1) && matches!(e.fault, Fault::Equivocation { .. })
    )));
    // A proposal from a node that does not lead the view.
    let mut wrong = w.block(&b1, 2, 3);
    wrong.author = NodeId(3);
    let (_, msg) = w.propose(&wrong, None);
    let out = feed(&mut r, (NodeId(3), msg));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Evidence(e) if e.culprit == NodeId(3)))
    );
}

#[test]
fn missing_parents_are_fetched_then_committed() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let [b1, b2, b3, b4] = w.chain(&g, [1, 2, 3, 4]);
    // Only b4 arrives: the replica asks its proposer for b3 and ancestors.
    let out = feed(&mut r, w.propose(&b4, None));
    let asked = out.iter().find_map(|o| match o {
        Output::Send {
            msg: Message::Fetch { block, .. },
            ..
        } => Some(*block),
        _ => None,
    });
    assert_eq!(asked, Some(b3.digest()));
    // Unrequested blocks are ignored; the requested chain is stored.
    let junk = w.block(&g, 1, 99);
    assert!(delivered(&feed(&mut r, (NodeId(2), Message::Blocks(vec![junk])))).is_empty());
    let out = feed(&mut r, (NodeId(4), Message::Blocks(vec![b3, b2, b1])));
    assert_eq!(delivered(&out), vec![1]);
}

#[test]
fn restore_never_votes_again_and_keeps_the_lock() {
    let w = World::new();
    let mut r = w.replica();
    let g = Block::genesis();
    let [b1, b2, b3] = w.chain(&g, [1, 2, 3]);
    let mut records = vec![];
    for b in [&b1, &b2, &b3] {
        for o in feed(&mut r, w.propose(b, None)) {
            if let Output::Persist(rec) = o {
                records.push(rec);
            }
        }
    }
    let mut again = w.replica();
    again.restore(Time::ZERO, records);
    assert_eq!(again.locked_qc().view, 1);
    assert!(again.view() > 3);
    let out = feed(&mut again, w.propose(&b3, None));
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Persist(Record::Voted(_))))
    );
}

#[test]
fn with_client_keys_only_client_signed_transactions_are_voted_for() {
    let w = World::new();
    let clients = Keyring::sr25519(2, 77);
    let keys = Keys {
        secret: w.ring.secrets[ME.index()].clone(),
        publics: w.ring.publics.clone(),
        share: w.th.shares[ME.index()].clone(),
        threshold: w.th.public.clone(),
    };
    let mut cfg = HotStuffConfig::new(N);
    cfg.clients = Some(clients.publics.clone());
    let mut r = HotStuff::new(cfg, ME, keys).unwrap();
    let voted = |out: &[Output<Message, Record, Committed>]| {
        out.iter().any(|o| {
            matches!(
                o,
                Output::Send {
                    msg: Message::Vote(_),
                    ..
                }
            )
        })
    };
    let g = Block::genesis();
    // The leader of view 1 makes up a transaction (w.block's are unsigned).
    let forged = w.block(&g, 1, 1);
    let out = feed(&mut r, w.propose(&forged, None));
    assert!(!voted(&out));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Evidence(e) if e.culprit == NodeId(1) && matches!(e.fault, Fault::Protocol(_))
    )));
    // A block of client-signed transactions in the next view gets a vote.
    let mut good = w.block(&g, 2, 2);
    good.author = NodeId(2);
    good.txs = Batch::from(vec![
        crate::client::sign_tx(2, 0, b"a", &clients.secrets[0]),
        crate::client::sign_tx(3, 1, b"b", &clients.secrets[1]),
    ]);
    let out = feed(&mut r, w.propose(&good, Some(w.tc(1))));
    assert!(voted(&out), "{out:?}");
    // Relayed and client-submitted forgeries never reach the mempool.
    feed(
        &mut r,
        (NodeId(4), Message::Forward(vec![Tx::new(9, vec![9u8])])),
    );
    r.handle_request(Time::ZERO, Tx::new(10, vec![10u8]));
    assert_eq!(r.mempool_len() + r.pending_len(), 0);
    r.handle_request(
        Time::ZERO,
        crate::client::sign_tx(11, 1, b"c", &clients.secrets[1]),
    );
    feed(
        &mut r,
        (
            NodeId(4),
            Message::Forward(vec![crate::client::sign_tx(
                12,
                0,
                b"d",
                &clients.secrets[0],
            )]),
        ),
    );
    assert_eq!(r.mempool_len(), 1, "the signed relay is kept");
    assert_eq!(r.pending_len(), 1, "the signed request is kept");
}
