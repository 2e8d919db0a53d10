//! Client transactions for the ordering engines: an id the engines order
//! and deliver, and payload bytes that only travel. Payloads and batches are
//! reference-counted, so a message broadcast to `n` peers (or held by a
//! simulator for every recipient) shares one copy of the bytes.
//!
//! Shared by the baselines that order opaque transactions (`dwcp-hotstuff`,
//! `dwcp-paxos`), so that they accept, digest and account for transactions
//! the same way.

use crate::Digest;
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

/// An ordered batch of transactions, shared between the copies of a
/// message (a block's or a slot's payload).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;

    #[test]
    fn wire_round_trip_and_size_bound() {
        let b = Batch::from(vec![Tx::new(7, vec![1u8, 2, 3]), Tx::new(9, vec![])]);
        let bytes = codec::encode(&b);
        let back: Batch = codec::decode(&bytes).unwrap();
        assert_eq!(back, b);
        assert!(
            bytes.len() <= b.wire_size(),
            "{} > {}",
            bytes.len(),
            b.wire_size()
        );
        assert_eq!(b.ids(), vec![7, 9]);
        assert_eq!(b.payload_bytes(), 3);
    }

    #[test]
    fn digest_covers_ids_and_bytes() {
        let a = Batch::from(vec![Tx::new(1, vec![1u8])]);
        let other_id = Batch::from(vec![Tx::new(2, vec![1u8])]);
        let other_bytes = Batch::from(vec![Tx::new(1, vec![2u8])]);
        assert_ne!(a.digest(), other_id.digest());
        assert_ne!(a.digest(), other_bytes.digest());
        assert_eq!(a.digest(), a.clone().digest());
    }

    #[test]
    fn clones_share_the_bytes() {
        let t = Tx::new(1, vec![0u8; 512]);
        let c = t.clone();
        assert!(Arc::ptr_eq(&t.payload.0, &c.payload.0));
        assert_eq!(format!("{:?}", t.payload), "Payload(512 bytes)");
    }
}
