//! The linear mode's wire message: PBFT messages plus the envelopes the
//! aggregation layer adds.

use crate::batch::BatchWire;
use crate::scheme::MultiSigCert;
use dwcp_core::rng::Rng;
use dwcp_core::{Digest, WireMessage};
use dwcp_crypto::{AggSignature, AggregateCert};
use dwcp_pbft::{Message, Signed, Vote, VotePhase, corrupt_signature};
use dwcp_sim::ByzantineMessage;
use serde::{Deserialize, Serialize};

/// Everything linear-mode replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggMessage {
    /// A PBFT message, unchanged (votes go to the collector, certificates
    /// come back from it).
    Pbft(Message),
    /// Client requests forwarded in one envelope (deduplicated by digest,
    /// compressed when large): a [`BatchWire`] of `Vec<Request>`.
    Requests(BatchWire),
    /// A pre-prepare whose encoding exceeded the compression threshold: a
    /// [`BatchWire`] holding exactly one [`Message::PrePrepare`].
    Compressed(BatchWire),
    /// A quorum of matching checkpoints, collected by the checkpoint
    /// collector: signer `i` signed `Checkpoint { seq, state, replica: i }`.
    CheckpointCert {
        /// The checkpoint's sequence number.
        seq: u64,
        /// The state digest.
        state: Digest,
        /// The signers and their signatures.
        cert: MultiSigCert,
    },
    /// A vote to the collector with the voter's BLS share over
    /// [`super::bls::vote_message`] (BLS certificates on the wire).
    BlsVote {
        /// The sr25519-signed PBFT vote.
        vote: Signed<Vote>,
        /// The BLS share.
        share: AggSignature,
    },
    /// A decision certificate (fast-path commit proof or commit
    /// certificate) as one BLS aggregate over [`super::bls::vote_message`].
    BlsCertificate {
        /// Prepare (the fast path's proof) or commit.
        phase: VotePhase,
        /// The view.
        view: u64,
        /// The sequence number.
        seq: u64,
        /// The batch digest.
        digest: Digest,
        /// The signers and the aggregate signature.
        cert: AggregateCert,
    },
}

impl WireMessage for AggMessage {
    fn kind(&self) -> &'static str {
        match self {
            AggMessage::Pbft(Message::Certificate(c)) => match c.phase {
                VotePhase::Prepare => "prepare-cert",
                VotePhase::Commit => "commit-cert",
            },
            AggMessage::Pbft(m) => m.kind(),
            AggMessage::Requests(_) => "requests",
            AggMessage::Compressed(_) => "pre-prepare-z",
            AggMessage::CheckpointCert { .. } => "checkpoint-cert",
            AggMessage::BlsVote { vote, .. } => match vote.body.phase {
                VotePhase::Prepare => "prepare",
                VotePhase::Commit => "commit",
            },
            AggMessage::BlsCertificate { phase, .. } => match phase {
                VotePhase::Prepare => "prepare-cert",
                VotePhase::Commit => "commit-cert",
            },
        }
    }
}

impl ByzantineMessage for AggMessage {
    fn equivocate(&self, rng: &mut Rng) -> Option<Self> {
        match self {
            AggMessage::Pbft(m) => m.equivocate(rng).map(AggMessage::Pbft),
            _ => None,
        }
    }

    fn corrupt_signature(&self) -> Option<Self> {
        match self {
            AggMessage::Pbft(m) => m.corrupt_signature().map(AggMessage::Pbft),
            AggMessage::BlsVote { vote, share } => {
                let mut vote = vote.clone();
                vote.signature = corrupt_signature(&vote.signature);
                Some(AggMessage::BlsVote {
                    vote,
                    share: *share,
                })
            }
            AggMessage::CheckpointCert { seq, state, cert } => {
                let mut cert = cert.clone();
                let s = cert.signatures.first_mut()?;
                *s = corrupt_signature(s);
                Some(AggMessage::CheckpointCert {
                    seq: *seq,
                    state: *state,
                    cert,
                })
            }
            _ => None,
        }
    }

    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        match self {
            AggMessage::Pbft(m) => m.mutate(rng).map(AggMessage::Pbft),
            AggMessage::CheckpointCert { seq, state, cert } => Some(AggMessage::CheckpointCert {
                seq: *seq,
                state: Digest::of(&state.0),
                cert: cert.clone(),
            }),
            AggMessage::BlsVote { .. } => None,
            AggMessage::BlsCertificate {
                phase,
                view,
                seq,
                digest,
                cert,
            } => Some(AggMessage::BlsCertificate {
                phase: *phase,
                view: *view,
                seq: *seq,
                digest: Digest::of(&digest.0),
                cert: cert.clone(),
            }),
            AggMessage::Requests(w) | AggMessage::Compressed(w) => {
                let mut w = w.clone();
                w.raw_len = w.raw_len.wrapping_add(1);
                Some(if matches!(self, AggMessage::Requests(_)) {
                    AggMessage::Requests(w)
                } else {
                    AggMessage::Compressed(w)
                })
            }
        }
    }
}
