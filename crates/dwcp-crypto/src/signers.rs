//! A compact set of signers: a bitmap over `NodeId`s.

use dwcp_core::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A set of `NodeId`s as a bitmap (bit `i % 8` of byte `i / 8` is node `i`).
/// Canonical: no trailing zero bytes, so equal sets have equal encodings;
/// decoding rejects a non-canonical bitmap. On the wire it costs about
/// `n / 8` bytes.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct SignerSet(Vec<u8>);

impl SignerSet {
    /// The empty set.
    pub fn new() -> SignerSet {
        SignerSet(Vec::new())
    }

    /// Adds `id`.
    pub fn insert(&mut self, id: NodeId) {
        let byte = id.index() / 8;
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        if let Some(b) = self.0.get_mut(byte) {
            *b |= 1 << (id.0 % 8);
        }
    }

    /// True if `id` is in the set.
    pub fn contains(&self, id: NodeId) -> bool {
        self.0
            .get(id.index() / 8)
            .is_some_and(|b| b & (1 << (id.0 % 8)) != 0)
    }

    /// The members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.0.iter().enumerate().flat_map(|(byte, b)| {
            (0..8u32)
                .filter(move |bit| b & (1 << bit) != 0)
                .map(move |bit| NodeId(byte as u32 * 8 + bit))
        })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// True if there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One more than the largest member (0 if empty): every member is
    /// `< upper_bound()`.
    pub fn upper_bound(&self) -> usize {
        // Canonical: the last byte, if any, is non-zero.
        match self.0.last() {
            Some(&b) => (self.0.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
            None => 0,
        }
    }
}

impl FromIterator<NodeId> for SignerSet {
    fn from_iter<I: IntoIterator<Item = NodeId>>(iter: I) -> Self {
        let mut s = SignerSet::new();
        for id in iter {
            s.insert(id);
        }
        s
    }
}

impl TryFrom<Vec<u8>> for SignerSet {
    type Error = &'static str;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        if bytes.last() == Some(&0) {
            return Err("non-canonical signer bitmap (trailing zero byte)");
        }
        Ok(SignerSet(bytes))
    }
}

impl From<SignerSet> for Vec<u8> {
    fn from(s: SignerSet) -> Vec<u8> {
        s.0
    }
}

impl fmt::Debug for SignerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|id| id.0)).finish()
    }
}
