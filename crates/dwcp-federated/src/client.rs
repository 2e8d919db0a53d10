//! The client engine, which is also the relay: a client whose round plan
//! lists children forwards the round start to them, waits for their updates
//! until every child answered or its relay deadline passed, and uploads the
//! sample-weighted mean of its own and its subtree's updates as one update.

use crate::compress::{Compressor, FeedbackCompressor};
use crate::config::{ConfigError, FlConfig};
use crate::data::Dataset;
use crate::message::{FlMessage, RoundStart, Update};
use crate::model::train_local;
use crate::secure::{self, ClientKeys, ClientSession, RoundIds};
use crate::wire::{WireError, decode};
use dwcp_core::rng::{self, Rng};
use dwcp_core::{Engine, Evidence, Fault, NodeId, Output, OutputOf, Target, Time};
use dwcp_crypto::{PublicKey, SecretKey};
use dwcp_nn::Mlp;
use dwcp_privacy::ClientInput;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Debug)]
struct Relaying {
    round: u64,
    parent: NodeId,
    deadline: Time,
    children: BTreeSet<NodeId>,
    /// child → (weight, contributors, mean delta)
    got: BTreeMap<NodeId, (u64, u32, Vec<f32>)>,
    own: (u64, Vec<f32>),
}

/// A federated-learning client (and relay), sans-IO. It trains
/// synchronously inside [`Engine::handle_message`] when a round starts.
#[derive(Debug)]
pub struct Client {
    id: NodeId,
    cfg: FlConfig,
    data: Dataset,
    dim: usize,
    /// The global model as of `version`.
    model: Vec<f32>,
    version: u64,
    last_round: u64,
    /// A round start waiting for a full model (`Model`) from the server.
    waiting: Option<(RoundStart, NodeId)>,
    relaying: Option<Relaying>,
    up: FeedbackCompressor,
    net: Mlp,
    rng: Rng,
    seed: u64,
    /// Long-term signing key and everyone's public keys (secure aggregation).
    identity: Option<(SecretKey, Vec<PublicKey>)>,
    /// The current round's secure-aggregation session.
    session: Option<ClientSession>,
    /// The current round's participants in session order (secure aggregation).
    secagg_ids: Vec<NodeId>,
    out: VecDeque<OutputOf<Client>>,
}

