//! Fuzzing entry points (wired into cargo-fuzz targets by the integrator,
//! run over random inputs by the unit tests). Neither may panic on any
//! input; the checks inside them panic only on a real bug.
//!
//! - [`decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.
//! - [`engine`]: arbitrary bytes as a script of inputs to replica 1 of a
//!   16-replica committee: raw decoded messages, and also *validly signed*
//!   proposals, votes (with the voter's real VRF proof, so some pass the
//!   membership check), view-changes, catch-up messages, requests, clock
//!   advances and crash-restarts from the persisted records. It checks that
//!   the replica never signs two digests for one `(phase, view, slot)` or
//!   two proposals for one `(view, slot)`, across restarts too.

use crate::config::ProbftConfig;
use crate::message::{Message, Phase, Proposal, Request, Signed, ViewChange, Vote, VoteMsg};
use crate::persist::Record;
use crate::replica::Probft;
use crate::sample::{Draw, VRF_CONTEXT};
use crate::verify::leader_of;
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Digest, Duration, Engine, NodeId, Output, Time, codec, rng};
use dwcp_crypto::Keyring;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Decodes `data` as a message and as a record; never panics, and
/// decode∘encode is the identity on what decodes.
pub fn decode(data: &[u8]) {
    if let Some(msg) = decode_roundtrip::<Message>(data) {
        let _ = dwcp_core::WireMessage::kind(&msg);
    }
    let _ = decode_roundtrip::<Record>(data);
}

const N: usize = 16;
const ME: NodeId = NodeId(1);

fn keys() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| Keyring::sr25519(N, 0xf022))
}

fn fresh() -> Probft {
    let k = keys();
    let mut cfg = ProbftConfig::new(N).unwrap_or_else(|_| unreachable!("n = 16 is valid"));
    cfg.max_batch = 3;
    cfg.buffer_per_peer = 8;
    cfg.retention = 16;
    cfg.fetch_batch = 4;
    Probft::new(
        cfg,
        ME,
        k.secrets[ME.index()].clone(),
        k.publics.clone(),
        rng::seeded(1),
    )
    .unwrap_or_else(|_| unreachable!("matching keys"))
}

fn request(c: &mut ByteCursor<'_>) -> Request {
    Request {
        client: c.below(3),
        id: c.below(8),
        payload: vec![c.byte()],
        auth: None,
    }
}

fn batch(c: &mut ByteCursor<'_>) -> Vec<Request> {
    let mut b: Vec<Request> = (0..c.below(3)).map(|_| request(c)).collect();
    b.sort();
    b.dedup_by_key(|r| r.key());
    b
}

/// What the replica signed so far: (phase or proposal, view, slot) → digest.
#[derive(Default)]
struct Signatures(BTreeMap<(u8, u64, u64), Digest>);

impl Signatures {
    fn check(&mut self, rec: &Record) {
        let (key, d) = match rec {
            Record::Proposed(p) => (
                (2, p.header.body.view, p.header.body.slot),
                p.header.body.digest,
            ),
            Record::Vote(v) => (
                (v.body.phase.index() as u8, v.body.view, v.body.slot),
                v.body.digest,
            ),
            _ => return,
        };
        let first = *self.0.entry(key).or_insert(d);
        assert_eq!(first, d, "signed two digests for {key:?}");
    }
}

/// Drives one replica with a script decoded from `data`; see the module docs.
pub fn engine(data: &[u8]) {
    let k = keys();
    let mut c = ByteCursor::new(data);
    let mut replica = fresh();
    let mut records: Vec<Record> = Vec::new();
    let mut signed = Signatures::default();
    let mut now = Time::ZERO;
    let mut steps = 0;
    while !c.is_empty() && steps < 64 {
        steps += 1;
        let from = NodeId(c.below(N as u8) as u32);
        let view = c.below(3);
        let slot = c.below(4);
        match c.byte() % 9 {
            0 => {
                let len = c.byte() as usize;
                if let Ok(m) = codec::decode::<Message>(c.take(len)) {
                    replica.handle_message(now, from, m);
                }
            }
            1 => {
                let leader = leader_of(view, N);
                let p = Proposal::new(
                    view,
                    slot,
                    batch(&mut c),
                    leader,
                    &k.secrets[leader.index()],
                );
                replica.handle_message(now, leader, Message::Propose(p));
            }
            2 | 3 => {
                let phase = if c.byte() & 1 == 0 {
                    Phase::Prepare
                } else {
                    Phase::Commit
                };
                let leader = leader_of(view, N);
                let digest = crate::message::batch_digest(&batch(&mut c));
                let vote = Signed::sign(
                    Vote {
                        phase,
                        view,
                        slot,
                        digest,
                        voter: from,
                    },
                    &k.secrets[from.index()],
                );
                let draw = Draw { phase, view, slot };
                let proof = k.secrets[from.index()]
                    .vrf_prove(VRF_CONTEXT, &draw.input())
                    .1;
                let header = vote.body.header(leader);
                let leader_signature = Signed::sign(header, &k.secrets[leader.index()]).signature;
                replica.handle_message(
                    now,
                    from,
                    Message::Vote(VoteMsg {
                        vote,
                        proof,
                        leader_signature,
                    }),
                );
            }
            4 => replica.handle_request(now, request(&mut c)),
            5 => {
                now += Duration::from_millis(c.byte().into()) * 10;
                replica.handle_timeout(now);
            }
            6 => {
                let body = ViewChange {
                    view: view + 1,
                    replica: from,
                    next_slot: slot,
                    certs: vec![],
                };
                replica.handle_message(
                    now,
                    from,
                    Message::ViewChange(Signed::sign(body, &k.secrets[from.index()])),
                );
            }
            7 => {
                let m = if c.byte() & 1 == 0 {
                    Message::Fetch { slot }
                } else {
                    Message::Decided {
                        slot,
                        batch: batch(&mut c),
                        next: slot + c.below(3),
                    }
                };
                replica.handle_message(now, from, m);
            }
            _ => {
                replica = fresh();
                replica.restore(now, records.clone());
            }
        }
        while let Some(o) = replica.poll_output() {
            if let Output::Persist(r) = o {
                signed.check(&r);
                records.push(r);
            }
        }
        let _ = replica.next_deadline();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_inputs_never_panic() {
        dwcp_core::fuzz::random_inputs(77, 3_000, 160, |i, data| {
            decode(data);
            if i % 3 == 0 {
                engine(data);
            }
        });
    }

    #[test]
    fn valid_encodings_roundtrip() {
        let k = keys();
        let p = Proposal::new(
            0,
            1,
            vec![Request {
                client: 1,
                id: 2,
                payload: vec![3],
                auth: None,
            }],
            NodeId(0),
            &k.secrets[0],
        );
        decode(&codec::encode(&Message::Propose(p.clone())));
        decode(&codec::encode(&Record::Proposed(p)));
    }
}
