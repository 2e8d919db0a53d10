//! Fuzzing entry points, wired into cargo-fuzz targets by `fuzz/` and run
//! over random inputs by the unit tests.
//!
//! - [`fuzz_decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.
//! - [`fuzz_engine`]: arbitrary bytes interpreted as a script of inputs to
//!   node 1 of a 4-node committee running any [`Orderer`]: raw decoded
//!   messages, but also *validly signed* headers, votes, certificates and
//!   batches with fuzzer-chosen rounds and parents (so the fuzzer gets past
//!   signature checks into the DAG and ordering logic), fetch requests,
//!   transactions, clock advances, state-sync requests, round claims and
//!   checkpoint offers (agreed by two peers, so a jump can happen), and
//!   crash-restarts from the persisted records. It checks that the node never panics, never persists two
//!   different votes for one (author, round) or two headers for one round,
//!   and never delivers an index twice or out of order, across restarts too.

use crate::config::{Keys, NarwhalConfig};
use crate::message::{Message, Record};
use crate::node::Narwhal;
use crate::order::{Orderer, OrdererState};
use crate::sync::SyncState;
use crate::types::{Batch, Certificate, Committed, Header, Transaction, Vote, vote_message};
use crate::{Dag, Round};
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Digest, Duration, Engine, NodeId, Output, Time, rng};
use dwcp_crypto::{Signed, aggregate};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Decodes arbitrary bytes as a message and as a record; must never panic,
/// and decode∘encode must be the identity on what decodes.
pub fn fuzz_decode(data: &[u8]) {
    if let Some(msg) = decode_roundtrip::<Message>(data) {
        let _ = dwcp_core::WireMessage::kind(&msg);
        let _ = dwcp_core::WireMessage::wire_size(&msg);
    }
    let _ = decode_roundtrip::<Record>(data);
}

const N: usize = 4;
const ME: NodeId = NodeId(1);

fn keys() -> Vec<Keys> {
    #[cfg(feature = "insecure-mock-crypto")]
    return Keys::insecure_mock(N, 5);
    #[cfg(not(feature = "insecure-mock-crypto"))]
    Keys::generate(N, 5)
}

/// What the script knows: certificates by round (for parents), batches by
/// author, the node's current own header.
struct Model {
    keys: Vec<Keys>,
    certs: BTreeMap<Round, BTreeMap<NodeId, Digest>>,
    batches: BTreeMap<NodeId, Vec<Digest>>,
    own: Option<Header>,
    votes: BTreeMap<(Round, NodeId), Digest>,
    headers: BTreeMap<Round, Digest>,
    delivered: Option<u64>,
}

impl Model {
    fn parents(&self, round: Round, b: &mut ByteCursor<'_>) -> Vec<Digest> {
        let prev = round.saturating_sub(1);
        let mut all: Vec<Digest> = if prev == 0 {
            Dag::genesis(N).iter().map(|v| v.digest).collect()
        } else {
            self.certs
                .get(&prev)
                .map(|m| m.values().copied().collect())
                .unwrap_or_default()
        };
        let drop = b.below(3) as usize;
        all.truncate(all.len().saturating_sub(drop).max(1));
        all
    }

    fn header(&self, author: NodeId, round: Round, b: &mut ByteCursor<'_>) -> Header {
        let batches = self
            .batches
            .get(&author)
            .map(|v| v.iter().rev().take(b.below(3) as usize).copied().collect())
            .unwrap_or_default();
        Header {
            author,
            round,
            batches,
            parents: self.parents(round, b),
            coin: None,
        }
    }

    fn certify(&self, h: Header) -> Arc<Certificate> {
        let d = h.digest();
        let msg = vote_message(&d);
        let sigs = [0usize, 2, 3]
            .iter()
            .map(|i| (NodeId(*i as u32), self.keys[*i].vote.sign(&msg)))
            .collect();
        let agg = aggregate(&self.keys[0].vote_publics, &msg, &sigs);
        Arc::new(Certificate {
            header: h,
            votes: Some(agg.cert),
        })
    }

