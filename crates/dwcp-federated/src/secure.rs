//! Secure aggregation and differential privacy inside the round engines,
//! carried out by `dwcp-privacy`'s engines and functions (no copies).
//!
//! **Ids.** A `dwcp-privacy` session numbers its `k` clients `0..k` and its
//! server `k`; a federation has its own ids (server `cfg.server`, clients
//! listed in `cfg.clients`). [`RoundIds`] translates between the two for
//! one round: session client `i` is the round's `i`-th participant (the
//! order of [`crate::message::RoundStart::secagg`]). Messages travel as
//! [`FlMessage::SecAgg`] envelopes carrying the round number; evidence from
//! the inner engines is re-addressed to the federation's ids.
//!
//! **Keys.** Every client has a long-term `dwcp-crypto` signing key; its
//! public key sits at the client's position in `cfg.clients` (install them
//! with `Client::set_secagg_identity` and `Server::set_secagg_publics`, or
//! `Federation::install_secagg_keys`). A session's public-key list is the
//! participants' keys in session order.
//!
//! **Values.** With a dense uplink a client submits its whole update; with
//! [`Compression::RandomK`] it submits only the entries at the round's
//! shared mask ([`shared_indices`]), the same positions for everyone, so
//! the masked vectors add up (error feedback keeps what was not sent). The
//! values travel as ring elements of the session's fixed-point code, so the
//! mode's `bits` do not apply. The server scatters the recovered mean back
//! to a dense delta.

use crate::compress::Compression;
use crate::config::FlConfig;
use crate::message::{FlMessage, SecAggEnvelope};
use dwcp_core::{Engine, Evidence, NodeId, Output, Target, Time};
use dwcp_crypto::{PublicKey, SecretKey};
use dwcp_privacy::secagg::{
    AggregateSum, ClientEvent, ClientInput, SecAggClient, SecAggConfig, SecAggMessage,
    SecAggServer, ServerOutcome, ServerRequest, recommended_threshold,
};
use dwcp_privacy::{FixedPoint, dp};
use dwcp_quantization::{random_k_indices, round_seed};
use std::collections::VecDeque;
use std::fmt;

/// Translation between a federation's ids and one session's ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundIds {
    /// The federation's server.
    pub server: NodeId,
    /// The round's participants; session client `i` is `participants[i]`.
    pub participants: Vec<NodeId>,
}

impl RoundIds {
    /// The session's server id, `NodeId(k)`.
    pub fn inner_server(&self) -> NodeId {
        NodeId(self.participants.len() as u32)
    }

    /// Session id of a federation node (`None` if not in the session).
    pub fn inner(&self, outer: NodeId) -> Option<NodeId> {
        if outer == self.server {
            return Some(self.inner_server());
        }
        self.participants
            .iter()
            .position(|p| *p == outer)
            .map(|i| NodeId(i as u32))
    }

    /// Federation id of a session node.
    pub fn outer(&self, inner: NodeId) -> Option<NodeId> {
        if inner == self.inner_server() {
            return Some(self.server);
        }
        self.participants.get(inner.index()).copied()
    }

    /// The federation's recipients of a session target.
    pub fn outer_target(&self, t: &Target) -> Target {
        let mut to = vec![];
        t.for_each(self.participants.len() + 1, |n| to.extend(self.outer(n)));
        match to.as_slice() {
            [one] => Target::One(*one),
            _ => Target::many(to),
        }
    }

    fn evidence(&self, e: Evidence) -> Evidence {
        Evidence {
            culprit: self.outer(e.culprit).unwrap_or(e.culprit),
            fault: e.fault,
        }
    }

    /// The participants' public keys in session order; `None` if one is
    /// missing from `publics` (indexed by position in `population`).
    fn publics(&self, population: &[NodeId], publics: &[PublicKey]) -> Option<Vec<PublicKey>> {
        self.participants
            .iter()
            .map(|p| {
                let pos = population.iter().position(|c| c == p)?;
                publics.get(pos).cloned()
            })
            .collect()
    }
}

/// The largest weight a client may give its vector in a session: 1 under
/// DP (every client counts once, as the accountant assumes), otherwise
/// `cfg.max_weight_per_client`.
pub fn max_weight(cfg: &FlConfig) -> u64 {
    if cfg.privacy.dp.is_some() {
        1
    } else {
        cfg.max_weight_per_client.max(1)
    }
}

