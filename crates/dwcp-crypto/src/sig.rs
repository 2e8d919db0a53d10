//! Signatures: sr25519 (schnorrkel) with batch verification, plus an
//! explicitly insecure mock behind the `insecure-mock-crypto` feature.
//!
//! Every signature is bound to a *context* (a protocol/domain label such as
//! `b"dwcp-pbft/prepare"`) and a message. Keys of one kind reject signatures
//! of the other kind.
//!
//! Signing is deterministic: the Schnorr nonce is derived from the secret
//! nonce seed, the public key, the context and the message (as in Ed25519),
//! with no operating-system randomness. Simulations therefore replay
//! bit-for-bit, and a nonce is never reused across different messages.

use crate::nonce::NoExtraRandomness;
use dwcp_core::rng::{self, RngCore, SeedableRng};
use schnorrkel::context::attach_rng;
use schnorrkel::{ExpansionMode, Keypair, MiniSecretKey, signing_context};
use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg(feature = "insecure-mock-crypto")]
use crate::mock;

/// A secret signing key. Its `Debug` output shows only the public key.
#[derive(Clone)]
pub enum SecretKey {
    /// A schnorrkel sr25519 key pair.
    Sr25519(Box<Keypair>),
    /// An INSECURE mock key: anyone who knows the public key can forge its
    /// signatures. For very large simulations only.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(mock::InsecureMockSecret),
}

/// A public verification key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PublicKey {
    /// A schnorrkel sr25519 public key (a compressed Ristretto point; decoding
    /// rejects bytes that are not a valid point).
    Sr25519(schnorrkel::PublicKey),
    /// An INSECURE mock public key.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(mock::InsecureMockPublic),
}

/// A signature.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signature {
    /// A schnorrkel sr25519 signature (64 bytes).
    Sr25519(schnorrkel::Signature),
    /// An INSECURE mock signature (a truncated keyed hash).
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(mock::InsecureMockSignature),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<hidden>, public: {:?})", self.public())
    }
}

fn short_hex(bytes: &[u8]) -> String {
    bytes.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::Sr25519(pk) => write!(f, "Sr25519Pk({})", short_hex(&pk.to_bytes())),
            #[cfg(feature = "insecure-mock-crypto")]
            PublicKey::InsecureMock(pk) => write!(f, "{pk:?}"),
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signature::Sr25519(s) => write!(f, "Sr25519Sig({})", short_hex(&s.to_bytes())),
            #[cfg(feature = "insecure-mock-crypto")]
            Signature::InsecureMock(s) => write!(f, "{s:?}"),
        }
    }
}

impl Signature {
    /// A canonical byte form, for ordering and hashing (sr25519: the 64
    /// signature bytes; mock: a marker byte and the 16 mock bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Signature::Sr25519(s) => s.to_bytes().to_vec(),
            #[cfg(feature = "insecure-mock-crypto")]
            Signature::InsecureMock(s) => [&[0xff][..], &s.0[..]].concat(),
        }
    }
}

/// Signatures order by [`Signature::to_bytes`], so that values carrying them
/// can live in ordered collections (never a security property).
impl Ord for Signature {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_bytes().cmp(&other.to_bytes())
    }
}

impl PartialOrd for Signature {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Signature {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

impl SecretKey {
    /// An sr25519 key from a 32-byte seed (a schnorrkel "mini secret key",
    /// expanded in Ed25519 mode as Polkadot does).
    pub fn sr25519_from_seed(seed: [u8; 32]) -> SecretKey {
        // The mini secret key is the first 32 bytes of a ChaCha20 stream keyed
        // by `seed` (infallible, unlike parsing bytes).
        let mini = MiniSecretKey::generate_with(rng::Rng::from_seed(seed));
        SecretKey::Sr25519(Box::new(mini.expand_to_keypair(ExpansionMode::Ed25519)))
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        match self {
            SecretKey::Sr25519(kp) => PublicKey::Sr25519(kp.public),
            #[cfg(feature = "insecure-mock-crypto")]
            SecretKey::InsecureMock(sk) => PublicKey::InsecureMock(sk.public()),
        }
    }

