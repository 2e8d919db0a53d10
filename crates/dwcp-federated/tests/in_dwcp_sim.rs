//! The server and client engines in the workspace's discrete-event
//! simulator (`dwcp-sim`): a lossy network that reorders and duplicates
//! messages, a client that crashes (dropout), one paused past the round
//! deadline (straggler, whose late update is stale), and two Byzantine
//! clients sending NaN and oversized updates. Every bad input is rejected
//! with evidence naming its sender, rounds keep closing, and the model
//! still learns.

use dwcp_core::{Duration, Engine, Fault, NodeId, Output, Time};
use dwcp_federated::config::FlConfig;
use dwcp_federated::data::{Dataset, digits, dirichlet_partition, stratified_split};
use dwcp_federated::message::{FlMessage, Update};
use dwcp_federated::model::accuracy_of;
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

#[test]
fn rounds_survive_loss_duplicates_dropouts_stragglers_and_bad_updates() {
    let n = 10;
    let d = digits();
    let (train, test_idx) = stratified_split(&d, 0.2, 4);
    let parts = dirichlet_partition(&d, &train, n, 0.5, 20, 4);
    let shards: Vec<Dataset> = parts.iter().map(|p| d.subset(p)).collect();
    let test = d.subset(&test_idx);
    let mut cfg = FlConfig::new(n as u32);
    cfg.model.sizes = vec![64, 32, 10];
    cfg.rounds = 25;
    cfg.round_timeout = Duration::from_millis(500);
    cfg.relay_timeout = Duration::from_millis(250);
    let dim = cfg.model.num_params();
    let limit = cfg.max_update_bytes;

    let network = NetworkConfig {
        loss: 0.02,
        duplicate: 0.2,
        ..NetworkConfig::default()
    };
    let sim_cfg = SimConfig::new(n + 1, 11).with_network(network);
    let (c2, sh) = (cfg.clone(), shards.clone());
    let mut sim = Simulation::new(sim_cfg, move |id: NodeId| {
        if id == NodeId(0) {
            Node::Server(Box::new(Server::new(c2.clone(), 1).expect("valid config")))
        } else {
            let shard = sh[id.0 as usize - 1].clone();
            Node::Client(Box::new(
                Client::new(c2.clone(), id, shard, 1).expect("valid config"),
            ))
        }
    });
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
    assert!(
        outcomes.iter().any(|o| o.missing >= 1),
        "the dropout is missing"
    );

    let rules = |culprit: u32| -> Vec<String> {
        sim.evidence()
            .iter()
            .filter(|(_, node, e)| *node == NodeId(0) && e.culprit == NodeId(culprit))
            .map(|(_, _, e)| match &e.fault {
                Fault::Protocol(rule) => rule.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    let has = |culprit: u32, rule: &str| rules(culprit).iter().any(|r| r == rule);
    assert!(
        has(9, "update with NaN or infinite values"),
        "{:?}",
        rules(9)
    );
    assert!(has(10, "oversized update"), "{:?}", rules(10));
    assert!(has(3, "stale update (wrong round)"), "{:?}", rules(3));
    let dups = (1..=8).filter(|&c| has(c, "duplicate update")).count();
    assert!(
        dups >= 3,
        "network duplicates become evidence: {dups} clients"
    );
    // No honest client is blamed for anything else.
    for c in [1, 4, 5, 6, 7, 8] {
        assert!(
            rules(c).iter().all(|r| r == "duplicate update"),
            "client {c}: {:?}",
            rules(c)
        );
    }

    let Some(Node::Server(server)) = sim.engine(NodeId(0)) else {
        panic!("server is down");
    };
    let acc = accuracy_of(&cfg.model, server.model(), &test);
    assert!(server.model().iter().all(|x| x.is_finite()));
    println!(
        "accuracy {acc:.3}; evidence: {}; rejected per round {:?}; missing {:?}",
        sim.evidence().len(),
        outcomes.iter().map(|o| o.rejected).collect::<Vec<_>>(),
        outcomes.iter().map(|o| o.missing).collect::<Vec<_>>()
    );
    assert!(acc > 0.85, "accuracy {acc}");
}
