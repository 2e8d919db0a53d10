//! The experiment registry.

use crate::report::ExperimentResult;

mod aggregation;
mod dag;
mod fl;
mod maddpg;
mod pbft_messages;
mod privacy;
mod probft;
mod sim_throughput;
mod tpbft;

/// What every experiment receives.
pub struct Ctx {
    /// Quick mode: smaller sizes, fewer seeds; the whole quick report stays under 2 minutes.
    pub quick: bool,
    /// Master seed.
    pub seed: u64,
    /// A user data set (CSV, label in the last column, plain or gzip) for
    /// the `fl-*` experiments instead of the vendored digits set.
    pub data: Option<std::path::PathBuf>,
}

/// A registered experiment.
pub struct Experiment {
    /// Name used on the command line.
    pub name: &'static str,
    /// One line for `list`.
    pub about: &'static str,
    /// Runs it.
    pub run: fn(&Ctx) -> ExperimentResult,
}

/// Every experiment, in report order.
pub const ALL: &[Experiment] = &[
    Experiment {
        name: "sim-throughput",
        about: "simulator delivered events/s with a trivial all-to-all protocol at n=100 and n=1000",
        run: sim_throughput::run,
    },
    Experiment {
        name: "pbft-messages",
        about: "PBFT messages and bytes per decision for n in 4..256",
        run: pbft_messages::run,
    },
    Experiment {
        name: "probft-messages",
        about: "ProBFT vs PBFT messages and bytes per decision, n in 16..1024 (quick: ..256)",
        run: probft::run_messages,
    },
    Experiment {
        name: "probft-safety",
        about: "seeded single-decision instances with an equivocating leader and f colluders aiming votes",
        run: probft::run_safety,
    },
    Experiment {
        name: "tpbft-throughput",
        about: "T-PBFT vs PBFT: decisions/s, view changes, messages, latency; no faults, silent primaries, equivocators",
        run: tpbft::run_throughput,
    },
    Experiment {
        name: "reputation-detection",
        about: "epochs until each Byzantine behaviour loses group membership; honest false positives under loss",
        run: tpbft::run_detection,
    },
    Experiment {
        name: "dag-throughput",
        about: "Bullshark, Tusk, HotStuff, Multi-Paxos: committed tx/s and commit latency in a 5-region WAN with capped uplinks",
        run: dag::run,
    },
    Experiment {
        name: "aggregation-messages",
        about: "all-to-all PBFT vs the collector-based linear mode: messages, bytes, latency per decision",
        run: aggregation::run,
    },
    Experiment {
        name: "aggregation-dissemination",
        about: "tree (with and without acks) and gossip broadcast: delivery ratio and hops under loss and crashes",
        run: aggregation::run_dissemination,
    },
    Experiment {
        name: "fl-digits",
        about: "federated digits: dense FedAvg vs top-0.5% 4-bit EF both ways; accuracy, exact bytes, bytes to 96%",
        run: fl::run_digits,
    },
    Experiment {
        name: "fl-robust",
        about: "2 of 10 Byzantine clients (sign flip, scaling, Gaussian, ALIE): accuracy of FedAvg, Krum, Multi-Krum, median, trimmed mean, FLTrust",
        run: fl::run_robust,
    },
    Experiment {
        name: "fl-tcs",
        about: "TCS-FEEL-style topology-aware selection with D2D relays vs uniform sampling: rounds to 96%, simulated round time",
        run: fl::run_tcs,
    },
    Experiment {
        name: "fl-snap",
        about: "SNAP-style decentralised training (Metropolis mixing; post-hoc fastest-mixing row; significant-change sends) vs TernGrad parameter server: bytes to 95%",
        run: fl::run_snap,
    },
    Experiment {
        name: "maddpg-spread",
        about: "MADDPG learning curve on the simple_spread port against random play",
        run: maddpg::run_spread,
    },
    Experiment {
        name: "maddpg-nodealloc",
        about: "NodeAlloc efficiency, drops, fairness at rho 0.6/0.9/1.1: MADDPG, IDDPG, tuned heuristics",
        run: maddpg::run_nodealloc,
    },
    Experiment {
        name: "maddpg-speed",
        about: "time per MADDPG update round (4 agents, batch 1024, 64 units) vs PyTorch CPU",
        run: maddpg::run_speed,
    },
    Experiment {
        name: "fl-secagg",
        about: "secure aggregation: exact sum with 30% dropouts for n in 10..100, bytes per client vs plaintext, client/server time at d=1e5",
        run: privacy::run_secagg,
    },
    Experiment {
        name: "fl-dp",
        about: "differential privacy: RDP accountant vs dp-accounting, epsilon vs sigma at delta=1e-5, noise vs utility of the clipped mean",
        run: privacy::run_dp,
    },
];

/// Looks an experiment up by name.
pub fn find(name: &str) -> Option<&'static Experiment> {
    ALL.iter().find(|e| e.name == name)
}
