//! TCS-FEEL-style topology-aware client selection with device-to-device
//! relays, and the radio/compute time model used to compare it with uniform
//! sampling.
//!
//! What the TCS-FEEL paper (Sensors 25(21):6534, 2025) verifiably says: client
//! selection jointly considers the user distribution, D2D links and the
//! statistical similarity of client data; it combines randomised client
//! sampling with an adaptive tree in which devices act as D2D relays. Its
//! similarity metric, tree construction, relay aggregation and baselines are
//! **not** verified, so the rule below is this crate's own, documented
//! instantiation, not a reproduction of the paper:
//!
//! 1. **Randomised pool.** Draw `pool_factor · m` clients uniformly without
//!    replacement.
//! 2. **Greedy selection.** Starting from the empty set, repeatedly add the
//!    pool member minimising
//!    `L1(label distribution of the selected clients' union, global label
//!    distribution) + μ · t̂_c / median(t̂)`, where `t̂_c` is the client's
//!    estimated completion time (local compute + upload of one update over
//!    its best path: direct to the base station with the base-station
//!    bandwidth split `m` ways, or over a D2D link to a neighbour in range).
//!    The first term is the data-similarity criterion, the second the user
//!    distribution / link criterion. Stop at `m` clients.
//! 3. **Relay tree (depth 1).** Selected clients are sorted by their direct
//!    base-station rate. A client whose direct rate is below the median of
//!    the selection attaches to the selected neighbour within D2D range
//!    that has the highest direct rate, provided that neighbour's rate is
//!    higher than its own, the neighbour uploads directly, and it has fewer
//!    than `max_children` children; otherwise it uploads directly. Relays
//!    forward the sample-weighted mean of their subtree (FedAvg only).
//!
//! Time model ([`Radio::round_time`]): a direct uploader finishes at
//! `compute + bits / rate_bs(d, B / #direct)`; a relay waits for its slowest
//! child (`compute + bits / rate_d2d(distance)`) and its own compute, then
//! uploads one aggregated update. Rates are Shannon rates with the 3GPP
//! macro path loss `128.1 + 37.6·log10(d / km)` dB. Downlink broadcast is the
//! same for every policy and is not included.

use crate::rand_util::{shuffle, uniform};
use crate::select::{RoundPlan, Selector};
use dwcp_core::NodeId;
use dwcp_core::rng::{self, Rng};
use std::sync::{Arc, Mutex};

/// Positions, radio parameters and compute speeds of the population.
#[derive(Clone, Debug)]
pub struct Radio {
    /// Client positions in metres (base station at the origin), by client index.
    pub positions: Vec<(f64, f64)>,
    /// Seconds of local compute per round, by client index.
    pub compute_s: Vec<f64>,
    /// D2D range in metres.
    pub d2d_range_m: f64,
    /// Base-station uplink bandwidth in Hz, shared equally by direct uploaders.
    pub bs_bandwidth_hz: f64,
    /// Bandwidth of one D2D link in Hz.
    pub d2d_bandwidth_hz: f64,
    /// Transmit power in dBm.
    pub tx_dbm: f64,
    /// Noise power spectral density in dBm/Hz.
    pub noise_dbm_hz: f64,
}

impl Radio {
    /// Clients uniform in a disc of `radius_m`, compute time per round
    /// `E · n_i · u_i` ms with `u_i ~ U[0.5, 1.5]`, 10 MHz base-station
    /// uplink, 5 MHz D2D links, 150 m D2D range, 23 dBm, −174 dBm/Hz.
    pub fn random(samples: &[usize], epochs: u32, radius_m: f64, seed: u64) -> Self {
        let mut r = rng::derive(seed, 0x7c5);
        let positions = samples
            .iter()
            .map(|_| {
                let rad = radius_m * uniform(&mut r).sqrt().max(0.02);
                let th = std::f64::consts::TAU * uniform(&mut r);
                (rad * th.cos(), rad * th.sin())
            })
            .collect();
        let compute_s = samples
            .iter()
            .map(|&n| f64::from(epochs) * n as f64 * (0.5 + uniform(&mut r)) * 1e-3)
            .collect();
        Radio {
            positions,
            compute_s,
            d2d_range_m: 150.0,
            bs_bandwidth_hz: 10e6,
            d2d_bandwidth_hz: 5e6,
            tx_dbm: 23.0,
            noise_dbm_hz: -174.0,
        }
    }

    fn rate(&self, d_m: f64, bw: f64) -> f64 {
        let pl = 128.1 + 37.6 * (d_m.max(1.0) / 1000.0).log10();
        let snr_db = self.tx_dbm - pl - (self.noise_dbm_hz + 10.0 * bw.log10());
        bw * (1.0 + 10f64.powf(snr_db / 10.0)).log2()
    }

