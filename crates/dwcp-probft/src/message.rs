//! Wire messages and the signed statements inside them.
//!
//! Every statement (a proposal [`Header`], a [`Vote`], a [`ViewChange`], a
//! [`NewView`]) is signed over `[TAG] ‖ bincode(body)` under the context
//! [`SIGNING_CONTEXT`], so a signature for one kind of statement never
//! verifies as another. Votes also carry the sender's VRF proof for the
//! vote's phase, view and slot (which fixes its sample, see
//! [`crate::sample`]) and the leader's signature on the proposal they vote
//! for (so that two votes for different proposals of one leader are proof
//! that the leader equivocated).

use dwcp_core::{Digest, NodeId, WireMessage};
use dwcp_crypto::{SecretKey, Signature, VrfProof};
pub use dwcp_crypto::{Signed, Statement, verify_statement};
pub use dwcp_pbft::Request;
use serde::{Deserialize, Serialize};

/// The signing context (domain separator) of every ProBFT signature.
pub const SIGNING_CONTEXT: &[u8] = b"dwcp-probft";

/// The digest of a batch of requests (the empty batch is the null proposal).
/// The same function as `dwcp_pbft::batch_digest`.
pub fn batch_digest(batch: &[Request]) -> Digest {
    dwcp_pbft::batch_digest(batch)
}

/// The two sampled voting phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// "I accepted the leader's proposal."
    Prepare,
    /// "I saw a probabilistic quorum of prepares for it."
    Commit,
}

impl Phase {
    /// Both phases, in protocol order.
    pub const ALL: [Phase; 2] = [Phase::Prepare, Phase::Commit];

    /// A small index (0 for prepare, 1 for commit).
    pub fn index(self) -> usize {
        match self {
            Phase::Prepare => 0,
            Phase::Commit => 1,
        }
    }
}

/// The leader's proposal: batch `digest` for `slot` in `view`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Header {
    /// The view.
    pub view: u64,
    /// The slot (position in the total order).
    pub slot: u64,
    /// [`batch_digest`] of the proposed batch.
    pub digest: Digest,
    /// The leader of `view`.
    pub leader: NodeId,
}

impl Statement for Header {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 1;
    fn signer(&self) -> NodeId {
        self.leader
    }
}

/// A prepare or commit for `digest` at `(view, slot)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote {
    /// Prepare or commit.
    pub phase: Phase,
    /// The view.
    pub view: u64,
    /// The slot.
    pub slot: u64,
    /// The batch digest voted for.
    pub digest: Digest,
    /// The voter.
    pub voter: NodeId,
}

impl Statement for Vote {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 2;
    fn signer(&self) -> NodeId {
        self.voter
    }
}

impl Vote {
    /// The proposal header this vote is for, given the view's leader.
    pub fn header(&self, leader: NodeId) -> Header {
        Header {
            view: self.view,
            slot: self.slot,
            digest: self.digest,
            leader,
        }
    }
}

/// A proposal: the leader-signed header and the batch it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The signed header.
    pub header: Signed<Header>,
    /// The batch (its digest must match the header's).
    pub batch: Vec<Request>,
}

impl Proposal {
    /// A signed proposal for `batch`.
    pub fn new(
        view: u64,
        slot: u64,
        batch: Vec<Request>,
        leader: NodeId,
        key: &SecretKey,
    ) -> Proposal {
        let header = Header {
            view,
            slot,
            digest: batch_digest(&batch),
            leader,
        };
        Proposal {
            header: Signed::sign(header, key),
            batch,
        }
    }
}

/// A vote as sent: the signed vote, the sender's VRF proof for
/// `(phase, view, slot)`, and the leader's signature on the voted header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteMsg {
    /// The signed vote.
    pub vote: Signed<Vote>,
    /// The voter's VRF proof; its output fixes the voter's sample.
    pub proof: VrfProof,
    /// The leader's signature on `vote.header(leader)`.
    pub leader_signature: Signature,
}

/// One prepare inside a [`PreparedCert`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertEntry {
    /// The voter.
    pub voter: NodeId,
    /// Its signature on the prepare `Vote`.
    pub signature: Signature,
    /// Its VRF proof for the prepare phase (shows the holder is in its
    /// sample; ignored for the holder's own entry).
    pub proof: VrfProof,
}

/// A prepared certificate, held by one replica: the leader's proposal and at
/// least `q` prepares for it from distinct voters whose samples hold the
/// holder (or from the holder itself). Anybody can check it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedCert {
    /// The proposal.
    pub proposal: Proposal,
    /// The prepares, in voter order.
    pub prepares: Vec<CertEntry>,
}

