//! The DAG's building blocks: transactions, batches, headers, votes and
//! certificates of availability.

use dwcp_core::{Digest, NodeId, codec};
use dwcp_crypto::{AggSignature, AggregateCert, PartialSig, Statement};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// A DAG round. Round 0 holds the genesis certificates.
pub type Round = u64;

/// The signing context of every Narwhal statement.
pub const SIGNING_CONTEXT: &[u8] = b"dwcp-narwhal";

/// A client transaction: opaque bytes, shared (cloning never copies them).
///
/// Its **id** ([`Transaction::id`]) is its first 8 bytes, little-endian
/// (zero-padded when shorter): the application chooses them, and committed
/// values list ids, not payloads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Transaction(pub Arc<[u8]>);

impl Transaction {
    /// A transaction holding `bytes`.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Transaction {
        Transaction(bytes.into())
    }

    /// The id: the first 8 bytes, little-endian, zero-padded.
    pub fn id(&self) -> u64 {
        let mut head = [0u8; 8];
        for (d, s) in head.iter_mut().zip(self.0.iter()) {
            *d = *s;
        }
        u64::from_le_bytes(head)
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A batch of transactions, broadcast by its author before any header
/// references it (the worker's job, folded into the node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Who built it.
    pub author: NodeId,
    /// The author's batch counter (makes equal contents distinct batches).
    pub seq: u64,
    /// The transactions, in the author's order.
    pub txs: Vec<Transaction>,
}

impl Batch {
    /// The batch digest: SHA-256 over author, counter and every transaction
    /// (length-prefixed), streamed without encoding the batch.
    pub fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        h.update(b"dwcp-narwhal/batch");
        h.update(self.author.0.to_le_bytes());
        h.update(self.seq.to_le_bytes());
        h.update((self.txs.len() as u64).to_le_bytes());
        for tx in &self.txs {
            h.update((tx.0.len() as u64).to_le_bytes());
            h.update(&tx.0);
        }
        Digest(h.finalize().into())
    }

    /// Total payload bytes.
    pub fn payload_bytes(&self) -> usize {
        self.txs.iter().map(Transaction::len).sum()
    }

    /// The encoded size, computed without encoding (bincode varints: the
    /// estimate is exact up to a few bytes per transaction).
    pub fn wire_size(&self) -> usize {
        16 + self.txs.iter().map(|t| t.len() + 3).sum::<usize>()
    }
}

/// A node's proposal for one round: batch digests and at least `2f + 1`
/// certificates of the previous round. Signed by its author
/// ([`dwcp_crypto::Signed`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The proposer.
    pub author: NodeId,
    /// The round.
    pub round: Round,
    /// Digests of batches the author disseminated.
    pub batches: Vec<Digest>,
    /// Digests of certificates of `round - 1` (at least `2f + 1`, distinct
    /// authors).
    pub parents: Vec<Digest>,
    /// An orderer-defined threshold-signature share (Tusk's coin); `None`
    /// for orderers that need none.
    pub coin: Option<PartialSig>,
}

impl Header {
    /// The header digest, which is also its certificate's digest.
    pub fn digest(&self) -> Digest {
        Digest::of_value(self)
    }

    /// The genesis header of `author` (round 0, no parents).
    pub fn genesis(author: NodeId) -> Header {
        Header {
            author,
            round: 0,
            batches: vec![],
            parents: vec![],
            coin: None,
        }
    }
}

impl Statement for Header {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 1;
    fn signer(&self) -> NodeId {
        self.author
    }
}

/// The bytes a vote signs (BLS, aggregated into a certificate).
pub fn vote_message(header: &Digest) -> Vec<u8> {
    let mut m = b"dwcp-narwhal/vote".to_vec();
    m.extend_from_slice(&header.0);
    m
}

/// A vote for a header: "I hold its batches and its parents, and this is the
/// only header of this author and round I vote for".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The header's digest.
    pub header: Digest,
    /// Its round.
    pub round: Round,
    /// Its author (to whom the vote is sent).
    pub author: NodeId,
    /// Who votes.
    pub voter: NodeId,
    /// BLS signature of [`vote_message`].
    pub sig: AggSignature,
}

