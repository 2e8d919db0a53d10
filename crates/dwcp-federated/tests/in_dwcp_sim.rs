//! The server and client engines in the workspace's discrete-event
//! simulator (`dwcp-sim`): a lossy network that reorders and duplicates
//! messages, a client that crashes (dropout), one paused past the round
//! deadline (straggler, whose late update is stale), and two Byzantine
//! clients sending NaN and oversized updates; and a relay tree over a
//! duplicating network with a crashed child. Every bad input is rejected
//! with evidence naming its sender, rounds keep closing, and the model
//! still learns.

use dwcp_core::{Duration, Engine, Fault, NodeId, Output, Time};
use dwcp_federated::config::FlConfig;
use dwcp_federated::data::{Dataset, digits, dirichlet_partition, stratified_split};
use dwcp_federated::message::{FlMessage, Update};
use dwcp_federated::model::accuracy_of;
use dwcp_federated::select::{FixedRelays, Selector};
use dwcp_federated::server::{Checkpoint, RoundOutcome, Server, ServerRequest};
use dwcp_federated::{client::Client, wire::encode_dense_raw};
use dwcp_sim::adversary::{Adversary, AdversaryCtx};
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig, Simulation};

/// One node of the federation: the server (node 0) or a client.
enum Node {
    Server(Box<Server>),
    Client(Box<Client>),
}

impl Engine for Node {
    type Message = FlMessage;
    type Request = ServerRequest;
    type Record = Checkpoint;
    type Value = RoundOutcome;

    fn id(&self) -> NodeId {
        match self {
            Node::Server(s) => s.id(),
            Node::Client(c) => c.id(),
        }
    }
    fn handle_message(&mut self, now: Time, from: NodeId, msg: FlMessage) {
        match self {
            Node::Server(s) => s.handle_message(now, from, msg),
            Node::Client(c) => c.handle_message(now, from, msg),
        }
    }
    fn handle_request(&mut self, now: Time, req: ServerRequest) {
        if let Node::Server(s) = self {
            s.handle_request(now, req);
        }
    }
    fn handle_timeout(&mut self, now: Time) {
        match self {
            Node::Server(s) => s.handle_timeout(now),
            Node::Client(c) => c.handle_timeout(now),
        }
    }
    fn poll_output(&mut self) -> Option<Output<FlMessage, Checkpoint, RoundOutcome>> {
        match self {
            Node::Server(s) => s.poll_output(),
            // A client's own persists (none) and deliveries (round numbers)
            // stay local; sends and evidence go to the host.
            Node::Client(c) => loop {
                match c.poll_output()? {
                    Output::Send { to, msg } => return Some(Output::Send { to, msg }),
                    Output::Evidence(e) => return Some(Output::Evidence(e)),
                    Output::Persist(()) | Output::Deliver(_) => {}
                }
            },
        }
    }
    fn next_deadline(&self) -> Option<Time> {
        match self {
            Node::Server(s) => s.next_deadline(),
            Node::Client(c) => c.next_deadline(),
        }
    }
    fn restore(&mut self, now: Time, records: Vec<Checkpoint>) {
        if let Node::Server(s) = self {
            s.restore(now, records);
        }
    }
}

/// Replaces every update the node sends by a NaN-filled or an oversized one.
struct BadUpdates {
    nan: bool,
    dim: usize,
    limit: usize,
}

impl Adversary<Node> for BadUpdates {
    fn name(&self) -> &'static str {
        "bad-updates"
    }
    fn on_output(
        &mut self,
        ctx: &mut AdversaryCtx<'_, Node>,
        output: Output<FlMessage, Checkpoint, RoundOutcome>,
    ) {
        match output {
            Output::Send {
                to,
                msg: FlMessage::Update(u),
            } => {
                let payload = if self.nan {
                    encode_dense_raw(&vec![f32::NAN; self.dim])
                } else {
                    vec![7u8; self.limit + 1]
                };
                ctx.send(to, FlMessage::Update(Update { payload, ..u }));
            }
            other => ctx.emit(other),
        }
    }
}

