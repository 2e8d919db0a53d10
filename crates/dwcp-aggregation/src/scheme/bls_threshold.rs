//! Threshold BLS: any `threshold` shares combine into one group signature.

use super::{AssembleError, Assembled, Scheme, bind};
use dwcp_core::NodeId;
use dwcp_crypto::{Certificate, PartialSig, SignerSet, ThresholdPublic, ThresholdShare};
use std::collections::BTreeMap;

/// blsttc threshold signatures (dwcp-crypto's [`ThresholdPublic`]): a
/// 96-byte certificate under one group key, not naming its signers.
#[derive(Clone, Debug)]
pub struct BlsThreshold {
    public: ThresholdPublic,
    domain: Vec<u8>,
}

impl BlsThreshold {
    /// A scheme over a dealt (or DKG'd) group key; every message is bound
    /// to `domain` before signing.
    pub fn new(public: ThresholdPublic, domain: &[u8]) -> BlsThreshold {
        BlsThreshold {
            public,
            domain: domain.to_vec(),
        }
    }

    /// The group's public side.
    pub fn public(&self) -> &ThresholdPublic {
        &self.public
    }
}

impl Scheme for BlsThreshold {
    type Signer = ThresholdShare;
    type Share = PartialSig;
    type Certificate = Certificate;

    fn name(&self) -> &'static str {
        "bls-threshold"
    }

    fn n(&self) -> usize {
        self.public.n()
    }

    fn is_attributable(&self) -> bool {
        false
    }

    fn min_shares(&self) -> usize {
        self.public.threshold()
    }

    fn sign(&self, signer: &ThresholdShare, msg: &[u8]) -> PartialSig {
        signer.sign(&bind(&self.domain, msg))
    }

    fn verify_share(&self, signer: NodeId, msg: &[u8], share: &PartialSig) -> bool {
        self.public
            .verify_share(signer, &bind(&self.domain, msg), share)
    }

    /// Combine-then-verify: interpolates the first `threshold` shares and
    /// checks the result once; bisection names bad shares on failure.
    fn assemble(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<Assembled<Certificate>, AssembleError> {
        match self
            .public
            .combine_with_evidence(&bind(&self.domain, msg), shares)
        {
            Ok(c) => Ok(Assembled {
                cert: c.cert,
                signers: None,
                bad_signers: c.bad_signers,
            }),
            Err(e) => Err(AssembleError {
                bad_signers: e.bad_signers,
                valid: e.valid,
                needed: e.needed,
            }),
        }
    }

    fn verify_certificate(&self, msg: &[u8], cert: &Certificate) -> bool {
        self.public.verify(&bind(&self.domain, msg), cert)
    }

    fn signers(&self, _cert: &Certificate) -> Option<SignerSet> {
        None
    }
}
