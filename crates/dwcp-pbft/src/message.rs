//! Wire messages and the signed statements inside them.
//!
//! Every statement a replica makes (pre-prepare, prepare, commit, checkpoint,
//! view-change, new-view) is a small struct implementing [`Statement`]. It is
//! signed over `[TAG] ‖ bincode(body)` under the context [`SIGNING_CONTEXT`],
//! so a signature for one kind of statement can never be replayed as another
//! (prepares and commits have the same fields but different tags).
//!
//! Certificates ([`CheckpointProof`], [`PreparedProof`], [`VoteCertificate`])
//! carry compact `(signer, signature)` lists; the signed statement of each
//! entry is rebuilt from the certificate's fields when it is checked.

use dwcp_core::{Digest, NodeId, WireMessage, codec};
use dwcp_crypto::{SecretKey, Signature};
pub use dwcp_crypto::{Signed, Statement};
use serde::{Deserialize, Serialize};

/// The signing context (domain separator) of every PBFT signature.
pub const SIGNING_CONTEXT: &[u8] = b"dwcp-pbft";

/// The signing context of client signatures on requests.
pub const CLIENT_CONTEXT: &[u8] = b"dwcp-pbft-client";

/// A client request: the unit of the total order. Deduplicated by
/// `(client, id)`: a request is delivered at most once per replica.
///
/// When the configuration lists client keys ([`crate::PbftConfig::clients`]),
/// every request must carry its client's signature ([`Request::signed`]):
/// replicas drop unsigned or forged requests, and a pre-prepare containing
/// one is evidence against the primary, so no replica can inject requests a
/// client never issued.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Request {
    /// The client that issued it.
    pub client: u64,
    /// The client's identifier for it (unique per client).
    pub id: u64,
    /// Opaque application data.
    pub payload: Vec<u8>,
    /// The client's signature over `(client, id, payload)`, if any.
    pub auth: Option<Signature>,
}

impl Request {
    /// An unsigned request (accepted only when the configuration lists no
    /// client keys).
    pub fn new(client: u64, id: u64, payload: Vec<u8>) -> Request {
        Request {
            client,
            id,
            payload,
            auth: None,
        }
    }

    /// A request signed by its client's key.
    pub fn signed(client: u64, id: u64, payload: Vec<u8>, key: &SecretKey) -> Request {
        let mut r = Request::new(client, id, payload);
        r.auth = Some(key.sign(CLIENT_CONTEXT, &r.signing_bytes()));
        r
    }

    /// The deduplication key `(client, id)`.
    pub fn key(&self) -> (u64, u64) {
        (self.client, self.id)
    }

    /// The bytes a client signs: `bincode((client, id, payload))`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        codec::encode(&(self.client, self.id, &self.payload))
    }

    /// Whether the request carries a valid signature of client
    /// `clients[client]` (an unknown client never verifies).
    pub fn verify(&self, clients: &[dwcp_crypto::PublicKey]) -> bool {
        let Some(sig) = &self.auth else { return false };
        usize::try_from(self.client)
            .ok()
            .and_then(|c| clients.get(c))
            .is_some_and(|pk| pk.verify(CLIENT_CONTEXT, &self.signing_bytes(), sig))
    }
}

/// The digest of a batch of requests (the empty batch is the null request).
pub fn batch_digest(batch: &[Request]) -> Digest {
    Digest::of_value(batch)
}

/// The two voting phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VotePhase {
    /// A backup accepted the primary's pre-prepare.
    Prepare,
    /// A replica holds a prepared certificate.
    Commit,
}

/// The primary's proposal: batch `digest` at sequence number `seq` in `view`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PrePrepare {
    /// The view.
    pub view: u64,
    /// The sequence number.
    pub seq: u64,
    /// [`batch_digest`] of the proposed batch.
    pub digest: Digest,
    /// The primary of `view`.
    pub primary: NodeId,
}

impl Statement for PrePrepare {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 1;
    fn signer(&self) -> NodeId {
        self.primary
    }
}

/// A prepare or commit vote for `digest` at `(view, seq)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote {
    /// Prepare or commit.
    pub phase: VotePhase,
    /// The view.
    pub view: u64,
    /// The sequence number.
    pub seq: u64,
    /// The batch digest voted for.
    pub digest: Digest,
    /// The voter.
    pub replica: NodeId,
}

impl Statement for Vote {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 2;
    fn signer(&self) -> NodeId {
        self.replica
    }
}

/// "After executing `seq`, my state digest is `state`."
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number (a multiple of the checkpoint interval).
    pub seq: u64,
    /// The running state digest after executing `seq`.
    pub state: Digest,
    /// The replica.
    pub replica: NodeId,
}

