//! Threshold BLS signatures (blsttc): any `threshold` of `n` nodes can
//! produce one short certificate that verifies under a single group key.
//!
//! **Threshold convention.** Here `threshold` is the number of shares needed
//! to combine (e.g. `2f + 1`). blsttc's `SecretKeySet::random(t, ..)` takes
//! the polynomial *degree* `t = threshold - 1` ("any `t + 1` shares"); this
//! module converts, and [`ThresholdPublic::threshold`] always means "shares
//! needed".
//!
//! Node `i` holds blsttc key share `i` (blsttc evaluates the polynomial at
//! `i + 1`). Messages are domain-separated (`"dwcp-threshold-v1\0" || msg`)
//! before hashing to G2; callers should put their own protocol context into
//! `msg` as well.
//!
//! **Optimistic combination.** [`ThresholdPublic::combine`] interpolates the
//! first `threshold` shares (by `NodeId`) and verifies the result once (two
//! pairings). Only if that fails does it check shares one by one, dropping
//! the bad ones and reporting them (see [`Combined::bad_signers`]), until
//! `threshold` good shares are found.
//!
//! Evaluated public key shares are cached per node on first use, so
//! verifying many shares from the same node costs one polynomial evaluation.

use crate::error::ParamError;
use crate::points::pairing_check;
use dwcp_core::NodeId;
use dwcp_core::rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

#[cfg(feature = "insecure-mock-crypto")]
use crate::mock::mock_hash;

/// Domain tag prepended to every threshold-signed message.
const DOMAIN: &[u8] = b"dwcp-threshold-v1\0";

fn hash_msg(msg: &[u8]) -> blsttc::G2Affine {
    let mut m = Vec::with_capacity(DOMAIN.len() + msg.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(msg);
    blsttc::hash_g2(m)
}

/// A node's share of a threshold signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartialSig {
    /// A blsttc signature share (96-byte compressed G2 point; decoding
    /// rejects invalid or non-subgroup points).
    Bls(blsttc::SignatureShare),
    /// INSECURE mock share.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock([u8; 16]),
}

/// A combined threshold signature: proof that at least `threshold` nodes
/// signed the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Certificate {
    /// A blsttc signature under the group's master public key (96 bytes).
    Bls(blsttc::Signature),
    /// INSECURE mock certificate.
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock([u8; 16]),
}

#[derive(Clone)]
enum ShareKey {
    Bls(blsttc::SecretKeyShare),
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock {
        group: u64,
    },
}

/// One node's secret key share. `Debug` never prints the secret.
#[derive(Clone)]
pub struct ThresholdShare {
    node: NodeId,
    key: ShareKey,
}

impl fmt::Debug for ThresholdShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ThresholdShare({}, <hidden>)", self.node)
    }
}

#[derive(Clone)]
enum GroupKey {
    Bls {
        set: blsttc::PublicKeySet,
        master: blsttc::G1Affine,
        cache: Vec<OnceLock<blsttc::G1Affine>>,
    },
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock { group: u64 },
}

/// The public side of a threshold setup: the group key, `n`, `threshold`,
/// and a cache of evaluated public key shares per node.
///
/// On the wire it is `(n, threshold, key)`; decoding checks that the
/// commitment has exactly `threshold` valid G1 points and
/// `1 <= threshold <= n`, and starts with an empty cache.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "wire::PublicWire", into = "wire::PublicWire")]
pub struct ThresholdPublic {
    n: usize,
    threshold: usize,
    key: GroupKey,
}

impl fmt::Debug for ThresholdPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.key {
            GroupKey::Bls { .. } => "bls",
            #[cfg(feature = "insecure-mock-crypto")]
            GroupKey::InsecureMock { .. } => "insecure-mock",
        };
        write!(
            f,
            "ThresholdPublic({kind}, {}-of-{})",
            self.threshold, self.n
        )
    }
}

impl PartialEq for ThresholdPublic {
    fn eq(&self, other: &Self) -> bool {
        wire::PublicWire::from(self.clone()) == wire::PublicWire::from(other.clone())
    }
}

impl Eq for ThresholdPublic {}

/// A dealer's output: the public side and one secret share per node
/// (`shares[i]` belongs to `NodeId(i)`).
#[derive(Clone, Debug)]
pub struct ThresholdSetup {
    /// The public side, for every node and verifier.
    pub public: ThresholdPublic,
    /// Secret shares, indexed by `NodeId`.
    pub shares: Vec<ThresholdShare>,
}

/// A successful combination, with any bad shares met on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combined {
    /// The verified certificate.
    pub cert: Certificate,
    /// Signers whose shares were found invalid (or whose id is out of
    /// range); evidence against them. Empty on the optimistic path.
    pub bad_signers: Vec<NodeId>,
}

