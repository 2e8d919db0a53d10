//! Saturating open-loop transaction load and its measurement: committed
//! transactions per second and commit latency (p50, p99), the same way for
//! every protocol compared in one experiment.
//!
//! ## How to use it
//!
//! 1. Describe the load with a [`LoadSpec`] (transaction size, offered rate
//!    in total, start, warm-up, measured window, drain, client nodes), or a
//!    whole run with a [`ThroughputConfig`] (cluster size, crashed nodes,
//!    seed, network, uplink cap, load).
//! 2. Build the simulation (for a [`ThroughputConfig`]: from
//!    [`ThroughputConfig::sim_config`], then [`ThroughputConfig::apply`] to
//!    set uplinks and crash the last `crashed` nodes at time zero).
//! 3. Call [`run_load`] with a function that turns `(tx id, payload)` into
//!    the engine's request and one that lists the transaction ids inside a
//!    delivered value. It submits, runs to the end of the drain and measures.
//!
//! ## What is measured
//!
//! Transaction `id` is submitted at `start + id·interval` to client
//! `clients[id mod len]` (round robin); its payload is `tx_size` bytes, the
//! id little-endian in the first 8, the rest seeded filler. Its **commit
//! time** is when the client node it was submitted to delivered it (the
//! client-observed commit), or, if that node is not an honest running node at
//! the end, the earliest delivery at any honest node. **Throughput** counts
//! distinct transactions whose commit time falls in the measured window
//! (`start + warmup`, `+ duration`), divided by the window. **Latency** is
//! commit time minus submission time over the transactions *submitted* in
//! the window that committed by the end of the drain; those that did not are
//! counted in [`LoadReport::uncommitted`], so a saturated protocol's growing
//! backlog is visible rather than hidden.

use crate::config::{FaultEvent, SimConfig};
use crate::invariants::{Violation, ViolationKind};
use crate::network::NetworkConfig;
use crate::sim::Simulation;
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Duration, Engine, NodeId, Time};
use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Range;

/// An open-loop load: `rate` transactions per second in total, from
/// `start` for `warmup + duration`.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Bytes per transaction (at least 8: the id is in the first 8).
    pub tx_size: usize,
    /// Offered transactions per second, in total over all clients.
    pub rate: f64,
    /// When the first transaction is submitted.
    pub start: Time,
    /// Excluded from throughput and latency.
    pub warmup: Duration,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    /// Extra time, without new submissions, for in-flight transactions.
    pub drain: Duration,
    /// Nodes that receive transactions, round robin; empty means every
    /// honest node that is up when the load is installed.
    pub clients: Vec<NodeId>,
}

impl LoadSpec {
    /// Nanoseconds between two submissions.
    pub fn interval_ns(&self) -> u64 {
        if self.rate.is_finite() && self.rate > 0.0 {
            ((1e9 / self.rate).round() as u64).max(1)
        } else {
            u64::MAX
        }
    }

    /// How many transactions are submitted in all.
    pub fn count(&self) -> u64 {
        let span = (self.warmup + self.duration).as_nanos();
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        match self.interval_ns() {
            u64::MAX => 0,
            i => span / i,
        }
    }

    /// The time the run ends: start, warm-up, window and drain.
    pub fn end(&self) -> Time {
        self.start + self.warmup + self.duration + self.drain
    }
}

/// A whole throughput run: the cluster, its faults, its network and its load.
#[derive(Clone, Debug)]
pub struct ThroughputConfig {
    /// Cluster size.
    pub n: usize,
    /// The last `crashed` node ids are down from time zero.
    pub crashed: usize,
    /// Master seed.
    pub seed: u64,
    /// The network model.
    pub network: NetworkConfig,
    /// Every node's uplink (bytes/s); `None` leaves the network's setting.
    pub uplink_bytes_per_s: Option<u64>,
    /// The load.
    pub load: LoadSpec,
    /// Real signatures (false: the protocol's insecure mock, if it has one).
    pub real_crypto: bool,
}

