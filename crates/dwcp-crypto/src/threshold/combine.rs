//! Combining shares: optimistic first, then bisection, then (only against
//! shares crafted so that their errors cancel) one by one.

use super::{Certificate, Combined, GroupKey, Hashed, PartialSig, ThresholdPublic};
use crate::bisect::bisect;
use crate::error::CombineError;
use crate::points::pairing_check;
use blsttc::group::Curve;
use blsttc::group::prime::PrimeCurveAffine;
use blsttc::{G1Projective, G2Affine, G2Projective};
use dwcp_core::NodeId;
use std::collections::BTreeMap;

/// A candidate share; `point` is its G2 point, decompressed once for the
/// summed checks of the bisection (BLS only).
#[derive(Clone, Copy)]
struct Cand<'a> {
    id: NodeId,
    share: &'a PartialSig,
    point: Option<G2Affine>,
}

impl ThresholdPublic {
    /// Combines shares into a certificate (see
    /// [`combine_with_evidence`](Self::combine_with_evidence)), dropping the
    /// evidence.
    pub fn combine(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<Certificate, CombineError> {
        self.combine_with_evidence(msg, shares).map(|c| c.cert)
    }

    /// Combines shares into a verified certificate, also returning the
    /// signers whose shares were found bad on the way (shares from ids
    /// `>= n` are bad).
    ///
    /// 1. **Optimistic:** interpolate the first `threshold` shares (in
    ///    `NodeId` order) and verify the result once.
    /// 2. **Bisection** (if 1 failed): check sums of shares against sums of
    ///    the cached public key shares, halving failing sets, to find the
    ///    bad shares among those tried with `O(b log t)` checks; replace
    ///    them with further shares (checked the same way) until `threshold`
    ///    good ones are found. Shares beyond those needed are not examined.
    /// 3. **One by one** (only if the interpolation of shares that passed as
    ///    sums still fails, which requires colluding signers whose errors
    ///    cancel): verify shares individually.
    pub fn combine_with_evidence(
        &self,
        msg: &[u8],
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<Combined, CombineError> {
        let t = self.threshold;
        let mut bad: Vec<NodeId> = shares
            .keys()
            .filter(|id| id.index() >= self.n)
            .copied()
            .collect();
        let candidates: Vec<Cand<'_>> = shares
            .iter()
            .filter(|(id, _)| id.index() < self.n)
            .map(|(id, share)| Cand {
                id: *id,
                share,
                point: None,
            })
            .collect();
        if candidates.len() < t {
            let valid = candidates.len();
            return Err(CombineError {
                bad_signers: bad,
                not_enough: true,
                valid,
                needed: t,
            });
        }
        let hashed = Hashed::new(msg);
        let first = candidates.get(..t).unwrap_or(&candidates);
        if let Some(cert) = self.certify(&hashed, first) {
            return Ok(Combined {
                cert,
                bad_signers: bad,
            });
        }
        // 2. Bisection, batch by batch.
        let mut good: Vec<Cand<'_>> = Vec::with_capacity(t);
        let mut next = first.len();
        let mut batch: Vec<Cand<'_>> = first.iter().map(|c| self.prepare(*c)).collect();
        while !batch.is_empty() {
            // The first batch is re-checked as a sum even though its
            // interpolation failed: shares whose errors cancel could make
            // the interpolation fail while every sum passes, and bisecting a
            // set wrongly assumed bad would blame an honest signer.
            let (g, b) = bisect(&batch, false, |set| self.sum_verifies(&hashed, set));
            good.extend(g);
            bad.extend(b.iter().map(|c| c.id));
            let missing = t.saturating_sub(good.len());
            let end = (next + missing).min(candidates.len());
            batch = candidates
                .get(next..end)
                .unwrap_or_default()
                .iter()
                .map(|c| self.prepare(*c))
                .collect();
            next = end;
        }
        good.sort_unstable_by_key(|c| c.id);
        if good.len() >= t {
            if let Some(cert) = self.certify(&hashed, good.get(..t).unwrap_or(&good)) {
                return Ok(self.done(cert, bad));
            }
            // 3. Some shares passed only in sums: check one by one.
            let mut strict = Vec::with_capacity(t);
            for c in good
                .iter()
                .chain(candidates.get(next..).unwrap_or_default())
            {
                if strict.len() == t {
                    break;
                }
                if self.verify_share_hashed(c.id, &hashed, c.share) {
                    strict.push(*c);
                } else {
                    bad.push(c.id);
                }
            }
            if strict.len() == t
                && let Some(cert) = self.certify(&hashed, &strict)
            {
                return Ok(self.done(cert, bad));
            }
            good = strict;
        }
        bad.sort_unstable();
        bad.dedup();
        Err(CombineError {
            bad_signers: bad,
            not_enough: good.len() < t,
            valid: good.len(),
            needed: t,
        })
    }

    fn done(&self, cert: Certificate, mut bad: Vec<NodeId>) -> Combined {
        bad.sort_unstable();
        bad.dedup();
        Combined {
            cert,
            bad_signers: bad,
        }
    }

    /// Interpolates and verifies.
    fn certify(&self, msg: &Hashed<'_>, set: &[Cand<'_>]) -> Option<Certificate> {
        let pairs: Vec<(NodeId, &PartialSig)> = set.iter().map(|c| (c.id, c.share)).collect();
        self.interpolate(msg, &pairs)
            .filter(|c| self.verify_hashed(msg, c))
    }

    fn prepare<'a>(&self, mut c: Cand<'a>) -> Cand<'a> {
        #[allow(irrefutable_let_patterns)]
        if let PartialSig::Bls(s) = c.share {
            // The bytes come from a decoded, subgroup-checked point.
            c.point = G2Affine::from_compressed_unchecked(&s.to_bytes()).into();
        }
        c
    }

    /// True if the shares in `set` sum to a valid signature under the sum
    /// of their public key shares (implied by each share being valid).
    fn sum_verifies(&self, msg: &Hashed<'_>, set: &[Cand<'_>]) -> bool {
        match &self.key {
            GroupKey::Bls { .. } => {
                let mut pk = G1Projective::from(blsttc::G1Affine::identity());
                let mut sig = G2Projective::from(G2Affine::identity());
                for c in set {
                    match (self.pk_share(c.id), c.point) {
                        (Some(p), Some(s)) => {
                            pk += p;
                            sig += s;
                        }
                        _ => return false,
                    }
                }
                let pk = pk.to_affine();
                !bool::from(pk.is_identity()) && pairing_check(&pk, &msg.point(), &sig.to_affine())
            }
            #[cfg(feature = "insecure-mock-crypto")]
            GroupKey::InsecureMock { .. } => set
                .iter()
                .all(|c| self.verify_share_hashed(c.id, msg, c.share)),
        }
    }
}
