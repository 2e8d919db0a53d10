//! The linear-mode replica: a `dwcp_pbft::Pbft` wrapped by the aggregation
//! layer. See the module docs of [`crate::linear`].

use super::bls::{BlsKeys, BlsWire};
use super::checkpoints::Checkpoints;
use super::config::LinearConfig;
use super::message::AggMessage;
use super::policy::AggPolicy;
use crate::batch::{BatchWire, Batcher};
use crate::compress::Codec;
use dwcp_core::rng::Rng;
use dwcp_core::{Engine, Evidence, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{PublicKey, SecretKey};
use dwcp_pbft::{ConfigError, Message, Pbft, Record, Request, VoteCertificate, VotePhase};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The output type of a [`LinearPbft`] replica.
pub type LinearOutput = Output<AggMessage, Record, Request>;

/// What the aggregation layer did, for tests and the lab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinearStats {
    /// Votes sent to everybody because their slot fell back to all-to-all.
    pub fallback_votes: u64,
    /// Certificates re-sent by this collector to a replica that
    /// retransmitted its vote.
    pub certificates_resent: u64,
    /// Checkpoint certificates this replica assembled as collector.
    pub checkpoint_certs: u64,
    /// Own checkpoints re-sent (to the collector, then to everybody).
    pub checkpoint_resends: u64,
    /// Request envelopes sent.
    pub request_envelopes: u64,
    /// Messages sent compressed.
    pub compressed: u64,
}

/// A PBFT replica whose votes and checkpoints go through collectors. See
/// [`crate::linear`].
#[derive(Debug)]
pub struct LinearPbft {
    pub(crate) inner: Pbft<AggPolicy>,
    pub(crate) cfg: LinearConfig,
    pub(crate) id: NodeId,
    pub(crate) out: VecDeque<LinearOutput>,
    /// Sends of each own vote, by `(seq, phase, view)`.
    vote_sends: BTreeMap<(u64, VotePhase, u64), u8>,
    /// Certificates this replica relayed as collector, by `(seq, phase)`.
    certs: BTreeMap<(u64, VotePhase), VoteCertificate>,
    /// `(seq, phase, replica)` whose vote reached this collector.
    seen: BTreeSet<(u64, VotePhase, NodeId)>,
    /// `(seq, phase, replica)` already sent a certificate again.
    resent: BTreeSet<(u64, VotePhase, NodeId)>,
    pub(crate) ckpt: Checkpoints,
    forward: BTreeMap<NodeId, Batcher<Request>>,
    pub(crate) stats: LinearStats,
    pub(crate) bls: Option<BlsWire>,
}

impl LinearPbft {
    /// A replica: `publics[i]` is replica `i`'s sr25519 key, `rng` from
    /// `dwcp_core::rng::derive(seed, id)`.
    pub fn new(
        cfg: LinearConfig,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        rng: Rng,
    ) -> Result<LinearPbft, ConfigError> {
        if cfg.bls_certificates {
            return Err(ConfigError::Invalid(
                "bls_certificates needs BLS keys: use LinearPbft::with_bls",
            ));
        }
        Self::build(cfg, id, key, publics, rng, None)
    }

    /// A replica that puts BLS aggregate decision certificates on the wire
    /// (see [`super::bls`]); `bls.publics[i]` is replica `i`'s BLS key.
    pub fn with_bls(
        mut cfg: LinearConfig,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        bls: BlsKeys,
        rng: Rng,
    ) -> Result<LinearPbft, ConfigError> {
        if bls.publics.len() != cfg.pbft.n
            || bls.publics.get(id.index()) != Some(&bls.secret.public())
        {
            return Err(ConfigError::Invalid("BLS keys do not match n and id"));
        }
        cfg.bls_certificates = true;
        Self::build(cfg, id, key, publics, rng, Some(BlsWire::new(bls)))
    }

    fn build(
        cfg: LinearConfig,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        rng: Rng,
        bls: Option<BlsWire>,
    ) -> Result<LinearPbft, ConfigError> {
        cfg.validate()?;
        let committee = cfg.committee()?;
        let policy = AggPolicy::new(committee.clone(), cfg.voting).with_fast_path(cfg.fast_path);
        let inner = Pbft::with_policy(cfg.pbft.clone(), policy, id, key, publics.clone(), rng)?;
        let ckpt = Checkpoints::new(&cfg, committee, publics);
        Ok(LinearPbft {
            inner,
            cfg,
            id,
            out: VecDeque::new(),
            vote_sends: BTreeMap::new(),
            certs: BTreeMap::new(),
            seen: BTreeSet::new(),
            resent: BTreeSet::new(),
            ckpt,
            forward: BTreeMap::new(),
            stats: LinearStats::default(),
            bls,
        })
    }