impl Statement for Checkpoint {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 3;
    fn signer(&self) -> NodeId {
        self.replica
    }
}

/// A stable checkpoint: a quorum of matching [`Checkpoint`] signatures
/// (none for the genesis checkpoint at sequence number 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointProof {
    /// The sequence number.
    pub seq: u64,
    /// The state digest.
    pub state: Digest,
    /// `(replica, signature of Checkpoint { seq, state, replica })`.
    pub signatures: Vec<(NodeId, Signature)>,
}

/// A prepared certificate: the primary's pre-prepare, the batch, and a quorum
/// (counting the primary) of matching prepares from backups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedProof {
    /// The signed pre-prepare.
    pub pre_prepare: Signed<PrePrepare>,
    /// The batch it names.
    pub batch: Vec<Request>,
    /// `(backup, signature of the matching prepare Vote)`.
    pub prepares: Vec<(NodeId, Signature)>,
}

/// A quorum of matching votes, bundled by a collector (linear mode) or kept
/// as a commit certificate for catch-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteCertificate {
    /// Prepare or commit.
    pub phase: VotePhase,
    /// The view.
    pub view: u64,
    /// The sequence number.
    pub seq: u64,
    /// The batch digest.
    pub digest: Digest,
    /// `(replica, signature of the Vote)`.
    pub votes: Vec<(NodeId, Signature)>,
}

impl VoteCertificate {
    /// The vote that signer `replica` signed in this certificate.
    pub fn vote_of(&self, replica: NodeId) -> Vote {
        Vote {
            phase: self.phase,
            view: self.view,
            seq: self.seq,
            digest: self.digest,
            replica,
        }
    }
}

/// A replica's request to move to `view`, with its stable checkpoint and its
/// prepared certificates above it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    /// The view being moved to.
    pub view: u64,
    /// The replica.
    pub replica: NodeId,
    /// Its latest stable checkpoint.
    pub stable: CheckpointProof,
    /// Its highest-view prepared certificate for each sequence number above
    /// the checkpoint, in ascending order.
    pub prepared: Vec<PreparedProof>,
    /// With the fast path ([`crate::fast`]): its own highest-view prepare
    /// vote for each sequence number above the checkpoint, ascending (empty
    /// in classic PBFT).
    pub voted: Vec<VotedProof>,
}

/// A replica's own prepare vote with what it voted for, reported in its
/// view-changes so that a value decided on the fast path survives the view
/// change (see [`crate::fast`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotedProof {
    /// The primary's signed pre-prepare the vote accepted.
    pub pre_prepare: Signed<PrePrepare>,
    /// The batch it names.
    pub batch: Vec<Request>,
    /// The reporting replica's signature of its prepare [`Vote`] for the
    /// pre-prepare's `(view, seq, digest)`; `None` when the reporting
    /// replica was that view's primary (its pre-prepare is its vote).
    pub prepare: Option<Signature>,
}

impl Statement for ViewChange {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 4;
    fn signer(&self) -> NodeId {
        self.replica
    }
}

/// The new primary's announcement: a quorum of view-changes and the
/// pre-prepares (`O`) recomputed from them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewView {
    /// The new view.
    pub view: u64,
    /// Its primary.
    pub primary: NodeId,
    /// The view-changes it was computed from (distinct senders).
    pub view_changes: Vec<Signed<ViewChange>>,
    /// `O`: a pre-prepare for every sequence number between the highest
    /// stable checkpoint and the highest prepared one, ascending.
    pub pre_prepares: Vec<Signed<PrePrepare>>,
}

impl Statement for NewView {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 5;
    fn signer(&self) -> NodeId {
        self.primary
    }
}

/// A periodic, unsigned progress hint; peers answer with whatever
/// self-certifying data (catch-up entries, new-view) the sender lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The sender's view.
    pub view: u64,
    /// Whether it is active in that view (false during a view change).
    pub active: bool,
    /// Its last executed sequence number.
    pub executed: u64,
    /// Its stable checkpoint.
    pub stable: u64,
    /// True for a probe; a receiver that is itself behind answers a probe
    /// with its own status (never a reply with a reply).
    pub probe: bool,
}

/// A committed batch with its commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// The batch.
    pub batch: Vec<Request>,
    /// A commit-phase certificate for its digest.
    pub certificate: VoteCertificate,
}

/// Catch-up data for a lagging replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUp {
    /// The responder's stable checkpoint, if newer than the requester's.
    pub stable: Option<CheckpointProof>,
    /// Consecutive committed batches starting right after the requester's
    /// last executed sequence number.
    pub decided: Vec<Decided>,
}

