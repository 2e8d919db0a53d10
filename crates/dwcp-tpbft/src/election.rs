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
    /// Consensus-group size: the most trusted members vote, the others
    /// follow by commit certificate. Clamped to `[3f + 1, n]`, because any
    /// `f` members may be Byzantine whatever their trust, so the group
    /// alone must tolerate `f` faults.
    pub consensus_group: usize,
}

impl ElectionParams {
    /// Defaults for `n` members: largest `f`, scale 100, ratio 4, primary
    /// group `2f + 1`, every member in the consensus group.
    pub fn for_n(n: usize) -> ElectionParams {
        ElectionParams::with_faults(n, n.saturating_sub(1) / 3)
    }

    /// Defaults for `n` members of which at most `f` are Byzantine: scale
    /// 100, ratio 4, primary group `2f + 1`, every member in the consensus
    /// group (set [`ElectionParams::consensus_group`] to `3f + 1` for the
    /// smallest group that tolerates `f` faults).
    pub fn with_faults(n: usize, f: usize) -> ElectionParams {
        ElectionParams {
            f,
            scale: 100,
            max_ratio: 4,
            primary_group: (2 * f + 1).min(n.max(1)),
            consensus_group: n,
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
    /// The consensus group (the members that vote), by id: the most
    /// trusted [`ElectionParams::consensus_group`] members, or everyone
    /// when all trust is equal. The primary group is inside it.
    pub consensus_group: Vec<NodeId>,
    /// Trust-weighted committee over all members (weight 0 outside the
    /// consensus group); its threshold was checked: two quorums share
    /// weight beyond the `f` heaviest members, and the other members alone
    /// reach a quorum.
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
        let ranking = scores.ranking();
        let equal_trust = scores
            .values
            .iter()
            .all(|v| v.to_bits() == scores.values[0].to_bits());
        let consensus_group: Vec<NodeId> = if equal_trust {
            (0..n as u32).map(NodeId).collect()
        } else {
            let c = params.consensus_group.clamp((3 * params.f + 1).min(n), n);
            let mut group: Vec<NodeId> = ranking.iter().take(c).copied().collect();
            group.sort_unstable();
            group
        };
        let scale = params.scale.max(1);
        let mut ratio = params.max_ratio.max(1);
        let committee = loop {
            let mut w = weights(&scores.values, scale, ratio);
            for (i, w) in w.iter_mut().enumerate() {
                if consensus_group.binary_search(&NodeId(i as u32)).is_err() {
                    *w = 0;
                }
            }
            match checked_committee(w, params.f) {
                Ok(c) => break c,
                Err(e) if ratio <= 1 => return Err(e),
                Err(_) => ratio /= 2,
            }
        };
        let all_equal = equal_trust && (0..n).all(|i| committee.weight(i) == committee.weight(0));
        let primary_group = if all_equal {
            (0..n as u32).map(NodeId).collect()
        } else {
            let g = params.primary_group.clamp(1, consensus_group.len());
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
            consensus_group,
            committee,
            f: params.f,
        })
    }

    /// Equal trust for `n` members: exactly PBFT (round-robin primary
    /// starting at `epoch mod n`, `⌈(n + f + 1)/2⌉` quorums).
    pub fn equal(n: usize, epoch: u64) -> Result<Election, QuorumError> {
        Election::equal_with(&ElectionParams::for_n(n), n, epoch)
    }

    /// Equal trust for `n` members under `params` (PBFT with fault bound
    /// `params.f`; every member votes whatever `params.consensus_group`).
    pub fn equal_with(
        params: &ElectionParams,
        n: usize,
        epoch: u64,
    ) -> Result<Election, QuorumError> {
        let scores = TrustScores {
            values: vec![1.0 / n.max(1) as f64; n],
            iterations: 0,
            converged: true,
        };
        Election::elect(&scores, params, epoch)
    }

    /// Whether `node` is in the consensus group (votes this epoch).
    pub fn is_voter(&self, node: NodeId) -> bool {
        self.consensus_group.binary_search(&node).is_ok()
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