    fn pos(&self, c: usize) -> (f64, f64) {
        self.positions.get(c).copied().unwrap_or((0.0, 0.0))
    }

    fn dist(&self, a: usize, b: usize) -> f64 {
        let (p, q) = (self.pos(a), self.pos(b));
        ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt()
    }

    /// Direct uplink rate (bit/s) of client index `c` with bandwidth `bw`.
    pub fn bs_rate(&self, c: usize, bw: f64) -> f64 {
        let (x, y) = self.pos(c);
        self.rate((x * x + y * y).sqrt(), bw)
    }

    /// D2D rate between two client indices.
    pub fn d2d_rate(&self, a: usize, b: usize) -> f64 {
        self.rate(self.dist(a, b), self.d2d_bandwidth_hz)
    }

    /// Simulated wall-clock seconds of one round under `plan` with updates
    /// of `bytes`; client `NodeId(k + 1)` is index `k`.
    pub fn round_time(&self, plan: &RoundPlan, bytes: usize) -> f64 {
        let bits = bytes as f64 * 8.0;
        let direct = plan.direct_uploaders();
        let bw = self.bs_bandwidth_hz / direct.len().max(1) as f64;
        let idx = |n: NodeId| (n.0 as usize).saturating_sub(1);
        direct
            .iter()
            .map(|&p| {
                let i = idx(p);
                let own = self.compute_s.get(i).copied().unwrap_or(0.0);
                let ready = plan
                    .relays
                    .iter()
                    .filter(|(_, par)| *par == p)
                    .map(|(c, _)| {
                        let j = idx(*c);
                        self.compute_s.get(j).copied().unwrap_or(0.0) + bits / self.d2d_rate(j, i)
                    })
                    .fold(own, f64::max);
                ready + bits / self.bs_rate(i, bw)
            })
            .fold(0.0, f64::max)
    }
}

/// The TCS-FEEL-style selector (see the module docs for the exact rule).
#[derive(Clone, Debug)]
pub struct TcsSelector {
    /// Clients per round `m`.
    pub per_round: usize,
    /// Pool size factor (pool = `pool_factor · m`).
    pub pool_factor: usize,
    /// Weight `μ` of the time term.
    pub time_weight: f64,
    /// Children per relay.
    pub max_children: usize,
    /// Bytes of one update (for the time estimate).
    pub update_bytes: usize,
    /// Label histograms by client index.
    pub histograms: Vec<Vec<usize>>,
    /// Radio and compute model.
    pub radio: Radio,
    /// Weight `β` of the staleness bonus (0 = the pre-registered rule; see
    /// [`TcsSelector::select_at`]).
    pub staleness_weight: f64,
    /// The last round each client (by index) was selected in, 0 for never;
    /// kept by [`Selector::plan`] (start with an empty vector).
    pub last_selected: Vec<u64>,
}

impl TcsSelector {
    fn est_time(&self, c: usize) -> f64 {
        let bits = self.update_bytes as f64 * 8.0;
        let bw = self.radio.bs_bandwidth_hz / self.per_round.max(1) as f64;
        let direct = bits / self.radio.bs_rate(c, bw);
        let via = (0..self.radio.positions.len())
            .filter(|&j| j != c && self.radio.dist(c, j) <= self.radio.d2d_range_m)
            .map(|j| bits / self.radio.d2d_rate(c, j) + bits / self.radio.bs_rate(j, bw))
            .fold(f64::INFINITY, f64::min);
        self.radio.compute_s.get(c).copied().unwrap_or(0.0) + direct.min(via)
    }

    /// The plan for one round over client indices `0..n` (ids `k + 1`),
    /// the pre-registered rule (no staleness bonus).
    pub fn select(&self, rng: &mut Rng) -> RoundPlan {
        self.select_at(0, &[], rng)
    }