/// A primary-group member's share of a group signature on the primary's
/// proposal `(view, seq, digest)` (see [`crate::endorse`]). The share is
/// opaque to the engine: the [`crate::Policy`] checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endorsement {
    /// The view.
    pub view: u64,
    /// The sequence number.
    pub seq: u64,
    /// The endorsed batch digest.
    pub digest: Digest,
    /// The endorsing member.
    pub member: NodeId,
    /// Its share over [`Endorsement::signing_bytes`].
    pub share: Vec<u8>,
}

impl Endorsement {
    /// The bytes a group member signs for `(view, seq, digest)`.
    pub fn signing_bytes(view: u64, seq: u64, digest: &Digest) -> Vec<u8> {
        let mut m = b"dwcp-pbft-endorse".to_vec();
        m.extend_from_slice(&view.to_le_bytes());
        m.extend_from_slice(&seq.to_le_bytes());
        m.extend_from_slice(&digest.0);
        m
    }
}

/// Everything PBFT replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A client request forwarded between replicas (not signed: client
    /// authentication is the application's business).
    Request(Request),
    /// The primary's proposal and the batch it names.
    PrePrepare {
        /// The signed statement.
        pre_prepare: Signed<PrePrepare>,
        /// The batch (its digest must match).
        batch: Vec<Request>,
    },
    /// A prepare or commit.
    Vote(Signed<Vote>),
    /// A quorum of votes relayed by a collector (linear mode).
    Certificate(VoteCertificate),
    /// A checkpoint.
    Checkpoint(Signed<Checkpoint>),
    /// A view-change.
    ViewChange(Signed<ViewChange>),
    /// A new-view.
    NewView(Signed<NewView>),
    /// A progress hint.
    Status(Status),
    /// Catch-up data.
    CatchUp(CatchUp),
    /// A primary-group member's share on a proposal (only under a
    /// [`crate::Policy`] that asks for endorsed proposals).
    Endorsement(Endorsement),
}

impl Message {
    /// A signed pre-prepare message for `batch`.
    pub fn pre_prepare(
        view: u64,
        seq: u64,
        batch: Vec<Request>,
        key: &SecretKey,
        primary: NodeId,
    ) -> Message {
        let body = PrePrepare {
            view,
            seq,
            digest: batch_digest(&batch),
            primary,
        };
        Message::PrePrepare {
            pre_prepare: Signed::sign(body, key),
            batch,
        }
    }

    /// A signed vote message.
    pub fn vote(vote: Vote, key: &SecretKey) -> Message {
        Message::Vote(Signed::sign(vote, key))
    }

    /// The signer of the message's outer statement, if it has one.
    pub fn signer(&self) -> Option<NodeId> {
        match self {
            Message::PrePrepare { pre_prepare, .. } => Some(pre_prepare.signer()),
            Message::Vote(v) => Some(v.signer()),
            Message::Checkpoint(c) => Some(c.signer()),
            Message::ViewChange(v) => Some(v.signer()),
            Message::NewView(v) => Some(v.signer()),
            Message::Request(_)
            | Message::Certificate(_)
            | Message::Status(_)
            | Message::CatchUp(_)
            | Message::Endorsement(_) => None,
        }
    }

    /// A mutable reference to the outer signature, if the message has one.
    pub fn signature_mut(&mut self) -> Option<&mut Signature> {
        match self {
            Message::PrePrepare { pre_prepare, .. } => Some(&mut pre_prepare.signature),
            Message::Vote(v) => Some(&mut v.signature),
            Message::Checkpoint(c) => Some(&mut c.signature),
            Message::ViewChange(v) => Some(&mut v.signature),
            Message::NewView(v) => Some(&mut v.signature),
            Message::Certificate(c) => c.votes.first_mut().map(|(_, s)| s),
            Message::Request(_)
            | Message::Status(_)
            | Message::CatchUp(_)
            | Message::Endorsement(_) => None,
        }
    }

    /// Re-signs the message's outer statement with `key` (after a Byzantine
    /// host changed its body). Messages without an outer statement are left
    /// unchanged.
    pub fn resign(&mut self, key: &SecretKey) {
        fn re<T: Statement>(s: &mut Signed<T>, key: &SecretKey) {
            s.signature = key.sign(SIGNING_CONTEXT, &s.body.signing_bytes());
        }
        match self {
            Message::PrePrepare { pre_prepare, .. } => re(pre_prepare, key),
            Message::Vote(v) => re(v, key),
            Message::Checkpoint(c) => re(c, key),
            Message::ViewChange(v) => re(v, key),
            Message::NewView(v) => re(v, key),
            Message::Request(_)
            | Message::Certificate(_)
            | Message::Status(_)
            | Message::CatchUp(_)
            | Message::Endorsement(_) => {}
        }
    }
}

