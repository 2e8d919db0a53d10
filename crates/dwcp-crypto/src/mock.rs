//! INSECURE mock signatures and VRFs, for very large simulations only.
//!
//! Enabled by the `insecure-mock-crypto` feature, never by default. A mock
//! "signature" is a truncated SHA-256 over (domain, public key id, context,
//! message): anyone who knows the public key can compute it, so it
//! authenticates nothing. It exists so that a simulation of thousands of
//! nodes can exercise every code path that signs and verifies (including
//! rejection of wrong keys, messages and contexts) at a fraction of the cost.
//! Results obtained with mock keys say nothing about security and must never
//! be used for security or performance claims about the real scheme.

use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// INSECURE mock secret key: it is its own public key id.
#[derive(Clone)]
pub struct InsecureMockSecret {
    id: u64,
}

/// INSECURE mock public key: a random identifier.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InsecureMockPublic(pub u64);

/// INSECURE mock signature: 16 bytes of a hash anyone can recompute.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsecureMockSignature(pub [u8; 16]);

impl fmt::Debug for InsecureMockPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsecureMockPk({:016x})", self.0)
    }
}

impl fmt::Debug for InsecureMockSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InsecureMockSig({:02x}{:02x}{:02x}..)",
            self.0[0], self.0[1], self.0[2]
        )
    }
}

/// The keyed hash behind every mock value.
pub(crate) fn mock_hash(domain: &[u8], id: u64, context: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [domain, &id.to_le_bytes(), context, msg] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

fn truncate16(h: [u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

impl InsecureMockSecret {
    /// A mock key with a random id drawn from `rng`.
    pub fn from_rng(rng: &mut impl RngCore) -> Self {
        InsecureMockSecret { id: rng.next_u64() }
    }

    /// The public key.
    pub fn public(&self) -> InsecureMockPublic {
        InsecureMockPublic(self.id)
    }

    /// The mock signature of `msg` under `context`.
    pub fn sign(&self, context: &[u8], msg: &[u8]) -> InsecureMockSignature {
        InsecureMockSignature(truncate16(mock_hash(
            b"dwcp-insecure-mock-sig",
            self.id,
            context,
            msg,
        )))
    }

    /// Mock VRF: (output, proof) for `input` under `context`.
    pub(crate) fn vrf(&self, context: &[u8], input: &[u8]) -> ([u8; 32], [u8; 16]) {
        self.public().vrf(context, input)
    }
}

impl InsecureMockPublic {
    /// True if `sig` is the mock signature of `msg` under `context`.
    pub fn verify(&self, context: &[u8], msg: &[u8], sig: &InsecureMockSignature) -> bool {
        InsecureMockSecret { id: self.0 }.sign(context, msg) == *sig
    }

    pub(crate) fn vrf(&self, context: &[u8], input: &[u8]) -> ([u8; 32], [u8; 16]) {
        let out = mock_hash(b"dwcp-insecure-mock-vrf-out", self.0, context, input);
        let proof = truncate16(mock_hash(
            b"dwcp-insecure-mock-vrf-proof",
            self.0,
            context,
            input,
        ));
        (out, proof)
    }
}