impl ThroughputConfig {
    /// The setting of the lab's `dag-throughput` comparison: the five-region
    /// latency matrix ([`RegionMatrix::five_regions`], node `i` in region
    /// `i mod 5`), 5 MB/s (40 Mbit/s) uplinks, 512-byte transactions offered
    /// at 12,000 tx/s in total round robin to the running nodes, 2 s warm-up,
    /// 3 s measured window, 10 s drain, real signatures. Adjust the public
    /// fields for other settings.
    ///
    /// [`RegionMatrix::five_regions`]: crate::RegionMatrix::five_regions
    pub fn five_region_wan(n: usize, crashed: usize, seed: u64) -> ThroughputConfig {
        const UPLINK: u64 = 5_000_000;
        ThroughputConfig {
            n,
            crashed,
            seed,
            network: NetworkConfig {
                latency: crate::LatencyModel::Regions(crate::RegionMatrix::five_regions()),
                jitter: Duration::ZERO,
                loss: 0.0,
                duplicate: 0.0,
                uplink: Some(UPLINK),
                gst: None,
            },
            uplink_bytes_per_s: Some(UPLINK),
            load: LoadSpec {
                tx_size: 512,
                rate: 12_000.0,
                start: Time::ZERO,
                warmup: Duration::from_secs(2),
                duration: Duration::from_secs(3),
                drain: Duration::from_secs(10),
                clients: vec![],
            },
            real_crypto: true,
        }
    }

    /// The simulator configuration: `n`, `seed` and the network.
    pub fn sim_config(&self) -> SimConfig {
        SimConfig::new(self.n, self.seed).with_network(self.network.clone())
    }

    /// The nodes that are down from time zero.
    pub fn crashed_nodes(&self) -> Vec<NodeId> {
        let first = self.n.saturating_sub(self.crashed);
        (first..self.n).map(|i| NodeId(i as u32)).collect()
    }

    /// Sets every node's uplink and crashes the last `crashed` nodes at
    /// time zero.
    pub fn apply<E: Engine + 'static>(&self, sim: &mut Simulation<E>) {
        if let Some(bw) = self.uplink_bytes_per_s {
            for id in NodeId::all(self.n) {
                sim.set_uplink(id, Some(bw));
            }
        }
        for id in self.crashed_nodes() {
            sim.schedule(Time::ZERO, FaultEvent::Crash(id));
        }
    }
}

/// What [`run_load`] measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// Transactions submitted.
    pub offered: u64,
    /// Offered rate (tx/s).
    pub offered_tx_per_s: f64,
    /// Distinct transactions committed by the end of the drain.
    pub committed: u64,
    /// Committed transactions per second in the measured window.
    pub tx_per_s: f64,
    /// Transactions submitted in the window that never committed.
    pub uncommitted: u64,
    /// Median commit latency (ms) of transactions submitted in the window.
    pub latency_p50_ms: f64,
    /// 99th-percentile commit latency (ms).
    pub latency_p99_ms: f64,
    /// Mean commit latency (ms).
    pub latency_mean_ms: f64,
    /// Copies sent over the whole run.
    pub messages: u64,
    /// Bytes sent over the whole run.
    pub bytes: u64,
    /// The network model in words.
    pub network: String,
}

/// A payload of `size` bytes (at least 8): `id` little-endian, then filler.
pub fn payload(id: u64, size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut p = vec![0u8; size.max(8)];
    rng.fill_bytes(&mut p[8..]);
    p[..8].copy_from_slice(&id.to_le_bytes());
    p
}

/// Reads the transaction id back from a payload.
pub fn payload_id(payload: &[u8]) -> Option<u64> {
    let head: [u8; 8] = payload.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(head))
}