/// A certificate of availability: a header and an aggregate of at least
/// `2f + 1` votes on its digest. Genesis certificates carry no votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The certified header.
    pub header: Header,
    /// The aggregated votes; `None` only for genesis.
    pub votes: Option<AggregateCert>,
}

impl Certificate {
    /// The genesis certificate of `author`.
    pub fn genesis(author: NodeId) -> Certificate {
        Certificate {
            header: Header::genesis(author),
            votes: None,
        }
    }

    /// The round.
    pub fn round(&self) -> Round {
        self.header.round
    }

    /// The author.
    pub fn author(&self) -> NodeId {
        self.header.author
    }

    /// The encoded size.
    pub fn wire_size(&self) -> usize {
        codec::encoded_len(self)
    }
}

/// A certificate in the local DAG with its digest computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vertex {
    /// The certificate digest (= its header's digest).
    pub digest: Digest,
    /// The certificate, shared.
    pub cert: Arc<Certificate>,
}

impl Vertex {
    /// Wraps a certificate, computing its digest.
    pub fn new(cert: Arc<Certificate>) -> Vertex {
        Vertex {
            digest: cert.header.digest(),
            cert,
        }
    }

    /// The round.
    pub fn round(&self) -> Round {
        self.cert.header.round
    }

    /// The author.
    pub fn author(&self) -> NodeId {
        self.cert.header.author
    }

    /// The parents' digests.
    pub fn parents(&self) -> &[Digest] {
        &self.cert.header.parents
    }
}

/// Where a node that fell too far behind jumped to (state sync): it adopted
/// the ordering state other nodes had right after committing the anchor of
/// `anchor_round`, and delivers nothing of indices below `next_index`. The
/// application fetches its own snapshot at this point out of band (from
/// any replica; `sequence` identifies the committed prefix it must match).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SyncPoint {
    /// The round of the last committed anchor covered by the jump.
    pub anchor_round: Round,
    /// That anchor's certificate digest.
    pub anchor: Digest,
    /// How many certificates the total order holds up to that anchor: the
    /// next index the node delivers from.
    pub next_index: u64,
    /// The running digest of the total order up to that anchor
    /// (`h_i = sha256(h_{i-1} || digest of certificate i)`, `h_{-1}` zero).
    pub sequence: Digest,
}

/// A committed value: one certificate of the total order and the ids of the
/// transactions in its batches, in order. Certificates without transactions
/// are ordered (they take an index) but not delivered.
///
/// After state sync the node delivers one value with `sync: Some(point)`
/// instead: no certificate (`txs` empty, `index == point.next_index`,
/// `round` and `author` those of the anchor), the marker that everything
/// below `index` was skipped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Committed {
    /// Position of the certificate in the total order (0-based, counting
    /// every ordered certificate, delivered or not).
    pub index: u64,
    /// The certificate's round.
    pub round: Round,
    /// The certificate's author.
    pub author: NodeId,
    /// Transaction ids ([`Transaction::id`]), batch by batch.
    pub txs: Vec<u64>,
    /// `Some` only on the marker of a state-sync jump ([`SyncPoint`]).
    pub sync: Option<SyncPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_digests() {
        let t = Transaction::new(vec![1u8, 0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(t.id(), 1);
        assert_eq!(Transaction::new(vec![2u8]).id(), 2);
        let b = Batch {
            author: NodeId(1),
            seq: 0,
            txs: vec![t.clone()],
        };
        let mut c = b.clone();
        c.seq = 1;
        assert_ne!(b.digest(), c.digest());
        assert!(b.wire_size() >= codec::encoded_len(&b));
        assert!(b.wire_size() <= codec::encoded_len(&b) + 16 + 3 * b.txs.len());
        assert_ne!(
            Header::genesis(NodeId(0)).digest(),
            Header::genesis(NodeId(1)).digest()
        );
    }
}
