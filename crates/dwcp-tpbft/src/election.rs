//! Electing the consensus group, the primary group and the vote weights
//! from committed trust.

use dwcp_core::{NodeId, QuorumError, WeightedCommittee};
use dwcp_reputation::TrustScores;
use serde::{Deserialize, Serialize};

/// How trust becomes groups and weights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionParams {
    /// Fault bound `f` (any `f` members may be Byzantine).
    pub f: usize,
    /// Weight of a node with average trust.
    pub scale: u64,
    /// Largest allowed ratio between a node's weight and `scale` (and
    /// between `scale` and the smallest weight). Halved until the quorum
    /// checks pass; 1 means equal weights (plain PBFT).
    pub max_ratio: u64,
    /// Primary-group size (clamped to `[1, consensus group]`); the group's
    /// threshold is `f + 1` shares, so at least one honest member signs.
    pub primary_group: usize,
}

impl ElectionParams {
    /// Defaults for `n` members: largest `f`, scale 100, ratio 4, primary
    /// group `2f + 1`.
    pub fn for_n(n: usize) -> ElectionParams {
        let f = n.saturating_sub(1) / 3;
        ElectionParams {
            f,
            scale: 100,
            max_ratio: 4,
            primary_group: (2 * f + 1).min(n.max(1)),
        }
    }
}

/// One epoch's groups and weights, derived deterministically from the
/// committed trust vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Election {
    /// Epoch number (also rotates the primary inside the primary group).
    pub epoch: u64,
    /// Members, most trusted first (ties: smaller id first).
    pub ranking: Vec<NodeId>,
    /// The primary group, in rotation order; every member when all trust is
    /// equal, so that the policy is exactly PBFT.
    pub primary_group: Vec<NodeId>,
    /// Trust-weighted committee; its threshold was checked: two quorums
    /// share weight beyond the `f` heaviest members, and the other members
    /// alone reach a quorum.
    pub committee: WeightedCommittee,
    /// Fault bound.
    pub f: usize,
}

/// Weights `scale · clamp(t_i · n, 1/r, r)`, rounded, at least 1.
fn weights(values: &[f64], scale: u64, ratio: u64) -> Vec<u64> {
    let n = values.len() as f64;
    let r = ratio.max(1) as f64;
    values
        .iter()
        .map(|t| {
            let rel = if t.is_finite() { t * n } else { 0.0 };
            let w = (scale as f64 * rel.clamp(1.0 / r, r)).round();
            (w as u64).max(1)
        })
        .collect()
}

/// Sum of the `f` largest weights: the most weight any `f` members hold.
pub fn heaviest(weights: &[u64], f: usize) -> u64 {
    let mut w = weights.to_vec();
    w.sort_unstable_by(|a, b| b.cmp(a));
    w.iter().take(f).sum()
}

/// A committee whose faulty bound is the `f` heaviest weights.
pub fn checked_committee(weights: Vec<u64>, f: usize) -> Result<WeightedCommittee, QuorumError> {
    let faulty = heaviest(&weights, f);
    WeightedCommittee::new(weights, faulty)
}

impl Election {
    /// Elects for `epoch` from `scores` (one value per member).
    ///
    /// Weights start at ratio `max_ratio` and are flattened (ratio halved)
    /// until [`WeightedCommittee`] accepts them with the `f` heaviest as the
    /// faulty bound; ratio 1 (equal weights) always passes when
    /// `n ≥ 3f + 1`.
    pub fn elect(
        scores: &TrustScores,
        params: &ElectionParams,
        epoch: u64,
    ) -> Result<Election, QuorumError> {
        let n = scores.values.len();
        if n == 0 {
            return Err(QuorumError::Empty);
        }
        if n < 3 * params.f + 1 {
            return Err(QuorumError::TooManyFaults {
                n: n as u64,
                f: params.f as u64,
            });
        }
        let scale = params.scale.max(1);
        let mut ratio = params.max_ratio.max(1);
        let committee = loop {
            match checked_committee(weights(&scores.values, scale, ratio), params.f) {
                Ok(c) => break c,
                Err(e) if ratio <= 1 => return Err(e),
                Err(_) => ratio /= 2,
            }
        };
        let ranking = scores.ranking();
        let all_equal = (0..n).all(|i| committee.weight(i) == committee.weight(0))
            && scores
                .values
                .iter()
                .all(|v| v.to_bits() == scores.values[0].to_bits());
        let primary_group = if all_equal {
            (0..n as u32).map(NodeId).collect()
        } else {
            let g = params.primary_group.clamp(1, n);
            // Rotation order inside the group is by id, so that every
            // member leads in turn whatever its rank.
            let mut group: Vec<NodeId> = ranking.iter().take(g).copied().collect();
            group.sort_unstable();
            group
        };
        Ok(Election {
            epoch,
            ranking,
            primary_group,
            committee,
            f: params.f,
        })
    }

    /// Equal trust for `n` members: exactly PBFT (round-robin primary
    /// starting at `epoch mod n`, `⌈(n + f + 1)/2⌉` quorums).
    pub fn equal(n: usize, epoch: u64) -> Result<Election, QuorumError> {
        let scores = TrustScores {
            values: vec![1.0 / n.max(1) as f64; n],
            iterations: 0,
            converged: true,
        };
        Election::elect(&scores, &ElectionParams::for_n(n), epoch)
    }

    /// Number of members.
    pub fn n(&self) -> usize {
        self.ranking.len()
    }

    /// The primary of `view` in this epoch: the primary group in rotation,
    /// starting at member `epoch mod g`.
    pub fn primary(&self, view: u64) -> NodeId {
        let g = self.primary_group.len().max(1) as u64;
        let k = (view % g + self.epoch % g) % g;
        self.primary_group
            .get(k as usize)
            .copied()
            .unwrap_or(NodeId(0))
    }
}
