use serde::{Deserialize, Serialize};
use std::fmt;

/// A replica's identity inside one committee: its index, `0..n`.
///
/// Engines map indices to public keys through their configuration; the
/// transport is expected to authenticate which `NodeId` a message came from.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index as a `usize`, for indexing per-node vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// All ids of a committee of `n` nodes, in order.
    pub fn all(n: usize) -> impl Iterator<Item = NodeId> {
        (0..n as u32).map(NodeId)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl From<u32> for NodeId {
    fn from(v: u32) -> Self {
        NodeId(v)
    }
}
