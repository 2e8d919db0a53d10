//! A list of sr25519 signatures: the simplest attributable certificate.

use super::{AssembleError, Assembled, Scheme};
use dwcp_core::NodeId;
use dwcp_crypto::{PublicKey, SecretKey, Signature, SignerSet, verify_batch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// sr25519 (schnorrkel) signatures, certificates as a signer bitmap plus one
/// signature per signer (in signer order), checked with one deterministic
/// batch verification.
#[derive(Clone, Debug)]
pub struct MultiSig {
    publics: Vec<PublicKey>,
    context: Vec<u8>,
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
        }
    }

    fn check(&self, msg: &[u8], items: &[(NodeId, &Signature)]) -> Result<(), Vec<NodeId>> {
        let mut bad = vec![];
        let mut batch = Vec::with_capacity(items.len());
        let mut owners = Vec::with_capacity(items.len());
        for (id, sig) in items {
            match self.publics.get(id.index()) {
                Some(pk) => {
                    batch.push((pk, msg, *sig));
                    owners.push(*id);
                }
                None => bad.push(*id),
            }
        }
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

    fn sign(&self, signer: &SecretKey, msg: &[u8]) -> Signature {
        signer.sign(&self.context, msg)
    }

    fn verify_share(&self, signer: NodeId, msg: &[u8], share: &Signature) -> bool {
        self.publics
            .get(signer.index())
            .is_some_and(|pk| pk.verify(&self.context, msg, share))
    }

    fn verify_shares(&self, msg: &[u8], shares: &[(NodeId, &Signature)]) -> Result<(), Vec<NodeId>> {
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