    /// Records and checks one output.
    fn observe(&mut self, o: &Output<Message, Record, Committed>) {
        match o {
            Output::Persist(Record::Vote {
                round,
                author,
                digest,
            }) => {
                let prev = self.votes.insert((*round, *author), *digest);
                assert!(prev.is_none_or(|p| p == *digest), "two votes for one slot");
            }
            Output::Persist(Record::Header(h)) => {
                let d = h.body.digest();
                let prev = self.headers.insert(h.body.round, d);
                assert!(prev.is_none_or(|p| p == d), "two own headers for one round");
            }
            Output::Send {
                msg: Message::Header(h),
                ..
            } => self.own = Some(h.body.clone()),
            Output::Send {
                msg: Message::Certificate(c),
                ..
            } => {
                self.certs
                    .entry(c.round())
                    .or_default()
                    .insert(c.author(), c.header.digest());
            }
            Output::Deliver(v) => {
                assert!(
                    self.delivered.is_none_or(|d| v.index > d),
                    "index delivered twice or out of order"
                );
                // A jump marker names the next index to be delivered.
                let last = if v.sync.is_some() {
                    v.index.checked_sub(1)
                } else {
                    Some(v.index)
                };
                self.delivered = last.or(self.delivered);
            }
            _ => {}
        }
    }
}

/// Runs a script of inputs against node 1 with orderer `make()`; see the
/// module docs.
pub fn fuzz_engine<O: Orderer>(data: &[u8], make: impl Fn() -> O) {
    let keys = keys();
    let mut cfg = NarwhalConfig::new(N).unwrap_or_else(|_| unreachable!("n = 4 is valid"));
    cfg.gc_depth = 4;
    cfg.sync_retention = 2;
    cfg.max_rounds_ahead = 12;
    cfg.max_batches_per_author = 8;
    cfg.batch_size = 64;
    let build = || {
        Narwhal::new(
            cfg.clone(),
            ME,
            keys[ME.index()].clone(),
            make(),
            rng::seeded(3),
        )
        .unwrap_or_else(|_| unreachable!("keys match"))
    };
    let mut node = build();
    let mut records: Vec<Record> = vec![];
    let mut model = Model {
        keys: keys.clone(),
        certs: BTreeMap::new(),
        batches: BTreeMap::new(),
        own: None,
        votes: BTreeMap::new(),
        headers: BTreeMap::new(),
        delivered: None,
    };
    let mut now = Time::ZERO;
    let mut b = ByteCursor::new(data);
    let peers = [NodeId(0), NodeId(2), NodeId(3)];
    let mut steps = 0;
    while !b.is_empty() && steps < 400 {
        steps += 1;
        let peer = peers[b.below(3) as usize];
        let top = model.certs.keys().next_back().copied().unwrap_or(0);
        let round = (top + b.below(3)).saturating_sub(1).max(1);
        match b.below(10) {
            0 => {
                let len = b.byte() as usize;
                if let Ok(m) = dwcp_core::codec::decode::<Message>(b.take(len)) {
                    node.handle_message(now, peer, m);
                }
            }
            1 => {
                let h = model.header(peer, round, &mut b);
                let signed = Arc::new(Signed::sign(h, &keys[peer.index()].sign));
                node.handle_message(now, peer, Message::Header(signed));
            }
            2 => {
                let h = model.header(peer, round, &mut b);
                let c = model.certify(h);
                model
                    .certs
                    .entry(c.round())
                    .or_default()
                    .insert(peer, c.header.digest());
                let from = peers[b.below(3) as usize];
                node.handle_message(now, from, Message::Certificate(c));
            }
            3 => {
                if let Some(h) = &model.own {
                    let d = h.digest();
                    let sig = keys[peer.index()].vote.sign(&vote_message(&d));
                    let vote = Vote {
                        header: d,
                        round: h.round,
                        author: ME,
                        voter: peer,
                        sig,
                    };
                    node.handle_message(now, peer, Message::Vote(Box::new(vote)));
                }
            }
            4 => {
                let seq = u64::from(b.byte());
                let batch = Arc::new(Batch {
                    author: peer,
                    seq,
                    txs: vec![Transaction::new(vec![b.byte(); 9])],
                });
                model.batches.entry(peer).or_default().push(batch.digest());
                node.handle_message(now, peer, Message::Batch(batch));
            }
            5 => {
                let ds: Vec<Digest> = model
                    .certs
                    .values()
                    .flat_map(|m| m.values().copied())
                    .chain(model.batches.values().flatten().copied())
                    .take(b.below(8) as usize)
                    .collect();
                let m = if b.below(2) == 0 {
                    Message::CertificateRequest(ds)
                } else {
                    Message::BatchRequest(ds)
                };
                node.handle_message(now, peer, m);
            }
            6 => node.handle_request(
                now,
                Transaction::new(vec![b.byte(); 1 + b.below(40) as usize]),
            ),
            7 => {
                now += Duration::from_millis(10 * u64::from(b.byte()));
                node.handle_timeout(now);
            }
            8 => state_sync(&mut node, &model, &keys, &mut now, top, &mut b),
            _ => {
                node = build();
                node.restore(now, records.clone());
            }
        }
        while let Some(o) = node.poll_output() {
            model.observe(&o);
            if let Output::Persist(r) = o {
                records.push(r);
            }
        }
    }
}

