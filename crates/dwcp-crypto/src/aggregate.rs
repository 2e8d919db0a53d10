//! Aggregate BLS multi-signatures: every node has its own BLS key; signatures
//! of many nodes on the *same* message add up to one 96-byte signature, and an
//! [`AggregateCert`] carries it with a bitmap of the signers.
//!
//! Built on the BLS12-381 arithmetic that blsttc re-exports (blstrs), with
//! blsttc's standard hash-to-G2 (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`)
//! and the same 48/96-byte compressed encodings. Messages are
//! domain-separated (`"dwcp-aggregate-v1\0" || msg`).
//!
//! **Rogue keys.** Same-message aggregation is only sound if every public key
//! was registered with a proof of possession
//! ([`AggSecretKey::prove_possession`], checked with
//! [`AggPublicKey::verify_possession`]); keys from [`AggKeyring`] are honest
//! by construction.
//!
//! **Optimistic aggregation.** [`aggregate`] sums all signatures and verifies
//! the sum once (two pairings). Only on failure does it bisect: a failing
//! set is split in halves, a half that verifies is accepted wholesale, and a
//! failing single signature is reported in [`Aggregated::bad_signers`]. With
//! `b` bad signatures among `m` this costs `O(b log m)` verifications.

use crate::bisect::bisect;
use crate::points::pairing_check;
use crate::points::{self, short_hex};
use crate::signers::SignerSet;
use blsttc::blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use blsttc::group::prime::PrimeCurveAffine;
use blsttc::group::{Curve, Group};
use blsttc::rand::Rng as _;
use dwcp_core::NodeId;
use dwcp_core::rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "insecure-mock-crypto")]
use crate::mock::mock_hash;

const DOMAIN_MSG: &[u8] = b"dwcp-aggregate-v1\0";
const DOMAIN_POP: &[u8] = b"dwcp-aggregate-pop-v1\0";

fn hash_to_g2(domain: &[u8], msg: &[u8]) -> G2Affine {
    let mut m = Vec::with_capacity(domain.len() + msg.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(msg);
    blsttc::hash_g2(m)
}

/// A node's secret BLS key. `Debug` never prints the secret.
#[derive(Clone)]
pub enum AggSecretKey {
    /// A BLS12-381 scalar.
    Bls(Scalar),
    /// INSECURE mock key (its own public id).
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(u64),
}

/// A node's public BLS key.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggPublicKey {
    /// A G1 point (48 bytes compressed; decoding checks it).
    Bls(#[serde(with = "points::g1")] G1Affine),
    /// INSECURE mock public key.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(u64),
}

/// A BLS signature, single or aggregated.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggSignature {
    /// A G2 point (96 bytes compressed; decoding checks it).
    Bls(#[serde(with = "points::g2")] G2Affine),
    /// INSECURE mock signature: XOR of per-signer truncated hashes.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock([u8; 16]),
}

/// An aggregate certificate: the signers and their summed signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateCert {
    /// Who signed.
    pub signers: SignerSet,
    /// The sum of their signatures.
    pub sig: AggSignature,
}

/// The result of [`aggregate`]: a certificate over the valid signatures and
/// the signers whose signatures were invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregated {
    /// Certificate over every valid signature (possibly with no signers).
    pub cert: AggregateCert,
    /// Evidence: signers whose signature was invalid, of the wrong kind, or
    /// whose id is out of range. Sorted.
    pub bad_signers: Vec<NodeId>,
}

/// Deterministic BLS keys for tests and simulations.
#[derive(Clone, Debug)]
pub struct AggKeyring {
    /// Secret keys, indexed by `NodeId`.
    pub secrets: Vec<AggSecretKey>,
    /// The matching public keys.
    pub publics: Vec<AggPublicKey>,
}

impl fmt::Debug for AggSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AggSecretKey(<hidden>, public: {:?})", self.public())
    }
}

impl fmt::Debug for AggPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AggPublicKey::Bls(p) => write!(f, "BlsPk({})", short_hex(&p.to_compressed())),
            #[cfg(feature = "insecure-mock-crypto")]
            AggPublicKey::InsecureMock(id) => write!(f, "InsecureMockBlsPk({id:016x})"),
        }
    }
}

impl fmt::Debug for AggSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AggSignature::Bls(p) => write!(f, "BlsSig({})", short_hex(&p.to_compressed())),
            #[cfg(feature = "insecure-mock-crypto")]
            AggSignature::InsecureMock(s) => write!(f, "InsecureMockBlsSig({})", short_hex(s)),
        }
    }
}

