//! Wire messages between the server, relays and clients.

use dwcp_core::WireMessage;
use dwcp_privacy::SecAggMessage;
use serde::{Deserialize, Serialize};

/// Opens a round. Sent by the server to its direct participants and
/// forwarded unchanged by relays to their children.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundStart {
    /// The round number (1-based).
    pub round: u64,
    /// The model version after applying `model` (rounds aggregated so far).
    pub version: u64,
    /// The model: a full dense model if `full`, otherwise the compact
    /// encoding of the delta from version `version − 1`.
    pub model: Vec<u8>,
    /// Whether `model` is the full parameter vector.
    pub full: bool,
    /// Relay edges `(child, parent)` for participants that do not upload to
    /// the server directly; everyone else's parent is whoever sent them this
    /// message.
    pub relays: Vec<(u32, u32)>,
    /// With secure aggregation: the round's participants in the order that
    /// gives their secure-aggregation ids (position `i` is session client
    /// `i`); empty otherwise.
    pub secagg: Vec<u32>,
}

/// A (possibly relay-aggregated) model update for one round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The round it belongs to.
    pub round: u64,
    /// Sum of the contributors' sample counts (FedAvg weight).
    pub weight: u64,
    /// Clients aggregated into this update (1 for a plain client).
    pub contributors: u32,
    /// Compact encoding of the (weighted-mean) model delta.
    pub payload: Vec<u8>,
}

/// One secure-aggregation message of a round's session, between a client
/// and the server (ids translated by [`crate::secure`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecAggEnvelope {
    /// The round (the session number).
    pub round: u64,
    /// The `dwcp-privacy` message.
    pub msg: SecAggMessage,
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FlMessage {
    /// Server (or relay, forwarding) → participant.
    RoundStart(RoundStart),
    /// Participant → its parent (relay or server).
    Update(Update),
    /// Participant → server: my model is not at `version − 1`; send it whole.
    Resync {
        /// The round being opened.
        round: u64,
    },
    /// Server → participant: the full current model (dense f32, compact encoding).
    Model {
        /// Model version.
        version: u64,
        /// Compact dense encoding.
        params: Vec<u8>,
    },
    /// Secure aggregation of the round's updates (replaces `Update` when
    /// it is on), both directions.
    SecAgg(SecAggEnvelope),
}

impl WireMessage for FlMessage {
    fn kind(&self) -> &'static str {
        match self {
            FlMessage::RoundStart(_) => "round-start",
            FlMessage::Update(_) => "update",
            FlMessage::Resync { .. } => "resync",
            FlMessage::Model { .. } => "model",
            FlMessage::SecAgg(e) => e.msg.kind(),
        }
    }
}
