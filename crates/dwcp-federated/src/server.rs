//! The server engine: opens rounds, collects updates until every direct
//! participant answered or the deadline passed, rejects bad updates with
//! evidence, aggregates, and broadcasts the (compressed) model delta.

use crate::aggregate::{Rule, aggregate};
use crate::compress::{Compression, Compressor, FeedbackCompressor};
use crate::config::{ConfigError, FlConfig};
use crate::data::Dataset;
use crate::message::{FlMessage, RoundStart, Update};
use crate::model::train_local;
use crate::secure::{RoundIds, ServerSession};
use crate::select::{AllClients, RoundPlan, Selector};
use crate::wire::{WireError, decode, encode_dense};
use dwcp_core::rng::{self, Rng};
use dwcp_core::{Engine, Evidence, Fault, NodeId, Output, OutputOf, Target, Time};
use dwcp_crypto::PublicKey;
use dwcp_nn::Mlp;
use dwcp_privacy::ServerOutcome;
use dwcp_privacy::dp::{self, RdpAccountant};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A local request to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerRequest {
    /// Open the next round (round 1, or the one after a restored checkpoint).
    Start,
}

/// What the server delivers when a round closes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoundOutcome {
    /// The round that closed.
    pub round: u64,
    /// Model version after it (rounds that changed the model).
    pub version: u64,
    /// Updates accepted (direct uploads, relays count once).
    pub accepted: u32,
    /// Clients those updates cover.
    pub contributors: u32,
    /// Direct participants that did not answer before the deadline.
    pub missing: u32,
    /// Updates rejected with evidence during the round.
    pub rejected: u32,
    /// The rule failed (e.g. too few updates for Krum) and the model was kept.
    pub skipped: bool,
}

/// The server's durable record: a model checkpoint after each round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Last closed round.
    pub round: u64,
    /// Model version.
    pub version: u64,
    /// Flat parameters.
    pub params: Vec<f32>,
}

#[derive(Clone, Debug)]
struct Collecting {
    deadline: Time,
    expected: BTreeSet<NodeId>,
    participants: BTreeSet<NodeId>,
    sizes: BTreeMap<NodeId, usize>,
    got: BTreeMap<NodeId, (u64, u32, Vec<f32>)>,
    rejected: u32,
}

/// The federated-learning server (sans-IO).
#[derive(Debug)]
pub struct Server {
    cfg: FlConfig,
    dim: usize,
    model: Vec<f32>,
    version: u64,
    round: u64,
    /// The message that opened the current round's model (for the bytes of a resync).
    down: FeedbackCompressor,
    pending_delta: Option<Vec<u8>>,
    collecting: Option<Collecting>,
    selector: Box<dyn Selector>,
    rng: Rng,
    root: Option<Dataset>,
    net: Mlp,
    /// Every client's public signing key, by position in `cfg.clients`.
    secagg_publics: Vec<PublicKey>,
    /// The current round's secure-aggregation session.
    session: Option<ServerSession>,
    /// Privacy spent so far (with DP).
    accountant: RdpAccountant,
    out: VecDeque<OutputOf<Server>>,
    done: bool,
}

impl Server {
    /// A server for `cfg` (validated), every client every round, seeded.
    pub fn new(cfg: FlConfig, seed: u64) -> Result<Self, ConfigError> {
        Self::with_selector(cfg, Box::new(AllClients), seed)
    }

    /// A server with a client-selection policy.
    pub fn with_selector(
        cfg: FlConfig,
        selector: Box<dyn Selector>,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let net = cfg
            .model
            .build()
            .ok_or_else(|| ConfigError::Invalid("model".into()))?;
        let model = net.params_flat();
        let down = FeedbackCompressor::new(cfg.downlink, cfg.mask_seed ^ 0xd0, cfg.error_feedback);
        Ok(Server {
            dim: model.len(),
            model,
            version: 0,
            round: 0,
            down,
            pending_delta: None,
            collecting: None,
            selector,
            rng: rng::derive(seed, u64::from(cfg.server.0)),
            root: None,
            net,
            secagg_publics: vec![],
            session: None,
            accountant: RdpAccountant::new(),
            out: VecDeque::new(),
            done: false,
            cfg,
        })
    }

    /// Gives the server its clean root data set (required by FLTrust).
    pub fn set_root_data(&mut self, root: Dataset) {
        self.root = Some(root);
    }

