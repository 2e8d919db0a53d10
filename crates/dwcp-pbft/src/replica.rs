//! The replica: state, construction, output helpers and the `Engine` impl.
//! The handlers live in `normal`, `checkpoint`, `viewchange`, `catchup` and
//! `persist`, each an `impl` block on [`Pbft`].

use crate::config::{ConfigError, PbftConfig};
use crate::log::{Log, Place};
use crate::message::{Message, Request};
use crate::persist::{Record, SignGuard};
use crate::policy::{ClassicPolicy, Policy};
use crate::requests::Requests;
use crate::state::Execution;
use crate::viewchange::ViewChangeState;
use dwcp_core::rng::Rng;
use dwcp_core::{Duration, Engine, Evidence, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{PublicKey, SecretKey};
use std::collections::{BTreeMap, VecDeque};

/// The output type of a [`Pbft`] replica.
pub type PbftOutput = Output<Message, Record, Request>;

/// Counters and positions, for tests, dashboards and the lab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Current view.
    pub view: u64,
    /// Whether the replica is active in it (false during a view change).
    pub active: bool,
    /// View changes this replica started.
    pub view_changes: u64,
    /// Last executed sequence number.
    pub last_executed: u64,
    /// Stable checkpoint (low watermark).
    pub stable_checkpoint: u64,
    /// Requests delivered.
    pub delivered: u64,
    /// Requests waiting to be ordered.
    pub pending: usize,
    /// Evidence records emitted.
    pub evidence: u64,
    /// Batches executed from catch-up data rather than the local log.
    pub caught_up: u64,
    /// Slots this replica decided on the fast path (a fast quorum of
    /// prepares, [`crate::fast`]).
    pub fast_decisions: u64,
    /// Slots where this replica, as collector, waited in vain for a fast
    /// quorum and fell back to the slow path.
    pub fast_fallbacks: u64,
}

/// A PBFT replica; see the crate docs for how to drive it.
#[derive(Debug)]
pub struct Pbft<P: Policy = ClassicPolicy> {
    pub(crate) cfg: PbftConfig,
    pub(crate) policy: P,
    pub(crate) id: NodeId,
    pub(crate) key: SecretKey,
    pub(crate) publics: Vec<PublicKey>,
    pub(crate) rng: Rng,
    pub(crate) out: VecDeque<PbftOutput>,
    pub(crate) view: u64,
    pub(crate) active: bool,
    pub(crate) log: Log,
    pub(crate) checkpoints:
        BTreeMap<u64, BTreeMap<NodeId, (dwcp_core::Digest, dwcp_crypto::Signature)>>,
    pub(crate) exec: Execution,
    pub(crate) reqs: Requests,
    pub(crate) vc: ViewChangeState,
    pub(crate) guard: SignGuard,
    pub(crate) early: BTreeMap<NodeId, VecDeque<Message>>,
    /// Per replica, the stable checkpoints it vouched for in time (see
    /// [`Pbft::checkpoint_votes`]), and who already counted for the current
    /// stable checkpoint.
    pub(crate) vouched: Vec<u64>,
    pub(crate) vouched_now: std::collections::BTreeSet<NodeId>,
    /// Next sequence number to propose (as primary).
    pub(crate) next_seq: u64,
    pub(crate) status_at: Option<Time>,
    /// While changing views: when to re-broadcast our clients' requests.
    pub(crate) resend_at: Option<Time>,
    pub(crate) stats: Stats,
    /// This replica's share signer for endorsed proposals, if it is a
    /// primary-group member ([`crate::endorse`]).
    pub(crate) endorser: Option<crate::endorse::SharedEndorser>,
}

impl Pbft<ClassicPolicy> {
    /// A classic PBFT replica (round-robin primary, `2f + 1` quorums,
    /// all-to-all votes). `publics[i]` is replica `i`'s key.
    pub fn new(
        config: PbftConfig,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        rng: Rng,
    ) -> Result<Self, ConfigError> {
        let policy = ClassicPolicy::new(config.committee()?);
        Self::with_policy(config, policy, id, key, publics, rng)
    }
}

