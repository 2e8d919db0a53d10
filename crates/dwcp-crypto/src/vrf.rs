//! Verifiable random functions (schnorrkel's Ristretto VRF, as used by
//! Polkadot's BABE), plus the insecure mock variant behind a feature.
//!
//! `sk.vrf_prove(context, input)` yields 32 bytes of randomness that only the
//! key holder can compute but anyone can check with `pk.vrf_verify`. For a
//! given key, context and input the output is unique: a different proof
//! cannot change it. Feed the output to [`crate::sortition::sample`] to pick
//! committees or leaders.

use crate::nonce::NoExtraRandomness;
use crate::sig::{PublicKey, SecretKey};
use schnorrkel::context::attach_rng;
use schnorrkel::signing_context;
use schnorrkel::vrf::{VRFInOut, VRFPreOut, VRFProof};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Label under which the 32 output bytes are extracted from the VRF in/out
/// pair (changing it changes every output).
const OUTPUT_LABEL: &[u8] = b"dwcp-vrf-output";

/// VRF output: 32 bytes of verifiable randomness.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VrfOutput(pub [u8; 32]);

impl fmt::Debug for VrfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.0.iter().take(6).map(|b| format!("{b:02x}")).collect();
        write!(f, "VrfOutput({hex}..)")
    }
}

/// A VRF proof: what a verifier needs, together with the public key, context
/// and input, to recompute and check the output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VrfProof {
    /// schnorrkel `VRFPreOut` (32 bytes) and DLEQ `VRFProof` (64 bytes).
    Sr25519 {
        /// The VRF pre-output (a compressed Ristretto point).
        preout: VRFPreOut,
        /// The DLEQ proof that the pre-output matches the public key.
        proof: VRFProof,
    },
    /// INSECURE mock proof: a truncated hash anyone can recompute.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock([u8; 16]),
}

fn output_of(inout: &VRFInOut) -> VrfOutput {
    VrfOutput(inout.make_bytes::<[u8; 32]>(OUTPUT_LABEL))
}

impl SecretKey {
    /// Evaluates the VRF on `input` under `context`, returning the output and
    /// a proof. Deterministic: the same key, context and input always give
    /// the same output and proof.
    pub fn vrf_prove(&self, context: &[u8], input: &[u8]) -> (VrfOutput, VrfProof) {
        match self {
            SecretKey::Sr25519(kp) => {
                let extra = attach_rng(merlin::Transcript::new(b"VRF"), NoExtraRandomness);
                let (inout, proof, _) =
                    kp.vrf_sign_extra(signing_context(context).bytes(input), extra);
                (
                    output_of(&inout),
                    VrfProof::Sr25519 {
                        preout: inout.to_preout(),
                        proof,
                    },
                )
            }
            #[cfg(feature = "insecure-mock-crypto")]
            SecretKey::InsecureMock(sk) => {
                let (out, proof) = sk.vrf(context, input);
                (VrfOutput(out), VrfProof::InsecureMock(proof))
            }
        }
    }
}

impl PublicKey {
    /// Checks a VRF proof and returns the output it proves, or `None` if the
    /// proof is invalid for this key, context and input (or of another kind).
    pub fn vrf_verify(&self, context: &[u8], input: &[u8], proof: &VrfProof) -> Option<VrfOutput> {
        match (self, proof) {
            (PublicKey::Sr25519(pk), VrfProof::Sr25519 { preout, proof }) => {
                // `vrf_verify` uses the same `Transcript::new(b"VRF")` proof
                // transcript as `vrf_prove`; the attached RNG only affects
                // the prover's nonce.
                let (inout, _) = pk
                    .vrf_verify(signing_context(context).bytes(input), preout, proof)
                    .ok()?;
                Some(output_of(&inout))
            }
            #[cfg(feature = "insecure-mock-crypto")]
            (PublicKey::InsecureMock(pk), VrfProof::InsecureMock(p)) => {
                let (out, expected) = pk.vrf(context, input);
                (expected == *p).then_some(VrfOutput(out))
            }
            #[cfg(feature = "insecure-mock-crypto")]
            _ => None,
        }
    }
}