impl WireMessage for Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Request(_) => "request",
            Message::PrePrepare { .. } => "pre-prepare",
            Message::Vote(v) => match v.body.phase {
                VotePhase::Prepare => "prepare",
                VotePhase::Commit => "commit",
            },
            Message::Certificate(_) => "certificate",
            Message::Checkpoint(_) => "checkpoint",
            Message::ViewChange(_) => "view-change",
            Message::NewView(_) => "new-view",
            Message::Status(_) => "status",
            Message::CatchUp(_) => "catch-up",
            Message::Endorsement(_) => "endorsement",
        }
    }
}

/// A copy of `sig` with one byte changed, still decodable as a signature of
/// the same kind (so it reaches the verifier and fails there).
pub fn corrupt_signature(sig: &Signature) -> Signature {
    let bytes = codec::encode(sig);
    // Skip the enum tag and length prefix; flip the first byte that still
    // decodes (schnorrkel refuses some bit patterns in the scalar half).
    for i in 2..bytes.len() {
        let mut b = bytes.clone();
        if let Some(x) = b.get_mut(i) {
            *x ^= 0x01;
        }
        if let Ok(s) = codec::decode::<Signature>(&b)
            && s != *sig
        {
            return s;
        }
    }
    *sig
}

#[cfg(test)]
mod tests {

    #[test]
    fn client_signatures_bind_every_field() {
        let clients = dwcp_crypto::Keyring::sr25519(2, 9);
        let r = Request::signed(1, 5, b"pay".to_vec(), &clients.secrets[1]);
        assert!(r.verify(&clients.publics));
        assert!(!Request::new(1, 5, b"pay".to_vec()).verify(&clients.publics));
        for forged in [
            Request {
                client: 0,
                ..r.clone()
            },
            Request { id: 6, ..r.clone() },
            Request {
                payload: b"pay!".to_vec(),
                ..r.clone()
            },
        ] {
            assert!(!forged.verify(&clients.publics), "{forged:?}");
        }
        assert!(
            !Request {
                client: 9,
                ..r.clone()
            }
            .verify(&clients.publics)
        );
        assert!(
            !Request::signed(1, 5, b"pay".to_vec(), &clients.secrets[0]).verify(&clients.publics)
        );
    }

    use super::*;
    use dwcp_crypto::Keyring;

    #[test]
    fn tags_separate_prepares_from_commits() {
        let keys = Keyring::sr25519(2, 1);
        let vote = Vote {
            phase: VotePhase::Prepare,
            view: 1,
            seq: 2,
            digest: Digest::of(b"b"),
            replica: NodeId(0),
        };
        let signed = Signed::sign(vote.clone(), &keys.secrets[0]);
        assert!(signed.verify(&keys.publics));
        let as_commit = Signed {
            body: Vote {
                phase: VotePhase::Commit,
                ..vote.clone()
            },
            signature: signed.signature,
        };
        assert!(!as_commit.verify(&keys.publics));
        let other_signer = Signed {
            body: Vote {
                replica: NodeId(1),
                ..vote.clone()
            },
            signature: signed.signature,
        };
        assert!(!other_signer.verify(&keys.publics));
        let unknown = Signed {
            body: Vote {
                replica: NodeId(9),
                ..vote
            },
            signature: signed.signature,
        };
        assert!(!unknown.verify(&keys.publics));
    }

    #[test]
    fn corrupted_signatures_fail() {
        let keys = Keyring::sr25519(1, 2);
        let mut msg = Message::pre_prepare(0, 1, vec![], &keys.secrets[0], NodeId(0));
        let sig = msg.signature_mut().map(|s| *s).unwrap();
        let bad = corrupt_signature(&sig);
        assert_ne!(bad, sig);
        *msg.signature_mut().unwrap() = bad;
        let Message::PrePrepare { pre_prepare, .. } = &msg else {
            unreachable!()
        };
        assert!(!pre_prepare.verify(&keys.publics));
        msg.resign(&keys.secrets[0]);
        let Message::PrePrepare { pre_prepare, .. } = &msg else {
            unreachable!()
        };
        assert!(pre_prepare.verify(&keys.publics));
    }

    #[test]
    fn corrupting_mock_signatures_works_too() {
        let keys = Keyring::insecure_mock(1, 2);
        let s = keys.secrets[0].sign(SIGNING_CONTEXT, b"x");
        assert_ne!(corrupt_signature(&s), s);
    }
}