impl Client {
    /// A client holding `data`, seeded.
    pub fn new(cfg: FlConfig, id: NodeId, data: Dataset, seed: u64) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let net = cfg
            .model
            .build()
            .ok_or_else(|| ConfigError::Invalid("model".into()))?;
        let model = net.params_flat();
        Ok(Client {
            id,
            up: FeedbackCompressor::new(
                secure::uplink_mode(&cfg),
                cfg.mask_seed,
                cfg.error_feedback,
            ),
            dim: model.len(),
            model,
            version: 0,
            last_round: 0,
            waiting: None,
            relaying: None,
            net,
            rng: rng::derive(seed, u64::from(id.0)),
            seed,
            identity: None,
            session: None,
            secagg_ids: vec![],
            out: VecDeque::new(),
            data,
            cfg,
        })
    }

    /// The client's copy of the global model.
    pub fn model(&self) -> &[f32] {
        &self.model
    }

    /// Gives the client its long-term signing key and every client's public
    /// key (by position in `cfg.clients`), needed for secure aggregation.
    pub fn set_secagg_identity(&mut self, secret: SecretKey, publics: Vec<PublicKey>) {
        self.identity = Some((secret, publics));
    }

    /// Its local data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    fn evidence(&mut self, culprit: NodeId, rule: &'static str) {
        self.out.push_back(Output::Evidence(Evidence {
            culprit,
            fault: Fault::Protocol(rule),
        }));
    }

    fn train(&mut self) -> Vec<f32> {
        if self.net.set_params_flat(&self.model).is_err() {
            return vec![0.0; self.dim];
        }
        train_local(&mut self.net, &self.data, &self.cfg.local, &mut self.rng);
        self.net
            .params()
            .zip(&self.model)
            .map(|(n, o)| n - o)
            .collect()
    }

    fn upload(&mut self, round: u64, parent: NodeId, weight: u64, contributors: u32, mean: &[f32]) {
        let (payload, _) = self.up.compress(mean, round);
        self.out.push_back(Output::Send {
            to: Target::One(parent),
            msg: FlMessage::Update(Update {
                round,
                weight,
                contributors,
                payload,
            }),
        });
    }

    fn on_round_start(&mut self, now: Time, from: NodeId, rs: RoundStart) {
        if rs.round <= self.last_round {
            self.evidence(from, "stale round start");
            return;
        }
        // Our parent is the sender; it must be the server or, with relays, our listed parent.
        let listed_parent = rs
            .relays
            .iter()
            .find(|(c, _)| *c == self.id.0)
            .map(|&(_, p)| NodeId(p));
        let ok_sender = match listed_parent {
            Some(p) => p == from && self.cfg.relays,
            None => from == self.cfg.server,
        };
        if !ok_sender {
            self.evidence(from, "round start from a node that is not our parent");
            return;
        }
        let model_ok = if rs.full {
            match decode(
                &rs.model,
                self.dim,
                self.cfg.max_update_bytes.max(self.dim * 4 + 16),
            ) {
                Ok(p) => {
                    self.model = p.to_dense();
                    self.version = rs.version;
                    true
                }
                Err(_) => {
                    self.evidence(from, "malformed model");
                    return;
                }
            }
        } else if rs.model.is_empty() {
            self.version == rs.version
        } else if self.version + 1 == rs.version {
            match decode(&rs.model, self.dim, self.cfg.max_update_bytes) {
                Ok(p) => {
                    for (m, d) in self.model.iter_mut().zip(p.to_dense()) {
                        *m += d;
                    }
                    self.version = rs.version;
                    true
                }
                Err(_) => {
                    self.evidence(from, "malformed model delta");
                    return;
                }
            }
        } else {
            false
        };
        self.last_round = rs.round;
        self.relaying = None;
        self.session = None;
        self.secagg_ids = rs.secagg.iter().map(|&c| NodeId(c)).collect();
        // Forward to our children first (they may train in parallel).
        let children: Vec<NodeId> = if self.cfg.relays {
            rs.relays
                .iter()
                .filter(|&&(c, p)| p == self.id.0 && c != self.id.0)
                .map(|&(c, _)| NodeId(c))
                .collect()
        } else {
            vec![]
        };
        if !children.is_empty() {
            self.out.push_back(Output::Send {
                to: Target::many(children.clone()),
                msg: FlMessage::RoundStart(rs.clone()),
            });
        }
        if model_ok {
            self.waiting = None;
            self.train_and_send(now, rs.round, from, children);
        } else {
            self.out.push_back(Output::Send {
                to: Target::One(self.cfg.server),
                msg: FlMessage::Resync { round: rs.round },
            });
            self.waiting = Some((rs, from));
        }
    }

    fn train_and_send(&mut self, now: Time, round: u64, parent: NodeId, children: Vec<NodeId>) {
        let delta = self.train();
        let weight = self.data.len().max(1) as u64;
        if self.cfg.privacy.secure_aggregation {
            self.join_session(now, round, delta, weight);
        } else if children.is_empty() {
            self.upload(round, parent, weight, 1, &delta);
        } else {
            self.relaying = Some(Relaying {
                round,
                parent,
                deadline: now + self.cfg.relay_timeout,
                children: children.into_iter().collect(),
                got: BTreeMap::new(),
                own: (weight, delta),
            });
        }
    }

    /// Secure aggregation: clip and noise (DP), compress to the shared
    /// mask (with error feedback), and submit the values to the round's
    /// session instead of uploading them.
    fn join_session(&mut self, now: Time, round: u64, mut delta: Vec<f32>, weight: u64) {
        let ids = RoundIds {
            server: self.cfg.server,
            participants: std::mem::take(&mut self.secagg_ids),
        };
        let Some((secret, publics)) = self.identity.as_ref() else {
            self.evidence(self.id, "secure aggregation without a signing key");
            return;
        };
        let threshold = dwcp_privacy::secagg::recommended_threshold(ids.participants.len());
        secure::client_dp(&self.cfg, threshold, &mut delta, &mut self.rng);
        let (_, sent) = self.up.compress(&delta, round);
        let values = match secure::shared_indices(&self.cfg, round, self.dim) {
            Some(idx) => idx
                .iter()
                .map(|&i| sent.get(i as usize).copied().unwrap_or(0.0))
                .collect(),
            None => sent,
        };
        let input = ClientInput {
            values,
            weight: weight.clamp(1, secure::max_weight(&self.cfg)),
        };
        let keys = ClientKeys { secret, publics };
        match ClientSession::start(
            &self.cfg,
            round,
            ids,
            self.id,
            keys,
            self.seed,
            input,
            now,
            &mut self.out,
        ) {
            Ok(s) => self.session = Some(s),
            Err(_) => self.evidence(
                self.cfg.server,
                "round start with a secure-aggregation session we cannot join",
            ),
        }
    }

    fn flush_relay(&mut self) {
        let Some(r) = self.relaying.take() else {
            return;
        };
        let mut total = r.own.0;
        let mut contributors = 1u32;
        let mut sum: Vec<f64> = r
            .own
            .1
            .iter()
            .map(|&v| r.own.0 as f64 * f64::from(v))
            .collect();
        for (w, k, u) in r.got.values() {
            total = total.saturating_add(*w);
            contributors = contributors.saturating_add(*k);
            for (s, &v) in sum.iter_mut().zip(u) {
                *s += *w as f64 * f64::from(v);
            }
        }
        let mean: Vec<f32> = sum
            .iter()
            .map(|&s| (s / total.max(1) as f64) as f32)
            .collect();
        self.upload(r.round, r.parent, total, contributors, &mean);
    }

    fn on_child_update(&mut self, from: NodeId, u: Update) {
        let Some(r) = self.relaying.as_ref() else {
            self.evidence(from, "update to a node that is not relaying");
            return;
        };
        if u.round != r.round {
            self.evidence(from, "stale update (wrong round)");
            return;
        }
        if !r.children.contains(&from) {
            self.evidence(from, "update from a node that is not our child");
            return;
        }
        if r.got.contains_key(&from) {
            self.evidence(from, "duplicate update");
            return;
        }
        if u.contributors != 1 || u.weight == 0 || u.weight > self.cfg.max_weight_per_client {
            self.evidence(from, "implausible update weight or contributor count");
            return;
        }
        match decode(&u.payload, self.dim, self.cfg.max_update_bytes) {
            Err(WireError::TooLarge(_)) => self.evidence(from, "oversized update"),
            Err(WireError::WrongDimension { .. }) => {
                self.evidence(from, "update of the wrong dimension")
            }
            Err(WireError::NonFinite) => self.evidence(from, "update with NaN or infinite values"),
            Err(WireError::Malformed(_)) => self.evidence(from, "malformed update"),
            Ok(p) => {
                let done = self.relaying.as_mut().is_some_and(|r| {
                    r.got.insert(from, (u.weight, u.contributors, p.to_dense()));
                    r.got.len() == r.children.len()
                });
                if done {
                    self.flush_relay();
                }
            }
        }
    }
}