#[cfg(feature = "insecure-mock-crypto")]
fn mock_sig(domain: &[u8], id: u64, msg: &[u8]) -> [u8; 16] {
    let h = mock_hash(b"dwcp-insecure-mock-agg", id, domain, msg);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

impl AggSecretKey {
    /// The public key.
    pub fn public(&self) -> AggPublicKey {
        match self {
            AggSecretKey::Bls(s) => AggPublicKey::Bls((G1Affine::generator() * s).to_affine()),
            #[cfg(feature = "insecure-mock-crypto")]
            AggSecretKey::InsecureMock(id) => AggPublicKey::InsecureMock(*id),
        }
    }

    fn sign_domain(&self, domain: &[u8], msg: &[u8]) -> AggSignature {
        match self {
            AggSecretKey::Bls(s) => AggSignature::Bls((hash_to_g2(domain, msg) * s).to_affine()),
            #[cfg(feature = "insecure-mock-crypto")]
            AggSecretKey::InsecureMock(id) => {
                AggSignature::InsecureMock(mock_sig(domain, *id, msg))
            }
        }
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> AggSignature {
        self.sign_domain(DOMAIN_MSG, msg)
    }

    /// A proof of possession of this key (a signature on the public key
    /// under a separate domain), to be checked when the key is registered.
    pub fn prove_possession(&self) -> AggSignature {
        self.sign_domain(DOMAIN_POP, &pk_bytes(&self.public()))
    }
}

fn pk_bytes(pk: &AggPublicKey) -> Vec<u8> {
    match pk {
        AggPublicKey::Bls(p) => p.to_compressed().to_vec(),
        #[cfg(feature = "insecure-mock-crypto")]
        AggPublicKey::InsecureMock(id) => id.to_le_bytes().to_vec(),
    }
}

impl AggPublicKey {
    /// True if `sig` is this key's signature on `msg`.
    pub fn verify(&self, msg: &[u8], sig: &AggSignature) -> bool {
        set_verifies(&[self], &Hashed::new(DOMAIN_MSG, msg), sig)
    }

    /// True if `pop` proves possession of this key.
    pub fn verify_possession(&self, pop: &AggSignature) -> bool {
        set_verifies(&[self], &Hashed::new(DOMAIN_POP, &pk_bytes(self)), pop)
    }
}

impl AggKeyring {
    /// `n` BLS keys; key `i` is drawn from `dwcp_core::rng::derive(seed, i)`.
    pub fn bls(n: usize, seed: u64) -> AggKeyring {
        Self::from_secrets(
            (0..n as u64)
                .map(|i| {
                    AggSecretKey::Bls(Scalar::from(
                        rng::derive(seed, i).r#gen::<blsttc::SecretKey>(),
                    ))
                })
                .collect(),
        )
    }

    /// `n` INSECURE mock keys.
    #[cfg(feature = "insecure-mock-crypto")]
    pub fn insecure_mock(n: usize, seed: u64) -> AggKeyring {
        use dwcp_core::rng::RngCore;
        Self::from_secrets(
            (0..n as u64)
                .map(|i| AggSecretKey::InsecureMock(rng::derive(seed, i).next_u64()))
                .collect(),
        )
    }

    fn from_secrets(secrets: Vec<AggSecretKey>) -> AggKeyring {
        let publics = secrets.iter().map(AggSecretKey::public).collect();
        AggKeyring { secrets, publics }
    }
}

/// A domain-separated message, hashed to G2 at most once.
struct Hashed<'a> {
    domain: &'a [u8],
    msg: &'a [u8],
    point: std::sync::OnceLock<G2Affine>,
}

impl<'a> Hashed<'a> {
    fn new(domain: &'a [u8], msg: &'a [u8]) -> Self {
        Hashed {
            domain,
            msg,
            point: std::sync::OnceLock::new(),
        }
    }

    fn point(&self) -> G2Affine {
        *self.point.get_or_init(|| hash_to_g2(self.domain, self.msg))
    }
}

/// True if `sig` is the aggregate of valid signatures on `msg` by exactly
/// the keys `pks` (non-empty, all of the signature's kind).
fn set_verifies(pks: &[&AggPublicKey], msg: &Hashed<'_>, sig: &AggSignature) -> bool {
    if pks.is_empty() {
        return false;
    }
    match sig {
        AggSignature::Bls(sig) => {
            let mut acc = G1Projective::identity();
            for pk in pks {
                #[allow(irrefutable_let_patterns)]
                let AggPublicKey::Bls(p) = pk else {
                    return false;
                };
                acc += p;
            }
            let apk = acc.to_affine();
            // e(apk, H(m)) == e(g1, sig); the identity key would accept the
            // identity signature, so it is refused.
            !bool::from(apk.is_identity()) && pairing_check(&apk, &msg.point(), sig)
        }
        #[cfg(feature = "insecure-mock-crypto")]
        AggSignature::InsecureMock(s) => {
            let mut acc = [0u8; 16];
            for pk in pks {
                let AggPublicKey::InsecureMock(id) = pk else {
                    return false;
                };
                for (a, b) in acc.iter_mut().zip(mock_sig(msg.domain, *id, msg.msg)) {
                    *a ^= b;
                }
            }
            acc == *s
        }
    }
}

/// Sums signatures of one kind; `None` if empty or of mixed kinds.
pub fn sum_signatures<'a>(
    sigs: impl IntoIterator<Item = &'a AggSignature>,
) -> Option<AggSignature> {
    let mut it = sigs.into_iter();
    match *it.next()? {
        AggSignature::Bls(first) => {
            let mut acc = G2Projective::from(first);
            for s in it {
                #[allow(irrefutable_let_patterns)]
                let AggSignature::Bls(p) = s else { return None };
                acc += p;
            }
            Some(AggSignature::Bls(acc.to_affine()))
        }
        #[cfg(feature = "insecure-mock-crypto")]
        AggSignature::InsecureMock(mut acc) => {
            for s in it {
                let AggSignature::InsecureMock(p) = s else {
                    return None;
                };
                for (a, b) in acc.iter_mut().zip(p) {
                    *a ^= b;
                }
            }
            Some(AggSignature::InsecureMock(acc))
        }
    }
}