    /// The wrapped PBFT replica (its stats, view, state digest).
    pub fn pbft(&self) -> &Pbft<AggPolicy> {
        &self.inner
    }

    /// The aggregation layer's counters.
    pub fn stats(&self) -> &LinearStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &LinearConfig {
        &self.cfg
    }

    pub(crate) fn send(&mut self, to: Target, msg: AggMessage) {
        if to.count(self.cfg.pbft.n) > 0 {
            self.out.push_back(Output::Send { to, msg });
        }
    }

    pub(crate) fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        self.out
            .push_back(Output::Evidence(Evidence { culprit, fault }));
    }

    pub(crate) fn collector(&self) -> NodeId {
        use dwcp_pbft::Policy;
        self.inner.policy().primary(self.inner.view())
    }

    pub(crate) fn stable(&self) -> u64 {
        self.inner.stats().stable_checkpoint
    }

    /// Feeds one PBFT message to the inner replica.
    pub(crate) fn feed(&mut self, now: Time, from: NodeId, msg: Message) {
        self.inner.handle_message(now, from, msg);
    }

    /// Routes every pending output of the inner replica, then flushes due
    /// request envelopes and garbage-collects.
    pub(crate) fn pump(&mut self, now: Time) {
        while let Some(o) = self.inner.poll_output() {
            match o {
                Output::Send { to, msg } => self.route(now, to, msg),
                other => self.out.push_back(match other {
                    Output::Persist(r) => Output::Persist(r),
                    Output::Deliver(v) => Output::Deliver(v),
                    Output::Evidence(e) => Output::Evidence(e),
                    Output::Send { .. } => continue,
                }),
            }
        }
        self.flush(now);
        self.collect_garbage();
    }

    fn route(&mut self, now: Time, to: Target, msg: Message) {
        match msg {
            Message::Vote(v) => {
                let b = &v.body;
                let sends = self.vote_sends.entry((b.seq, b.phase, b.view)).or_insert(0);
                *sends = sends.saturating_add(1);
                let fallback = self.cfg.fallback_after > 0 && *sends >= self.cfg.fallback_after;
                let to = match to {
                    Target::One(_) if fallback => {
                        self.stats.fallback_votes += 1;
                        Target::all_but(self.id)
                    }
                    t => t,
                };
                let v = match to {
                    Target::One(_) => self.bls_vote_out(to.clone(), v),
                    _ => Some(v),
                };
                if let Some(v) = v {
                    self.send(to, AggMessage::Pbft(Message::Vote(v)));
                }
            }
            Message::Certificate(c) => {
                self.certs.insert((c.seq, c.phase), c.clone());
                if let Some(c) = self.bls_cert_out(&to, c) {
                    self.send(to, AggMessage::Pbft(Message::Certificate(c)));
                }
            }
            Message::Checkpoint(c) if self.cfg.collect_checkpoints => self.ckpt_own(now, c),
            Message::Request(r) => match to {
                Target::One(dest) => {
                    self.forward
                        .entry(dest)
                        .or_insert_with(|| Batcher::new(self.cfg.forward.clone()))
                        .push(now, r);
                }
                to => self.send(to, AggMessage::Pbft(Message::Request(r))),
            },
            m @ Message::PrePrepare { .. } => {
                let raw = codec::encoded_len(&m);
                if self.cfg.codec != Codec::None && raw >= self.cfg.compress_above {
                    self.stats.compressed += 1;
                    let w = BatchWire::pack(std::slice::from_ref(&m), self.cfg.codec);
                    self.send(to, AggMessage::Compressed(w));
                } else {
                    self.send(to, AggMessage::Pbft(m));
                }
            }
            m => self.send(to, AggMessage::Pbft(m)),
        }
    }

    /// Sends the request envelopes that are full or due.
    fn flush(&mut self, now: Time) {
        let mut ready = vec![];
        for (dest, b) in self.forward.iter_mut() {
            if let Some(batch) = b.poll(now) {
                ready.push((*dest, batch));
            }
        }
        for (dest, batch) in ready {
            let raw = codec::encoded_len(&batch);
            let c = if raw >= self.cfg.compress_above {
                self.cfg.codec
            } else {
                Codec::None
            };
            self.stats.request_envelopes += 1;
            self.send(
                Target::One(dest),
                AggMessage::Requests(BatchWire::pack(&batch, c)),
            );
        }
    }

    fn collect_garbage(&mut self) {
        let low = self.stable();
        let above = (low.saturating_add(1), VotePhase::Prepare);
        if self
            .vote_sends
            .first_key_value()
            .is_some_and(|(k, _)| k.0 <= low)
        {
            self.vote_sends = self.vote_sends.split_off(&(above.0, above.1, 0));
        }
        if self
            .certs
            .first_key_value()
            .is_some_and(|(k, _)| k.0 <= low)
        {
            self.certs = self.certs.split_off(&above);
        }
        for set in [&mut self.seen, &mut self.resent] {
            if set.first().is_some_and(|k| k.0 <= low) {
                *set = set.split_off(&(above.0, above.1, NodeId(0)));
            }
        }
        self.ckpt.advance(low);
        if let Some(b) = &mut self.bls {
            b.collect(low);
        }
    }

    pub(crate) fn on_vote_seen(&mut self, from: NodeId, msg: &Message) {
        let Message::Vote(v) = msg else { return };
        let b = &v.body;
        let low = self.stable();
        let horizon = low.saturating_add(self.cfg.pbft.window.saturating_mul(2));
        if b.replica != from || b.seq <= low || b.seq > horizon {
            return;
        }
        let key = (b.seq, b.phase, from);
        // Only the collector keeps certificates; only a repeated vote (PBFT
        // retransmits the votes of stuck slots) means the voter missed one.
        let Some(c) = self.certs.get(&(b.seq, b.phase)) else {
            if self.collector() == self.id {
                self.seen.insert(key);
            }
            return;
        };
        if self.seen.insert(key) || c.view != b.view || !self.resent.insert(key) {
            return;
        }
        let c = c.clone();
        self.stats.certificates_resent += 1;
        self.send(Target::One(from), AggMessage::Pbft(Message::Certificate(c)));
    }

    fn on_requests(&mut self, now: Time, from: NodeId, w: BatchWire) {
        match w.unpack::<Request>(self.cfg.forward.max_items) {
            Ok(reqs) => {
                for r in reqs {
                    self.feed(now, from, Message::Request(r));
                }
            }
            Err(_) => self.evidence(from, Fault::Protocol("malformed request envelope")),
        }
    }

    fn on_compressed(&mut self, now: Time, from: NodeId, w: BatchWire) {
        match w.unpack::<Message>(1).as_deref() {
            Ok([m @ Message::PrePrepare { .. }]) => self.feed(now, from, m.clone()),
            _ => self.evidence(from, Fault::Protocol("malformed compressed pre-prepare")),
        }
    }
}

