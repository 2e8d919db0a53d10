//! Heuristic baselines for NodeAlloc. They see exactly what the learners
//! see (each node's local observation, with neighbours' utilisation and
//! backlog delayed one step) plus the static, public node capacities and job
//! demand vectors.

use super::{NODES, NodeAllocConfig, RESOURCES, TYPES};
use crate::space::open_unit;
use crate::train::Controller;
use dwcp_core::rng::{Rng, seeded};
use serde::{Deserialize, Serialize};

// Observation layout (see `NodeAlloc::observe`).
const ARRIVALS: usize = 0;
const WAITING: usize = 3;
const OWN_UTIL: usize = 6;
const NEIGH_UTIL: usize = 15;
const NEIGH_BACKLOG: usize = 24;

/// Which heuristic, with its tunable parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum HeuristicKind {
    /// Each node draws, every step and for each job type, a destination
    /// vector from Dirichlet(1) (uniform on the simplex).
    Random,
    /// Keep every job local.
    LocalOnly,
    /// Split each job type over the nodes in proportion to
    /// `(free capacity in its dominant resource + floor · capacity)^exponent`,
    /// with the node's own share multiplied by `local_bias` (forwarding costs
    /// bandwidth and a step of delay).
    ProportionalShare {
        /// Sharpness of the split.
        exponent: f32,
        /// Multiplier on the own node's score.
        local_bias: f32,
        /// Capacity fraction added to every node's free capacity.
        floor: f32,
    },
    /// Send each job type whole to the node with the smallest backlog per
    /// unit of capacity in the type's dominant resource, unless the own
    /// node's is within `margin` of it.
    JoinShortestQueue {
        /// Hysteresis in backlog-per-capacity units.
        margin: f32,
    },
}

impl HeuristicKind {
    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            HeuristicKind::Random => "random",
            HeuristicKind::LocalOnly => "local-only",
            HeuristicKind::ProportionalShare { .. } => "proportional-share",
            HeuristicKind::JoinShortestQueue { .. } => "join-shortest-queue",
        }
    }

    /// The parameter grid searched when tuning this heuristic (a single
    /// entry for the parameter-free ones).
    pub fn grid(&self) -> Vec<HeuristicKind> {
        match self {
            HeuristicKind::Random | HeuristicKind::LocalOnly => vec![*self],
            HeuristicKind::ProportionalShare { .. } => {
                let mut g = vec![];
                for exponent in [0.5, 1.0, 2.0, 4.0, 8.0] {
                    for local_bias in [0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 16.0, 32.0] {
                        for floor in [0.0, 0.1, 0.3, 0.6, 1.0, 2.0, 4.0] {
                            g.push(HeuristicKind::ProportionalShare {
                                exponent,
                                local_bias,
                                floor,
                            });
                        }
                    }
                }
                g
            }
            HeuristicKind::JoinShortestQueue { .. } => [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
                .into_iter()
                .map(|margin| HeuristicKind::JoinShortestQueue { margin })
                .collect(),
        }
    }
}

/// A heuristic controller for all four nodes.
#[derive(Clone, Debug)]
pub struct Heuristic {
    kind: HeuristicKind,
    capacity: [[f32; RESOURCES]; NODES],
    dominant: [usize; TYPES],
    rng: Rng,
}

impl Heuristic {
    /// A heuristic for the environment configured by `cfg`; `seed` drives
    /// the random baseline.
    pub fn new(kind: HeuristicKind, cfg: &NodeAllocConfig, seed: u64) -> Self {
        Heuristic {
            kind,
            capacity: cfg.capacity,
            dominant: cfg.dominant(),
            rng: seeded(seed),
        }
    }

    /// The heuristic and its parameters.
    pub fn kind(&self) -> HeuristicKind {
        self.kind
    }

    fn neighbour_slot(i: usize, k: usize) -> usize {
        if k < i { k } else { k - 1 }
    }

    /// Own and neighbours' utilisation of resource `r` as seen by node `i`.
    fn util(obs: &[f32], i: usize, k: usize, r: usize) -> f32 {
        let idx = if k == i {
            OWN_UTIL + r
        } else {
            NEIGH_UTIL + 3 * Self::neighbour_slot(i, k) + r
        };
        obs.get(idx).copied().unwrap_or(0.0).clamp(0.0, 1.0)
    }

    fn backlog(obs: &[f32], i: usize, k: usize) -> f32 {
        if k == i {
            (0..TYPES)
                .map(|j| {
                    obs.get(ARRIVALS + j).copied().unwrap_or(0.0)
                        + obs.get(WAITING + j).copied().unwrap_or(0.0)
                })
                .sum::<f32>()
                * 5.0
        } else {
            obs.get(NEIGH_BACKLOG + Self::neighbour_slot(i, k))
                .copied()
                .unwrap_or(0.0)
                * 10.0
        }
    }

    fn node_action(&mut self, i: usize, obs: &[f32], out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..TYPES {
            let Some(group) = out.get_mut(j * NODES..(j + 1) * NODES) else {
                return;
            };
            let r = self.dominant[j];
            match self.kind {
                HeuristicKind::Random => {
                    let mut sum = 0.0;
                    for g in group.iter_mut() {
                        *g = -open_unit(&mut self.rng).ln();
                        sum += *g;
                    }
                    group.iter_mut().for_each(|g| *g /= sum);
                }
                HeuristicKind::LocalOnly => group[i] = 1.0,
                HeuristicKind::ProportionalShare {
                    exponent,
                    local_bias,
                    floor,
                } => {
                    let mut sum = 0.0;
                    for (k, g) in group.iter_mut().enumerate() {
                        let cap = self.capacity[k][r];
                        let free = cap * (1.0 - Self::util(obs, i, k, r)) + floor * cap;
                        let mut s = free.max(0.0).powf(exponent);
                        if k == i {
                            s *= local_bias;
                        }
                        *g = s;
                        sum += s;
                    }
                    if sum > 0.0 && sum.is_finite() {
                        group.iter_mut().for_each(|g| *g /= sum);
                    } else {
                        group.iter_mut().for_each(|g| *g = 0.0);
                        group[i] = 1.0;
                    }
                }
                HeuristicKind::JoinShortestQueue { margin } => {
                    let q = |k: usize| Self::backlog(obs, i, k) / self.capacity[k][r].max(1e-6);
                    let best = (0..NODES)
                        .min_by(|&a, &b| q(a).total_cmp(&q(b)))
                        .unwrap_or(i);
                    let dest = if q(i) <= q(best) + margin { i } else { best };
                    group[dest] = 1.0;
                }
            }
        }
    }
}

impl Controller for Heuristic {
    fn act(&mut self, _t: usize, obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for (i, (o, a)) in obs.iter().zip(actions.iter_mut()).enumerate() {
            self.node_action(i, o, a);
        }
    }
}
