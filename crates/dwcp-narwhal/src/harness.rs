//! One-call simulated Narwhal clusters (feature `sim`), generic over the
//! orderer: what the tests, the examples and the lab throughput runs of
//! `dwcp-bullshark` and `dwcp-tusk` build on.

use crate::config::{Keys, NarwhalConfig};
use crate::node::Narwhal;
use crate::order::Orderer;
use crate::types::{Committed, Transaction};
use dwcp_core::{Duration, NodeId, Time, rng};
use dwcp_sim::workload::{LoadReport, ThroughputConfig, run_load};
use dwcp_sim::{SimConfig, Simulation, Violation};
use std::sync::Arc;

/// Which keys a cluster uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoMode {
    /// Real sr25519 and BLS keys.
    Real,
    /// dwcp-crypto's INSECURE forgeable mock (needs the
    /// `insecure-mock-crypto` feature).
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock,
}

impl CryptoMode {
    /// Keys for `n` nodes from `seed`.
    pub fn keys(self, n: usize, seed: u64) -> Vec<Keys> {
        match self {
            CryptoMode::Real => Keys::generate(n, seed),
            #[cfg(feature = "insecure-mock-crypto")]
            CryptoMode::InsecureMock => Keys::insecure_mock(n, seed),
        }
    }

    /// A threshold setup (`threshold` shares of `n` needed) from `seed`.
    pub fn threshold(self, n: usize, threshold: usize, seed: u64) -> dwcp_crypto::ThresholdSetup {
        match self {
            CryptoMode::Real => dwcp_crypto::ThresholdSetup::generate(n, threshold, seed),
            #[cfg(feature = "insecure-mock-crypto")]
            CryptoMode::InsecureMock => {
                dwcp_crypto::ThresholdSetup::insecure_mock(n, threshold, seed)
            }
        }
    }

    /// The mock when `real` is false and the mock is compiled in, real keys
    /// otherwise.
    pub fn choose(real: bool) -> CryptoMode {
        #[cfg(feature = "insecure-mock-crypto")]
        if !real {
            return CryptoMode::InsecureMock;
        }
        let _ = real;
        CryptoMode::Real
    }
}

/// A cluster of `sim.n` nodes running `cfg`, node `i` with `keys[i]` and the
/// orderer `make(i)`; engine seeds derive from `sim.seed`.
///
/// # Panics
/// If the configuration and keys do not match `sim.n`.
pub fn cluster<O: Orderer + 'static>(
    cfg: NarwhalConfig,
    sim: SimConfig,
    keys: Vec<Keys>,
    make: impl Fn(NodeId) -> O + 'static,
) -> Simulation<Narwhal<O>> {
    assert_eq!(cfg.n, sim.n, "configuration and simulator sizes differ");
    assert_eq!(keys.len(), sim.n, "one key set per node");
    let seed = sim.seed;
    Simulation::new(sim, move |id| {
        let k = keys[id.index()].clone();
        Narwhal::new(
            cfg.clone(),
            id,
            k,
            make(id),
            rng::derive(seed, u64::from(id.0)),
        )
        .unwrap_or_else(|e| panic!("node {id:?}: {e}"))
    })
}

/// A `size`-byte transaction (at least 8) whose id is `id`.
pub fn tx(id: u64, size: usize) -> Transaction {
    let mut p = vec![0u8; size.max(8)];
    p[..8].copy_from_slice(&id.to_le_bytes());
    Transaction::new(p)
}

/// Submits transactions `0..count`, one every `interval` from `start`,
/// round robin to the nodes in `to` (every node if empty).
pub fn submit<O: Orderer + 'static>(
    sim: &mut Simulation<Narwhal<O>>,
    count: u64,
    start: Time,
    interval: Duration,
    to: &[NodeId],
) {
    let nodes: Vec<NodeId> = if to.is_empty() {
        NodeId::all(sim.config().n).collect()
    } else {
        to.to_vec()
    };
    let reqs = (0..count).map(|i| {
        let node = nodes[(i % nodes.len() as u64) as usize];
        (start + interval * (i as u32), node, tx(i, 16))
    });
    sim.submit_many(reqs.collect::<Vec<_>>());
}

