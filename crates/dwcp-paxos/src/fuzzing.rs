//! Fuzzing entry points, wired into cargo-fuzz targets by `fuzz/` and run
//! over random inputs by the unit tests.
//!
//! - [`fuzz_decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.
//! - [`fuzz_engine`]: arbitrary bytes as a script of inputs to one replica
//!   of a 3-replica committee: raw decoded messages, well-formed messages
//!   with fuzzer-chosen fields (ballots, slots, commit points), client
//!   transactions, clock advances and crash-restarts from the persisted
//!   records. Checks that the replica never panics, never accepts a ballot
//!   below one it promised (restarts included) and never delivers a slot
//!   twice or out of order.

use crate::config::PaxosConfig;
use crate::message::{AcceptedEntry, Ballot, Batch, Message, Record, Tx};
use crate::replica::Paxos;
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Duration, Engine, NodeId, Output, Time, codec, rng};

/// Decodes arbitrary bytes as a message and as a record; must never panic,
/// and decode∘encode must be the identity on what decodes.
pub fn fuzz_decode(data: &[u8]) {
    if let Some(msg) = decode_roundtrip::<Message>(data) {
        let _ = dwcp_core::WireMessage::kind(&msg);
        let _ = dwcp_core::WireMessage::wire_size(&msg);
    }
    let _ = decode_roundtrip::<Record>(data);
}

const N: usize = 3;
const ME: NodeId = NodeId(1);

fn fresh() -> Paxos {
    let mut cfg = PaxosConfig::new(N);
    cfg.pipeline = 3;
    cfg.retention = 4;
    cfg.max_batch_txs = 2;
    cfg.catch_up_batch = 3;
    Paxos::new(cfg, ME, rng::seeded(7)).unwrap_or_else(|_| unreachable!("valid configuration"))
}

fn batch(b: &mut ByteCursor<'_>) -> Batch {
    let len = b.below(3);
    Batch::from(
        (0..len)
            .map(|i| Tx::new(b.below(8) + i, vec![b.byte()]))
            .collect::<Vec<_>>(),
    )
}

/// Runs a fuzzer-chosen script against one replica; panics only on a bug.
pub fn fuzz_engine(data: &[u8]) {
    let mut engine = fresh();
    let mut records: Vec<Record> = vec![];
    let mut promised = Ballot::default();
    let mut delivered_slots: Vec<u64> = vec![];
    let mut now = Time::ZERO;
    let mut b = ByteCursor::new(data);
    let mut steps = 0;
    while !b.is_empty() && steps < 96 {
        steps += 1;
        let op = b.byte() % 9;
        let from = NodeId(b.below(N as u8) as u32);
        let ballot = Ballot {
            round: b.below(4),
            leader: from,
        };
        let slot = b.below(10);
        match op {
            0 => {
                let len = b.byte() as usize * 2;
                if let Ok(msg) = codec::decode::<Message>(b.take(len)) {
                    engine.handle_message(now, from, msg);
                }
            }
            1 => engine.handle_request(now, Tx::new(b.below(16), vec![b.byte()])),
            2 => {
                now += Duration::from_millis(b.byte() as u64 * 20);
                engine.handle_timeout(now);
            }
            3 => engine.handle_message(
                now,
                from,
                Message::Prepare {
                    ballot,
                    from_slot: slot,
                },
            ),
            4 => {
                let batch = batch(&mut b);
                let commit = b.below(10);
                let msg = Message::Accept {
                    ballot,
                    slot,
                    batch,
                    commit,
                };
                engine.handle_message(now, from, msg);
            }
            5 => {
                let msg = match b.below(3) {
                    0 => Message::Accepted { ballot, slot },
                    1 => Message::Heartbeat {
                        ballot,
                        commit: slot,
                    },
                    _ => Message::Reject {
                        ballot,
                        promised: ballot,
                    },
                };
                engine.handle_message(now, from, msg);
            }
            6 => {
                let accepted = vec![AcceptedEntry {
                    slot,
                    ballot,
                    batch: batch(&mut b),
                }];
                let msg = Message::Promise {
                    ballot: engine.promised(),
                    decided: b.below(4),
                    retained_from: b.below(2),
                    accepted,
                };
                engine.handle_message(now, from, msg);
            }
            7 => {
                let batches = (0..b.below(3)).map(|_| batch(&mut b)).collect();
                let msg = if b.byte().is_multiple_of(2) {
                    Message::CatchUp {
                        from_slot: slot,
                        batches,
                    }
                } else {
                    Message::CatchUpRequest { from_slot: slot }
                };
                engine.handle_message(now, from, msg);
            }
            _ => {
                let mut e = fresh();
                e.restore(now, records.clone());
                engine = e;
            }
        }
        while let Some(out) = engine.poll_output() {
            match out {
                Output::Persist(rec) => {
                    let b = match &rec {
                        Record::Promised(b) => Some(*b),
                        Record::Accepted(e) => Some(e.ballot),
                        Record::Delivered(_) => None,
                    };
                    if let Some(b) = b {
                        assert!(
                            b >= promised,
                            "accepted or promised {b:?} below {promised:?}"
                        );
                        promised = b;
                    }
                    records.push(rec);
                }
                Output::Deliver(d) => {
                    assert!(
                        delivered_slots.last().is_none_or(|&s| d.slot > s),
                        "slot {} delivered after {:?}",
                        d.slot,
                        delivered_slots.last()
                    );
                    delivered_slots.push(d.slot);
                }
                _ => {}
            }
        }
        let _ = engine.next_deadline();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_inputs_never_panic() {
        dwcp_core::fuzz::random_inputs(5, 3_000, 300, |i, data| {
            fuzz_decode(data);
            if i % 3 == 0 {
                fuzz_engine(data);
            }
        });
    }
}