impl PreparedCert {
    /// The certified header.
    pub fn header(&self) -> &Header {
        &self.proposal.header.body
    }
}

/// A replica's request to move to `view`, with what it must not lose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    /// The view being moved to.
    pub view: u64,
    /// The replica.
    pub replica: NodeId,
    /// Its lowest undecided slot.
    pub next_slot: u64,
    /// Its highest-view prepared certificate for each slot from
    /// `next_slot − history` on (decided slots included), ascending by slot,
    /// at most one per slot.
    pub certs: Vec<PreparedCert>,
}

impl Statement for ViewChange {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 3;
    fn signer(&self) -> NodeId {
        self.replica
    }
}

/// The new leader's announcement: a quorum of view-changes and the
/// proposals recomputed from them ([`crate::compute_plan`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewView {
    /// The new view.
    pub view: u64,
    /// Its leader.
    pub leader: NodeId,
    /// `n − f` view-changes for `view` from distinct replicas.
    pub view_changes: Vec<Signed<ViewChange>>,
    /// The re-proposals, one per slot of the plan, ascending, signed in the
    /// new view.
    pub proposals: Vec<Proposal>,
}

impl Statement for NewView {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 4;
    fn signer(&self) -> NodeId {
        self.leader
    }
}

/// Everything ProBFT replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A client request forwarded to the leader.
    Request(Request),
    /// The leader's proposal, to everybody.
    Propose(Proposal),
    /// A prepare or commit, to the sender's VRF sample only.
    Vote(VoteMsg),
    /// A view-change, to everybody.
    ViewChange(Signed<ViewChange>),
    /// A new-view, to everybody.
    NewView(Signed<NewView>),
    /// "Send me the decided batches from `slot` on."
    Fetch {
        /// The first slot wanted.
        slot: u64,
    },
    /// "I decided `batch` at `slot`." Adopted by a lagging replica once
    /// `f + 1` distinct replicas said the same.
    Decided {
        /// The slot.
        slot: u64,
        /// The decided batch.
        batch: Vec<Request>,
        /// The sender's next undecided slot (a hint that it is ahead).
        next: u64,
    },
}

impl Message {
    /// A mutable reference to the outer signature, if the message has one.
    pub fn signature_mut(&mut self) -> Option<&mut Signature> {
        match self {
            Message::Propose(p) => Some(&mut p.header.signature),
            Message::Vote(v) => Some(&mut v.vote.signature),
            Message::ViewChange(v) => Some(&mut v.signature),
            Message::NewView(v) => Some(&mut v.signature),
            Message::Request(_) | Message::Fetch { .. } | Message::Decided { .. } => None,
        }
    }

    /// The `(view, slot)` the message is about, if any.
    pub fn view_slot(&self) -> Option<(u64, u64)> {
        match self {
            Message::Propose(p) => Some((p.header.body.view, p.header.body.slot)),
            Message::Vote(v) => Some((v.vote.body.view, v.vote.body.slot)),
            _ => None,
        }
    }
}

impl WireMessage for Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Request(_) => "request",
            Message::Propose(_) => "propose",
            Message::Vote(v) => match v.vote.body.phase {
                Phase::Prepare => "prepare",
                Phase::Commit => "commit",
            },
            Message::ViewChange(_) => "view-change",
            Message::NewView(_) => "new-view",
            Message::Fetch { .. } => "fetch",
            Message::Decided { .. } => "decided",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_crypto::Keyring;

    #[test]
    fn tags_and_fields_bind_signatures() {
        let keys = Keyring::sr25519(2, 1);
        let vote = Vote {
            phase: Phase::Prepare,
            view: 1,
            slot: 2,
            digest: Digest::of(b"b"),
            voter: NodeId(0),
        };
        let signed = Signed::sign(vote.clone(), &keys.secrets[0]);
        assert!(signed.verify(&keys.publics));
        let as_commit = Signed {
            body: Vote {
                phase: Phase::Commit,
                ..vote.clone()
            },
            signature: signed.signature,
        };
        assert!(!as_commit.verify(&keys.publics));
        let unknown = Signed {
            body: Vote {
                voter: NodeId(9),
                ..vote.clone()
            },
            signature: signed.signature,
        };
        assert!(!unknown.verify(&keys.publics));
        // A header with the same numbers is a different statement.
        let header = vote.header(NodeId(0));
        assert!(!verify_statement(&header, &signed.signature, &keys.publics));
        let p = Proposal::new(1, 2, vec![], NodeId(1), &keys.secrets[1]);
        assert!(p.header.verify(&keys.publics));
        assert_eq!(p.header.body.digest, batch_digest(&[]));
    }
}
