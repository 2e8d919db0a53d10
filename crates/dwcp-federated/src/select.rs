//! Client selection: which clients take part in a round, and the relay tree
//! they upload through.

use crate::rand_util::shuffle;
use dwcp_core::NodeId;
use dwcp_core::rng::Rng;
use std::fmt::Debug;

/// The participants of one round and their relay edges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundPlan {
    /// Selected clients, sorted.
    pub participants: Vec<NodeId>,
    /// `(child, parent)` for participants that upload through a relay (the
    /// parent is itself a participant that uploads directly).
    pub relays: Vec<(NodeId, NodeId)>,
}

impl RoundPlan {
    /// Everyone uploads directly.
    pub fn direct(mut participants: Vec<NodeId>) -> Self {
        participants.sort_unstable();
        participants.dedup();
        RoundPlan {
            participants,
            relays: vec![],
        }
    }

    /// Participants that upload to the server themselves.
    pub fn direct_uploaders(&self) -> Vec<NodeId> {
        self.participants
            .iter()
            .copied()
            .filter(|p| !self.relays.iter().any(|(c, _)| c == p))
            .collect()
    }

    /// Number of clients in `node`'s subtree, itself included.
    pub fn subtree_size(&self, node: NodeId) -> usize {
        1 + self
            .relays
            .iter()
            .filter(|(_, p)| *p == node)
            .map(|(c, _)| self.subtree_size_bounded(*c, 8))
            .sum::<usize>()
    }

    fn subtree_size_bounded(&self, node: NodeId, depth: u32) -> usize {
        if depth == 0 {
            return 1;
        }
        1 + self
            .relays
            .iter()
            .filter(|(_, p)| *p == node)
            .map(|(c, _)| self.subtree_size_bounded(*c, depth - 1))
            .sum::<usize>()
    }
}

/// A client-selection policy, called once per round by the server.
pub trait Selector: Debug + Send {
    /// The plan for `round` over the population `clients` (sorted ids).
    fn plan(&mut self, round: u64, clients: &[NodeId], rng: &mut Rng) -> RoundPlan;
}

/// Every client, every round, direct uplink.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllClients;

impl Selector for AllClients {
    fn plan(&mut self, _round: u64, clients: &[NodeId], _rng: &mut Rng) -> RoundPlan {
        RoundPlan::direct(clients.to_vec())
    }
}

/// Every client, every round, through a fixed relay tree: each listed
/// `(child, relay)` pair sends its update through the relay, the others
/// upload directly. For tests and deployments with a static topology.
#[derive(Clone, Debug, Default)]
pub struct FixedRelays {
    relays: Vec<(NodeId, NodeId)>,
}

impl FixedRelays {
    /// The tree given as `(child, relay)` id pairs.
    pub fn new(pairs: &[(u32, u32)]) -> FixedRelays {
        FixedRelays {
            relays: pairs.iter().map(|&(c, p)| (NodeId(c), NodeId(p))).collect(),
        }
    }
}

impl Selector for FixedRelays {
    fn plan(&mut self, _round: u64, clients: &[NodeId], _rng: &mut Rng) -> RoundPlan {
        RoundPlan {
            participants: clients.to_vec(),
            relays: self.relays.clone(),
        }
    }
}

/// `per_round` clients drawn uniformly without replacement, direct uplink
/// (the FedAvg baseline).
#[derive(Clone, Copy, Debug)]
pub struct Uniform {
    /// Clients per round.
    pub per_round: usize,
}

impl Selector for Uniform {
    fn plan(&mut self, _round: u64, clients: &[NodeId], rng: &mut Rng) -> RoundPlan {
        let mut c = clients.to_vec();
        shuffle(&mut c, rng);
        c.truncate(self.per_round.max(1));
        RoundPlan::direct(c)
    }
}

/// Each client independently with probability `rate`, direct uplink: the
/// Poisson sampling the DP accountant assumes (set
/// [`crate::config::DpParams::sampling_rate`] to the same rate). A round may
/// have no participants; the server then skips it.
#[derive(Clone, Copy, Debug)]
pub struct Poisson {
    /// Probability that a client takes part in a round.
    pub rate: f64,
}

impl Selector for Poisson {
    fn plan(&mut self, _round: u64, clients: &[NodeId], rng: &mut Rng) -> RoundPlan {
        use dwcp_core::rng::RngCore;
        let picked = clients
            .iter()
            .copied()
            .filter(|_| (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < self.rate)
            .collect();
        RoundPlan::direct(picked)
    }
}