/// The session configuration of `round` with `participants` clients and
/// vectors of `dim` values: threshold `⌊2k/3⌋ + 1`, the fixed-point code of
/// `cfg.privacy.secagg`, the narrowest whole-byte ring that cannot wrap
/// around, each phase bounded by `cfg.round_timeout`. The error explains
/// what to change.
pub fn session_config(
    cfg: &FlConfig,
    round: u64,
    participants: usize,
    dim: usize,
) -> Result<SecAggConfig, String> {
    let p = cfg.privacy.secagg;
    let fixed = FixedPoint::new(p.range, p.scale).ok_or_else(|| {
        "secure-aggregation range and scale must be finite and positive".to_string()
    })?;
    let weight = max_weight(cfg);
    let worst = participants as u128 * u128::from(weight) * u128::from(fixed.max_level().max(1));
    let needed = 128 - worst.leading_zeros();
    let bits = needed.div_ceil(8).max(1) * 8;
    if bits > 64 {
        return Err(format!(
            "secure aggregation of {participants} clients x weight {weight} x {} levels needs {needed} bits, more than 64; lower max_weight_per_client, the range or the scale",
            fixed.max_level()
        ));
    }
    let mut c = SecAggConfig::new(
        round,
        participants,
        recommended_threshold(participants),
        dim,
        bits,
        p.range,
        p.scale,
        weight,
    )
    .map_err(|e| e.to_string())?;
    c.round_timeout = cfg.round_timeout;
    Ok(c)
}

/// The coordinates every client submits in `round`: the shared random-k
/// mask for [`Compression::RandomK`], `None` (all of them) otherwise.
pub fn shared_indices(cfg: &FlConfig, round: u64, dim: usize) -> Option<Vec<u32>> {
    match cfg.uplink {
        Compression::RandomK { .. } => Some(random_k_indices(
            round_seed(cfg.mask_seed, round),
            dim,
            cfg.uplink.kept(dim),
        )),
        _ => None,
    }
}

/// The uplink compression clients apply before secure aggregation: the
/// sparsifier of `cfg.uplink` with raw values (the ring code replaces the
/// value quantiser).
pub fn uplink_mode(cfg: &FlConfig) -> Compression {
    match cfg.uplink {
        Compression::RandomK { fraction, .. } if cfg.privacy.secure_aggregation => {
            Compression::RandomK { fraction, bits: 32 }
        }
        m => m,
    }
}

/// A client's DP step under secure aggregation: clip `update` to L2 norm
/// `S` and add its share `N(0, (σ·S)²/t)` of the noise.
pub fn client_dp(
    cfg: &FlConfig,
    threshold: usize,
    update: &mut [f32],
    rng: &mut dwcp_core::rng::Rng,
) {
    if let Some(d) = cfg.privacy.dp {
        dp::clip_l2(update, d.clip);
        let std = d.noise_multiplier * f64::from(d.clip) / (threshold.max(1) as f64).sqrt();
        if std > 0.0 {
            dp::add_gaussian_noise(update, std, rng);
        }
    }
}

fn wrap(round: u64, msg: SecAggMessage) -> FlMessage {
    FlMessage::SecAgg(SecAggEnvelope { round, msg })
}

/// Moves a session engine's outputs into a federation engine's queue,
/// re-addressed; returns what the session delivered.
fn forward<E, R, V>(
    inner: &mut E,
    ids: &RoundIds,
    round: u64,
    out: &mut VecDeque<Output<FlMessage, R, V>>,
) -> Vec<E::Value>
where
    E: Engine<Message = SecAggMessage>,
{
    let mut delivered = vec![];
    while let Some(o) = inner.poll_output() {
        match o {
            Output::Send { to, msg } => out.push_back(Output::Send {
                to: ids.outer_target(&to),
                msg: wrap(round, msg),
            }),
            Output::Evidence(e) => out.push_back(Output::Evidence(ids.evidence(e))),
            Output::Deliver(v) => delivered.push(v),
            Output::Persist(_) => {}
        }
    }
    delivered
}

/// A client's part in one round's session.
pub struct ClientSession {
    /// The round.
    pub round: u64,
    ids: RoundIds,
    inner: SecAggClient,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("round", &self.round)
            .field("ids", &self.ids)
            .field("done", &self.inner.is_done())
            .finish()
    }
}

/// Everything a client needs to join a session.
#[derive(Clone, Copy)]
pub struct ClientKeys<'a> {
    /// The client's long-term signing key.
    pub secret: &'a SecretKey,
    /// Every client's public key, by position in `cfg.clients`.
    pub publics: &'a [PublicKey],
}