/// Installs the load, runs the simulation to [`LoadSpec::end`] and measures.
/// See the module docs for the definitions.
pub fn run_load<E: Engine + 'static>(
    sim: &mut Simulation<E>,
    spec: &LoadSpec,
    mut make: impl FnMut(u64, Vec<u8>) -> E::Request + 'static,
    txs_of: impl Fn(&E::Value) -> Vec<u64>,
) -> LoadReport {
    let n = sim.config().n;
    let clients: Vec<NodeId> = if spec.clients.is_empty() {
        // Apply what is scheduled for this instant (crashes at time zero).
        sim.run_until(sim.now());
        NodeId::all(n)
            .filter(|id| sim.is_honest(*id) && sim.is_up(*id))
            .collect()
    } else {
        spec.clients.clone()
    };
    let count = if clients.is_empty() { 0 } else { spec.count() };
    let interval = spec.interval_ns();
    let size = spec.tx_size;
    let cl = clients.clone();
    sim.load(
        spec.start,
        Duration::from_nanos(interval.min(u64::MAX / 2)),
        count,
        move |tick, rng| {
            let node = cl[(tick % cl.len() as u64) as usize];
            (node, make(tick, payload(tick, size, rng)))
        },
    );
    sim.run_until(spec.end());
    measure(sim, spec, &clients, count, &txs_of)
}

fn measure<E: Engine + 'static>(
    sim: &Simulation<E>,
    spec: &LoadSpec,
    clients: &[NodeId],
    count: u64,
    txs_of: &impl Fn(&E::Value) -> Vec<u64>,
) -> LoadReport {
    let len = usize::try_from(count).unwrap_or(usize::MAX);
    let mut at_client = vec![u64::MAX; len];
    let mut earliest = vec![u64::MAX; len];
    for node in sim.honest() {
        for (v, &t) in sim.delivered(node).iter().zip(sim.delivered_at(node)) {
            for id in txs_of(v) {
                let Some(i) = usize::try_from(id).ok().filter(|i| *i < len) else {
                    continue;
                };
                earliest[i] = earliest[i].min(t);
                if clients.get(i % clients.len().max(1)) == Some(&node) {
                    at_client[i] = at_client[i].min(t);
                }
            }
        }
    }
    let usable = |node: NodeId| sim.is_honest(node) && sim.is_up(node);
    let interval = spec.interval_ns();
    let start = spec.start.as_nanos();
    let w0 = (spec.start + spec.warmup).as_nanos();
    let w1 = (spec.start + spec.warmup + spec.duration).as_nanos();
    let mut committed = 0;
    let mut in_window = 0u64;
    let mut uncommitted = 0;
    let mut lat = vec![];
    for i in 0..len {
        let client = clients[i % clients.len()];
        let t = if usable(client) {
            at_client[i]
        } else {
            earliest[i]
        };
        let sub = start + i as u64 * interval;
        if t != u64::MAX {
            committed += 1;
            if (w0..w1).contains(&t) {
                in_window += 1;
            }
        }
        if (w0..w1).contains(&sub) {
            if t == u64::MAX {
                uncommitted += 1;
            } else {
                lat.push(t.saturating_sub(sub));
            }
        }
    }
    lat.sort_unstable();
    let secs = spec.duration.as_secs_f64().max(1e-9);
    let ms = |ns: u64| ns as f64 / 1e6;
    let pct = |p: f64| {
        if lat.is_empty() {
            f64::NAN
        } else {
            let k = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
            ms(lat[k])
        }
    };
    LoadReport {
        offered: count,
        offered_tx_per_s: spec.rate,
        committed,
        tx_per_s: in_window as f64 / secs,
        uncommitted,
        latency_p50_ms: pct(0.5),
        latency_p99_ms: pct(0.99),
        latency_mean_ms: if lat.is_empty() {
            f64::NAN
        } else {
            lat.iter().map(|&x| ms(x)).sum::<f64>() / lat.len() as f64
        },
        messages: sim.stats().messages_sent(),
        bytes: sim.stats().bytes_sent(),
        network: sim.config().network.describe(),
    }
}

/// A delivered value that names the transactions it commits (by id): what
/// the small-workload helpers below need to know of an engine's values.
pub trait TxIds {
    /// The ids of the transactions this value commits, in order.
    fn tx_ids(&self) -> &[u64];
}