/// Ten clients on digits (seed 4, MLP 64-32-10, 25 rounds, 500 ms round
/// deadline) in a simulation over `network`; `selector` plans the rounds.
fn federation(
    network: NetworkConfig,
    relays: Option<fn() -> Box<dyn Selector>>,
) -> (Simulation<Node>, FlConfig, Dataset) {
    let n = 10;
    let d = digits();
    let (train, test_idx) = stratified_split(&d, 0.2, 4);
    let parts = dirichlet_partition(&d, &train, n, 0.5, 20, 4);
    let shards: Vec<Dataset> = parts.iter().map(|p| d.subset(p)).collect();
    let mut cfg = FlConfig::new(n as u32);
    cfg.model.sizes = vec![64, 32, 10];
    cfg.rounds = 25;
    cfg.round_timeout = Duration::from_millis(500);
    cfg.relay_timeout = Duration::from_millis(250);
    cfg.relays = relays.is_some();
    let sim_cfg = SimConfig::new(n + 1, 11).with_network(network);
    let c2 = cfg.clone();
    let sim = Simulation::new(sim_cfg, move |id: NodeId| {
        if id == NodeId(0) {
            let server = match relays {
                Some(make) => Server::with_selector(c2.clone(), make(), 1),
                None => Server::new(c2.clone(), 1),
            };
            Node::Server(Box::new(server.expect("valid config")))
        } else {
            let shard = shards[id.0 as usize - 1].clone();
            Node::Client(Box::new(
                Client::new(c2.clone(), id, shard, 1).expect("valid config"),
            ))
        }
    });
    (sim, cfg, d.subset(&test_idx))
}