impl<P: Policy> Pbft<P> {
    /// A replica with a custom [`Policy`] (weighted quorums, linear voting…).
    pub fn with_policy(
        config: PbftConfig,
        policy: P,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        rng: Rng,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        if policy.n() != config.n || publics.len() != config.n {
            return Err(ConfigError::Invalid(
                "policy, keys and config disagree on n",
            ));
        }
        if id.index() >= config.n {
            return Err(ConfigError::Invalid("id outside the committee"));
        }
        if publics.get(id.index()) != Some(&key.public()) {
            return Err(ConfigError::Invalid(
                "secret key does not match publics[id]",
            ));
        }
        let status_at = config.status_interval.map(|d| Time::ZERO + d);
        let backoff = config.view_change_timeout;
        let window = config.window;
        let n = config.n;
        Ok(Pbft {
            cfg: config,
            policy,
            id,
            key,
            publics,
            rng,
            out: VecDeque::new(),
            view: 0,
            active: true,
            log: Log::new(window),
            checkpoints: BTreeMap::new(),
            exec: Execution::new(),
            reqs: Requests::default(),
            vc: ViewChangeState::new(backoff),
            guard: SignGuard::default(),
            early: BTreeMap::new(),
            vouched: vec![0; n],
            vouched_now: std::collections::BTreeSet::new(),
            next_seq: 1,
            status_at,
            resend_at: None,
            stats: Stats {
                active: true,
                ..Stats::default()
            },
            endorser: None,
        })
    }

    /// The current view.
    pub fn view(&self) -> u64 {
        self.view
    }

    /// Whether this replica is the primary of its current view.
    pub fn is_primary(&self) -> bool {
        self.policy.primary(self.view) == self.id
    }

    /// Whether the replica is active in its view (not changing views).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// The configuration.
    pub fn config(&self) -> &PbftConfig {
        &self.cfg
    }

    /// Current counters and positions.
    pub fn stats(&self) -> Stats {
        Stats {
            view: self.view,
            active: self.active,
            last_executed: self.exec.last,
            stable_checkpoint: self.log.low(),
            pending: self.reqs.len(),
            ..self.stats.clone()
        }
    }

    /// Per replica (indexed by id), how many stable checkpoints it vouched
    /// for in time: this replica received its valid checkpoint message with
    /// the stable state before the next checkpoint became stable (its own
    /// included). What a reputation layer counts as timely votes; not
    /// persisted (a restarted replica counts from zero).
    pub fn checkpoint_votes(&self) -> &[u64] {
        &self.vouched
    }

    /// The state digest after the last executed batch.
    pub fn state_digest(&self) -> dwcp_core::Digest {
        self.exec.state
    }

    // ---- output helpers -------------------------------------------------

    pub(crate) fn send(&mut self, to: Target, msg: Message) {
        if to.count(self.cfg.n) > 0 {
            self.out.push_back(Output::Send { to, msg });
        }
    }

    pub(crate) fn broadcast(&mut self, msg: Message) {
        self.send(Target::all_but(self.id), msg);
    }

    pub(crate) fn persist(&mut self, rec: Record) {
        self.out.push_back(Output::Persist(rec));
    }