impl ClientSession {
    /// Joins `round` as `me` with `values` (the update, or its entries at
    /// the shared mask) and `weight`, sending the key advertisement.
    #[allow(clippy::too_many_arguments)]
    pub fn start<R, V>(
        cfg: &FlConfig,
        round: u64,
        ids: RoundIds,
        me: NodeId,
        keys: ClientKeys<'_>,
        seed: u64,
        input: ClientInput,
        now: Time,
        out: &mut VecDeque<Output<FlMessage, R, V>>,
    ) -> Result<ClientSession, String> {
        let sc = session_config(cfg, round, ids.participants.len(), input.values.len())?;
        let inner_me = ids
            .inner(me)
            .filter(|i| *i != ids.inner_server())
            .ok_or("not a participant of the round")?;
        let publics = ids
            .publics(&cfg.clients, keys.publics)
            .ok_or("a participant has no public key")?;
        let inner = SecAggClient::new(
            sc,
            inner_me,
            keys.secret.clone(),
            publics,
            seed ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let mut s = ClientSession { round, ids, inner };
        s.inner.handle_request(now, input);
        s.forward(out);
        Ok(s)
    }

    /// Feeds a message from the server.
    pub fn handle<R, V>(
        &mut self,
        now: Time,
        msg: SecAggMessage,
        out: &mut VecDeque<Output<FlMessage, R, V>>,
    ) -> Vec<ClientEvent> {
        let from = self.ids.inner_server();
        self.inner.handle_message(now, from, msg);
        self.forward(out)
    }

    fn forward<R, V>(&mut self, out: &mut VecDeque<Output<FlMessage, R, V>>) -> Vec<ClientEvent> {
        forward(&mut self.inner, &self.ids, self.round, out)
    }
}

/// The server's part in one round's session.
pub struct ServerSession {
    /// The round.
    pub round: u64,
    /// The session configuration.
    pub config: SecAggConfig,
    /// The submitted coordinates (`None`: all).
    pub indices: Option<Vec<u32>>,
    ids: RoundIds,
    inner: SecAggServer,
}

impl fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSession")
            .field("round", &self.round)
            .field("ids", &self.ids)
            .field("round_state", &self.inner.round())
            .finish()
    }
}

impl ServerSession {
    /// Opens the session of `round` for `ids.participants` over a model of
    /// `dim` parameters (its first phase's deadline starts now).
    pub fn start(
        cfg: &FlConfig,
        round: u64,
        ids: RoundIds,
        publics: &[PublicKey],
        dim: usize,
        now: Time,
    ) -> Result<ServerSession, String> {
        let indices = shared_indices(cfg, round, dim);
        let len = indices.as_ref().map_or(dim, Vec::len);
        let config = session_config(cfg, round, ids.participants.len(), len)?;
        let keys = ids
            .publics(&cfg.clients, publics)
            .ok_or("a participant has no public key")?;
        let mut inner = SecAggServer::new(config.clone(), keys);
        inner.handle_request(now, ServerRequest::Start);
        Ok(ServerSession {
            round,
            config,
            indices,
            ids,
            inner,
        })
    }

    /// Whether `from` takes part in this session.
    pub fn is_participant(&self, from: NodeId) -> bool {
        from != self.ids.server && self.ids.inner(from).is_some()
    }

    /// Feeds a message from participant `from`; returns the outcome once
    /// the session ends.
    pub fn handle<R, V>(
        &mut self,
        now: Time,
        from: NodeId,
        msg: SecAggMessage,
        out: &mut VecDeque<Output<FlMessage, R, V>>,
    ) -> Option<ServerOutcome> {
        let inner_from = self.ids.inner(from)?;
        self.inner.handle_message(now, inner_from, msg);
        self.forward(out)
    }

    /// Drives the phase deadline.
    pub fn timeout<R, V>(
        &mut self,
        now: Time,
        out: &mut VecDeque<Output<FlMessage, R, V>>,
    ) -> Option<ServerOutcome> {
        self.inner.handle_timeout(now);
        self.forward(out)
    }

    /// The current phase's deadline.
    pub fn deadline(&self) -> Option<Time> {
        self.inner.next_deadline()
    }

    fn forward<R, V>(
        &mut self,
        out: &mut VecDeque<Output<FlMessage, R, V>>,
    ) -> Option<ServerOutcome> {
        forward(&mut self.inner, &self.ids, self.round, out)
            .into_iter()
            .next()
    }

    /// The dense model delta from a recovered sum: the weighted mean of the
    /// submitted values, or under DP the plain sum divided by
    /// `denominator`, scattered to the submitted coordinates of `dim`.
    pub fn dense_delta(
        &self,
        sum: &AggregateSum,
        dim: usize,
        denominator: Option<f64>,
    ) -> Vec<f32> {
        let fixed = &self.config.fixed;
        let values: Vec<f32> = match denominator {
            Some(d) => sum
                .weighted_sum(fixed)
                .into_iter()
                .map(|s| (s / d.max(1e-12)) as f32)
                .collect(),
            None => sum.weighted_mean(fixed),
        };
        match &self.indices {
            None => {
                let mut v = values;
                v.resize(dim, 0.0);
                v
            }
            Some(idx) => {
                let mut dense = vec![0.0f32; dim];
                for (&i, v) in idx.iter().zip(values) {
                    if let Some(d) = dense.get_mut(i as usize) {
                        *d = v;
                    }
                }
                dense
            }
        }
    }

    /// The federation ids of the clients whose inputs are in `sum`.
    pub fn survivors(&self, sum: &AggregateSum) -> Vec<NodeId> {
        sum.survivors
            .iter()
            .filter_map(|i| self.ids.outer(*i))
            .collect()
    }
}
