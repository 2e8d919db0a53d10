//! PBFT equivocation evidence as transferable proof for the reputation
//! ledger.

use dwcp_core::{NodeId, codec};
use dwcp_crypto::{PublicKey, Signed};
use dwcp_pbft::{Checkpoint, PrePrepare, Vote};
use dwcp_reputation::TransferableEvidence;

/// The two encodings of a `Fault::Equivocation` emitted by dwcp-pbft, with
/// the committee's public keys to check them.
#[derive(Clone, Debug)]
pub struct PbftEquivocation<'a> {
    /// The accused node.
    pub culprit: NodeId,
    /// First statement's encoding (a `Signed<PrePrepare | Vote | Checkpoint>`).
    pub first: &'a [u8],
    /// Conflicting statement's encoding.
    pub second: &'a [u8],
    /// Public keys indexed by node id.
    pub publics: &'a [PublicKey],
}

/// Decodes both as `T`, checks signer, slot, conflict and signatures.
fn conflict<T, K>(e: &PbftEquivocation<'_>, slot: impl Fn(&T) -> (NodeId, K)) -> bool
where
    T: dwcp_crypto::Statement + serde::de::DeserializeOwned + PartialEq,
    K: PartialEq,
{
    let (Ok(a), Ok(b)) = (
        codec::decode_bounded::<Signed<T>>(e.first, 1 << 16),
        codec::decode_bounded::<Signed<T>>(e.second, 1 << 16),
    ) else {
        return false;
    };
    let (sa, ka) = slot(&a.body);
    let (sb, kb) = slot(&b.body);
    sa == e.culprit
        && sb == e.culprit
        && ka == kb
        && a.body != b.body
        && a.verify(e.publics)
        && b.verify(e.publics)
}

impl TransferableEvidence for PbftEquivocation<'_> {
    fn culprit(&self) -> NodeId {
        self.culprit
    }

    fn verify(&self) -> bool {
        conflict::<PrePrepare, _>(self, |p| (p.primary, (p.view, p.seq)))
            || conflict::<Vote, _>(self, |v| (v.replica, (v.phase, v.view, v.seq)))
            || conflict::<Checkpoint, _>(self, |c| (c.replica, c.seq))
    }
}