fn check_params(n: usize, threshold: usize) -> Result<(), ParamError> {
    if threshold == 0 || threshold > n || n > u32::MAX as usize {
        return Err(ParamError { n, threshold });
    }
    Ok(())
}

impl ThresholdSetup {
    /// A trusted-dealer setup for `n` nodes where `threshold` shares are
    /// needed, deterministic in `seed` (via `dwcp_core::rng::derive(seed, 0)`).
    /// For tests and simulations; a deployment would run a DKG instead.
    ///
    /// # Panics
    /// If `threshold == 0` or `threshold > n` (a configuration error; see
    /// [`try_generate`](Self::try_generate) for the fallible form).
    pub fn generate(n: usize, threshold: usize, seed: u64) -> ThresholdSetup {
        match Self::try_generate(n, threshold, seed) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`generate`](Self::generate), returning an error on bad parameters.
    pub fn try_generate(
        n: usize,
        threshold: usize,
        seed: u64,
    ) -> Result<ThresholdSetup, ParamError> {
        check_params(n, threshold)?;
        let mut rng = rng::derive(seed, 0);
        // blsttc's parameter is the polynomial degree: shares needed - 1.
        let sks = blsttc::SecretKeySet::random(threshold - 1, &mut rng);
        let set = sks.public_keys();
        let shares = (0..n)
            .map(|i| ThresholdShare {
                node: NodeId(i as u32),
                key: ShareKey::Bls(sks.secret_key_share(i as u64)),
            })
            .collect();
        Ok(ThresholdSetup {
            public: ThresholdPublic::from_set(n, set),
            shares,
        })
    }

    /// An INSECURE mock setup with the same interface (shares and
    /// certificates are truncated hashes anyone can compute).
    ///
    /// # Panics
    /// On the same bad parameters as [`generate`](Self::generate).
    #[cfg(feature = "insecure-mock-crypto")]
    pub fn insecure_mock(n: usize, threshold: usize, seed: u64) -> ThresholdSetup {
        use dwcp_core::rng::RngCore;
        if let Err(e) = check_params(n, threshold) {
            panic!("{e}");
        }
        let group = rng::derive(seed, 0).next_u64();
        let shares = (0..n)
            .map(|i| ThresholdShare {
                node: NodeId(i as u32),
                key: ShareKey::InsecureMock { group },
            })
            .collect();
        ThresholdSetup {
            public: ThresholdPublic {
                n,
                threshold,
                key: GroupKey::InsecureMock { group },
            },
            shares,
        }
    }
}