fn empty_cert(kind: Option<&AggPublicKey>) -> AggregateCert {
    let sig = match kind {
        #[cfg(feature = "insecure-mock-crypto")]
        Some(AggPublicKey::InsecureMock(_)) => AggSignature::InsecureMock([0u8; 16]),
        _ => AggSignature::Bls(G2Affine::identity()),
    };
    AggregateCert {
        signers: SignerSet::new(),
        sig,
    }
}

/// Aggregates the signatures in `sigs` (by signer) on `msg` under `pks`
/// (indexed by `NodeId`): optimistic single verification, bisection on
/// failure (see the module docs). Never panics on bad input.
pub fn aggregate(
    pks: &[AggPublicKey],
    msg: &[u8],
    sigs: &BTreeMap<NodeId, AggSignature>,
) -> Aggregated {
    let hashed = Hashed::new(DOMAIN_MSG, msg);
    let mut bad = Vec::new();
    let mut items: Vec<(NodeId, &AggPublicKey, &AggSignature)> = Vec::with_capacity(sigs.len());
    for (id, sig) in sigs {
        match pks.get(id.index()) {
            Some(pk) if std::mem::discriminant(pk) == kind_of(sig) => items.push((*id, pk, sig)),
            _ => bad.push(*id),
        }
    }
    let (good, bad_items) = bisect(&items, false, |set| subset_ok(set, &hashed));
    bad.extend(bad_items.iter().map(|(id, _, _)| *id));
    bad.sort_unstable();
    let cert = match sum_signatures(good.iter().map(|(_, _, s)| *s)) {
        Some(sig) => AggregateCert {
            signers: good.iter().map(|(id, _, _)| *id).collect(),
            sig,
        },
        None => empty_cert(pks.first()),
    };
    Aggregated {
        cert,
        bad_signers: bad,
    }
}

fn kind_of(sig: &AggSignature) -> std::mem::Discriminant<AggPublicKey> {
    match sig {
        AggSignature::Bls(_) => std::mem::discriminant(&AggPublicKey::Bls(G1Affine::identity())),
        #[cfg(feature = "insecure-mock-crypto")]
        AggSignature::InsecureMock(_) => std::mem::discriminant(&AggPublicKey::InsecureMock(0)),
    }
}

fn subset_ok(set: &[(NodeId, &AggPublicKey, &AggSignature)], msg: &Hashed<'_>) -> bool {
    let pks: Vec<&AggPublicKey> = set.iter().map(|(_, pk, _)| *pk).collect();
    sum_signatures(set.iter().map(|(_, _, s)| *s)).is_some_and(|sig| set_verifies(&pks, msg, &sig))
}

/// Aggregates without verifying anything (for callers that already checked
/// each signature). `None` if `sigs` is empty, mixes kinds, or names a
/// signer `>= n`.
pub fn aggregate_unchecked(
    n: usize,
    sigs: &BTreeMap<NodeId, AggSignature>,
) -> Option<AggregateCert> {
    if sigs.keys().any(|id| id.index() >= n) {
        return None;
    }
    let sig = sum_signatures(sigs.values())?;
    Some(AggregateCert {
        signers: sigs.keys().copied().collect(),
        sig,
    })
}

/// True if `cert` is a valid aggregate signature on `msg` by exactly its
/// signers, whose keys are `pks[signer]`. A certificate with no signers, or
/// naming a signer outside `pks`, is invalid. Callers check the quorum size
/// with `cert.signers.len()`.
pub fn verify_aggregate(pks: &[AggPublicKey], msg: &[u8], cert: &AggregateCert) -> bool {
    if cert.signers.upper_bound() > pks.len() {
        return false;
    }
    let signer_pks: Vec<&AggPublicKey> = cert
        .signers
        .iter()
        .filter_map(|id| pks.get(id.index()))
        .collect();
    set_verifies(&signer_pks, &Hashed::new(DOMAIN_MSG, msg), &cert.sig)
}