/// The timers of the simulator tests: 50 ms header delay, 300 ms leader
/// timeout, 10 ms batch delay, 200 ms sync retry, GC depth 20.
///
/// # Panics
/// If `n` is not a valid committee size.
pub fn test_config(n: usize) -> NarwhalConfig {
    let mut c = NarwhalConfig::new(n).expect("valid committee size");
    c.max_header_delay = Duration::from_millis(50);
    c.leader_timeout = Duration::from_millis(300);
    c.max_batch_delay = Duration::from_millis(10);
    c.sync_retry = Duration::from_millis(200);
    c.gc_depth = 20;
    c
}

/// The standard load-and-check of the simulator tests: submits
/// transactions `0..count` from t = 100 ms, one every 20 ms, round robin to
/// `to` (every node if empty), runs until every honest running node
/// delivered them all or `until` passes, then checks the total order.
pub fn load_and_check<O: Orderer + 'static>(
    sim: &mut Simulation<Narwhal<O>>,
    count: u64,
    to: &[NodeId],
    until: Time,
) -> Result<(), Violation> {
    submit(
        sim,
        count,
        Time::from_millis(100),
        Duration::from_millis(20),
        to,
    );
    run_until_txs(sim, count as usize, until)?;
    check(sim)
}

/// The transaction ids of a committed value.
pub fn txs_of(v: &Committed) -> Vec<u64> {
    v.txs.clone()
}

/// Safety of a run: no duplicate delivery, every honest log a prefix of
/// the others (same total order), and no transaction delivered twice by
/// any honest node.
pub fn check<O: Orderer + 'static>(sim: &Simulation<Narwhal<O>>) -> Result<(), Violation> {
    sim.check_safety()?;
    for node in sim.honest() {
        let mut seen = std::collections::BTreeMap::new();
        for (i, v) in sim.delivered(node).iter().enumerate() {
            for t in &v.txs {
                if let Some(first) = seen.insert(*t, i) {
                    return Err(sim.violation(dwcp_sim::ViolationKind::Duplicate {
                        node,
                        value: format!("transaction {t}"),
                        first,
                        second: i,
                    }));
                }
            }
        }
    }
    Ok(())
}

/// Whether `node` delivered every transaction id in `ids`.
pub fn delivered_all<O: Orderer + 'static>(
    sim: &Simulation<Narwhal<O>>,
    node: NodeId,
    ids: std::ops::Range<u64>,
) -> bool {
    let got: std::collections::BTreeSet<u64> = sim
        .delivered(node)
        .iter()
        .flat_map(|v| v.txs.iter().copied())
        .collect();
    ids.clone().all(|t| got.contains(&t))
}

/// Whether every running honest node delivered every id in `ids`.
pub fn all_delivered<O: Orderer + 'static>(
    sim: &Simulation<Narwhal<O>>,
    ids: std::ops::Range<u64>,
) -> bool {
    sim.honest()
        .into_iter()
        .filter(|id| sim.is_up(*id))
        .all(|id| delivered_all(sim, id, ids.clone()))
}

/// Submits `count` 16-byte transactions with ids `first..first + count`,
/// one every 30 ms from `at`, round robin over all nodes, then runs until
/// every running honest node delivered them all; `false` if `deadline`
/// passes first.
pub fn submit_and_deliver<O: Orderer + 'static>(
    sim: &mut Simulation<Narwhal<O>>,
    at: Time,
    first: u64,
    count: u64,
    deadline: Time,
) -> bool {
    let n = sim.config().n.max(1) as u64;
    let load: Vec<_> = (0..count)
        .map(|i| {
            let t = at + Duration::from_millis(30) * (i as u32);
            (t, NodeId((i % n) as u32), tx(first + i, 16))
        })
        .collect();
    sim.submit_many(load);
    let ids = first..first + count;
    sim.run_until_cond(deadline, |s| all_delivered(s, ids.clone()))
}

/// How many distinct transactions `node` delivered.
pub fn delivered_txs<O: Orderer + 'static>(sim: &Simulation<Narwhal<O>>, node: NodeId) -> usize {
    sim.delivered(node).iter().map(|v| v.txs.len()).sum()
}

