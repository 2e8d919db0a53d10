//! A list of sr25519 signatures: the simplest attributable certificate.

use super::{AssembleError, Assembled, Scheme};
use dwcp_core::NodeId;
use dwcp_crypto::{PublicKey, SecretKey, Signature, SignerSet, verify_batch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// sr25519 (schnorrkel) signatures, certificates as a signer bitmap plus one
/// signature per signer (in signer order), checked with one deterministic
/// batch verification.
///
/// With [`MultiSig::with_signer_binding`] each signer signs
/// `msg ‖ bincode(NodeId)` instead of `msg`: this is how statements that
/// name their signer (a PBFT vote or checkpoint: the struct's last field is
/// the replica) are signed, so certificates of such statements fit the same
/// interface.
#[derive(Clone, Debug)]
pub struct MultiSig {
    publics: Vec<PublicKey>,
    context: Vec<u8>,
    bind_signer: bool,
}

/// A [`MultiSig`] certificate: who signed, and their signatures in
/// increasing signer order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiSigCert {
    /// The signers.
    pub signers: SignerSet,
    /// One signature per signer, in increasing signer order.
    pub signatures: Vec<Signature>,
}

impl MultiSig {
    /// A scheme over `publics` (indexed by `NodeId`) signing under
    /// `context` (the signing-context label).
    pub fn new(publics: Vec<PublicKey>, context: &[u8]) -> MultiSig {
        MultiSig {
            publics,
            context: context.to_vec(),
            bind_signer: false,
        }
    }

    /// Like [`MultiSig::new`], but signer `i` signs `msg ‖ bincode(NodeId(i))`.
    pub fn with_signer_binding(publics: Vec<PublicKey>, context: &[u8]) -> MultiSig {
        MultiSig {
            bind_signer: true,
            ..MultiSig::new(publics, context)
        }
    }

    /// The bytes `signer` signs for `msg`.
    pub fn signed_bytes(&self, signer: NodeId, msg: &[u8]) -> Vec<u8> {
        let mut m = msg.to_vec();
        if self.bind_signer {
            m.extend_from_slice(&dwcp_core::codec::encode(&signer));
        }
        m
    }

    fn check(&self, msg: &[u8], items: &[(NodeId, &Signature)]) -> Result<(), Vec<NodeId>> {
        let mut bad = vec![];
        let mut owners = Vec::with_capacity(items.len());
        let mut keyed = Vec::with_capacity(items.len());
        for (id, sig) in items {
            match self.publics.get(id.index()) {
                Some(pk) => {
                    keyed.push((pk, self.signed_bytes(*id, msg), *sig));
                    owners.push(*id);
                }
                None => bad.push(*id),
            }
        }
        let batch: Vec<(&PublicKey, &[u8], &Signature)> = keyed
            .iter()
            .map(|(pk, m, s)| (*pk, m.as_slice(), *s))
            .collect();
        if let Err(idx) = verify_batch(&self.context, &batch) {
            bad.extend(idx.into_iter().filter_map(|i| owners.get(i).copied()));
        }
        bad.sort_unstable();
        bad.dedup();
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }
}

impl Scheme for MultiSig {
    type Signer = SecretKey;
    type Share = Signature;
    type Certificate = MultiSigCert;

    fn name(&self) -> &'static str {
        "sr25519-list"
    }

    fn n(&self) -> usize {
        self.publics.len()
    }

    fn is_attributable(&self) -> bool {
        true
    }

    fn min_shares(&self) -> usize {
        1
    }

    /// With signer binding, the signer's id is looked up by its public key
    /// (a key outside the committee signs as `NodeId(u32::MAX)`).
    fn sign(&self, signer: &SecretKey, msg: &[u8]) -> Signature {
        if !self.bind_signer {
            return signer.sign(&self.context, msg);
        }
        let pk = signer.public();
        let id = self
            .publics
            .iter()
            .position(|p| *p == pk)
            .map_or(NodeId(u32::MAX), |i| NodeId(i as u32));
        signer.sign(&self.context, &self.signed_bytes(id, msg))
    }

    fn verify_share(&self, signer: NodeId, msg: &[u8], share: &Signature) -> bool {
        self.publics
            .get(signer.index())
            .is_some_and(|pk| pk.verify(&self.context, &self.signed_bytes(signer, msg), share))
    }

    fn verify_shares(
        &self,
        msg: &[u8],
        shares: &[(NodeId, &Signature)],
    ) -> Result<(), Vec<NodeId>> {
        self.check(msg, shares)
    }

    fn assemble(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, Signature>,
    ) -> Result<Assembled<MultiSigCert>, AssembleError> {
        let items: Vec<(NodeId, &Signature)> = shares.iter().map(|(id, s)| (*id, s)).collect();
        let bad = self.check(msg, &items).err().unwrap_or_default();
        let good: Vec<(NodeId, Signature)> = shares
            .iter()
            .filter(|(id, _)| bad.binary_search(id).is_err())
            .map(|(id, s)| (*id, *s))
            .collect();
        if good.is_empty() {
            return Err(AssembleError {
                bad_signers: bad,
                valid: 0,
                needed: 1,
            });
        }
        let signers: SignerSet = good.iter().map(|(id, _)| *id).collect();
        let cert = MultiSigCert {
            signers: signers.clone(),
            signatures: good.into_iter().map(|(_, s)| s).collect(),
        };
        Ok(Assembled {
            cert,
            signers: Some(signers),
            bad_signers: bad,
        })
    }

    fn verify_certificate(&self, msg: &[u8], cert: &MultiSigCert) -> bool {
        if cert.signers.is_empty()
            || cert.signers.upper_bound() > self.publics.len()
            || cert.signers.len() != cert.signatures.len()
        {
            return false;
        }
        let items: Vec<(NodeId, &Signature)> = cert.signers.iter().zip(&cert.signatures).collect();
        self.check(msg, &items).is_ok()
    }

    fn signers(&self, cert: &MultiSigCert) -> Option<SignerSet> {
        Some(cert.signers.clone())
    }
}
