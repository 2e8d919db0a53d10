//! Aggregation rules: FedAvg and the Byzantine-robust Krum, Multi-Krum,
//! coordinate-wise median, trimmed mean and FLTrust.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the server combines the round's updates (model deltas).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Rule {
    /// Sample-weighted mean (McMahan et al. 2017).
    FedAvg,
    /// Krum (Blanchard et al. 2017): the single update with the smallest sum
    /// of squared distances to its `n − f − 2` nearest others; needs
    /// `n > 2f + 2`.
    Krum {
        /// Byzantine updates tolerated.
        f: usize,
    },
    /// Multi-Krum: the mean of the `m` best-scoring updates by Krum's score.
    MultiKrum {
        /// Byzantine updates tolerated.
        f: usize,
        /// Updates averaged.
        m: usize,
    },
    /// Coordinate-wise median (Yin et al. 2018), unweighted.
    Median,
    /// Coordinate-wise trimmed mean (Yin et al. 2018): drop the `trim`
    /// largest and `trim` smallest values of each coordinate, average the rest.
    TrimmedMean {
        /// Values dropped at each end.
        trim: usize,
    },
    /// FLTrust (Cao et al. 2021): trust = ReLU(cos(update, server update)),
    /// each update rescaled to the server update's norm, trust-weighted mean.
    /// The server computes its own update on a small clean root data set.
    FlTrust,
}

impl Rule {
    /// Whether the rule needs each client's update in the clear (all but FedAvg).
    pub fn needs_individual_updates(&self) -> bool {
        !matches!(self, Rule::FedAvg)
    }

    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::FedAvg => "fedavg",
            Rule::Krum { .. } => "krum",
            Rule::MultiKrum { .. } => "multi-krum",
            Rule::Median => "median",
            Rule::TrimmedMean { .. } => "trimmed-mean",
            Rule::FlTrust => "fltrust",
        }
    }
}

/// Why aggregation could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggError {
    /// No updates.
    Empty,
    /// Too few updates for the rule (e.g. Krum with `n ≤ 2f + 2`).
    TooFew {
        /// Updates received.
        n: usize,
        /// Minimum the rule needs.
        need: usize,
    },
    /// FLTrust without a server update.
    NoServerUpdate,
    /// Updates of different lengths.
    LengthMismatch,
}

impl fmt::Display for AggError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AggError::Empty => write!(f, "no updates to aggregate"),
            AggError::TooFew { n, need } => write!(f, "{n} updates, the rule needs {need}"),
            AggError::NoServerUpdate => write!(f, "FLTrust needs the server's root-data update"),
            AggError::LengthMismatch => write!(f, "updates of different lengths"),
        }
    }
}

impl std::error::Error for AggError {}

fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum()
}

fn mean_of(ups: &[&[f32]], weights: &[f64]) -> Vec<f32> {
    let dim = ups.first().map_or(0, |u| u.len());
    let total: f64 = weights.iter().sum::<f64>();
    let mut out = vec![0f64; dim];
    for (u, &w) in ups.iter().zip(weights) {
        for (o, &x) in out.iter_mut().zip(u.iter()) {
            *o += w * f64::from(x);
        }
    }
    out.iter()
        .map(|&v| (v / total.max(f64::MIN_POSITIVE)) as f32)
        .collect()
}

/// Krum scores (lower is better), one per update.
pub fn krum_scores(ups: &[&[f32]], f: usize) -> Vec<f64> {
    let n = ups.len();
    let near = n.saturating_sub(f + 2).max(1);
    (0..n)
        .map(|i| {
            let mut d: Vec<f64> = (0..n)
                .filter(|&j| j != i)
                .map(|j| dist2(ups[i], ups[j]))
                .collect();
            d.sort_by(f64::total_cmp);
            d.iter().take(near).sum()
        })
        .collect()
}