    /// Signs `msg` under `context`. Deterministic.
    pub fn sign(&self, context: &[u8], msg: &[u8]) -> Signature {
        match self {
            SecretKey::Sr25519(kp) => {
                let t = attach_rng(signing_context(context).bytes(msg), NoExtraRandomness);
                Signature::Sr25519(kp.sign(t))
            }
            #[cfg(feature = "insecure-mock-crypto")]
            SecretKey::InsecureMock(sk) => Signature::InsecureMock(sk.sign(context, msg)),
        }
    }
}

impl PublicKey {
    /// True if `sig` is a valid signature of `msg` under `context` by this key.
    /// A signature of a different kind than the key is invalid.
    pub fn verify(&self, context: &[u8], msg: &[u8], sig: &Signature) -> bool {
        match (self, sig) {
            (PublicKey::Sr25519(pk), Signature::Sr25519(s)) => {
                pk.verify(signing_context(context).bytes(msg), s).is_ok()
            }
            #[cfg(feature = "insecure-mock-crypto")]
            (PublicKey::InsecureMock(pk), Signature::InsecureMock(s)) => pk.verify(context, msg, s),
            #[cfg(feature = "insecure-mock-crypto")]
            _ => false,
        }
    }
}

/// Batch verification: `Ok(())` if every item verifies; otherwise
/// `Err(indices of the invalid items)`, found by falling back to one-by-one
/// checks. An empty batch is valid.
///
/// sr25519 items are checked together with schnorrkel's deterministic batch
/// verifier (random linear combination with delinearisation scalars derived
/// from the transcripts, no OS randomness), which costs roughly half as much
/// per signature as individual checks for large batches. Mock items (and
/// kind-mismatched items, which are always invalid) are checked one by one.
pub fn verify_batch(
    context: &[u8],
    items: &[(&PublicKey, &[u8], &Signature)],
) -> Result<(), Vec<usize>> {
    let mut pks = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    let mut msgs = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for (i, (pk, msg, sig)) in items.iter().enumerate() {
        // Without the mock feature the pattern is irrefutable.
        #[allow(irrefutable_let_patterns)]
        if let (PublicKey::Sr25519(pk), Signature::Sr25519(s)) = (pk, sig) {
            pks.push(*pk);
            sigs.push(*s);
            msgs.push(*msg);
        } else if !pk.verify(context, msg, sig) {
            bad.push(i);
        }
    }
    if !sigs.is_empty() {
        let ctx = signing_context(context);
        let transcripts = msgs.iter().map(|m| ctx.bytes(m));
        if schnorrkel::verify_batch_deterministic(transcripts, &sigs, &pks, false).is_err() {
            bad.extend(
                items
                    .iter()
                    .enumerate()
                    .filter(|(_, (pk, msg, sig))| !pk.verify(context, msg, sig))
                    .map(|(i, _)| i),
            );
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        bad.sort_unstable();
        bad.dedup();
        Err(bad)
    }
}

/// A deterministic set of keys for tests and simulations.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// Secret keys, indexed by `NodeId`.
    pub secrets: Vec<SecretKey>,
    /// The matching public keys.
    pub publics: Vec<PublicKey>,
}

impl Keyring {
    /// `n` sr25519 keys; key `i` is seeded from `dwcp_core::rng::derive(seed, i)`.
    pub fn sr25519(n: usize, seed: u64) -> Keyring {
        Self::from_secrets(
            (0..n as u64)
                .map(|i| {
                    let mut bytes = [0u8; 32];
                    rng::derive(seed, i).fill_bytes(&mut bytes);
                    SecretKey::sr25519_from_seed(bytes)
                })
                .collect(),
        )
    }

    /// `n` INSECURE mock keys (see [`crate::mock`]); key `i` is derived from
    /// `dwcp_core::rng::derive(seed, i)`.
    #[cfg(feature = "insecure-mock-crypto")]
    pub fn insecure_mock(n: usize, seed: u64) -> Keyring {
        Self::from_secrets(
            (0..n as u64)
                .map(|i| {
                    SecretKey::InsecureMock(mock::InsecureMockSecret::from_rng(&mut rng::derive(
                        seed, i,
                    )))
                })
                .collect(),
        )
    }

    fn from_secrets(secrets: Vec<SecretKey>) -> Keyring {
        let publics = secrets.iter().map(SecretKey::public).collect();
        Keyring { secrets, publics }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// True if there are no keys.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}