    /// Gives the server every client's public signing key (by position in
    /// `cfg.clients`), needed for secure aggregation.
    pub fn set_secagg_publics(&mut self, publics: Vec<PublicKey>) {
        self.secagg_publics = publics;
    }

    /// With DP: the `ε` spent so far at the configured `δ` (0 before the
    /// first round, infinite with `σ = 0`). `None` without DP.
    pub fn epsilon(&self) -> Option<f64> {
        self.cfg
            .privacy
            .dp
            .map(|d| self.accountant.epsilon(d.delta))
    }

    /// The current global model (flat parameters).
    pub fn model(&self) -> &[f32] {
        &self.model
    }

    /// The current round (0 before the first).
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Whether all configured rounds have closed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The configuration.
    pub fn config(&self) -> &FlConfig {
        &self.cfg
    }

    fn evidence(&mut self, culprit: NodeId, rule: &'static str) {
        if let Some(c) = self.collecting.as_mut() {
            c.rejected += 1;
        }
        self.out.push_back(Output::Evidence(Evidence {
            culprit,
            fault: Fault::Protocol(rule),
        }));
    }

    fn open_round(&mut self, now: Time) {
        if self.done || self.collecting.is_some() {
            return;
        }
        if self.round >= self.cfg.rounds {
            self.done = true;
            return;
        }
        self.round += 1;
        let plan: RoundPlan = self
            .selector
            .plan(self.round, &self.cfg.clients, &mut self.rng);
        let known: BTreeSet<NodeId> = self.cfg.clients.iter().copied().collect();
        let participants: BTreeSet<NodeId> = plan
            .participants
            .iter()
            .copied()
            .filter(|p| known.contains(p))
            .collect();
        let relays: Vec<(NodeId, NodeId)> = if self.cfg.relays {
            plan.relays
                .iter()
                .copied()
                .filter(|(c, p)| participants.contains(c) && participants.contains(p) && c != p)
                .collect()
        } else {
            vec![]
        };
        let plan = RoundPlan {
            participants: participants.iter().copied().collect(),
            relays,
        };
        let expected: BTreeSet<NodeId> = plan.direct_uploaders().into_iter().collect();
        let sizes = expected
            .iter()
            .map(|&p| (p, plan.subtree_size(p)))
            .collect();
        let (model, full) = match (self.cfg.downlink, self.pending_delta.take()) {
            (Compression::Dense, _) => (encode_dense(&self.model), true),
            (_, Some(delta)) => (delta, false),
            (_, None) => (vec![], false),
        };
        let secagg: Vec<NodeId> = if self.cfg.privacy.secure_aggregation {
            participants.iter().copied().collect()
        } else {
            vec![]
        };
        self.session = None;
        let mut session_failed = false;
        if self.cfg.privacy.secure_aggregation {
            let ids = RoundIds {
                server: self.cfg.server,
                participants: secagg.clone(),
            };
            match ServerSession::start(
                &self.cfg,
                self.round,
                ids,
                &self.secagg_publics,
                self.dim,
                now,
            ) {
                Ok(s) => self.session = Some(s),
                Err(_) => session_failed = true,
            }
        }
        let msg = FlMessage::RoundStart(RoundStart {
            round: self.round,
            version: self.version,
            model,
            full,
            relays: plan.relays.iter().map(|(c, p)| (c.0, p.0)).collect(),
            secagg: secagg.iter().map(|c| c.0).collect(),
        });
        if !expected.is_empty() {
            self.out.push_back(Output::Send {
                to: Target::many(expected.iter().copied().collect()),
                msg,
            });
        }
        self.collecting = Some(Collecting {
            deadline: now + self.cfg.round_timeout,
            expected,
            participants,
            sizes,
            got: BTreeMap::new(),
            rejected: 0,
        });
        if session_failed
            || self
                .collecting
                .as_ref()
                .is_some_and(|c| c.expected.is_empty())
        {
            // Nobody to hear from (or no session possible, e.g. a single
            // participant under secure aggregation): the round is skipped.
            self.session = None;
            self.close_round(now);
        }
    }

