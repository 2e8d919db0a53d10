//! Certificate schemes: one interface over every way a quorum of replicas
//! can vouch for a message.
//!
//! A replica [`Scheme::sign`]s a message and sends the resulting *share*
//! (an attestation) to a collector. The collector checks shares one at a
//! time ([`Scheme::verify_share`]) or many at once
//! ([`Scheme::verify_shares`], which names the bad signers), and
//! [`Scheme::assemble`]s a quorum of them into a *certificate* that anyone
//! checks with [`Scheme::verify_certificate`] (validity) and
//! [`verify_quorum`] (validity plus enough weight).
//!
//! | scheme | share | certificate | attributable | verify certificate |
//! |---|---|---|---|---|
//! | [`MultiSig`] (sr25519 list) | 64 B | bitmap + 64 B per signer | yes | one batch check, O(signers) |
//! | [`BlsAggregate`] | 96 B | bitmap + 96 B | yes | 2 pairings + summing signer keys |
//! | [`BlsThreshold`] | 96 B | 96 B | no | 2 pairings |
//!
//! **Optimistic assembly.** Every `assemble` first combines all shares and
//! verifies the result once; only if that fails does it fall back (batch
//! fallback for sr25519, bisection for BLS aggregates, bisection then
//! one-by-one for threshold shares) and report the culprits in
//! [`Assembled::bad_signers`] or [`AssembleError::bad_signers`]. Collectors
//! may therefore store shares unverified and pay for verification only once
//! per certificate.
//!
//! **Attributable or not.** An attributable certificate names its signers
//! ([`Scheme::signers`]), so weighted quorums can be checked and signers
//! rewarded or blamed. A threshold certificate proves only that *some*
//! `threshold` shares were combined; [`verify_quorum`] accepts it if any
//! `threshold` replicas carry quorum weight.

mod bls_aggregate;
mod bls_threshold;
mod multisig;

pub use bls_aggregate::BlsAggregate;
pub use bls_threshold::BlsThreshold;
pub use multisig::{MultiSig, MultiSigCert};

use dwcp_core::{NodeId, WeightedCommittee};
use dwcp_crypto::SignerSet;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::{self, Debug};

/// A certificate built by [`Scheme::assemble`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assembled<C> {
    /// The verified certificate.
    pub cert: C,
    /// Who is in it (`None` for a non-attributable scheme).
    pub signers: Option<SignerSet>,
    /// Signers whose shares were invalid (evidence against them), sorted.
    pub bad_signers: Vec<NodeId>,
}

/// Why no certificate could be assembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembleError {
    /// Signers whose shares were invalid, sorted.
    pub bad_signers: Vec<NodeId>,
    /// Valid shares found.
    pub valid: usize,
    /// Shares the scheme needs.
    pub needed: usize,
}

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} valid shares of {} needed; bad signers {:?}",
            self.valid, self.needed, self.bad_signers
        )
    }
}

impl std::error::Error for AssembleError {}

/// A way for replicas to sign a message and for a collector to turn a set of
/// signatures into one certificate. Implementations are deterministic and
/// never panic on untrusted shares or certificates.
pub trait Scheme: Clone + Debug {
    /// One replica's secret signing material.
    type Signer: Clone + Debug;
    /// One replica's signature on a message.
    type Share: Clone + Debug + PartialEq + Serialize + DeserializeOwned;
    /// A combination of shares.
    type Certificate: Clone + Debug + PartialEq + Serialize + DeserializeOwned;

    /// A short name for reports ("sr25519-list", "bls-aggregate", …).
    fn name(&self) -> &'static str;

    /// Committee size; signer ids are `0..n`.
    fn n(&self) -> usize;

    /// Whether certificates name their signers.
    fn is_attributable(&self) -> bool;

    /// The fewest valid shares [`Scheme::assemble`] needs (1 for lists and
    /// aggregates, the threshold for threshold signatures).
    fn min_shares(&self) -> usize;

    /// `signer`'s share on `msg`.
    fn sign(&self, signer: &Self::Signer, msg: &[u8]) -> Self::Share;

    /// Whether `share` is `signer`'s valid share on `msg`.
    fn verify_share(&self, signer: NodeId, msg: &[u8], share: &Self::Share) -> bool;

    /// Checks many shares on one message; on failure, the bad signers
    /// (sorted, deduplicated). The default checks one by one.
    fn verify_shares(
        &self,
        msg: &[u8],
        shares: &[(NodeId, &Self::Share)],
    ) -> Result<(), Vec<NodeId>> {
        let mut bad: Vec<NodeId> = shares
            .iter()
            .filter(|(id, s)| !self.verify_share(*id, msg, s))
            .map(|(id, _)| *id)
            .collect();
        bad.sort_unstable();
        bad.dedup();
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }

    /// Combines shares on `msg` into a verified certificate: optimistic
    /// combine-then-verify, falling back to find and drop bad shares.
    fn assemble(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, Self::Share>,
    ) -> Result<Assembled<Self::Certificate>, AssembleError>;

    /// Whether `cert` is a valid certificate on `msg` (not whether it
    /// carries a quorum: see [`verify_quorum`]).
    fn verify_certificate(&self, msg: &[u8], cert: &Self::Certificate) -> bool;

    /// The signers a certificate names (`None` if not attributable).
    fn signers(&self, cert: &Self::Certificate) -> Option<SignerSet>;
}

/// Whether `cert` is valid on `msg` and proves a quorum of `committee`:
/// for attributable schemes, its signers' weight reaches the threshold; for
/// threshold schemes, any [`Scheme::min_shares`] replicas do.
pub fn verify_quorum<S: Scheme>(
    scheme: &S,
    committee: &WeightedCommittee,
    msg: &[u8],
    cert: &S::Certificate,
) -> bool {
    let weight_ok = match scheme.signers(cert) {
        Some(signers) => {
            signers.upper_bound() <= committee.len()
                && committee.is_quorum(signers.iter().map(NodeId::index))
        }
        None => lightest_weight(committee, scheme.min_shares()) >= committee.threshold(),
    };
    weight_ok && scheme.verify_certificate(msg, cert)
}

/// The total weight of the `k` lightest members.
pub fn lightest_weight(committee: &WeightedCommittee, k: usize) -> u64 {
    let mut w: Vec<u64> = (0..committee.len()).map(|i| committee.weight(i)).collect();
    w.sort_unstable();
    w.iter().take(k).sum()
}

/// `domain ‖ msg`, length-prefixed, so that a share for one protocol and
/// message can never count for another.
pub(crate) fn bind(domain: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + domain.len() + msg.len());
    m.extend_from_slice(&(domain.len() as u64).to_le_bytes());
    m.extend_from_slice(domain);
    m.extend_from_slice(msg);
    m
}

#[cfg(test)]
mod tests;
