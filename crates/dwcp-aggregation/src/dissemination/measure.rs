//! Delivery ratio and hop counts of the dissemination modes in the
//! simulator, under loss and crashed inner nodes.

use super::{Delivered, Gossip, GossipConfig, TreeBroadcast, TreeConfig};
use dwcp_core::{Duration, Engine, NodeId, Time, rng};
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig, Simulation};

/// A dissemination mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// [`super::TreeBroadcast`].
    Tree {
        /// Children per node.
        fanout: usize,
        /// Acknowledgements, retries and re-routing.
        acks: bool,
    },
    /// [`super::Gossip`].
    Gossip {
        /// Peers per relay.
        fanout: usize,
    },
}

impl Mode {
    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            Mode::Tree { fanout, acks: true } => format!("tree(k={fanout}, acks)"),
            Mode::Tree {
                fanout,
                acks: false,
            } => format!("tree(k={fanout})"),
            Mode::Gossip { fanout } => format!("gossip(fanout={fanout})"),
        }
    }
}

/// What [`measure`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Committee size.
    pub n: usize,
    /// The mode's name.
    pub mode: String,
    /// Per-copy loss probability.
    pub loss: f64,
    /// Crashed nodes (the root's first children: inner nodes of its tree).
    pub crashed: usize,
    /// Broadcasts by node 0.
    pub broadcasts: u64,
    /// Deliveries at live non-root nodes over `broadcasts ×` their number.
    pub delivery_ratio: f64,
    /// Mean transmissions per delivery (non-root nodes).
    pub mean_hops: f64,
    /// Most transmissions on any delivery path.
    pub max_hops: u32,
    /// Copies on the wire per broadcast (acks included).
    pub messages_per_broadcast: f64,
    /// Copies the root sent per broadcast.
    pub root_copies: f64,
}

/// Runs `broadcasts` broadcasts from node 0, 200 ms apart, over a 10 ms ±
/// 5 ms network losing each copy with probability `loss`, with `crashed`
/// of node 0's tree children down from the start.
pub fn measure(
    n: usize,
    mode: Mode,
    loss: f64,
    crashed: usize,
    broadcasts: u64,
    seed: u64,
) -> Report {
    let net = NetworkConfig {
        loss,
        jitter: Duration::from_millis(5),
        ..NetworkConfig::fixed(Duration::from_millis(10))
    };
    let sim = SimConfig::new(n, seed).with_network(net);
    let (ratio, mean, max, msgs, root) = match mode {
        Mode::Tree { fanout, acks } => {
            let cfg = TreeConfig {
                acks,
                ..TreeConfig::new(n, fanout)
            };
            run(
                Simulation::new(sim, move |id| TreeBroadcast::new(cfg.clone(), id)),
                crashed,
                broadcasts,
            )
        }
        Mode::Gossip { fanout } => {
            let cfg = GossipConfig::new(n, fanout);
            run(
                Simulation::new(sim, move |id: NodeId| {
                    Gossip::new(cfg.clone(), id, rng::derive(seed, id.0 as u64))
                }),
                crashed,
                broadcasts,
            )
        }
    };
    Report {
        n,
        mode: mode.name(),
        loss,
        crashed,
        broadcasts,
        delivery_ratio: ratio,
        mean_hops: mean,
        max_hops: max,
        messages_per_broadcast: msgs,
        root_copies: root,
    }
}

fn run<E: Engine<Request = Vec<u8>, Value = Delivered> + 'static>(
    mut sim: Simulation<E>,
    crashed: usize,
    broadcasts: u64,
) -> (f64, f64, u32, f64, f64) {
    let n = sim.config().n;
    let down: Vec<NodeId> = (1..=crashed.min(n.saturating_sub(1)))
        .map(|i| NodeId(i as u32))
        .collect();
    for d in &down {
        sim.schedule(Time::ZERO, FaultEvent::Crash(*d));
    }
    let gap = Duration::from_millis(200);
    for i in 0..broadcasts {
        sim.submit(Time::ZERO + gap * (i as u32 + 1), NodeId(0), vec![0u8; 256]);
    }
    sim.run_until_quiet(Time::ZERO + gap * (broadcasts as u32 + 10));
    let live: Vec<NodeId> = NodeId::all(n)
        .skip(1)
        .filter(|id| !down.contains(id))
        .collect();
    let (mut got, mut hops, mut max) = (0u64, 0u64, 0u32);
    for id in &live {
        for d in sim.delivered(*id).iter().filter(|d| d.root == NodeId(0)) {
            got += 1;
            hops += d.hops as u64;
            max = max.max(d.hops);
        }
    }
    let ratio = got as f64 / (broadcasts as f64 * live.len().max(1) as f64);
    let mean = hops as f64 / got.max(1) as f64;
    let b = broadcasts.max(1) as f64;
    let msgs = sim.stats().messages_sent() as f64 / b;
    let root = sim.stats().nodes.first().map_or(0, |s| s.sent) as f64 / b;
    (ratio, mean, max, msgs, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliable_tree_delivers_everything_despite_loss_and_crashed_inner_nodes() {
        let r = measure(
            100,
            Mode::Tree {
                fanout: 4,
                acks: true,
            },
            0.1,
            4,
            10,
            1,
        );
        assert_eq!(r.delivery_ratio, 1.0, "{r:?}");
        let dead = measure(
            100,
            Mode::Tree {
                fanout: 4,
                acks: true,
            },
            0.0,
            4,
            10,
            1,
        );
        assert_eq!(dead.delivery_ratio, 1.0, "{dead:?}");
        // Six sends to each dead child, one to each of their 16 children.
        assert_eq!(dead.root_copies, (4 * 6 + 16) as f64, "{dead:?}");
        let clean = measure(
            100,
            Mode::Tree {
                fanout: 4,
                acks: true,
            },
            0.0,
            0,
            10,
            1,
        );
        assert_eq!(clean.delivery_ratio, 1.0);
        assert_eq!(clean.max_hops, TreeOverlay::new(100, 4).depth());
        assert_eq!(
            clean.messages_per_broadcast,
            2.0 * 99.0,
            "data + ack per node"
        );
        assert_eq!(clean.root_copies, 4.0);
    }

    #[test]
    fn plain_tree_loses_subtrees() {
        let r = measure(
            100,
            Mode::Tree {
                fanout: 4,
                acks: false,
            },
            0.1,
            0,
            20,
            2,
        );
        assert!(r.delivery_ratio < 0.9 && r.delivery_ratio > 0.5, "{r:?}");
        let dead = measure(
            100,
            Mode::Tree {
                fanout: 4,
                acks: false,
            },
            0.0,
            1,
            5,
            2,
        );
        assert!(
            dead.delivery_ratio < 0.8,
            "a dead inner node cuts its subtree: {dead:?}"
        );
    }

    #[test]
    fn gossip_reaches_almost_everyone_with_bounded_fanout() {
        let r = measure(200, Mode::Gossip { fanout: 6 }, 0.1, 2, 10, 3);
        assert!(r.delivery_ratio > 0.97, "{r:?}");
        assert!(r.messages_per_broadcast <= 6.0 * 200.0, "{r:?}");
        assert!(r.root_copies <= 6.0);
        let thin = measure(200, Mode::Gossip { fanout: 1 }, 0.1, 0, 10, 3);
        assert!(thin.delivery_ratio < r.delivery_ratio, "{thin:?}");
    }

    use super::super::TreeOverlay;
}