    fn on_secagg(&mut self, now: Time, from: NodeId, round: u64, msg: dwcp_privacy::SecAggMessage) {
        let Some(s) = self.session.as_mut() else {
            if round >= self.round {
                self.evidence(from, "secure-aggregation message outside a session");
            }
            return;
        };
        if round != s.round {
            if round > s.round {
                self.evidence(from, "secure-aggregation message for a future round");
            }
            return;
        }
        if !s.is_participant(from) {
            self.evidence(from, "secure-aggregation message from a non-participant");
            return;
        }
        let before = self.out.len();
        let outcome = s.handle(now, from, msg, &mut self.out);
        self.count_evidence(before);
        if let Some(o) = outcome {
            self.finish_secagg(now, o);
        }
    }

    /// Counts the session's evidence outputs as rejected inputs.
    fn count_evidence(&mut self, from: usize) {
        let n = self
            .out
            .iter()
            .skip(from)
            .filter(|o| matches!(o, Output::Evidence(_)))
            .count() as u32;
        if let Some(c) = self.collecting.as_mut() {
            c.rejected += n;
        }
    }

    /// The session ended: apply the recovered mean (or skip the round).
    fn finish_secagg(&mut self, now: Time, outcome: ServerOutcome) {
        let Some(s) = self.session.take() else {
            return;
        };
        let agg = match outcome {
            ServerOutcome::Sum(sum) => {
                let denominator = self
                    .cfg
                    .privacy
                    .dp
                    .map(|d| (d.sampling_rate * self.cfg.clients.len() as f64).max(1.0));
                let delta = s.dense_delta(&sum, self.dim, denominator);
                let survivors = s.survivors(&sum).len() as u32;
                Ok((delta, survivors))
            }
            ServerOutcome::Aborted { .. } => Err(()),
        };
        self.close_with(now, agg);
    }

    fn server_update(&mut self) -> Option<Vec<f32>> {
        let root = self.root.as_ref()?;
        self.net.set_params_flat(&self.model).ok()?;
        train_local(&mut self.net, root, &self.cfg.local, &mut self.rng);
        Some(
            self.net
                .params()
                .zip(&self.model)
                .map(|(n, o)| n - o)
                .collect(),
        )
    }

    fn close_round(&mut self, now: Time) {
        if self.session.is_some() {
            // The session's own deadlines end the round.
            return self.close_with(now, Err(()));
        }
        let Some(c) = self.collecting.as_ref() else {
            return;
        };
        let mut updates: Vec<(f64, Vec<f32>)> = c
            .got
            .values()
            .map(|(w, _, u)| (*w as f64, u.clone()))
            .collect();
        let contributors: u32 = c.got.values().map(|(_, k, _)| *k).sum();
        let agg = match self.cfg.privacy.dp {
            Some(d) if !self.cfg.privacy.secure_aggregation => {
                // Central DP-FedAvg: clip each update, add the noise to the
                // sum, divide by the fixed denominator q·N.
                let mut sum = vec![0f32; self.dim];
                for (_, u) in updates.iter_mut() {
                    dp::clip_l2(u, d.clip);
                    for (s, x) in sum.iter_mut().zip(u.iter()) {
                        *s += x;
                    }
                }
                dp::add_gaussian_noise(
                    &mut sum,
                    d.noise_multiplier * f64::from(d.clip),
                    &mut self.rng,
                );
                let denom = (d.sampling_rate * self.cfg.clients.len() as f64).max(1.0) as f32;
                Ok(sum.into_iter().map(|x| x / denom).collect())
            }
            _ => {
                let server_update = if self.cfg.rule == Rule::FlTrust {
                    self.server_update()
                } else {
                    None
                };
                aggregate(self.cfg.rule, &updates, server_update.as_deref())
            }
        };
        self.close_with(now, agg.map(|d| (d, contributors)).map_err(|_| ()));
    }

    /// Applies the round's aggregate `(delta, contributors)` (or keeps the
    /// model), checkpoints, reports the round and opens the next one.
    fn close_with(&mut self, now: Time, agg: Result<(Vec<f32>, u32), ()>) {
        let Some(c) = self.collecting.take() else {
            return;
        };
        self.session = None;
        let skipped = agg.is_err();
        let secagg = self.cfg.privacy.secure_aggregation;
        let (accepted, contributors) = match &agg {
            Ok((_, k)) if secagg => (*k, *k),
            _ => (c.got.len() as u32, c.got.values().map(|(_, k, _)| *k).sum()),
        };
        if let Ok((delta, _)) = agg {
            if let Some(d) = self.cfg.privacy.dp {
                self.accountant
                    .compose(d.sampling_rate, d.noise_multiplier, 1);
            }
            let (packed, applied) = self.down.compress(&delta, self.round);
            for (m, d) in self.model.iter_mut().zip(&applied) {
                *m += d;
            }
            self.version += 1;
            if self.cfg.downlink != Compression::Dense {
                self.pending_delta = Some(packed);
            }
        }
        let outcome = RoundOutcome {
            round: self.round,
            version: self.version,
            accepted,
            contributors,
            missing: (c.expected.len() as u32).saturating_sub(accepted),
            rejected: c.rejected,
            skipped,
        };
        self.out.push_back(Output::Persist(Checkpoint {
            round: self.round,
            version: self.version,
            params: self.model.clone(),
        }));
        self.out.push_back(Output::Deliver(outcome));
        self.open_round(now);
    }