/// The evidence rules `observer` reported against `culprit`.
fn rules(sim: &Simulation<Node>, observer: u32, culprit: u32) -> Vec<String> {
    sim.evidence()
        .iter()
        .filter(|(_, node, e)| *node == NodeId(observer) && e.culprit == NodeId(culprit))
        .map(|(_, _, e)| match &e.fault {
            Fault::Protocol(rule) => rule.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn server_accuracy(sim: &Simulation<Node>, cfg: &FlConfig, test: &Dataset) -> f64 {
    let Some(Node::Server(server)) = sim.engine(NodeId(0)) else {
        panic!("server is down");
    };
    assert!(server.model().iter().all(|x| x.is_finite()));
    accuracy_of(&cfg.model, server.model(), test)
}

#[test]
fn rounds_survive_loss_duplicates_dropouts_stragglers_and_bad_updates() {
    let network = NetworkConfig {
        loss: 0.02,
        duplicate: 0.2,
        ..NetworkConfig::default()
    };
    let (mut sim, cfg, test) = federation(network, None);
    let (dim, limit) = (cfg.model.num_params(), cfg.max_update_bytes);
    sim.make_byzantine(
        NodeId(9),
        BadUpdates {
            nan: true,
            dim,
            limit,
        },
    );
    sim.make_byzantine(
        NodeId(10),
        BadUpdates {
            nan: false,
            dim,
            limit,
        },
    );
    sim.submit(Time::ZERO, NodeId(0), ServerRequest::Start);
    // Client 2 drops out for good after a few rounds; client 3 stalls for
    // 1.5 s (three round deadlines) in the middle of the run.
    sim.schedule(
        Time::ZERO + Duration::from_millis(1200),
        FaultEvent::Crash(NodeId(2)),
    );
    sim.schedule(
        Time::ZERO + Duration::from_millis(2000),
        FaultEvent::Pause(NodeId(3), Duration::from_millis(1500)),
    );
    sim.run_until(Time::ZERO + Duration::from_secs(30));

    let outcomes = sim.delivered(NodeId(0)).to_vec();
    assert_eq!(outcomes.len(), 25, "every round closed");
    assert!(outcomes.iter().all(|o| !o.skipped && o.accepted >= 4));
    // Each Byzantine update was rejected in every round it arrived.
    assert!(outcomes.iter().all(|o| o.rejected >= 1), "{outcomes:?}");
    // From round 6 on (the crash is at 1.2 s, rounds wait up to 500 ms for
    // the Byzantine pair) the two rejected updates and the dropout are
    // missing from every round.
    assert!(
        outcomes[5..].iter().all(|o| o.missing >= 3),
        "the dropout is missing"
    );

    let has = |culprit: u32, rule: &str| rules(&sim, 0, culprit).iter().any(|r| r == rule);
    assert!(
        has(9, "update with NaN or infinite values"),
        "{:?}",
        rules(&sim, 0, 9)
    );
    assert!(has(10, "oversized update"), "{:?}", rules(&sim, 0, 10));
    assert!(
        has(3, "stale update (wrong round)"),
        "{:?}",
        rules(&sim, 0, 3)
    );
    let dups = (1..=8).filter(|&c| has(c, "duplicate update")).count();
    assert!(
        dups >= 3,
        "network duplicates become evidence: {dups} clients"
    );
    // No honest client is blamed for anything else.
    for c in [1, 4, 5, 6, 7, 8] {
        let r = rules(&sim, 0, c);
        assert!(
            r.iter().all(|r| r == "duplicate update"),
            "client {c}: {r:?}"
        );
    }
    let acc = server_accuracy(&sim, &cfg, &test);
    println!(
        "accuracy {acc:.3}; evidence: {}; rejected per round {:?}; missing {:?}",
        sim.evidence().len(),
        outcomes.iter().map(|o| o.rejected).collect::<Vec<_>>(),
        outcomes.iter().map(|o| o.missing).collect::<Vec<_>>()
    );
    assert!(acc > 0.85, "accuracy {acc}");
}

#[test]
fn relays_aggregate_through_a_duplicating_network_and_survive_a_child_crash() {
    let network = NetworkConfig {
        duplicate: 0.2,
        ..NetworkConfig::default()
    };
    let (mut sim, cfg, test) = federation(
        network,
        Some(|| {
            // Clients 1 and 4 relay for 2, 3 and 5, 6, 7; everyone takes part.
            Box::new(FixedRelays::new(&[(2, 1), (3, 1), (5, 4), (6, 4), (7, 4)]))
        }),
    );
    sim.submit(Time::ZERO, NodeId(0), ServerRequest::Start);
    // Child 6 of relay 4 crashes after about seven rounds (~30 ms each):
    // from then on relay 4 flushes at its relay deadline without it.
    sim.schedule(
        Time::ZERO + Duration::from_millis(200),
        FaultEvent::Crash(NodeId(6)),
    );
    sim.run_until(Time::ZERO + Duration::from_secs(30));

    let outcomes = sim.delivered(NodeId(0)).to_vec();
    assert_eq!(outcomes.len(), 25, "every round closed");
    // Five uploads reach the server (relays 1 and 4, clients 8, 9, 10),
    // carrying all ten clients, then nine once client 6 is gone.
    assert_eq!((outcomes[0].accepted, outcomes[0].contributors), (5, 10));
    let last = outcomes.last().unwrap();
    assert_eq!((last.accepted, last.contributors), (5, 9), "{last:?}");
    // Duplicated child updates are evidence at the relays, not at the server.
    let relay_dups: usize = [(1, 2), (1, 3), (4, 5), (4, 7)]
        .iter()
        .map(|&(relay, child)| {
            rules(&sim, relay, child)
                .iter()
                .filter(|r| *r == "duplicate update")
                .count()
        })
        .sum();
    assert!(relay_dups > 0, "no duplicated child update was seen");
    for c in [2, 3, 5, 6, 7] {
        assert!(rules(&sim, 0, c).is_empty(), "server heard from child {c}");
    }
    let acc = server_accuracy(&sim, &cfg, &test);
    assert!(acc > 0.85, "accuracy {acc}");
}