/// A configuration for saturating WAN throughput runs: 32 kB batches or
/// 50 ms, at most 64 batches waiting for a header, payloads not persisted, GC depth 20.
pub fn throughput_config(n: usize) -> NarwhalConfig {
    let mut cfg = NarwhalConfig::new(n).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    cfg.batch_size = 32_000;
    cfg.max_unproposed_batches = 64;
    cfg.max_batch_delay = Duration::from_millis(50);
    cfg.max_header_delay = Duration::from_millis(100);
    cfg.leader_timeout = Duration::from_millis(500);
    cfg.gc_depth = 20;
    cfg.sync_retention = 20;
    cfg.persist_batches = false;
    cfg.max_header_batches = 256;
    cfg
}

/// Fits batching to an uplink of `uplink` bytes/s: batch broadcasts use at
/// most 90% of it, and one batch broadcast (to `n - 1` peers) occupies the
/// uplink for about 40 ms at most, so a header, vote or certificate never
/// queues long behind one.
pub fn pace_batches(cfg: &mut NarwhalConfig, uplink: u64) {
    cfg.batch_uplink_budget = Some(uplink / 10 * 9);
    let per_peer = uplink / 25 / (cfg.n.max(2) as u64 - 1);
    cfg.batch_size = (per_peer as usize).clamp(2_000, 500_000);
}

/// The lab's throughput run for orderer `make`: builds the cluster from
/// `tc` (network, uplinks, crashes), fits batching to the uplink
/// ([`pace_batches`]), offers the load and measures it.
pub fn throughput<O: Orderer + 'static>(
    tc: &ThroughputConfig,
    cfg: NarwhalConfig,
    make: impl Fn(NodeId) -> O + 'static,
) -> LoadReport {
    throughput_with_anchors(tc, cfg, make).0
}

/// Anchor-commit latency over a run: for every anchor whose header its
/// author proposed inside a window, at every running honest node that
/// committed it, the time from the proposal to the commit, and the rounds
/// it spans (the anchor's round through the highest round in the committing
/// node's DAG at the commit, both included: Bullshark's structural minimum
/// is 2, Tusk's 3).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnchorLatency {
    /// Distinct anchors proposed in the window and committed somewhere.
    pub anchors: usize,
    /// (anchor, node) commit samples.
    pub samples: usize,
    /// Median proposal → commit time (ms).
    pub p50_ms: f64,
    /// Mean proposal → commit time (ms).
    pub mean_ms: f64,
    /// Median rounds spanned.
    pub p50_rounds: f64,
    /// Mean rounds spanned.
    pub mean_rounds: f64,
}

