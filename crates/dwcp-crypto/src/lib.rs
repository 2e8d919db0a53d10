//! Cryptography for dwcp protocols: sr25519 signatures with batch
//! verification, a VRF with unbiased cryptographic sortition, threshold BLS
//! certificates and aggregate BLS certificates. Everything is deterministic
//! (keys from seeds, derandomised nonces, no OS randomness), every wire type
//! is serde-encodable through `dwcp_core::codec`, and decoding malformed
//! bytes (truncated, invalid curve points) returns an error, never panics.
//!
//! # How to use this crate
//!
//! 1. **Keys.** `Keyring::sr25519(n, seed)` gives node `i` the key derived
//!    from `dwcp_core::rng::derive(seed, i)`. Put `keyring.publics` in every
//!    node's configuration and give node `i` `keyring.secrets[i]`.
//! 2. **Sign and verify.** `sk.sign(context, msg)` and
//!    `pk.verify(context, msg, &sig)`. The context is a protocol label such
//!    as `b"dwcp-pbft/commit"`; a signature never verifies under another
//!    context, message, key, or key kind.
//! 3. **Batches.** When many signatures arrive together (a quorum of votes),
//!    call [`verify_batch`]: one multi-scalar check for all of them, and on
//!    failure the indices of the bad items for `Output::Evidence`.
//! 4. **Randomness and committees.** `sk.vrf_prove(context, input)` yields a
//!    [`VrfOutput`] and a [`VrfProof`]; others call
//!    `pk.vrf_verify(context, input, &proof)` to obtain the same output.
//!    Feed it to [`sortition::sample`]`(&output, n, k, exclude)` for `k`
//!    distinct nodes, uniformly at random (see [`sortition`] for why the
//!    mapping is unbiased).
//! 5. **Threshold certificates.** A dealer runs
//!    `ThresholdSetup::generate(n, threshold, seed)` (`threshold` = shares
//!    needed, e.g. `2f + 1`); node `i` signs with `setup.shares[i].sign(msg)`;
//!    a collector calls `public.combine(msg, &shares)` (or
//!    [`ThresholdPublic::combine_with_evidence`] to learn bad signers) and
//!    anyone checks the 96-byte [`Certificate`] with `public.verify`.
//! 6. **Aggregate certificates.** When a certificate must say *who* signed,
//!    give each node a BLS key (`AggKeyring::bls(n, seed)`, keys registered
//!    with a proof of possession), sign with `sk.sign(msg)`, build the
//!    certificate with [`aggregate()`]`(&pks, msg, &sigs)` (bad signers come
//!    back as evidence) and check it with [`verify_aggregate`], then compare
//!    `cert.signers.len()` with the quorum.
//! 7. **Huge simulations.** Enable the `insecure-mock-crypto` feature and use
//!    `Keyring::insecure_mock`, `ThresholdSetup::insecure_mock`,
//!    `AggKeyring::insecure_mock`: same API, hash-based and cheap.
//!
//! # Why these dependencies
//!
//! * **schnorrkel** (sr25519): Schnorr signatures *and* a VRF over
//!   Ristretto255 in one audited crate, used in production by Polkadot
//!   (BABE uses its VRF for slot leadership), with deterministic batch
//!   verification and context-bound transcripts (merlin) built in.
//! * **blsttc**: the maintained, blst-based adaptation of `threshold_crypto`
//!   (unmaintained since 2020), API-compatible with it: `PublicKeySet`,
//!   `SecretKeyShare`, `SignatureShare`, Lagrange combination. Its
//!   re-exported BLS12-381 arithmetic (blstrs on top of blst) also serves the
//!   aggregate signatures, so there is one pairing library in the tree.
//! * **merlin**: the transcript type schnorrkel's VRF proofs are built on.
//! * **sha2, rand_chacha, rand_core**: the domain-separated stream behind
//!   sortition and the mock's keyed hash, the project's seeded RNG.
//!
//! # The insecure mock
//!
//! `insecure-mock-crypto` (never a default feature) adds `InsecureMock`
//! variants to keys, signatures, VRF proofs, threshold shares and aggregate
//! signatures. They are truncated SHA-256 values that **anyone can compute
//! from public data**: they authenticate nothing. They exist so that
//! simulations of thousands of nodes can run every sign/verify/combine code
//! path (including rejection of wrong keys, messages and kinds, and evidence
//! of bad signers) cheaply. Results obtained with the mock must never be used
//! for security claims or for performance figures of the real schemes.
//! Mock and real values never verify against each other.

pub mod aggregate;
pub(crate) mod bisect;
pub mod error;
pub(crate) mod nonce;
pub(crate) mod points;
pub mod sig;
pub mod signers;
pub mod sortition;
pub mod statement;
pub mod threshold;
pub mod vrf;

#[cfg(feature = "insecure-mock-crypto")]
pub mod mock;

pub use aggregate::{
    AggKeyring, AggPublicKey, AggSecretKey, AggSignature, AggregateCert, Aggregated, aggregate,
    aggregate_unchecked, verify_aggregate,
};
pub use error::{CombineError, ParamError, invalid_signature_evidence};
pub use sig::{Keyring, PublicKey, SecretKey, Signature, verify_batch};
pub use signers::SignerSet;
pub use statement::{SigBatch, Signed, Statement, verify_statement};
pub use threshold::{
    Certificate, Combined, PartialSig, ThresholdPublic, ThresholdSetup, ThresholdShare,
};
pub use vrf::{VrfOutput, VrfProof};
