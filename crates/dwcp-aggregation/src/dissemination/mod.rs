//! Dissemination: getting one payload from a root to every node with fewer
//! copies at the sender than a direct broadcast.
//!
//! - [`TreeBroadcast`]: a `fanout`-ary tree rooted at the sender (node
//!   positions are rotated so every root gets its own tree). Every node
//!   relays to its children; with acknowledgements on, a parent re-sends to
//!   a silent child `retries` times and then **re-routes around it**,
//!   sending directly to that child's children (and so on down). A
//!   broadcast costs `n − 1` data copies (plus `n − 1` acks), the root sends
//!   only `fanout`, and a payload travels `⌈log_fanout n⌉` hops.
//! - [`Gossip`]: push gossip with bounded fan-out: a node relays a rumour
//!   it sees for the first time to `fanout` random peers while its hop count
//!   is below `max_hops`. About `n · fanout` copies; no acknowledgements;
//!   delivery is probabilistic (≈ `1 − e^{−fanout·(1−loss)}` per node).
//!
//! Both are sans-IO [`dwcp_core::Engine`]s whose requests are payloads and
//! whose delivered values carry the hop count; [`measure`] runs them in the
//! simulator and reports delivery ratio and hops under loss and crashes.

mod gossip;
mod measure;
mod tree;

pub use gossip::{Gossip, GossipConfig, GossipMessage};
pub use measure::{Mode, Report, measure};
pub use tree::{TreeBroadcast, TreeConfig, TreeMessage, TreeOverlay};

use dwcp_core::NodeId;

/// A payload delivered to a node: whose broadcast, which one, and how many
/// transmissions it took to arrive (0 at the root).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Delivered {
    /// The broadcasting node.
    pub root: NodeId,
    /// The root's sequence number for it.
    pub id: u64,
    /// Transmissions on the path that delivered it first.
    pub hops: u32,
}