    /// The plan for `round`, with the staleness bonus: a client last
    /// selected in round `l` (0 for never) has `β · (round − l) / (n / m)`
    /// subtracted from its greedy score, growing by `β` per uniform-sampling
    /// period `n/m` it waits, so every client is eventually chosen (once it
    /// is drawn into the pool). With `β = 0` (or `round = 0`) this is [`TcsSelector::select`].
    /// The bonus is a post-hoc correction: the pre-registered rule gives
    /// several clients, the largest shards among them, zero chance of
    /// selection (see the crate's BENCHMARKS entry for `fl-tcs`).
    pub fn select_at(&self, round: u64, last: &[u64], rng: &mut Rng) -> RoundPlan {
        let n = self.histograms.len();
        let m = self.per_round.clamp(1, n.max(1));
        let classes = self.histograms.first().map_or(0, Vec::len);
        let mut global = vec![0f64; classes];
        for h in &self.histograms {
            for (g, &c) in global.iter_mut().zip(h) {
                *g += c as f64;
            }
        }
        let gsum: f64 = global.iter().sum::<f64>().max(1.0);
        global.iter_mut().for_each(|g| *g /= gsum);
        let mut pool: Vec<usize> = (0..n).collect();
        shuffle(&mut pool, rng);
        pool.truncate((self.pool_factor.max(1) * m).min(n));
        let times: Vec<f64> = (0..n).map(|c| self.est_time(c)).collect();
        let mut sorted: Vec<f64> = pool.iter().map(|&c| times[c]).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted
            .get(sorted.len() / 2)
            .copied()
            .unwrap_or(1.0)
            .max(1e-9);
        let mut chosen: Vec<usize> = vec![];
        let mut acc = vec![0f64; classes];
        while chosen.len() < m && !pool.is_empty() {
            let score = |c: usize| {
                let h = &self.histograms[c];
                let tot: f64 = acc.iter().sum::<f64>() + h.iter().sum::<usize>() as f64;
                let l1: f64 = acc
                    .iter()
                    .zip(h)
                    .zip(&global)
                    .map(|((a, &x), g)| ((a + x as f64) / tot.max(1.0) - g).abs())
                    .sum();
                let age = last.get(c).map_or(round, |&l| round.saturating_sub(l)) as f64;
                let period = n as f64 / m as f64;
                l1 + self.time_weight * times[c] / median - self.staleness_weight * age / period
            };
            let (best_pos, _) = pool.iter().enumerate().map(|(i, &c)| (i, score(c))).fold(
                (0, f64::INFINITY),
                |b, (i, s)| if s < b.1 { (i, s) } else { b },
            );
            let c = pool.remove(best_pos);
            for (a, &x) in acc.iter_mut().zip(&self.histograms[c]) {
                *a += x as f64;
            }
            chosen.push(c);
        }
        // Relay tree.
        let bw = self.radio.bs_bandwidth_hz / chosen.len().max(1) as f64;
        let mut by_rate: Vec<(usize, f64)> = chosen
            .iter()
            .map(|&c| (c, self.radio.bs_rate(c, bw)))
            .collect();
        by_rate.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let median_rate = by_rate.get(by_rate.len() / 2).map_or(0.0, |x| x.1);
        let mut parent: Vec<Option<usize>> = vec![None; n];
        let mut kids = vec![0usize; n];
        for &(c, rate) in by_rate.iter().rev() {
            if rate >= median_rate {
                continue;
            }
            let best = by_rate
                .iter()
                .filter(|&&(j, rj)| {
                    j != c
                        && rj > rate
                        && parent[j].is_none()
                        && kids[c] == 0
                        && kids[j] < self.max_children
                        && self.radio.dist(c, j) <= self.radio.d2d_range_m
                })
                .map(|&(j, _)| j)
                .next();
            if let Some(j) = best {
                parent[c] = Some(j);
                kids[j] += 1;
            }
        }
        let id = |k: usize| NodeId(k as u32 + 1);
        RoundPlan {
            participants: {
                let mut p: Vec<NodeId> = chosen.iter().map(|&c| id(c)).collect();
                p.sort_unstable();
                p
            },
            relays: chosen
                .iter()
                .filter_map(|&c| parent[c].map(|p| (id(c), id(p))))
                .collect(),
        }
    }
}

impl Selector for TcsSelector {
    fn plan(&mut self, round: u64, _clients: &[NodeId], rng: &mut Rng) -> RoundPlan {
        if self.staleness_weight == 0.0 {
            return self.select(rng);
        }
        let plan = self.select_at(round, &self.last_selected, rng);
        self.last_selected.resize(self.histograms.len(), 0);
        for p in &plan.participants {
            if let Some(l) = self.last_selected.get_mut((p.0 as usize).wrapping_sub(1)) {
                *l = round;
            }
        }
        plan
    }
}

/// Wraps a selector and records every plan it makes (for time accounting).
#[derive(Debug)]
pub struct Logged<S> {
    /// The wrapped selector.
    pub inner: S,
    /// Every plan, in round order.
    pub log: Arc<Mutex<Vec<RoundPlan>>>,
}

impl<S: Selector> Selector for Logged<S> {
    fn plan(&mut self, round: u64, clients: &[NodeId], rng: &mut Rng) -> RoundPlan {
        let p = self.inner.plan(round, clients, rng);
        if let Ok(mut g) = self.log.lock() {
            g.push(p.clone());
        }
        p
    }
}
