//! Wire messages and durable records.

use crate::sync::SyncState;
use crate::types::{Batch, Certificate, Header, Round, Vote};
use dwcp_core::{Digest, NodeId, WireMessage, codec};
use dwcp_crypto::Signed;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// At most this many digests in one fetch request; longer requests are
/// answered only in part.
pub const MAX_REQUEST: usize = 256;

/// What Narwhal nodes exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A batch of transactions, broadcast by its author (or sent in answer
    /// to a [`Message::BatchRequest`]).
    Batch(Arc<Batch>),
    /// A signed header, broadcast by its author.
    Header(Arc<Signed<Header>>),
    /// A vote, sent to the header's author.
    Vote(Box<Vote>),
    /// A certificate, broadcast by its author (or sent in answer to a
    /// [`Message::CertificateRequest`]).
    Certificate(Arc<Certificate>),
    /// "Send me these certificates" (missing parents).
    CertificateRequest(Vec<Digest>),
    /// "Send me these batches".
    BatchRequest(Vec<Digest>),
    /// "I am far behind (my last committed anchor is this round): send me
    /// your latest checkpoints" (state sync; answered at most once per
    /// half `sync_retry` per peer).
    SyncRequest(Round),
    /// The answer to a [`Message::SyncRequest`]: the sender's latest
    /// checkpoints (at most [`MAX_SYNC_OFFERS`] are looked at).
    SyncResponse(Vec<Arc<SyncState>>),
}

/// At most this many checkpoints per [`Message::SyncResponse`] are looked at.
pub const MAX_SYNC_OFFERS: usize = 2;

impl WireMessage for Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Batch(_) => "batch",
            Message::Header(_) => "header",
            Message::Vote(_) => "vote",
            Message::Certificate(_) => "certificate",
            Message::CertificateRequest(_) => "certificate-request",
            Message::BatchRequest(_) => "batch-request",
            Message::SyncRequest(_) => "sync-request",
            Message::SyncResponse(_) => "sync-response",
        }
    }

    fn wire_size(&self) -> usize {
        match self {
            Message::Batch(b) => 1 + b.wire_size(),
            other => codec::encoded_len(other),
        }
    }
}

/// What a node persists; [`dwcp_core::Engine::restore`] replays them.
///
/// - `Header` before the own header is broadcast (never two headers per
///   round, across restarts too);
/// - `Vote` before a vote is sent (never two votes per author and round);
/// - `Certificate` when a certificate enters the DAG (the replay rebuilds
///   the DAG and the orderer's decisions in the same order);
/// - `Batch` when a batch is stored (if `persist_batches`);
/// - `Delivered` before the deliveries it counts (exactly-once delivery);
/// - `Synced` before a state-sync jump takes effect (the replay jumps at
///   the same point, and the certificates persisted after it rebuild the
///   DAG above the new GC floor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// The node's own header.
    Header(Arc<Signed<Header>>),
    /// A vote cast for `author`'s header `digest` of `round`.
    Vote {
        /// Header round.
        round: Round,
        /// Header author.
        author: NodeId,
        /// Header digest.
        digest: Digest,
    },
    /// A certificate inserted into the DAG.
    Certificate(Arc<Certificate>),
    /// A stored batch.
    Batch(Arc<Batch>),
    /// Every certificate of the total order below `next` has been handled
    /// (delivered if it had transactions).
    Delivered {
        /// The next index to deliver.
        next: u64,
    },
    /// The ordering state adopted by state sync.
    Synced(Arc<SyncState>),
}
