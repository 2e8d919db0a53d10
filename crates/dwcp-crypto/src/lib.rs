//! Cryptography for dwcp protocols (work in progress).

pub mod aggregate;
pub mod error;
pub(crate) mod nonce;
pub(crate) mod points;
pub mod sig;
pub mod signers;
pub mod sortition;
pub mod threshold;
pub mod vrf;

#[cfg(feature = "insecure-mock-crypto")]
pub mod mock;

pub use aggregate::{
    AggKeyring, AggPublicKey, AggSecretKey, AggSignature, AggregateCert, Aggregated, aggregate,
    aggregate_unchecked, verify_aggregate,
};
pub use error::{CombineError, ParamError};
pub use sig::{Keyring, PublicKey, SecretKey, Signature, verify_batch};
pub use signers::SignerSet;
pub use threshold::{
    Certificate, Combined, PartialSig, ThresholdPublic, ThresholdSetup, ThresholdShare,
};
pub use vrf::{VrfOutput, VrfProof};
