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

use crate::error::{CombineError, ParamError};
use dwcp_core::NodeId;
use dwcp_core::rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
        master: blsttc::PublicKey,
        cache: Vec<OnceLock<blsttc::PublicKeyShare>>,
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
        let master = set.public_key();
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
    fn pk_share(&self, node: NodeId) -> Option<&blsttc::PublicKeyShare> {
        match &self.key {
            GroupKey::Bls { set, cache, .. } => cache
                .get(node.index())
                .map(|slot| slot.get_or_init(|| set.public_key_share(node.0 as u64))),
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
                .is_some_and(|pk| pk.verify_g2(s, msg.point())),
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
                master.verify_g2(sig, msg.point())
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

    /// Combines shares into a certificate: optimistic, then one-by-one on
    /// failure (see the module docs). Drops evidence; use
    /// [`combine_with_evidence`](Self::combine_with_evidence) to keep it.
    pub fn combine(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<Certificate, CombineError> {
        self.combine_with_evidence(msg, shares).map(|c| c.cert)
    }

    /// Like [`combine`](Self::combine), also returning the signers whose
    /// shares were found bad on the way. Shares from ids `>= n` are bad.
    /// When the optimistic attempt fails, shares are checked in `NodeId`
    /// order until `threshold` good ones are found; later shares are not
    /// examined.
    pub fn combine_with_evidence(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<Combined, CombineError> {
        let mut bad: Vec<NodeId> = shares
            .keys()
            .filter(|id| id.index() >= self.n)
            .copied()
            .collect();
        let candidates: Vec<(NodeId, &PartialSig)> = shares
            .iter()
            .filter(|(id, _)| id.index() < self.n)
            .map(|(id, s)| (*id, s))
            .collect();
        let not_enough = |bad: Vec<NodeId>, valid: usize| CombineError {
            bad_signers: bad,
            not_enough: true,
            valid,
            needed: self.threshold,
        };
        if candidates.len() < self.threshold {
            return Err(not_enough(bad, candidates.len()));
        }
        let hashed = Hashed::new(msg);
        let first = candidates.get(..self.threshold).unwrap_or(&candidates);
        if let Some(cert) = self
            .interpolate(&hashed, first)
            .filter(|c| self.verify_hashed(&hashed, c))
        {
            return Ok(Combined {
                cert,
                bad_signers: bad,
            });
        }
        let mut good = Vec::with_capacity(self.threshold);
        for (id, s) in &candidates {
            if good.len() == self.threshold {
                break;
            }
            if self.verify_share_hashed(*id, &hashed, s) {
                good.push((*id, *s));
            } else {
                bad.push(*id);
            }
        }
        bad.sort_unstable();
        if good.len() < self.threshold {
            return Err(not_enough(bad, good.len()));
        }
        match self
            .interpolate(&hashed, &good)
            .filter(|c| self.verify_hashed(&hashed, c))
        {
            Some(cert) => Ok(Combined {
                cert,
                bad_signers: bad,
            }),
            // Unreachable with verified shares; reported rather than assumed.
            None => Err(CombineError {
                bad_signers: bad,
                not_enough: false,
                valid: good.len(),
                needed: self.threshold,
            }),
        }
    }
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

mod wire {
    use super::*;

    /// The wire form of [`ThresholdPublic`].
    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub(super) struct PublicWire {
        n: u32,
        threshold: u32,
        key: KeyWire,
    }

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    enum KeyWire {
        /// Concatenated 48-byte compressed G1 commitment coefficients.
        Bls(Vec<u8>),
        #[cfg(feature = "insecure-mock-crypto")]
        InsecureMock(u64),
    }

    impl From<ThresholdPublic> for PublicWire {
        fn from(p: ThresholdPublic) -> Self {
            let key = match &p.key {
                GroupKey::Bls { set, .. } => KeyWire::Bls(set.to_bytes()),
                #[cfg(feature = "insecure-mock-crypto")]
                GroupKey::InsecureMock { group } => KeyWire::InsecureMock(*group),
            };
            PublicWire {
                n: p.n as u32,
                threshold: p.threshold as u32,
                key,
            }
        }
    }

    impl TryFrom<PublicWire> for ThresholdPublic {
        type Error = String;

        fn try_from(w: PublicWire) -> Result<Self, String> {
            let (n, threshold) = (w.n as usize, w.threshold as usize);
            check_params(n, threshold).map_err(|e| e.to_string())?;
            match w.key {
                KeyWire::Bls(bytes) => {
                    if bytes.len() != threshold * blsttc::PK_SIZE {
                        return Err(format!(
                            "commitment of {} bytes for threshold {threshold}",
                            bytes.len()
                        ));
                    }
                    let set = blsttc::PublicKeySet::from_bytes(bytes).map_err(|e| e.to_string())?;
                    Ok(ThresholdPublic::from_set(n, set))
                }
                #[cfg(feature = "insecure-mock-crypto")]
                KeyWire::InsecureMock(group) => Ok(ThresholdPublic {
                    n,
                    threshold,
                    key: GroupKey::InsecureMock { group },
                }),
            }
        }
    }
}
