//! Committee and quorum arithmetic.
//!
//! For `n` replicas of which at most `f` are Byzantine, a quorum `q` is safe
//! when any two quorums intersect in at least one honest replica
//! (`2q − n ≥ f + 1`) and live when the honest replicas alone can form one
//! (`q ≤ n − f`). [`Committee`] picks the smallest safe `q`; with
//! `n = 3f + 1` that is the familiar `2f + 1`. [`WeightedCommittee`] does the
//! same with weights (stake, trust) and checks both properties when built.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An unweighted committee of `n` replicas tolerating `f` Byzantine ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    n: usize,
    f: usize,
}

/// Why a committee or quorum configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumError {
    /// No replicas, or no weight.
    Empty,
    /// `f` too large for `n`: quorums could not be both safe and live.
    TooManyFaults {
        /// Committee size (or total weight).
        n: u64,
        /// Requested fault bound (or faulty weight).
        f: u64,
    },
    /// The given threshold lets two quorums intersect only in faulty weight.
    UnsafeThreshold,
    /// The given threshold cannot be reached by honest weight alone.
    UnliveThreshold,
}

impl fmt::Display for QuorumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumError::Empty => write!(f, "empty committee"),
            QuorumError::TooManyFaults { n, f: faults } => {
                write!(f, "{faults} faulty out of {n} violates n > 3f")
            }
            QuorumError::UnsafeThreshold => {
                write!(f, "two quorums may intersect only in faulty weight")
            }
            QuorumError::UnliveThreshold => {
                write!(f, "honest weight alone cannot reach the quorum")
            }
        }
    }
}

impl std::error::Error for QuorumError {}

impl Committee {
    /// `n` replicas tolerating the largest `f` with `n ≥ 3f + 1`.
    pub fn new(n: usize) -> Result<Committee, QuorumError> {
        if n == 0 {
            return Err(QuorumError::Empty);
        }
        Ok(Committee { n, f: (n - 1) / 3 })
    }

    /// `n` replicas tolerating exactly `f` (must satisfy `n ≥ 3f + 1`).
    pub fn with_faults(n: usize, f: usize) -> Result<Committee, QuorumError> {
        if n == 0 {
            return Err(QuorumError::Empty);
        }
        if n < 3 * f + 1 {
            return Err(QuorumError::TooManyFaults {
                n: n as u64,
                f: f as u64,
            });
        }
        Ok(Committee { n, f })
    }

    /// Committee size.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Fault bound.
    pub fn f(&self) -> usize {
        self.f
    }
    /// The smallest quorum any two of which share an honest replica:
    /// `⌈(n + f + 1) / 2⌉`, which is `2f + 1` when `n = 3f + 1`.
    pub fn quorum(&self) -> usize {
        (self.n + self.f + 1).div_ceil(2)
    }
    /// `f + 1`: enough replicas that at least one is honest.
    pub fn validity(&self) -> usize {
        self.f + 1
    }
}

/// A committee where each replica carries a weight (stake, trust).
///
/// Built with a faulty-weight bound `F`; the quorum threshold `Q` satisfies
/// `2Q − W > F` (any two quorums share honest weight) and `Q ≤ W − F` (honest
/// weight alone reaches a quorum), checked at construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedCommittee {
    weights: Vec<u64>,
    total: u64,
    faulty: u64,
    threshold: u64,
}

impl WeightedCommittee {
    /// Weights per replica and the largest total weight the adversary may
    /// control. Picks the smallest safe threshold `⌊(W + F) / 2⌋ + 1`.
    pub fn new(weights: Vec<u64>, faulty: u64) -> Result<WeightedCommittee, QuorumError> {
        let total = checked_total(&weights)?;
        let threshold = (total + faulty) / 2 + 1;
        Self::with_threshold(weights, faulty, threshold).map_err(|e| match e {
            QuorumError::UnliveThreshold => QuorumError::TooManyFaults {
                n: total,
                f: faulty,
            },
            other => other,
        })
    }

    /// Weights, faulty-weight bound and an explicit threshold, checked.
    pub fn with_threshold(
        weights: Vec<u64>,
        faulty: u64,
        threshold: u64,
    ) -> Result<WeightedCommittee, QuorumError> {
        let total = checked_total(&weights)?;
        if (2 * threshold as u128) <= total as u128 + faulty as u128 {
            return Err(QuorumError::UnsafeThreshold);
        }
        if threshold > total.saturating_sub(faulty) {
            return Err(QuorumError::UnliveThreshold);
        }
        Ok(WeightedCommittee {
            weights,
            total,
            faulty,
            threshold,
        })
    }