impl Engine for LinearPbft {
    type Message = AggMessage;
    type Request = Request;
    type Record = Record;
    type Value = Request;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: AggMessage) {
        if from.index() >= self.cfg.pbft.n || from == self.id {
            return;
        }
        match msg {
            AggMessage::Pbft(m) => {
                self.on_vote_seen(from, &m);
                if let Message::Checkpoint(c) = &m
                    && self.cfg.collect_checkpoints
                {
                    self.ckpt_share(from, c);
                }
                self.feed(now, from, m);
            }
            AggMessage::Requests(w) => self.on_requests(now, from, w),
            AggMessage::Compressed(w) => self.on_compressed(now, from, w),
            AggMessage::CheckpointCert { seq, state, cert } => {
                self.ckpt_cert(now, from, seq, state, cert)
            }
            AggMessage::BlsVote { vote, share } => self.bls_vote_in(now, from, vote, share),
            AggMessage::BlsCertificate {
                phase,
                view,
                seq,
                digest,
                cert,
            } => self.bls_cert_in(now, from, (phase, view, seq, digest), cert),
        }
        self.pump(now);
    }

    fn handle_request(&mut self, now: Time, req: Request) {
        self.inner.handle_request(now, req);
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.inner.next_deadline().is_some_and(|t| t <= now) {
            self.inner.handle_timeout(now);
        }
        self.ckpt_retry(now);
        self.pump(now);
    }

    fn poll_output(&mut self) -> Option<LinearOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        let forward = self.forward.values().filter_map(Batcher::deadline).min();
        [self.inner.next_deadline(), forward, self.ckpt.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.inner.restore(now, records);
        self.pump(now);
    }
}
