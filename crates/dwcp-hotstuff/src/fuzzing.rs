//! Fuzzing entry points, wired into cargo-fuzz targets by `fuzz/` and run
//! over random inputs by the unit tests.
//!
//! - [`fuzz_decode`]: arbitrary bytes into the [`Message`] and [`Record`]
//!   decoders; whatever decodes must re-encode to the same value.
//! - [`fuzz_engine`]: arbitrary bytes as a script of inputs to one replica
//!   of a 4-replica committee: raw decoded messages, but also *validly
//!   signed* proposals (with real QCs and TCs combined from every key),
//!   votes and timeouts with fuzzer-chosen views and blocks, bad shares,
//!   fetch traffic, client transactions, clock advances and crash-restarts
//!   from the persisted records. Checks that the replica never panics,
//!   never votes twice in a view and never proposes twice in a view
//!   (restarts included).

use crate::config::HotStuffConfig;
use crate::message::{Block, Message, Proposal, Qc, Record, Tc, Vote, timeout_bytes, vote_bytes};
use crate::replica::{HotStuff, Keys};
use crate::tx::{Batch, Tx};
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Digest, Duration, Engine, NodeId, Output, Time, codec};
use dwcp_crypto::{Keyring, PartialSig, Signed, ThresholdSetup};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

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

fn setup() -> &'static (Keyring, ThresholdSetup) {
    static KEYS: OnceLock<(Keyring, ThresholdSetup)> = OnceLock::new();
    KEYS.get_or_init(|| (Keyring::sr25519(N, 99), ThresholdSetup::generate(N, 3, 99)))
}

fn fresh() -> HotStuff {
    let (ring, th) = setup();
    let keys = Keys {
        secret: ring.secrets[ME.index()].clone(),
        publics: ring.publics.clone(),
        share: th.shares[ME.index()].clone(),
        threshold: th.public.clone(),
    };
    let mut cfg = HotStuffConfig::new(N);
    cfg.retention = 4;
    cfg.fetch_batch = 3;
    cfg.view_window = 8;
    cfg.max_block_txs = 3;
    HotStuff::new(cfg, ME, keys).unwrap_or_else(|_| unreachable!("keys match"))
}

fn combine(msg: &[u8]) -> Option<dwcp_crypto::Certificate> {
    let (_, th) = setup();
    let shares: BTreeMap<NodeId, PartialSig> = (0..3u32)
        .map(|i| (NodeId(i), th.shares[i as usize].sign(msg)))
        .collect();
    th.public.combine(msg, &shares).ok()
}

/// Runs a fuzzer-chosen script against one replica; panics only on a bug.
pub fn fuzz_engine(data: &[u8]) {
    let (ring, th) = setup();
    let mut engine = fresh();
    let mut records: Vec<Record> = vec![];
    let mut voted: BTreeSet<u64> = BTreeSet::new();
    let mut proposed: BTreeSet<u64> = BTreeSet::new();
    let genesis = Block::genesis();
    let mut blocks: Vec<(Digest, Block)> = vec![(genesis.digest(), genesis)];
    let mut now = Time::ZERO;
    let mut b = ByteCursor::new(data);
    let mut steps = 0;
    while !b.is_empty() && steps < 48 {
        steps += 1;
        let op = b.byte() % 9;
        let from = NodeId(b.below(N as u8) as u32);
        let pick = b.byte() as usize % blocks.len();
        let (pd, parent) = blocks[pick].clone();
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
            3 => {
                // A validly signed proposal extending a known block.
                let justify = Qc {
                    view: parent.view,
                    block: pd,
                    cert: if parent.view == 0 {
                        None
                    } else {
                        combine(&vote_bytes(parent.view, &pd))
                    },
                };
                let view = parent.view + 1 + b.below(3);
                let tc = (view > parent.view + 1)
                    .then(|| {
                        combine(&timeout_bytes(view - 1)).map(|cert| Tc {
                            view: view - 1,
                            cert,
                        })
                    })
                    .flatten();
                let author = NodeId((view % N as u64) as u32);
                let txs = (0..b.below(3))
                    .map(|i| Tx::new(i + b.below(8), vec![]))
                    .collect::<Vec<_>>();
                let block = Block {
                    view,
                    height: parent.height + 1,
                    parent: pd,
                    justify,
                    author,
                    txs: Batch::from(txs),
                };
                let d = block.digest();
                let proposal = Signed::sign(
                    Proposal {
                        view,
                        block: d,
                        author,
                    },
                    &ring.secrets[author.index()],
                );
                blocks.push((d, block.clone()));
                engine.handle_message(
                    now,
                    author,
                    Message::Propose {
                        proposal,
                        block,
                        tc,
                    },
                );
            }
            4 => {
                let view = parent.view.max(b.below(6));
                let bytes = if b.byte().is_multiple_of(4) {
                    vote_bytes(view + 1, &pd)
                } else {
                    vote_bytes(view, &pd)
                };
                let share = th.shares[from.index()].sign(&bytes);
                let author = NodeId((view % N as u64) as u32);
                let proposal = Signed::sign(
                    Proposal {
                        view,
                        block: pd,
                        author,
                    },
                    &ring.secrets[author.index()],
                );
                let vote = Vote {
                    view,
                    block: pd,
                    share,
                    proposal,
                };
                engine.handle_message(now, from, Message::Vote(vote));
            }
            5 => {
                let view = b.below(8);
                let share = th.shares[from.index()].sign(&timeout_bytes(view));
                let high_qc = Qc {
                    view: 0,
                    block: blocks[0].0,
                    cert: None,
                };
                let msg = Message::Timeout {
                    view,
                    high_qc,
                    share,
                    vote: None,
                };
                engine.handle_message(now, from, msg);
            }
            6 => {
                let msg = if b.byte().is_multiple_of(2) {
                    Message::Fetch {
                        block: pd,
                        max: b.below(5) as u32,
                    }
                } else {
                    let chain: Vec<Block> = blocks
                        .iter()
                        .rev()
                        .take(3)
                        .map(|(_, b)| b.clone())
                        .collect();
                    Message::Blocks(chain)
                };
                engine.handle_message(now, from, msg);
            }
            7 => {
                let mut e = fresh();
                e.restore(now, records.clone());
                engine = e;
            }
            _ => {
                let len = b.byte() as usize;
                let _ = codec::decode::<Message>(b.take(len));
            }
        }
        while let Some(out) = engine.poll_output() {
            if let Output::Persist(rec) = out {
                match &rec {
                    Record::Voted(v) => assert!(voted.insert(*v), "voted twice in view {v}"),
                    Record::Proposed { view, .. } => {
                        assert!(proposed.insert(*view), "proposed twice in view {view}")
                    }
                    _ => {}
                }
                records.push(rec);
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
        dwcp_core::fuzz::random_inputs(5, 1_500, 200, |i, data| {
            fuzz_decode(data);
            if i % 10 == 0 {
                fuzz_engine(data);
            }
        });
    }
}