impl Engine for Client {
    type Message = FlMessage;
    type Request = ();
    type Record = ();
    type Value = u64;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: FlMessage) {
        match msg {
            FlMessage::RoundStart(rs) => self.on_round_start(now, from, rs),
            FlMessage::Update(u) => self.on_child_update(from, u),
            FlMessage::Model { version, params } => {
                if from != self.cfg.server {
                    self.evidence(from, "model from a node other than the server");
                    return;
                }
                let Ok(p) = decode(&params, self.dim, self.dim * 4 + 16) else {
                    self.evidence(from, "malformed model");
                    return;
                };
                self.model = p.to_dense();
                self.version = version;
                if let Some((rs, parent)) = self.waiting.take() {
                    let children = if self.cfg.relays {
                        rs.relays
                            .iter()
                            .filter(|&&(c, p)| p == self.id.0 && c != self.id.0)
                            .map(|&(c, _)| NodeId(c))
                            .collect()
                    } else {
                        vec![]
                    };
                    self.train_and_send(now, rs.round, parent, children);
                }
            }
            FlMessage::Resync { .. } => self.evidence(from, "resync request sent to a client"),
            FlMessage::SecAgg(env) => {
                if from != self.cfg.server {
                    self.evidence(
                        from,
                        "secure-aggregation message from a node other than the server",
                    );
                    return;
                }
                match self.session.as_mut() {
                    Some(s) if s.round == env.round => {
                        s.handle(now, env.msg, &mut self.out);
                    }
                    // A late message of an earlier round's session.
                    _ if env.round < self.last_round => {}
                    _ => self.evidence(from, "secure-aggregation message outside our session"),
                }
            }
        }
    }

    fn handle_request(&mut self, _now: Time, _req: ()) {}

    fn handle_timeout(&mut self, now: Time) {
        if self.relaying.as_ref().is_some_and(|r| now >= r.deadline) {
            self.flush_relay();
        }
    }

    fn poll_output(&mut self) -> Option<OutputOf<Self>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        self.relaying.as_ref().map(|r| r.deadline)
    }

    /// Clients keep no durable state: after a restart they resynchronise
    /// the model from the server on the next round.
    fn restore(&mut self, _now: Time, _records: Vec<()>) {}
}

impl Client {
    /// The dense encoding of a full model, as the server sends it (for hosts
    /// that bootstrap clients out of band).
    pub fn encode_model(params: &[f32]) -> Vec<u8> {
        crate::wire::encode_dense(params)
    }
}