    /// Number of replicas.
    pub fn len(&self) -> usize {
        self.weights.len()
    }
    /// True when there are no replicas (never, for a built committee).
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }
    /// The weight of replica `i` (zero if out of range).
    pub fn weight(&self, i: usize) -> u64 {
        self.weights.get(i).copied().unwrap_or(0)
    }
    /// Total weight `W`.
    pub fn total(&self) -> u64 {
        self.total
    }
    /// Faulty-weight bound `F`.
    pub fn faulty(&self) -> u64 {
        self.faulty
    }
    /// Quorum threshold `Q`.
    pub fn threshold(&self) -> u64 {
        self.threshold
    }
    /// The weight of a set of distinct replica indices.
    pub fn weight_of(&self, members: impl IntoIterator<Item = usize>) -> u64 {
        members.into_iter().map(|i| self.weight(i)).sum()
    }
    /// Whether a set of distinct replicas reaches the threshold.
    pub fn is_quorum(&self, members: impl IntoIterator<Item = usize>) -> bool {
        self.weight_of(members) >= self.threshold
    }
    /// The guaranteed honest weight in the intersection of any two quorums:
    /// `2Q − W − F` (positive for every built committee).
    pub fn min_honest_intersection(&self) -> u64 {
        (2 * self.threshold).saturating_sub(self.total + self.faulty)
    }
}

fn checked_total(weights: &[u64]) -> Result<u64, QuorumError> {
    let total = weights
        .iter()
        .try_fold(0u64, |a, w| a.checked_add(*w))
        .ok_or(QuorumError::Empty)?;
    if total == 0 || total > u64::MAX / 4 {
        return Err(QuorumError::Empty);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classic_sizes() {
        for (n, f, q) in [
            (1, 0, 1),
            (4, 1, 3),
            (5, 1, 4),
            (6, 1, 4),
            (7, 2, 5),
            (10, 3, 7),
            (100, 33, 67),
        ] {
            let c = Committee::new(n).unwrap();
            assert_eq!((c.f(), c.quorum()), (f, q), "n={n}");
        }
        assert!(Committee::with_faults(6, 2).is_err());
        assert!(Committee::new(0).is_err());
    }

    #[test]
    fn equal_weights_match_unweighted() {
        for n in 1..60usize {
            let c = Committee::new(n).unwrap();
            let w = WeightedCommittee::new(vec![1; n], c.f() as u64).unwrap();
            assert_eq!(w.threshold(), c.quorum() as u64, "n={n}");
        }
    }

    #[test]
    fn bad_thresholds_are_refused() {
        assert_eq!(
            WeightedCommittee::with_threshold(vec![1; 4], 1, 2),
            Err(QuorumError::UnsafeThreshold)
        );
        assert_eq!(
            WeightedCommittee::with_threshold(vec![1; 4], 1, 4),
            Err(QuorumError::UnliveThreshold)
        );
        assert!(WeightedCommittee::new(vec![10, 1, 1], 10).is_err());
    }

    proptest! {
        /// Brute force over all pairs of minimal quorums for small committees:
        /// the honest intersection is never empty.
        #[test]
        fn weighted_quorums_intersect_in_honest_weight(
            weights in proptest::collection::vec(0u64..20, 1..9),
            faulty_frac in 0u64..40,
        ) {
            let total: u64 = weights.iter().sum();
            prop_assume!(total > 0);
            let faulty = total * faulty_frac / 100;
            let Ok(c) = WeightedCommittee::new(weights.clone(), faulty) else { return Ok(()) };
            let n = weights.len();
            let quorums: Vec<u32> = (0u32..1 << n).filter(|m| c.is_quorum((0..n).filter(|i| m >> i & 1 == 1))).collect();
            for &a in &quorums {
                for &b in &quorums {
                    let inter = c.weight_of((0..n).filter(|i| (a & b) >> i & 1 == 1));
                    // Whatever faulty weight hides in the intersection, some honest weight remains.
                    prop_assert!(inter > faulty);
                }
            }
        }
    }
}
