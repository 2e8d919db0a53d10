//! The EigenTrust iteration.

use dwcp_core::NodeId;
use std::collections::BTreeSet;
use std::fmt;

/// Non-negative local opinions: `get(i, j)` is how much `i` trusts `j`.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalTrust {
    n: usize,
    values: Vec<f64>,
}

impl LocalTrust {
    /// An `n × n` matrix of zeros (nobody has an opinion yet).
    pub fn new(n: usize) -> LocalTrust {
        LocalTrust {
            n,
            values: vec![0.0; n.saturating_mul(n)],
        }
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `i`'s opinion of `j` (zero out of range).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        if i < self.n && j < self.n {
            self.values.get(i * self.n + j).copied().unwrap_or(0.0)
        } else {
            0.0
        }
    }

    /// Sets `i`'s opinion of `j`; negative or non-finite values become zero,
    /// self-opinions and out-of-range ids are ignored.
    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        if i == j || i >= self.n || j >= self.n {
            return;
        }
        let v = if value.is_finite() && value > 0.0 {
            value
        } else {
            0.0
        };
        if let Some(slot) = self.values.get_mut(i * self.n + j) {
            *slot = v;
        }
    }

    /// Clears row `i` (its opinions no longer count).
    pub fn clear_row(&mut self, i: usize) {
        for j in 0..self.n {
            self.set(i, j, 0.0);
        }
    }
}

/// Parameters of the iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct EigenTrustConfig {
    /// Pre-trusted peers `P`; `p` is uniform over them (uniform over all when
    /// empty).
    pub pre_trusted: BTreeSet<NodeId>,
    /// Damping weight `a ∈ [0, 1]` given to `p` each iteration.
    pub damping: f64,
    /// Stop when the L1 distance between two iterates falls below this.
    pub tolerance: f64,
    /// Hard bound on iterations.
    pub max_iterations: usize,
}

impl Default for EigenTrustConfig {
    /// No pre-trusted peers, `a = 0.15`, tolerance `1e-9`, 100 iterations.
    fn default() -> Self {
        EigenTrustConfig {
            pre_trusted: BTreeSet::new(),
            damping: 0.15,
            tolerance: 1e-9,
            max_iterations: 100,
        }
    }
}

/// Why a computation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustError {
    /// No nodes.
    Empty,
    /// Damping outside `[0, 1]`, non-positive tolerance, or zero iterations.
    BadParameter,
    /// A pre-trusted id is not a member.
    UnknownPreTrusted(NodeId),
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::Empty => write!(f, "no nodes"),
            TrustError::BadParameter => write!(f, "damping, tolerance or iteration bound invalid"),
            TrustError::UnknownPreTrusted(id) => write!(f, "pre-trusted {id} is not a member"),
        }
    }
}

impl std::error::Error for TrustError {}

/// The global trust vector (sums to one) and how it was reached.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustScores {
    /// Trust per node, indexed by `NodeId`.
    pub values: Vec<f64>,
    /// Iterations performed.
    pub iterations: usize,
    /// Whether the tolerance was reached within the bound.
    pub converged: bool,
}

impl TrustScores {
    /// Trust of `id` (zero if unknown).
    pub fn get(&self, id: NodeId) -> f64 {
        self.values.get(id.index()).copied().unwrap_or(0.0)
    }

    /// Ids from most to least trusted; ties broken by smaller id.
    pub fn ranking(&self) -> Vec<NodeId> {
        let mut ids: Vec<usize> = (0..self.values.len()).collect();
        ids.sort_by(|&a, &b| {
            self.values[b]
                .total_cmp(&self.values[a])
                .then_with(|| a.cmp(&b))
        });
        ids.into_iter().map(|i| NodeId(i as u32)).collect()
    }

    /// Integer weights `round(t_i · n · scale)`: equal trust gives `scale`
    /// to everybody.
    pub fn to_weights(&self, scale: u64) -> Vec<u64> {
        let n = self.values.len() as f64;
        self.values
            .iter()
            .map(|t| {
                let w = (t * n * scale as f64).round();
                if w.is_finite() && w > 0.0 {
                    w.min(u64::MAX as f64 / 4.0) as u64
                } else {
                    0
                }
            })
            .collect()
    }
}

/// The pre-trust distribution `p`.
pub(crate) fn pre_trust(n: usize, pre: &BTreeSet<NodeId>) -> Vec<f64> {
    if pre.is_empty() {
        vec![1.0 / n as f64; n]
    } else {
        let share = 1.0 / pre.len() as f64;
        (0..n)
            .map(|i| {
                if pre.contains(&NodeId(i as u32)) {
                    share
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Runs EigenTrust: `t₀ = p`, `t_{k+1} = (1 − a)·Cᵀ·t_k + a·p`, where a row
/// with no opinions is replaced by `p` (as in the paper).
pub fn eigentrust(
    local: &LocalTrust,
    config: &EigenTrustConfig,
) -> Result<TrustScores, TrustError> {
    let n = local.n();
    if n == 0 {
        return Err(TrustError::Empty);
    }
    let a = config.damping;
    if !(0.0..=1.0).contains(&a)
        || config.tolerance.is_nan()
        || config.tolerance <= 0.0
        || config.max_iterations == 0
    {
        return Err(TrustError::BadParameter);
    }
    if let Some(id) = config.pre_trusted.iter().find(|id| id.index() >= n) {
        return Err(TrustError::UnknownPreTrusted(*id));
    }
    let p = pre_trust(n, &config.pre_trusted);
    // Normalised rows.
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        let sum: f64 = (0..n).map(|j| local.get(i, j)).sum();
        for j in 0..n {
            c[i * n + j] = if sum > 0.0 {
                local.get(i, j) / sum
            } else {
                p[j]
            };
        }
    }
    let mut t = p.clone();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < config.max_iterations {
        iterations += 1;
        let mut next = vec![0.0; n];
        for (j, slot) in next.iter_mut().enumerate() {
            let mut acc = 0.0;
            for i in 0..n {
                acc += c[i * n + j] * t[i];
            }
            *slot = (1.0 - a) * acc + a * p[j];
        }
        let delta: f64 = next.iter().zip(&t).map(|(x, y)| (x - y).abs()).sum();
        t = next;
        if delta < config.tolerance {
            converged = true;
            break;
        }
    }
    Ok(TrustScores {
        values: t,
        iterations,
        converged,
    })
}

#[cfg(test)]
mod tests;