/// Submits one request per id in `ids` (built by `make`), one every `every`
/// from `start`, round robin over `to`.
pub fn submit_txs<E: Engine + 'static>(
    sim: &mut Simulation<E>,
    ids: Range<u64>,
    start: Time,
    every: Duration,
    to: &[NodeId],
    make: impl Fn(u64) -> E::Request,
) {
    let mut at = start;
    for (k, i) in ids.enumerate() {
        if let Some(node) = to.get(k % to.len().max(1)) {
            sim.submit(at, *node, make(i));
        }
        at += every;
    }
}

/// The distinct transaction ids `node` delivered.
pub fn committed_ids<E>(sim: &Simulation<E>, node: NodeId) -> BTreeSet<u64>
where
    E: Engine + 'static,
    E::Value: TxIds,
{
    sim.delivered(node)
        .iter()
        .flat_map(|v| v.tx_ids().iter().copied())
        .collect()
}

/// Runs (checking every 20 ms of simulated time) until every honest running
/// node delivered transactions `0..count`, or `deadline` passes (a liveness
/// [`Violation`] naming the laggards).
pub fn run_until_committed<E>(
    sim: &mut Simulation<E>,
    count: u64,
    deadline: Time,
) -> Result<(), Violation>
where
    E: Engine + 'static,
    E::Value: TxIds,
{
    loop {
        let lagging: Vec<(NodeId, usize)> = sim
            .honest()
            .into_iter()
            .filter(|id| sim.is_up(*id))
            .map(|id| (id, committed_ids(sim, id).range(..count).count()))
            .filter(|(_, c)| (*c as u64) < count)
            .collect();
        if lagging.is_empty() {
            return Ok(());
        }
        if sim.now() >= deadline {
            return Err(sim.violation(ViolationKind::Liveness {
                target: usize::try_from(count).unwrap_or(usize::MAX),
                deadline,
                lagging,
            }));
        }
        let next = (sim.now() + Duration::from_millis(20)).min(deadline);
        sim.run_until(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::{Output, Target, WireMessage};
    use std::collections::VecDeque;

    /// A relay: node 0 delivers every transaction it gets and forwards its id
    /// to everyone else, who deliver on receipt.
    struct Relay {
        id: NodeId,
        out: VecDeque<Output<Fwd, (), u64>>,
    }

    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    struct Fwd(u64);

    impl WireMessage for Fwd {
        fn kind(&self) -> &'static str {
            "fwd"
        }
        fn wire_size(&self) -> usize {
            8
        }
    }

    impl Engine for Relay {
        type Message = Fwd;
        type Request = u64;
        type Record = ();
        type Value = u64;
        fn id(&self) -> NodeId {
            self.id
        }
        fn handle_message(&mut self, _: Time, _: NodeId, msg: Fwd) {
            if self.id == NodeId(0) {
                self.handle_request(Time::ZERO, msg.0);
            } else {
                self.out.push_back(Output::Deliver(msg.0));
            }
        }
        fn handle_request(&mut self, _: Time, req: u64) {
            if self.id == NodeId(0) {
                self.out.push_back(Output::Deliver(req));
                let to = Target::all_but(self.id);
                self.out.push_back(Output::Send { to, msg: Fwd(req) });
            } else {
                let to = Target::One(NodeId(0));
                self.out.push_back(Output::Send { to, msg: Fwd(req) });
            }
        }
        fn handle_timeout(&mut self, _: Time) {}
        fn poll_output(&mut self) -> Option<Output<Fwd, (), u64>> {
            self.out.pop_front()
        }
        fn next_deadline(&self) -> Option<Time> {
            None
        }
        fn restore(&mut self, _: Time, _: Vec<()>) {}
    }

    fn relay_run(crashed: usize) -> LoadReport {
        let cfg = ThroughputConfig {
            n: 4,
            crashed,
            seed: 7,
            network: NetworkConfig::fixed(Duration::from_millis(10)),
            uplink_bytes_per_s: None,
            load: LoadSpec {
                tx_size: 64,
                rate: 1000.0,
                start: Time::ZERO,
                warmup: Duration::from_millis(200),
                duration: Duration::from_secs(1),
                drain: Duration::from_millis(200),
                clients: vec![],
            },
            real_crypto: false,
        };
        let mut sim = Simulation::new(cfg.sim_config(), |id| Relay {
            id,
            out: VecDeque::new(),
        });
        cfg.apply(&mut sim);
        let load = cfg.load.clone();
        run_load(
            &mut sim,
            &load,
            |id, p| {
                assert_eq!(payload_id(&p), Some(id));
                id
            },
            |v| vec![*v],
        )
    }

    #[test]
    fn relay_commits_everything_at_the_offered_rate() {
        let r = relay_run(0);
        assert_eq!(r.offered, 1200);
        assert_eq!(r.committed, 1200);
        assert_eq!(r.uncommitted, 0);
        // Commits in the window: those submitted in it, give or take the
        // 20 ms in flight at each end.
        assert!((r.tx_per_s - 1000.0).abs() <= 20.0, "{}", r.tx_per_s);
        // Three clients of four wait client -> leader -> client: 20 ms.
        assert!((r.latency_p50_ms - 20.0).abs() < 1e-6, "{r:?}");
        assert!((r.latency_p99_ms - 20.0).abs() < 1e-6, "{r:?}");
        assert!((r.latency_mean_ms - 15.0).abs() < 1e-6, "{r:?}");
    }

    impl TxIds for u64 {
        fn tx_ids(&self) -> &[u64] {
            std::slice::from_ref(self)
        }
    }

    #[test]
    fn small_workloads_commit_or_name_the_laggards() {
        let cfg =
            SimConfig::new(4, 3).with_network(NetworkConfig::fixed(Duration::from_millis(10)));
        let mut sim = Simulation::new(cfg, |id| Relay {
            id,
            out: VecDeque::new(),
        });
        let to = [NodeId(1), NodeId(2)];
        submit_txs(
            &mut sim,
            0..10,
            Time::ZERO,
            Duration::from_millis(1),
            &to,
            |i| i,
        );
        run_until_committed(&mut sim, 10, Time::from_secs(1)).unwrap();
        assert_eq!(committed_ids(&sim, NodeId(3)), (0..10).collect());
        // Ids nobody submitted never commit: a liveness violation.
        let err = run_until_committed(&mut sim, 11, Time::from_secs(2)).unwrap_err();
        assert!(err.to_string().contains("SEED=3"), "{err}");
    }

    #[test]
    fn crashed_nodes_are_not_clients() {
        let r = relay_run(1);
        // Node 3 is down: three clients remain, all transactions commit.
        assert_eq!(r.committed, 1200);
        // Two of three clients wait 20 ms, the leader 0 ms: of ids 200..1200,
        // 333 go to the leader.
        assert!(
            (r.latency_mean_ms - 667.0 * 20.0 / 1000.0).abs() < 1e-6,
            "{r:?}"
        );
    }

    #[test]
    fn payload_round_trips_its_id() {
        let mut rng = dwcp_core::rng::seeded(1);
        let p = payload(0xDEAD_BEEF, 512, &mut rng);
        assert_eq!(p.len(), 512);
        assert_eq!(payload_id(&p), Some(0xDEAD_BEEF));
        assert_eq!(payload_id(&p[..4]), None);
    }

    #[test]
    fn spec_counts_submissions() {
        let spec = LoadSpec {
            tx_size: 16,
            rate: 1000.0,
            start: Time::ZERO,
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(2),
            drain: Duration::from_secs(1),
            clients: vec![],
        };
        assert_eq!(spec.interval_ns(), 1_000_000);
        assert_eq!(spec.count(), 2500);
        assert_eq!(spec.end(), Time::ZERO + Duration::from_millis(3500));
    }
}