    fn on_update(&mut self, now: Time, from: NodeId, u: Update) {
        if self.cfg.privacy.secure_aggregation {
            self.evidence(from, "plaintext update under secure aggregation");
            return;
        }
        let Some(c) = self.collecting.as_ref() else {
            self.evidence(from, "update outside a round");
            return;
        };
        if u.round != self.round {
            self.evidence(from, "stale update (wrong round)");
            return;
        }
        if !c.expected.contains(&from) {
            self.evidence(from, "update from a node not expected to upload this round");
            return;
        }
        if c.got.contains_key(&from) {
            self.evidence(from, "duplicate update");
            return;
        }
        let subtree = c.sizes.get(&from).copied().unwrap_or(1) as u64;
        if u.contributors == 0
            || u64::from(u.contributors) > subtree
            || u.weight == 0
            || u.weight > self.cfg.max_weight_per_client.saturating_mul(subtree)
        {
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
                let dense = p.to_dense();
                if let Some(c) = self.collecting.as_mut() {
                    c.got.insert(from, (u.weight, u.contributors, dense));
                    if c.got.len() == c.expected.len() {
                        self.close_round(now);
                    }
                }
            }
        }
    }
}

impl Engine for Server {
    type Message = FlMessage;
    type Request = ServerRequest;
    type Record = Checkpoint;
    type Value = RoundOutcome;

    fn id(&self) -> NodeId {
        self.cfg.server
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: FlMessage) {
        match msg {
            FlMessage::Update(u) => self.on_update(now, from, u),
            FlMessage::Resync { round } => {
                let ok = self
                    .collecting
                    .as_ref()
                    .is_some_and(|c| round == self.round && c.participants.contains(&from));
                if ok {
                    self.out.push_back(Output::Send {
                        to: Target::One(from),
                        msg: FlMessage::Model {
                            version: self.version,
                            params: encode_dense(&self.model),
                        },
                    });
                } else {
                    self.evidence(from, "resync request outside the sender's round");
                }
            }
            FlMessage::SecAgg(env) => self.on_secagg(now, from, env.round, env.msg),
            FlMessage::RoundStart(_) | FlMessage::Model { .. } => {
                self.evidence(from, "server-only message sent to the server")
            }
        }
    }

    fn handle_request(&mut self, now: Time, req: ServerRequest) {
        match req {
            ServerRequest::Start => self.open_round(now),
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        if let Some(s) = self.session.as_mut() {
            if s.deadline().is_some_and(|d| now >= d) {
                let before = self.out.len();
                let outcome = s.timeout(now, &mut self.out);
                self.count_evidence(before);
                if let Some(o) = outcome {
                    self.finish_secagg(now, o);
                }
            }
            return;
        }
        if self.collecting.as_ref().is_some_and(|c| now >= c.deadline) {
            self.close_round(now);
        }
    }

    fn poll_output(&mut self) -> Option<OutputOf<Self>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        if let Some(s) = self.session.as_ref() {
            return s.deadline();
        }
        self.collecting.as_ref().map(|c| c.deadline)
    }

    /// Restores the last valid checkpoint (right length, finite). Residuals
    /// of the downlink compressor are not persisted: after a restart the next
    /// round sends the full model (clients resynchronise).
    fn restore(&mut self, _now: Time, records: Vec<Checkpoint>) {
        if let Some(cp) = records
            .into_iter()
            .rev()
            .find(|c| c.params.len() == self.dim && c.params.iter().all(|v| v.is_finite()))
        {
            self.model = cp.params;
            self.version = cp.version;
            self.round = cp.round.min(self.cfg.rounds);
            self.pending_delta = None;
        }
    }
}
