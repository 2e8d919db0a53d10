//! Fuzzing entry points, wired into cargo-fuzz targets by `fuzz/` and run
//! over random inputs by the unit tests.
//!
//! - [`fuzz_decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.
//! - [`fuzz_engine`]: arbitrary bytes interpreted as a script of inputs to
//!   one replica of a 4-replica committee: raw decoded messages, but also
//!   *validly signed* messages with fuzzer-chosen fields (so the fuzzer gets
//!   past signature checks into the protocol logic), requests, clock
//!   advances and crash-restarts from the persisted records. It checks that
//!   the replica never panics and never signs two different digests for the
//!   same `(view, seq, phase)`, across restarts too.

use crate::config::PbftConfig;
use crate::message::{
    Checkpoint, CheckpointProof, Message, Request, Signed, ViewChange, Vote, VotePhase,
    batch_digest,
};
use crate::persist::Record;
use crate::replica::Pbft;
use crate::state::genesis_state;
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Digest, Duration, Engine, NodeId, Output, Time, codec, rng};
use dwcp_crypto::Keyring;
use std::collections::BTreeMap;

/// Decodes arbitrary bytes as a message and as a record; must never panic,
/// and decode∘encode must be the identity on what decodes.
pub fn fuzz_decode(data: &[u8]) {
    if let Some(msg) = decode_roundtrip::<Message>(data) {
        let _ = dwcp_core::WireMessage::kind(&msg);
    }
    let _ = decode_roundtrip::<Record>(data);
}

const N: usize = 4;
const ME: NodeId = NodeId(1);

fn fresh(keys: &Keyring) -> Pbft {
    let mut cfg = PbftConfig::new(N).unwrap_or_else(|_| unreachable!("n = 4 is valid"));
    cfg.checkpoint_interval = 2;
    cfg.window = 4;
    cfg.max_batch = 3;
    cfg.catch_up_retention = 8;
    cfg.buffer_per_peer = 8;
    Pbft::new(
        cfg,
        ME,
        keys.secrets[ME.index()].clone(),
        keys.publics.clone(),
        rng::seeded(7),
    )
    .unwrap_or_else(|_| unreachable!("keys match"))
}

fn digest_pick(b: &mut ByteCursor<'_>) -> (Digest, Vec<Request>) {
    let batch: Vec<Request> = (0..b.below(3))
        .map(|i| Request {
            client: b.below(2),
            id: i,
            payload: vec![],
            auth: None,
        })
        .collect();
    (batch_digest(&batch), batch)
}

/// Runs a fuzzer-chosen script against one replica; panics only if the
/// replica panics or signs conflicting statements.
pub fn fuzz_engine(data: &[u8]) {
    let keys = Keyring::sr25519(N, 99);
    let mut engine = fresh(&keys);
    let mut records: Vec<Record> = vec![];
    let mut signed: BTreeMap<(u64, u64, u8), Digest> = BTreeMap::new();
    let mut now = Time::ZERO;
    let mut b = ByteCursor::new(data);
    let mut steps = 0;
    while !b.is_empty() && steps < 64 {
        steps += 1;
        let op = b.byte() % 10;
        let from = NodeId(b.below(N as u8) as u32);
        let key = &keys.secrets[from.index()];
        let view = b.below(4);
        let seq = b.below(8);
        match op {
            0 => {
                let len = b.byte() as usize * 4;
                if let Ok(msg) = codec::decode::<Message>(b.take(len)) {
                    engine.handle_message(now, from, msg);
                }
            }
            1 => engine.handle_request(
                now,
                Request {
                    client: b.below(3),
                    id: b.below(6),
                    payload: vec![],
                    auth: None,
                },
            ),
            2 => {
                now += Duration::from_millis(b.byte() as u64 * 10);
                engine.handle_timeout(now);
            }
            3 => {
                let (_, batch) = digest_pick(&mut b);
                let primary = NodeId((view % N as u64) as u32);
                let pk = &keys.secrets[primary.index()];
                engine.handle_message(
                    now,
                    from,
                    Message::pre_prepare(view, seq, batch, pk, primary),
                );
            }
            4 | 5 => {
                let phase = if op == 4 {
                    VotePhase::Prepare
                } else {
                    VotePhase::Commit
                };
                let (digest, _) = digest_pick(&mut b);
                let v = Vote {
                    phase,
                    view,
                    seq,
                    digest,
                    replica: from,
                };
                engine.handle_message(now, from, Message::vote(v, key));
            }
            6 => {
                let state = if b.byte().is_multiple_of(2) {
                    genesis_state()
                } else {
                    Digest::of(&[b.byte()])
                };
                let c = Checkpoint {
                    seq: seq * 2,
                    state,
                    replica: from,
                };
                engine.handle_message(now, from, Message::Checkpoint(Signed::sign(c, key)));
            }
            7 => {
                let stable = CheckpointProof {
                    seq: 0,
                    state: genesis_state(),
                    signatures: vec![],
                };
                let vc = ViewChange {
                    view: view + 1,
                    replica: from,
                    stable,
                    prepared: vec![],
                    voted: vec![],
                };
                engine.handle_message(now, from, Message::ViewChange(Signed::sign(vc, key)));
            }
            8 => {
                let mut e = fresh(&keys);
                e.restore(now, records.clone());
                engine = e;
            }
            _ => {
                let len = b.byte() as usize;
                let _ = codec::decode::<Message>(b.take(len));
            }
        }
        while let Some(out) = engine.poll_output() {
            if let Output::Persist(rec) = &out {
                check_no_conflict(&mut signed, rec);
                records.push(rec.clone());
            }
        }
        let _ = engine.next_deadline();
    }
}

fn check_no_conflict(signed: &mut BTreeMap<(u64, u64, u8), Digest>, rec: &Record) {
    let (key, digest) = match rec {
        Record::PrePrepare { pre_prepare, .. } => (
            (pre_prepare.body.view, pre_prepare.body.seq, 0),
            pre_prepare.body.digest,
        ),
        Record::Vote(v) => (
            (v.body.view, v.body.seq, 1 + v.body.phase as u8),
            v.body.digest,
        ),
        _ => return,
    };
    let first = *signed.entry(key).or_insert(digest);
    assert_eq!(first, digest, "replica signed two digests for {key:?}");
}

/// Used by the unit tests: a PrePrepare body for a given slot.
#[cfg(test)]
pub(crate) fn pp_body(view: u64, seq: u64, batch: &[Request]) -> crate::message::PrePrepare {
    crate::message::PrePrepare {
        view,
        seq,
        digest: batch_digest(batch),
        primary: NodeId((view % N as u64) as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_inputs_never_panic() {
        dwcp_core::fuzz::random_inputs(5, 3_000, 200, |i, data| {
            fuzz_decode(data);
            if i % 6 == 0 {
                fuzz_engine(data);
            }
        });
    }

    #[test]
    fn valid_messages_survive_the_decoder_fuzzer() {
        let keys = Keyring::sr25519(1, 1);
        let batch = vec![Request {
            client: 1,
            id: 2,
            payload: vec![3],
            auth: None,
        }];
        let pp = Signed::sign(pp_body(0, 1, &batch), &keys.secrets[0]);
        fuzz_decode(&codec::encode(&Message::PrePrepare {
            pre_prepare: pp,
            batch,
        }));
    }
}