/// State-sync inputs: a sync request, round claims far ahead from two
/// peers (which make the node ask for checkpoints at its next sync tick),
/// or the claims, a sync tick, the same fuzzer-built checkpoint offered by
/// two peers (`f + 1` of 4) and another tick (the node adopts it if its
/// orderer can install it).
fn state_sync<O: Orderer>(
    node: &mut Narwhal<O>,
    model: &Model,
    keys: &[Keys],
    now: &mut Time,
    top: Round,
    b: &mut ByteCursor<'_>,
) {
    let peers = [NodeId(0), NodeId(2)];
    let ahead = top + 8 + u64::from(b.byte());
    let claims = |node: &mut Narwhal<O>, b: &mut ByteCursor<'_>, now: Time| {
        for p in peers {
            let h = model.header(p, ahead, b);
            let signed = Arc::new(Signed::sign(h, &keys[p.index()].sign));
            node.handle_message(now, p, Message::Header(signed));
        }
    };
    match b.below(3) {
        0 => node.handle_message(*now, NodeId(3), Message::SyncRequest(ahead)),
        1 => claims(node, b, *now),
        _ => {
            claims(node, b, *now);
            *now += node.config().sync_retry;
            node.handle_timeout(*now);
            let ordered = (0..b.below(4))
                .map(|i| (ahead - i, NodeId(b.below(4) as u32)))
                .collect::<std::collections::BTreeSet<_>>();
            let state = Arc::new(SyncState {
                anchor_round: ahead,
                anchor_author: NodeId(b.below(4) as u32),
                anchor: Digest::of(&[b.byte()]),
                next_index: model.delivered.map_or(0, |d| d + 1) + u64::from(b.byte()),
                sequence: Digest::of(&[b.byte()]),
                delivered_batches: vec![(Digest::of(&[b.byte()]), ahead)],
                orderer: OrdererState {
                    last_committed_round: ahead,
                    ordered: ordered.into_iter().collect(),
                    extra: vec![],
                },
            });
            for p in peers {
                node.handle_message(*now, p, Message::SyncResponse(vec![state.clone()]));
            }
            *now += node.config().sync_retry;
            node.handle_timeout(*now);
        }
    }
}

/// [`fuzz_engine`] with the DAG-only [`crate::NoOrder`].
pub fn fuzz_dag(data: &[u8]) {
    fuzz_engine(data, || crate::NoOrder);
}
