//! BLS multi-signatures: shares add up to one 96-byte signature.

use super::{AssembleError, Assembled, Scheme, bind};
use dwcp_core::NodeId;
use dwcp_crypto::{AggPublicKey, AggSecretKey, AggSignature, AggregateCert, SignerSet};
use std::collections::BTreeMap;

/// Same-message BLS aggregation (dwcp-crypto's [`dwcp_crypto::aggregate()`]):
/// certificates are a signer bitmap and the sum of the signatures. Keys
/// must have been registered with a proof of possession (keys from
/// `AggKeyring` are).
#[derive(Clone, Debug)]
pub struct BlsAggregate {
    publics: Vec<AggPublicKey>,
    domain: Vec<u8>,
}

impl BlsAggregate {
    /// A scheme over `publics` (indexed by `NodeId`); every message is bound
    /// to `domain` before signing.
    pub fn new(publics: Vec<AggPublicKey>, domain: &[u8]) -> BlsAggregate {
        BlsAggregate {
            publics,
            domain: domain.to_vec(),
        }
    }
}

impl Scheme for BlsAggregate {
    type Signer = AggSecretKey;
    type Share = AggSignature;
    type Certificate = AggregateCert;

    fn name(&self) -> &'static str {
        "bls-aggregate"
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

    fn sign(&self, signer: &AggSecretKey, msg: &[u8]) -> AggSignature {
        signer.sign(&bind(&self.domain, msg))
    }

    fn verify_share(&self, signer: NodeId, msg: &[u8], share: &AggSignature) -> bool {
        self.publics
            .get(signer.index())
            .is_some_and(|pk| pk.verify(&bind(&self.domain, msg), share))
    }

    /// One aggregate check; bisection names the bad signers.
    fn verify_shares(
        &self,
        msg: &[u8],
        shares: &[(NodeId, &AggSignature)],
    ) -> Result<(), Vec<NodeId>> {
        let mut map = BTreeMap::new();
        let mut bad = vec![];
        for (id, s) in shares {
            if map.insert(*id, **s).is_some_and(|old| old != **s) {
                bad.push(*id);
            }
        }
        bad.extend(
            dwcp_crypto::aggregate(&self.publics, &bind(&self.domain, msg), &map).bad_signers,
        );
        bad.sort_unstable();
        bad.dedup();
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }

    fn assemble(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, AggSignature>,
    ) -> Result<Assembled<AggregateCert>, AssembleError> {
        let agg = dwcp_crypto::aggregate(&self.publics, &bind(&self.domain, msg), shares);
        if agg.cert.signers.is_empty() {
            return Err(AssembleError {
                bad_signers: agg.bad_signers,
                valid: 0,
                needed: 1,
            });
        }
        Ok(Assembled {
            signers: Some(agg.cert.signers.clone()),
            cert: agg.cert,
            bad_signers: agg.bad_signers,
        })
    }

    fn verify_certificate(&self, msg: &[u8], cert: &AggregateCert) -> bool {
        dwcp_crypto::verify_aggregate(&self.publics, &bind(&self.domain, msg), cert)
    }

    fn signers(&self, cert: &AggregateCert) -> Option<SignerSet> {
        Some(cert.signers.clone())
    }
}
