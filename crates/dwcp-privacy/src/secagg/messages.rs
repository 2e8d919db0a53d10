//! Wire messages and signed statements of secure aggregation.

use crate::shamir::Share;
use dwcp_core::{NodeId, WireMessage};
use dwcp_crypto::{Signature, Signed, statement::Statement};
use serde::{Deserialize, Serialize};

/// The signing context of every secure-aggregation statement.
pub const CONTEXT: &[u8] = b"dwcp-secagg";

/// Round 0: a client's two X25519 public keys, signed with its long-term
/// dwcp-crypto key so that the server cannot substitute its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyAdvert {
    /// The session.
    pub session: u64,
    /// The advertising client.
    pub client: NodeId,
    /// Key for encrypting Shamir shares to this client (`c_u^PK`).
    pub cipher_pk: [u8; 32],
    /// Key for the pairwise masks (`s_u^PK`).
    pub mask_pk: [u8; 32],
}

impl Statement for KeyAdvert {
    const CONTEXT: &'static [u8] = CONTEXT;
    const TAG: u8 = 1;
    fn signer(&self) -> NodeId {
        self.client
    }
}

/// The consistency check: a client signs the survivor set the server
/// announced, and releases shares only against `threshold` signatures on
/// the same set (so the server cannot tell different clients different sets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurvivorStatement {
    /// The session.
    pub session: u64,
    /// Who signs.
    pub signer: NodeId,
    /// The clients whose masked inputs are in the sum, ascending.
    pub survivors: Vec<NodeId>,
}

impl Statement for SurvivorStatement {
    const CONTEXT: &'static [u8] = CONTEXT;
    const TAG: u8 = 2;
    fn signer(&self) -> NodeId {
        self.signer
    }
}

/// Round 1: Shamir shares of one client's mask key and self-mask seed,
/// encrypted to another client and relayed by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedShare {
    /// The client whose secrets are shared.
    pub from: NodeId,
    /// The client that may decrypt it.
    pub to: NodeId,
    /// ChaCha20-Poly1305 ciphertext of a [`SharePlain`].
    pub ciphertext: Vec<u8>,
}

/// The plaintext inside an [`EncryptedShare`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePlain {
    /// The session.
    pub session: u64,
    /// Whose secrets.
    pub from: NodeId,
    /// For whom.
    pub to: NodeId,
    /// Share of `from`'s mask secret key `s_u^SK`.
    pub key_share: Share,
    /// Share of `from`'s self-mask seed `b_u`.
    pub seed_share: Share,
}

/// Every message of the protocol, in both directions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecAggMessage {
    /// Round 0, client → server: signed public keys.
    AdvertiseKeys(Signed<KeyAdvert>),
    /// Round 0 reply, server → clients in U1: every advertisement received.
    KeyList(Vec<Signed<KeyAdvert>>),
    /// Round 1, client → server: one ciphertext for every other client in U1.
    ShareKeys(Vec<EncryptedShare>),
    /// Round 1 reply, server → client v in U2: the ciphertexts addressed to v
    /// by the clients of U2.
    SharesFor(Vec<EncryptedShare>),
    /// Round 2, client → server: the masked, weighted, fixed-point vector
    /// followed by the weight, packed `ceil(bits/8)` bytes per element.
    MaskedInput(Vec<u8>),
    /// Round 2 reply, server → clients in U3: the survivor set to sign.
    ConsistencyCheck(Vec<NodeId>),
    /// Client → server: signature on the survivor set.
    ConsistencySignature(Signature),
    /// Round 3, server → signers: the survivor set and at least `threshold`
    /// signatures on it.
    Unmask {
        /// The survivor set U3, ascending.
        survivors: Vec<NodeId>,
        /// Signatures on [`SurvivorStatement`]s for it.
        signatures: Vec<(NodeId, Signature)>,
    },
    /// Round 3 reply, client → server: self-mask seed shares of survivors
    /// and mask-key shares of clients that dropped after round 1, never both
    /// for the same client.
    UnmaskShares {
        /// `(owner, share of b_owner)` for owners in U3.
        seed_shares: Vec<(NodeId, Share)>,
        /// `(owner, share of s_owner^SK)` for owners in U2 \ U3.
        key_shares: Vec<(NodeId, Share)>,
    },
}

impl WireMessage for SecAggMessage {
    fn kind(&self) -> &'static str {
        match self {
            SecAggMessage::AdvertiseKeys(_) => "advertise-keys",
            SecAggMessage::KeyList(_) => "key-list",
            SecAggMessage::ShareKeys(_) => "share-keys",
            SecAggMessage::SharesFor(_) => "shares-for",
            SecAggMessage::MaskedInput(_) => "masked-input",
            SecAggMessage::ConsistencyCheck(_) => "consistency-check",
            SecAggMessage::ConsistencySignature(_) => "consistency-signature",
            SecAggMessage::Unmask { .. } => "unmask",
            SecAggMessage::UnmaskShares { .. } => "unmask-shares",
        }
    }
}

/// Whether a list of ids is strictly ascending (sorted, no duplicates).
pub(crate) fn strictly_ascending(ids: &[NodeId]) -> bool {
    ids.windows(2).all(|w| matches!(w, [a, b] if a < b))
}
