//! The throughput probe the lab's `sim-throughput` experiment calls.

use crate::config::SimConfig;
use crate::network::NetworkConfig;
use crate::sim::Simulation;
use crate::toy::{Toy, ToyConfig};
use dwcp_core::Time;
use std::time::Instant;

/// What one probe run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ThroughputReport {
    /// Committee size.
    pub n: usize,
    /// Toy rounds run.
    pub rounds: u64,
    /// Messages handed to engines.
    pub events: u64,
    /// Wall-clock seconds spent in the event loop.
    pub wall_secs: f64,
    /// `events / wall_secs`.
    pub events_per_sec: f64,
    /// Simulated seconds the run covered.
    pub sim_secs: f64,
    /// The run's trace hash (equal for equal seeds).
    pub trace_hash: u64,
}

/// The network the probe uses: [`NetworkConfig::wan`] (1 ms + Exp(50 ms),
/// 1% loss, 1% duplicates), infinite bandwidth.
pub fn probe_network() -> NetworkConfig {
    NetworkConfig::wan()
}

/// Builds the probe's simulation: `n` [`Toy`] nodes for `rounds` rounds over
/// [`probe_network`].
pub fn probe_simulation(n: usize, rounds: u64, seed: u64) -> Simulation<Toy> {
    let cfg = SimConfig::new(n, seed).with_network(probe_network());
    let toy = ToyConfig::new(n, rounds);
    Simulation::new(cfg, move |id| Toy::new(toy.clone(), id))
}

/// Runs the toy protocol (every node broadcasts a vote per round and advances
/// on `2f + 1` votes) with `n` nodes for `rounds` rounds until the system is
/// quiet, and reports delivered events per wall-clock second. This reads the
/// wall clock, so it is a measurement helper, never part of a simulated
/// state transition.
pub fn throughput_probe(n: usize, rounds: u64, seed: u64) -> ThroughputReport {
    let mut sim = probe_simulation(n, rounds, seed);
    let start = Instant::now();
    sim.run_until_quiet(Time::MAX);
    let wall_secs = start.elapsed().as_secs_f64();
    let events = sim.stats().delivered_events;
    ThroughputReport {
        n,
        rounds,
        events,
        wall_secs,
        events_per_sec: if wall_secs > 0.0 {
            events as f64 / wall_secs
        } else {
            0.0
        },
        sim_secs: sim.now().as_secs_f64(),
        trace_hash: sim.trace_hash(),
    }
}
