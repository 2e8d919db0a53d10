//! Transactions: shared payload bytes, transactions and batches.

use dwcp_core::Digest;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Transaction bytes, shared rather than copied: cloning a message that
/// carries a batch clones reference counts, not payloads. On the wire it is
/// a length-prefixed byte string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Payload(pub Arc<[u8]>);

impl Payload {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload(v.into())
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Payload;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Payload, E> {
        Ok(Payload(v.into()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Payload, E> {
        Ok(Payload(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
        let mut v = Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            v.push(b);
        }
        Ok(Payload(v.into()))
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Payload, D::Error> {
        d.deserialize_byte_buf(PayloadVisitor)
    }
}

/// A client transaction: a caller-chosen id (unique per transaction) and its
/// bytes. Replicas order and deliver ids; the bytes only travel.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tx {
    /// Unique id.
    pub id: u64,
    /// The bytes.
    pub payload: Payload,
}

impl Tx {
    /// A transaction.
    pub fn new(id: u64, payload: impl Into<Payload>) -> Tx {
        Tx {
            id,
            payload: payload.into(),
        }
    }

    /// Encoded size (id varint bound + length prefix + bytes).
    pub fn wire_size(&self) -> usize {
        9 + 9 + self.payload.len()
    }
}

/// The transactions of one block, shared between the copies of a
/// message. An empty batch makes an empty block.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Tx>", into = "Vec<Tx>")]
pub struct Batch(pub Arc<Vec<Tx>>);

impl From<Vec<Tx>> for Batch {
    fn from(v: Vec<Tx>) -> Self {
        Batch(Arc::new(v))
    }
}

impl From<Batch> for Vec<Tx> {
    fn from(b: Batch) -> Self {
        Arc::unwrap_or_clone(b.0)
    }
}

impl Batch {
    /// The transactions.
    pub fn txs(&self) -> &[Tx] {
        &self.0
    }

    /// The transaction ids, in order.
    pub fn ids(&self) -> Vec<u64> {
        self.0.iter().map(|t| t.id).collect()
    }

    /// Encoded size, computed without encoding.
    pub fn wire_size(&self) -> usize {
        9 + self.0.iter().map(Tx::wire_size).sum::<usize>()
    }
}

impl Batch {
    /// The digest of the batch: every transaction's id and bytes.
    pub fn digest(&self) -> Digest {
        let mut parts: Vec<Vec<u8>> = Vec::with_capacity(self.0.len());
        for tx in self.0.iter() {
            let mut p = tx.id.to_le_bytes().to_vec();
            p.extend_from_slice(&Digest::of(tx.payload.as_slice()).0);
            parts.push(p);
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        Digest::of_parts(&refs)
    }

    /// Payload bytes in the batch.
    pub fn payload_bytes(&self) -> usize {
        self.0.iter().map(|t| t.payload.len()).sum()
    }
}
