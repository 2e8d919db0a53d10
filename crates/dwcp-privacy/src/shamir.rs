//! Shamir secret sharing of 32-byte secrets over the Mersenne prime field
//! GF(2^61 − 1).
//!
//! A secret is split into eight 32-bit limbs; each limb is the constant term
//! of its own random polynomial of degree `threshold − 1`, and share `i`
//! holds the eight evaluations at `x = i`. Any `threshold` shares with
//! distinct non-zero `x` recover the secret exactly; fewer reveal nothing
//! about it (information-theoretically). Shares received from peers are
//! untrusted: [`recover`] validates every field and returns a
//! [`ShamirError`], never panics.

use dwcp_core::rng::RngCore;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The field modulus, the Mersenne prime 2^61 − 1.
pub const P: u64 = (1 << 61) - 1;

/// Number of 32-bit limbs of a secret.
pub const LIMBS: usize = 8;

fn reduce(x: u128) -> u64 {
    let folded = (x as u64 & P) + (x >> 61) as u64;
    let folded = (folded & P) + (folded >> 61);
    if folded >= P { folded - P } else { folded }
}

fn add(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P { s - P } else { s }
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b { a - b } else { a + P - b }
}

fn mul(a: u64, b: u64) -> u64 {
    reduce(u128::from(a) * u128::from(b))
}

fn pow(mut base: u64, mut exp: u64) -> u64 {
    let mut acc = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

/// The multiplicative inverse of a non-zero element (Fermat).
fn inv(a: u64) -> u64 {
    pow(a, P - 2)
}

/// A uniformly random field element (rejection sampling on 61 bits).
fn random_element(rng: &mut impl RngCore) -> u64 {
    loop {
        let v = rng.next_u64() >> 3;
        if v < P {
            return v;
        }
    }
}

/// One participant's share of a 32-byte secret.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Share {
    /// The evaluation point (non-zero; participant index + 1 in secure aggregation).
    pub x: u64,
    /// The evaluations of the eight limb polynomials at `x`.
    pub y: [u64; LIMBS],
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shares are secret material: show only where they were evaluated.
        write!(f, "Share(x={})", self.x)
    }
}

/// Why shares could not be combined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShamirError {
    /// Fewer shares than the threshold.
    TooFewShares {
        /// Shares given.
        have: usize,
        /// Shares needed.
        need: usize,
    },
    /// An evaluation point is zero or outside the field.
    BadPoint(u64),
    /// Two shares have the same evaluation point.
    DuplicatePoint(u64),
    /// A share value is not a field element.
    BadValue,
    /// The shares interpolate to something that is not a 32-bit limb: at
    /// least one share is corrupt.
    Inconsistent,
}

impl fmt::Display for ShamirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShamirError::TooFewShares { have, need } => {
                write!(f, "{have} shares given, {need} needed")
            }
            ShamirError::BadPoint(x) => write!(f, "invalid evaluation point {x}"),
            ShamirError::DuplicatePoint(x) => write!(f, "evaluation point {x} given twice"),
            ShamirError::BadValue => write!(f, "share value outside the field"),
            ShamirError::Inconsistent => write!(f, "shares are inconsistent"),
        }
    }
}

impl std::error::Error for ShamirError {}

/// Splits `secret` into shares evaluated at `points` (distinct, non-zero,
/// below [`P`]); any `threshold` of them recover it. The polynomial
/// coefficients come from `rng`.
pub fn split(
    secret: &[u8; 32],
    threshold: usize,
    points: &[u64],
    rng: &mut impl RngCore,
) -> Vec<Share> {
    let degree = threshold.saturating_sub(1);
    // coeffs[l][j]: coefficient j of limb l's polynomial.
    let coeffs: Vec<Vec<u64>> = secret
        .chunks_exact(4)
        .map(|limb| {
            let mut c = Vec::with_capacity(degree + 1);
            c.push(u64::from(u32::from_le_bytes([
                limb[0], limb[1], limb[2], limb[3],
            ])));
            c.extend((0..degree).map(|_| random_element(rng)));
            c
        })
        .collect();
    points
        .iter()
        .map(|&x| {
            let mut y = [0u64; LIMBS];
            for (yl, c) in y.iter_mut().zip(&coeffs) {
                // Horner evaluation.
                *yl = c.iter().rev().fold(0, |acc, &a| add(mul(acc, x), a));
            }
            Share { x, y }
        })
        .collect()
}