#[cfg(feature = "insecure-mock-crypto")]
fn mock16(domain: &[u8], group: u64, node: Option<NodeId>, msg: &[u8]) -> [u8; 16] {
    let node_bytes = node.map(|n| n.0.to_le_bytes().to_vec()).unwrap_or_default();
    let h = mock_hash(domain, group, &node_bytes, msg);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

impl ThresholdShare {
    /// The node this share belongs to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// This node's signature share on `msg`.
    pub fn sign(&self, msg: &[u8]) -> PartialSig {
        match &self.key {
            ShareKey::Bls(sk) => PartialSig::Bls(sk.sign_g2(hash_msg(msg))),
            #[cfg(feature = "insecure-mock-crypto")]
            ShareKey::InsecureMock { group } => PartialSig::InsecureMock(mock16(
                b"dwcp-insecure-mock-tshare",
                *group,
                Some(self.node),
                msg,
            )),
        }
    }
}

impl ThresholdPublic {
    fn from_set(n: usize, set: blsttc::PublicKeySet) -> ThresholdPublic {
        let threshold = set.threshold() + 1;
        let master = blsttc::G1Affine::from(set.public_key());
        let cache = (0..n).map(|_| OnceLock::new()).collect();
        ThresholdPublic {
            n,
            threshold,
            key: GroupKey::Bls { set, master, cache },
        }
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of shares needed to combine a certificate.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The cached public key share of `node`, evaluating it on first use.
    fn pk_share(&self, node: NodeId) -> Option<&blsttc::G1Affine> {
        match &self.key {
            GroupKey::Bls { set, cache, .. } => cache.get(node.index()).map(|slot| {
                slot.get_or_init(|| {
                    // blsttc exposes the evaluated share only as bytes; they
                    // come from a valid point, so the unchecked decompression
                    // is exact (were it ever to fail, the identity verifies
                    // nothing).
                    let bytes = set.public_key_share(node.0 as u64).to_bytes();
                    Option::from(blsttc::G1Affine::from_compressed_unchecked(&bytes))
                        .unwrap_or_default()
                })
            }),
            #[cfg(feature = "insecure-mock-crypto")]
            GroupKey::InsecureMock { .. } => None,
        }
    }

    /// True if `share` is `signer`'s valid share on `msg`.
    pub fn verify_share(&self, signer: NodeId, msg: &[u8], share: &PartialSig) -> bool {
        self.verify_share_hashed(signer, &Hashed::new(msg), share)
    }

    fn verify_share_hashed(&self, signer: NodeId, msg: &Hashed<'_>, share: &PartialSig) -> bool {
        if signer.index() >= self.n {
            return false;
        }
        match (&self.key, share) {
            (GroupKey::Bls { .. }, PartialSig::Bls(s)) => self
                .pk_share(signer)
                .is_some_and(|pk| bls_verify(pk, &msg.point(), &s.0)),
            #[cfg(feature = "insecure-mock-crypto")]
            (GroupKey::InsecureMock { group }, PartialSig::InsecureMock(s)) => {
                *s == mock16(b"dwcp-insecure-mock-tshare", *group, Some(signer), msg.raw)
            }
            #[cfg(feature = "insecure-mock-crypto")]
            _ => false,
        }
    }

    /// True if `cert` is a valid certificate on `msg` for this group.
    pub fn verify(&self, msg: &[u8], cert: &Certificate) -> bool {
        self.verify_hashed(&Hashed::new(msg), cert)
    }

    fn verify_hashed(&self, msg: &Hashed<'_>, cert: &Certificate) -> bool {
        match (&self.key, cert) {
            (GroupKey::Bls { master, .. }, Certificate::Bls(sig)) => {
                bls_verify(master, &msg.point(), sig)
            }
            #[cfg(feature = "insecure-mock-crypto")]
            (GroupKey::InsecureMock { group }, Certificate::InsecureMock(c)) => {
                *c == mock16(b"dwcp-insecure-mock-tcert", *group, None, msg.raw)
            }
            #[cfg(feature = "insecure-mock-crypto")]
            _ => false,
        }
    }

    /// Interpolates the given shares without checking them. `None` if a
    /// share is of the wrong kind or there are too few.
    #[cfg_attr(not(feature = "insecure-mock-crypto"), allow(unused_variables))]
    fn interpolate(
        &self,
        msg: &Hashed<'_>,
        shares: &[(NodeId, &PartialSig)],
    ) -> Option<Certificate> {
        match &self.key {
            GroupKey::Bls { set, .. } => {
                let mut bls = Vec::with_capacity(shares.len());
                for (id, s) in shares {
                    #[allow(irrefutable_let_patterns)]
                    let PartialSig::Bls(s) = s else { return None };
                    bls.push((id.0 as u64, s));
                }
                set.combine_signatures(bls).ok().map(Certificate::Bls)
            }
            #[cfg(feature = "insecure-mock-crypto")]
            GroupKey::InsecureMock { group } => {
                // The mock "interpolation" is only correct if every share is.
                let all_good = shares.len() >= self.threshold
                    && shares
                        .iter()
                        .all(|(id, s)| self.verify_share_hashed(*id, msg, s));
                let cert = mock16(b"dwcp-insecure-mock-tcert", *group, None, msg.raw);
                Some(Certificate::InsecureMock(if all_good {
                    cert
                } else {
                    [0u8; 16]
                }))
            }
        }
    }
}

/// `sig` is a valid signature under `pk` on the message hashed to `h`. The
/// identity key is refused (it would accept the identity signature).
fn bls_verify(pk: &blsttc::G1Affine, h: &blsttc::G2Affine, sig: &blsttc::Signature) -> bool {
    use blsttc::group::prime::PrimeCurveAffine;
    // blsttc keeps the point private; its bytes come from a valid
    // (subgroup-checked) point, so unchecked decompression is exact.
    let point: Option<blsttc::G2Affine> =
        blsttc::G2Affine::from_compressed_unchecked(&sig.to_bytes()).into();
    !bool::from(pk.is_identity()) && point.is_some_and(|p| pairing_check(pk, h, &p))
}

/// A message and its hash to G2, computed at most once.
struct Hashed<'a> {
    #[cfg_attr(not(feature = "insecure-mock-crypto"), allow(dead_code))]
    raw: &'a [u8],
    point: OnceLock<blsttc::G2Affine>,
}

impl<'a> Hashed<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Hashed {
            raw,
            point: OnceLock::new(),
        }
    }

    fn point(&self) -> blsttc::G2Affine {
        *self.point.get_or_init(|| hash_msg(self.raw))
    }
}

mod combine;
mod wire;
