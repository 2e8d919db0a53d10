//! Wire types: transactions, ballots, the [`Message`] enum and the delivered
//! [`Decision`].

use dwcp_core::{NodeId, WireMessage};
use serde::{Deserialize, Serialize};

pub use dwcp_core::tx::{Batch, Payload, Tx};

/// A Paxos ballot: ordered by round, then by the proposing node, so two
/// candidates never share one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Ballot {
    /// The round.
    pub round: u64,
    /// The node that owns it.
    pub leader: NodeId,
}

/// A slot an acceptor accepted: what a promise reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedEntry {
    /// The slot.
    pub slot: u64,
    /// The ballot it was accepted in.
    pub ballot: Ballot,
    /// The value.
    pub batch: Batch,
}

/// Everything replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client transactions relayed to the node believed to lead.
    Forward(Vec<Tx>),
    /// Phase 1a: a candidate asks for promises for every slot from
    /// `from_slot` on.
    Prepare {
        /// The candidate's ballot.
        ballot: Ballot,
        /// The first slot the candidate has not learned.
        from_slot: u64,
    },
    /// Phase 1b: the acceptor promised `ballot` and reports what it accepted.
    Promise {
        /// The promised ballot.
        ballot: Ballot,
        /// Slots below this one are decided at the acceptor.
        decided: u64,
        /// The lowest slot the acceptor still remembers.
        retained_from: u64,
        /// Accepted slots at or after the candidate's `from_slot`.
        accepted: Vec<AcceptedEntry>,
    },
    /// A refusal: the acceptor has promised a higher ballot.
    Reject {
        /// The refused ballot.
        ballot: Ballot,
        /// The acceptor's promise.
        promised: Ballot,
    },
    /// Phase 2a: accept `batch` for `slot`. Carries the leader's commit point.
    Accept {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The value.
        batch: Batch,
        /// Every slot below this one is chosen.
        commit: u64,
    },
    /// Phase 2b, to the leader only.
    Accepted {
        /// The ballot accepted in.
        ballot: Ballot,
        /// The slot.
        slot: u64,
    },
    /// The leader's heartbeat and commit point (sent when the commit point
    /// moves, and every heartbeat interval when idle).
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// Every slot below this one is chosen.
        commit: u64,
    },
    /// A lagging learner asks for decided slots from `from_slot` on.
    CatchUpRequest {
        /// The first slot the learner lacks.
        from_slot: u64,
    },
    /// Decided slots, in order from `from_slot`.
    CatchUp {
        /// The first slot in `batches`.
        from_slot: u64,
        /// The decided values.
        batches: Vec<Batch>,
    },
}

impl WireMessage for Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Forward(_) => "forward",
            Message::Prepare { .. } => "prepare",
            Message::Promise { .. } => "promise",
            Message::Reject { .. } => "reject",
            Message::Accept { .. } => "accept",
            Message::Accepted { .. } => "accepted",
            Message::Heartbeat { .. } => "heartbeat",
            Message::CatchUpRequest { .. } => "catch-up-request",
            Message::CatchUp { .. } => "catch-up",
        }
    }

    /// An upper bound computed without encoding (varints counted at their
    /// maximum width): the simulator charges bandwidth with it.
    fn wire_size(&self) -> usize {
        const B: usize = 9 + 5;
        1 + match self {
            Message::Forward(txs) => 9 + txs.iter().map(Tx::wire_size).sum::<usize>(),
            Message::Prepare { .. } => B + 9,
            Message::Promise { accepted, .. } => {
                B + 27
                    + accepted
                        .iter()
                        .map(|e| 9 + B + e.batch.wire_size())
                        .sum::<usize>()
            }
            Message::Reject { .. } => 2 * B,
            Message::Accept { batch, .. } => B + 18 + batch.wire_size(),
            Message::Accepted { .. } => B + 9,
            Message::Heartbeat { .. } => B + 9,
            Message::CatchUpRequest { .. } => 9,
            Message::CatchUp { batches, .. } => {
                18 + batches.iter().map(Batch::wire_size).sum::<usize>()
            }
        }
    }
}

/// A decided slot as delivered to the application: the slot and the ids of
/// its transactions (payloads are not kept once decided). Empty slots (no-op
/// fillers) are not delivered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Decision {
    /// The slot.
    pub slot: u64,
    /// Transaction ids, in proposal order.
    pub txs: Vec<u64>,
}

/// A durable record; see `persist` in the crate docs for which record
/// guards which message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Promised not to accept ballots below this one.
    Promised(Ballot),
    /// Accepted `batch` for `slot` in `ballot` (implies the promise).
    Accepted(AcceptedEntry),
    /// Delivered every slot below this one.
    Delivered(u64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::codec;

    fn samples() -> Vec<Message> {
        let b = Ballot {
            round: 3,
            leader: NodeId(1),
        };
        let batch = Batch::from(vec![Tx::new(7, vec![1u8; 40]), Tx::new(u64::MAX, vec![])]);
        vec![
            Message::Forward(batch.txs().to_vec()),
            Message::Prepare {
                ballot: b,
                from_slot: 9,
            },
            Message::Promise {
                ballot: b,
                decided: 4,
                retained_from: 0,
                accepted: vec![AcceptedEntry {
                    slot: 5,
                    ballot: b,
                    batch: batch.clone(),
                }],
            },
            Message::Reject {
                ballot: b,
                promised: b,
            },
            Message::Accept {
                ballot: b,
                slot: u64::MAX,
                batch: batch.clone(),
                commit: 3,
            },
            Message::Accepted { ballot: b, slot: 2 },
            Message::Heartbeat {
                ballot: b,
                commit: 1,
            },
            Message::CatchUpRequest { from_slot: 1 },
            Message::CatchUp {
                from_slot: 2,
                batches: vec![batch, Batch::default()],
            },
        ]
    }

    #[test]
    fn roundtrip_and_size_bound() {
        for m in samples() {
            let bytes = codec::encode(&m);
            assert_eq!(codec::decode::<Message>(&bytes).unwrap(), m);
            assert!(m.wire_size() >= bytes.len(), "{}", m.kind());
            assert!(m.wire_size() <= 2 * bytes.len() + 64, "{}", m.kind());
        }
    }

    #[test]
    fn golden_encodings() {
        let enc: Vec<Vec<u8>> = samples().iter().map(codec::encode).collect();
        assert_eq!(
            codec::golden_hash(&enc),
            "faf466b0637a9fc93766a9a8b540106c6018ae75a8a8ebe0f9c1227802aa33c1"
        );
    }
}