/// Combines `updates` (weight, delta) with `rule`. `server_update` is the
/// FLTrust root-data update. Weights are used by FedAvg only; the robust rules
/// treat every update equally. Ties are broken by position, so the result is
/// deterministic.
pub fn aggregate(
    rule: Rule,
    updates: &[(f64, Vec<f32>)],
    server_update: Option<&[f32]>,
) -> Result<Vec<f32>, AggError> {
    let n = updates.len();
    if n == 0 {
        return Err(AggError::Empty);
    }
    let dim = updates[0].1.len();
    if updates.iter().any(|(_, u)| u.len() != dim) {
        return Err(AggError::LengthMismatch);
    }
    let ups: Vec<&[f32]> = updates.iter().map(|(_, u)| u.as_slice()).collect();
    let ones = vec![1.0; n];
    match rule {
        Rule::FedAvg => {
            let w: Vec<f64> = updates.iter().map(|(w, _)| w.max(0.0)).collect();
            if w.iter().sum::<f64>() <= 0.0 {
                return Ok(mean_of(&ups, &ones));
            }
            Ok(mean_of(&ups, &w))
        }
        Rule::Krum { f } | Rule::MultiKrum { f, .. } => {
            if n <= 2 * f + 2 {
                return Err(AggError::TooFew { n, need: 2 * f + 3 });
            }
            let scores = krum_scores(&ups, f);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
            let m = match rule {
                Rule::MultiKrum { m, .. } => m.clamp(1, n),
                _ => 1,
            };
            let chosen: Vec<&[f32]> = order[..m].iter().map(|&i| ups[i]).collect();
            Ok(mean_of(&chosen, &ones[..m]))
        }
        Rule::Median | Rule::TrimmedMean { .. } => {
            let trim = match rule {
                Rule::TrimmedMean { trim } => trim,
                _ => 0,
            };
            if let Rule::TrimmedMean { .. } = rule
                && n <= 2 * trim
            {
                return Err(AggError::TooFew {
                    n,
                    need: 2 * trim + 1,
                });
            }
            let mut col = vec![0f32; n];
            Ok((0..dim)
                .map(|j| {
                    for (c, u) in col.iter_mut().zip(&ups) {
                        *c = u[j];
                    }
                    col.sort_by(f32::total_cmp);
                    if matches!(rule, Rule::Median) {
                        if n % 2 == 1 {
                            col[n / 2]
                        } else {
                            0.5 * (col[n / 2 - 1] + col[n / 2])
                        }
                    } else {
                        let kept = &col[trim..n - trim];
                        kept.iter().map(|&v| f64::from(v)).sum::<f64>() as f32 / kept.len() as f32
                    }
                })
                .collect())
        }
        Rule::FlTrust => {
            let s = server_update.ok_or(AggError::NoServerUpdate)?;
            if s.len() != dim {
                return Err(AggError::LengthMismatch);
            }
            let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
            let s_norm = norm(s);
            let mut out = vec![0f64; dim];
            let mut total = 0.0;
            for u in &ups {
                let u_norm = norm(u);
                if u_norm == 0.0 || s_norm == 0.0 {
                    continue;
                }
                let dot: f64 = u
                    .iter()
                    .zip(s)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                let trust = (dot / (u_norm * s_norm)).max(0.0);
                if trust == 0.0 {
                    continue;
                }
                total += trust;
                let k = trust * s_norm / u_norm;
                for (o, &x) in out.iter_mut().zip(u.iter()) {
                    *o += k * f64::from(x);
                }
            }
            if total == 0.0 {
                return Ok(vec![0.0; dim]);
            }
            Ok(out.iter().map(|&v| (v / total) as f32).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ups(v: &[[f32; 2]]) -> Vec<(f64, Vec<f32>)> {
        v.iter().map(|u| (1.0, u.to_vec())).collect()
    }

    #[test]
    fn fedavg_weights_by_samples() {
        let u = vec![(1.0, vec![0.0, 0.0]), (3.0, vec![4.0, 8.0])];
        assert_eq!(aggregate(Rule::FedAvg, &u, None).unwrap(), vec![3.0, 6.0]);
    }

    #[test]
    fn robust_rules_ignore_an_outlier() {
        let u = ups(&[
            [1.0, 1.0],
            [1.1, 0.9],
            [0.9, 1.1],
            [1.0, 1.05],
            [0.95, 1.0],
            [100.0, -100.0],
        ]);
        for rule in [
            Rule::Krum { f: 1 },
            Rule::MultiKrum { f: 1, m: 3 },
            Rule::Median,
            Rule::TrimmedMean { trim: 1 },
        ] {
            let a = aggregate(rule, &u, None).unwrap();
            assert!(a.iter().all(|v| (0.8..1.2).contains(v)), "{rule:?}: {a:?}");
        }
        let fed = aggregate(Rule::FedAvg, &u, None).unwrap();
        assert!(fed[0] > 10.0);
        let t = aggregate(Rule::FlTrust, &u, Some(&[1.0, 1.0])).unwrap();
        assert!(t.iter().all(|v| (0.8..1.2).contains(v)), "{t:?}");
    }

    #[test]
    fn krum_needs_enough_updates() {
        let u = ups(&[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]);
        assert_eq!(
            aggregate(Rule::Krum { f: 1 }, &u, None),
            Err(AggError::TooFew { n: 4, need: 5 })
        );
        assert_eq!(
            aggregate(Rule::FlTrust, &u, None),
            Err(AggError::NoServerUpdate)
        );
        assert_eq!(aggregate(Rule::Median, &[], None), Err(AggError::Empty));
    }

    #[test]
    fn median_of_even_count_is_midpoint() {
        let u = ups(&[[1.0, 0.0], [3.0, 0.0]]);
        assert_eq!(aggregate(Rule::Median, &u, None).unwrap(), vec![2.0, 0.0]);
    }
}