/// Recovers a secret from at least `threshold` shares (the first
/// `threshold` are used). Every input is validated.
pub fn recover(shares: &[Share], threshold: usize) -> Result<[u8; 32], ShamirError> {
    let need = threshold.max(1);
    if shares.len() < need {
        return Err(ShamirError::TooFewShares {
            have: shares.len(),
            need,
        });
    }
    let used = shares.get(..need).unwrap_or(shares);
    for (i, s) in used.iter().enumerate() {
        if s.x == 0 || s.x >= P {
            return Err(ShamirError::BadPoint(s.x));
        }
        if s.y.iter().any(|&v| v >= P) {
            return Err(ShamirError::BadValue);
        }
        if used.iter().take(i).any(|o| o.x == s.x) {
            return Err(ShamirError::DuplicatePoint(s.x));
        }
    }
    // Lagrange basis at zero: l_i(0) = prod_{j != i} x_j / (x_j - x_i).
    let mut limbs = [0u64; LIMBS];
    for (i, si) in used.iter().enumerate() {
        let mut num = 1;
        let mut den = 1;
        for (j, sj) in used.iter().enumerate() {
            if i != j {
                num = mul(num, sj.x);
                den = mul(den, sub(sj.x, si.x));
            }
        }
        let l = mul(num, inv(den));
        for (acc, &y) in limbs.iter_mut().zip(&si.y) {
            *acc = add(*acc, mul(l, y));
        }
    }
    let mut secret = [0u8; 32];
    for (chunk, &limb) in secret.chunks_exact_mut(4).zip(&limbs) {
        let limb = u32::try_from(limb).map_err(|_| ShamirError::Inconsistent)?;
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng::{self, RngCore};
    use proptest::prelude::{any, prop_assert_eq, proptest};

    #[test]
    fn field_arithmetic() {
        assert_eq!(mul(P - 1, P - 1), 1);
        assert_eq!(mul(inv(12345), 12345), 1);
        assert_eq!(sub(3, 5), P - 2);
        assert_eq!(add(P - 1, 2), 1);
        assert_eq!(reduce(u128::from(P) * 3 + 4), 4);
    }

    proptest! {
        #[test]
        fn any_threshold_subset_recovers(
            secret in any::<[u8; 32]>(), n in 2usize..20, seed in any::<u64>(), pick in any::<u64>()
        ) {
            let t = (n / 2) + 1;
            let points: Vec<u64> = (1..=n as u64).collect();
            let shares = split(&secret, t, &points, &mut rng::seeded(seed));
            // A pseudo-random subset of size t, in a shuffled order.
            let mut order: Vec<Share> = shares.clone();
            let mut r = rng::seeded(pick);
            for i in (1..order.len()).rev() {
                order.swap(i, (r.next_u64() % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(recover(&order[..t], t), Ok(secret));
            // t - 1 shares are refused.
            let short = recover(&order[..t - 1], t);
            prop_assert_eq!(short, Err(ShamirError::TooFewShares { have: t - 1, need: t }));
        }
    }

    #[test]
    fn corrupt_or_malformed_shares_are_errors() {
        let secret = [7u8; 32];
        let shares = split(&secret, 3, &[1, 2, 3, 4], &mut rng::seeded(1));
        let mut dup = shares.clone();
        dup[1].x = dup[0].x;
        assert_eq!(recover(&dup, 3), Err(ShamirError::DuplicatePoint(1)));
        let mut zero = shares.clone();
        zero[0].x = 0;
        assert_eq!(recover(&zero, 3), Err(ShamirError::BadPoint(0)));
        let mut big = shares.clone();
        big[2].y[0] = P;
        assert_eq!(recover(&big, 3), Err(ShamirError::BadValue));
        let mut tampered = shares.clone();
        tampered[0].y[3] = add(tampered[0].y[3], 1);
        // A tampered share either fails the limb range check or yields a
        // different secret; it never silently returns the original.
        assert_ne!(recover(&tampered, 3), Ok(secret));
    }
}