/// [`AnchorLatency`] of the anchors proposed in `[from, to)`, from the
/// nodes' timing logs ([`Narwhal::anchor_commits`],
/// [`Narwhal::proposal_times`]).
pub fn anchor_latency<O: Orderer + 'static>(
    sim: &Simulation<Narwhal<O>>,
    from: Time,
    to: Time,
) -> AnchorLatency {
    let running: Vec<&Narwhal<O>> = sim
        .honest()
        .into_iter()
        .filter_map(|id| sim.engine(id))
        .collect();
    let mut proposed = std::collections::BTreeMap::new();
    for e in &running {
        for (round, at) in e.proposal_times() {
            if (from..to).contains(at) {
                proposed.insert((*round, dwcp_core::Engine::id(*e)), *at);
            }
        }
    }
    let mut ms = vec![];
    let mut rounds = vec![];
    let mut anchors = std::collections::BTreeSet::new();
    for e in &running {
        for a in e.anchor_commits() {
            if let Some(at) = proposed.get(&(a.round, a.author)) {
                anchors.insert((a.round, a.author));
                ms.push(a.committed_at.as_nanos().saturating_sub(at.as_nanos()) as f64 / 1e6);
                rounds.push((a.dag_round.saturating_sub(a.round) + 1) as f64);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    AnchorLatency {
        anchors: anchors.len(),
        samples: ms.len(),
        mean_ms: mean(&ms),
        mean_rounds: mean(&rounds),
        p50_ms: median(&mut ms),
        p50_rounds: median(&mut rounds),
    }
}

/// [`throughput`] that also measures [`AnchorLatency`] over the anchors
/// proposed in the load's measured window.
pub fn throughput_with_anchors<O: Orderer + 'static>(
    tc: &ThroughputConfig,
    cfg: NarwhalConfig,
    make: impl Fn(NodeId) -> O + 'static,
) -> (LoadReport, AnchorLatency) {
    let mut cfg = cfg;
    if let Some(up) = tc.uplink_bytes_per_s.or(tc.network.uplink) {
        pace_batches(&mut cfg, up);
    }
    let keys = CryptoMode::choose(tc.real_crypto).keys(tc.n, tc.seed);
    let mut sim = cluster(cfg, tc.sim_config(), keys, make);
    tc.apply(&mut sim);
    let report = run_load(
        &mut sim,
        &tc.load,
        |_, payload| Transaction::new(Arc::<[u8]>::from(payload)),
        txs_of,
    );
    let from = tc.load.start + tc.load.warmup;
    let anchors = anchor_latency(&sim, from, from + tc.load.duration);
    (report, anchors)
}

/// The liveness phase in transactions: runs until every honest running node
/// delivered at least `count` transactions, or `deadline` passes (then a
/// liveness violation names the laggards and their transaction counts).
pub fn run_until_txs<O: Orderer + 'static>(
    sim: &mut Simulation<Narwhal<O>>,
    count: usize,
    deadline: Time,
) -> Result<(), Violation> {
    let lagging = |s: &Simulation<Narwhal<O>>| -> Vec<(NodeId, usize)> {
        s.honest()
            .into_iter()
            .filter(|id| s.is_up(*id))
            .map(|id| (id, delivered_txs(s, id)))
            .filter(|(_, c)| *c < count)
            .collect()
    };
    if sim.run_until_cond(deadline, |s| lagging(s).is_empty()) {
        return Ok(());
    }
    let lagging = lagging(sim);
    Err(sim.violation(dwcp_sim::ViolationKind::Liveness {
        target: count,
        deadline,
        lagging,
    }))
}

/// The state-sync check, from the delivered logs alone (independent of the
/// protocol code): the honest nodes that never jumped hold prefix-consistent
/// logs (the longest is the reference); every honest node's log, cut at its
/// jump markers ([`Committed::sync`]), is a prefix of the reference before
/// the first marker, and after each marker exactly the reference's values
/// from the marker's index on (contiguous, in order), the marker lying
/// within the reference (call it once the others moved past the jump).
/// Returns how many
/// values were checked after a marker.
pub fn check_synced<O: Orderer + 'static>(sim: &Simulation<Narwhal<O>>) -> Result<usize, String> {
    let logs: Vec<(NodeId, &[Committed])> = sim
        .honest()
        .into_iter()
        .map(|id| (id, sim.delivered(id)))
        .collect();
    let plain: Vec<&(NodeId, &[Committed])> = logs
        .iter()
        .filter(|(_, l)| l.iter().all(|v| v.sync.is_none()))
        .collect();
    let reference = plain
        .iter()
        .max_by_key(|(_, l)| l.len())
        .map(|(_, l)| *l)
        .ok_or("no honest node without a jump")?;
    for (id, l) in &plain {
        if reference.get(..l.len()) != Some(*l) {
            return Err(format!("{id:?} is not a prefix of the reference"));
        }
    }
    let mut checked = 0;
    for (id, log) in &logs {
        let mut segments = log.split(|v| v.sync.is_some());
        let first = segments.next().unwrap_or(&[]);
        if reference.get(..first.len()) != Some(first) {
            return Err(format!("{id:?}: the log before the jump is not a prefix"));
        }
        let markers: Vec<&Committed> = log.iter().filter(|v| v.sync.is_some()).collect();
        let mut last_index = first.last().map(|v| v.index);
        for (marker, segment) in markers.iter().zip(segments) {
            if last_index.is_some_and(|i| marker.index <= i) {
                return Err(format!("{id:?}: jumped backwards to {}", marker.index));
            }
            if reference.last().is_none_or(|v| v.index < marker.index) {
                return Err(format!(
                    "{id:?}: jumped to index {}, beyond the reference",
                    marker.index
                ));
            }
            let from = reference.partition_point(|v| v.index < marker.index);
            let expected = reference.get(from..).unwrap_or(&[]);
            let n = segment.len().min(expected.len());
            if segment.get(..n) != expected.get(..n) {
                return Err(format!(
                    "{id:?}: after the jump to index {} the log differs from the reference",
                    marker.index
                ));
            }
            checked += n;
            last_index = segment.last().map(|v| v.index).or(Some(marker.index));
        }
    }
    Ok(checked)
}
