//! Benchmark runners: one seeded federation on a data set, and the
//! pre-registered `fl-digits` comparison (dense FedAvg vs compressed).

use crate::aggregate::Rule;
use crate::client::Client;
use crate::compress::Compression;
use crate::config::{FlConfig, Privacy};
use crate::data::{Dataset, dirichlet_partition, stratified_split};
use crate::model::accuracy_of;
use crate::rand_util::shuffle;
use crate::select::Selector;
use crate::server::Server;
use crate::sim::{Attack, Federation, Traffic};
use dwcp_core::NodeId;
use dwcp_core::rng;

/// The federation's shape: split, partition and model.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// Clients (ids `1..=clients`, server 0).
    pub clients: usize,
    /// Dirichlet label-skew concentration.
    pub alpha: f64,
    /// Redraw the partition until every client has at least this many rows.
    pub min_per_client: usize,
    /// Test fraction of the stratified split.
    pub test_fraction: f64,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Rounds.
    pub rounds: u64,
    /// Accuracy that counts as "reached" for bytes/rounds-to-target.
    pub target: f64,
}

impl Setup {
    /// The pre-registered benchmark: 10 clients, Dirichlet(0.5), ≥ 20 rows
    /// each, 80/20 split, MLP 64-64-10, 300 rounds, target 96%.
    pub fn digits() -> Self {
        Setup {
            clients: 10,
            alpha: 0.5,
            min_per_client: 20,
            test_fraction: 0.2,
            hidden: vec![64],
            rounds: 300,
            target: 0.96,
        }
    }

    /// Seed `seed`'s data layout as row indices into `data`: the stratified
    /// split and the training rows' Dirichlet partition over the clients,
    /// `(training rows, client partitions, test rows)`.
    pub fn layout(&self, data: &Dataset, seed: u64) -> (Vec<usize>, Vec<Vec<usize>>, Vec<usize>) {
        let (train, test) = stratified_split(data, self.test_fraction, seed);
        let parts = dirichlet_partition(
            data,
            &train,
            self.clients,
            self.alpha,
            self.min_per_client,
            seed,
        );
        (train, parts, test)
    }
}

/// One method: the knobs that differ between compared runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    /// Name for tables.
    pub name: String,
    /// Uplink compression.
    pub uplink: Compression,
    /// Downlink compression.
    pub downlink: Compression,
    /// Aggregation rule.
    pub rule: Rule,
    /// Byzantine clients (the last `byzantine` ids) and their attack.
    pub attack: Option<(usize, Attack)>,
    /// FLTrust root data size (drawn from the training split).
    pub root_size: usize,
}

impl Method {
    /// Dense fp32 FedAvg both ways.
    pub fn dense() -> Self {
        Method {
            name: "dense-fedavg".into(),
            uplink: Compression::Dense,
            downlink: Compression::Dense,
            rule: Rule::FedAvg,
            attack: None,
            root_size: 100,
        }
    }

    /// The pre-registered compressed method: top-0.5% with 4-bit values
    /// and error feedback in both directions.
    pub fn compressed() -> Self {
        let c = Compression::TopK {
            fraction: 0.005,
            bits: 4,
        };
        Method {
            name: "topk0.5%-4bit-ef".into(),
            uplink: c,
            downlink: c,
            ..Method::dense()
        }
    }
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// Method name.
    pub method: String,
    /// Seed (split, partition, model, training).
    pub seed: u64,
    /// Test accuracy after the last round.
    pub final_accuracy: f64,
    /// Exact bytes over the run.
    pub traffic: Traffic,
    /// First round whose model reached the target, and the bytes (up+down+d2d) spent until then.
    pub reached: Option<(u64, u64)>,
    /// `(round, cumulative bytes, test accuracy)` after every round.
    pub curve: Vec<(u64, u64, f64)>,
    /// Evidence outputs seen (rejected updates).
    pub evidence: usize,
}

/// Builds a federation over `data` for `setup`/`method` with `seed`, plus its test set.
pub fn build(
    data: &Dataset,
    setup: &Setup,
    method: &Method,
    selector: Option<Box<dyn Selector>>,
    relays: bool,
    seed: u64,
) -> Result<(Federation, Dataset), String> {
    build_with(
        data,
        setup,
        method,
        selector,
        relays,
        Privacy::default(),
        seed,
    )
}

/// [`build`] with privacy features; with secure aggregation every engine
/// gets a signing identity seeded from `seed`.
pub fn build_with(
    data: &Dataset,
    setup: &Setup,
    method: &Method,
    selector: Option<Box<dyn Selector>>,
    relays: bool,
    privacy: Privacy,
    seed: u64,
) -> Result<(Federation, Dataset), String> {
    let (train, parts, test) = setup.layout(data, seed);
    let mut cfg = FlConfig::new(setup.clients as u32);
    cfg.model.sizes = std::iter::once(data.dim)
        .chain(setup.hidden.iter().copied())
        .chain([data.classes])
        .collect();
    cfg.model.seed = seed;
    cfg.rounds = setup.rounds;
    cfg.uplink = method.uplink;
    cfg.downlink = method.downlink;
    cfg.rule = method.rule;
    cfg.relays = relays;
    cfg.privacy = privacy;
    let mut server = match selector {
        Some(s) => Server::with_selector(cfg.clone(), s, seed),
        None => Server::new(cfg.clone(), seed),
    }
    .map_err(|e| e.to_string())?;
    if method.rule == Rule::FlTrust {
        let mut r = rng::derive(seed, 0x200f);
        let mut idx = train.clone();
        shuffle(&mut idx, &mut r);
        idx.truncate(method.root_size);
        server.set_root_data(data.subset(&idx));
    }
    let clients = parts
        .iter()
        .enumerate()
        .map(|(k, p)| Client::new(cfg.clone(), NodeId(k as u32 + 1), data.subset(p), seed))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut fed = Federation::new(server, clients, seed);
    if privacy.secure_aggregation {
        fed.install_secagg_keys(seed ^ 0x5ec);
    }
    if let Some((f, attack)) = method.attack {
        for k in setup.clients.saturating_sub(f)..setup.clients {
            fed.byzantine.insert(NodeId(k as u32 + 1), attack);
        }
    }
    Ok((fed, data.subset(&test)))
}

/// Runs one federation to the end, evaluating the global model on the test
/// split after every round.
pub fn run(data: &Dataset, setup: &Setup, method: &Method, seed: u64) -> Result<RunResult, String> {
    let (mut fed, test) = build(data, setup, method, None, false, seed)?;
    Ok(drive(&mut fed, &test, setup, method, seed))
}

/// Drives a built federation; see [`run`].
pub fn drive(
    fed: &mut Federation,
    test: &Dataset,
    setup: &Setup,
    method: &Method,
    seed: u64,
) -> RunResult {
    let spec = fed.server.config().model.clone();
    let mut curve = vec![];
    let mut reached = None;
    fed.run(setup.rounds, |o, server, traffic| {
        let acc = accuracy_of(&spec, server.model(), test);
        curve.push((o.round, traffic.total(), acc));
        if reached.is_none() && acc >= setup.target {
            reached = Some((o.round, traffic.total()));
        }
    });
    RunResult {
        method: method.name.clone(),
        seed,
        final_accuracy: curve.last().map_or(0.0, |c| c.2),
        traffic: fed.traffic,
        reached,
        curve,
        evidence: fed.evidence.len(),
    }
}