    pub(crate) fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        self.stats.evidence += 1;
        self.out
            .push_back(Output::Evidence(Evidence { culprit, fault }));
    }

    pub(crate) fn equivocation<T: serde::Serialize>(
        &mut self,
        culprit: NodeId,
        first: &T,
        second: &T,
    ) {
        self.evidence(
            culprit,
            Fault::Equivocation {
                first: codec::encode(first),
                second: codec::encode(second),
            },
        );
    }

    /// The timeout a backup gives a request (grows with the view-change
    /// back-off so that a slow but correct primary eventually keeps its view).
    pub(crate) fn request_timeout(&self) -> Duration {
        self.cfg.request_timeout.max(self.vc.backoff)
    }

    /// Where `(view, seq)` stands: now, early (buffer) or drop.
    pub(crate) fn place(&self, view: u64, seq: u64) -> Place {
        if view < self.view || view > self.view.saturating_add(self.cfg.max_views_ahead) {
            return Place::Drop;
        }
        match self.log.place(seq) {
            Place::Drop => Place::Drop,
            _ if view > self.view || !self.active => Place::Early,
            p => p,
        }
    }

    /// Keeps an early message from `from`, dropping that peer's oldest
    /// buffered message beyond the bound.
    pub(crate) fn buffer(&mut self, from: NodeId, msg: Message) {
        let q = self.early.entry(from).or_default();
        if q.len() >= self.cfg.buffer_per_peer {
            q.pop_front();
        }
        q.push_back(msg);
    }

    /// Re-handles every buffered message (after the view or the watermarks
    /// moved); those still early are buffered again.
    pub(crate) fn replay_early(&mut self, now: Time) {
        let early = std::mem::take(&mut self.early);
        for (from, msgs) in early {
            for msg in msgs {
                self.dispatch(now, from, msg);
            }
        }
    }

    pub(crate) fn dispatch(&mut self, now: Time, from: NodeId, msg: Message) {
        if from.index() >= self.cfg.n || from == self.id {
            return;
        }
        match msg {
            Message::Request(req) if !self.request_ok(&req) => {
                self.evidence(from, Fault::InvalidSignature)
            }
            Message::Request(req) => self.on_request(now, req, false),
            Message::PrePrepare { pre_prepare, batch } => {
                self.on_pre_prepare(now, from, pre_prepare, batch)
            }
            Message::Vote(v) => self.on_vote(now, from, v),
            Message::Certificate(c) => self.on_certificate(now, from, c),
            Message::Checkpoint(c) => self.on_checkpoint(now, from, c),
            Message::ViewChange(v) => self.on_view_change(now, from, v),
            Message::NewView(v) => self.on_new_view(now, from, v),
            Message::Status(s) => self.on_status(now, from, s),
            Message::CatchUp(c) => self.on_catch_up(now, from, c),
            Message::Endorsement(e) => self.on_endorsement(now, from, e),
        }
    }

    /// Whether a request is acceptable: signed by its client when the
    /// configuration lists client keys.
    pub(crate) fn request_ok(&self, req: &Request) -> bool {
        self.cfg
            .clients
            .as_ref()
            .is_none_or(|keys| req.verify(keys))
    }

    /// A request from a client (`local`) or forwarded by a peer.
    pub(crate) fn on_request(&mut self, now: Time, req: Request, local: bool) {
        let key = req.key();
        if self.exec.delivered.contains(&key) {
            return;
        }
        let fresh = self
            .reqs
            .insert(req.clone(), now, local, self.cfg.max_pending);
        if fresh && local && !self.active {
            // Nobody knows who will order it: tell everybody.
            self.broadcast(Message::Request(req));
        } else if fresh && local && !self.is_primary() {
            self.send(
                Target::One(self.policy.primary(self.view)),
                Message::Request(req),
            );
        }
        self.arm_request_timer(now);
        self.maybe_propose(now);
    }

    /// Starts the request timer if a backup is waiting for requests.
    pub(crate) fn arm_request_timer(&mut self, now: Time) {
        if self.active && !self.is_primary() && !self.reqs.is_empty() && self.vc.timer.is_none() {
            self.vc.timer = Some(now + self.request_timeout());
        }
    }

    fn on_timer(&mut self, now: Time) {
        if self.vc.timer.is_some_and(|t| t <= now) {
            self.vc.timer = None;
            if !self.active || !self.is_primary() {
                self.start_view_change(now, self.view.saturating_add(1));
            }
        }
        if !self.active && self.resend_at.is_some_and(|t| t <= now) {
            // Stuck in a view change (perhaps alone, while the others are
            // happy in an older view): make sure our clients' requests reach
            // whoever is ordering.
            self.resend_at = Some(now + self.cfg.request_timeout);
            for req in self.reqs.local(self.cfg.max_batch) {
                self.broadcast(Message::Request(req));
            }
        }
        if let (Some(at), Some(every)) = (self.status_at, self.cfg.status_interval)
            && at <= now
        {
            self.status_at = Some(now + every);
            self.probe_random_peer();
        }
        if self.retransmit_deadline().is_some_and(|t| t <= now) {
            self.retransmit(now);
        }
        if self.fast_deadline().is_some_and(|t| t <= now) {
            self.fast_fall_back(now);
        }
        self.maybe_propose(now);
    }
}

impl<P: Policy> Engine for Pbft<P> {
    type Message = Message;
    type Request = Request;
    type Record = Record;
    type Value = Request;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Message) {
        self.dispatch(now, from, msg);
    }

    fn handle_request(&mut self, now: Time, req: Request) {
        if self.request_ok(&req) {
            self.on_request(now, req, true);
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        self.on_timer(now);
    }

    fn poll_output(&mut self) -> Option<PbftOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        let batch = (self.active && self.is_primary() && self.next_seq <= self.log.high())
            .then(|| {
                self.reqs
                    .oldest_unproposed()
                    .map(|t| t + self.cfg.batch_timeout)
            })
            .flatten();
        let resend = self.resend_at.filter(|_| !self.active);
        [
            self.vc.timer,
            self.status_at,
            batch,
            resend,
            self.retransmit_deadline(),
            self.fast_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.restore_records(now, records);
    }
}
