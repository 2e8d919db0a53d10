//! Cryptography for dwcp protocols (work in progress).

pub(crate) mod nonce;
pub mod sig;
pub mod vrf;

#[cfg(feature = "insecure-mock-crypto")]
pub mod mock;

pub use sig::{Keyring, PublicKey, SecretKey, Signature, verify_batch};
pub use vrf::{VrfOutput, VrfProof};
