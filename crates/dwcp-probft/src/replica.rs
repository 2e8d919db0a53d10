//! The replica: state, construction, the [`Engine`] implementation, input
//! dispatch, timers and output helpers. The protocol steps live in
//! `normal.rs`, `viewchange.rs`, `catchup.rs` and `persist.rs`.

use crate::catchup::CatchUp;
use crate::config::{ConfigError, ProbftConfig};
use crate::instance::Instance;
use crate::message::{Message, PreparedCert, Request};
use crate::persist::{Record, SignGuard};
use crate::requests::Requests;
use crate::verify::{Params, leader_of};
use crate::viewchange::ViewChanges;
use dwcp_core::rng::Rng;
use dwcp_core::{Digest, Duration, Engine, Evidence, Fault, NodeId, Output, Target, Time};
use dwcp_crypto::{PublicKey, SecretKey};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What a [`Probft`] replica outputs.
pub type ProbftOutput = Output<Message, Record, Request>;

/// Counters of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Slots this replica decided through its own quorums.
    pub decided_slots: u64,
    /// Slots adopted from `f + 1` matching catch-up answers.
    pub adopted_slots: u64,
    /// Requests delivered.
    pub delivered: u64,
    /// View-changes this replica sent.
    pub view_changes: u64,
    /// Views entered through a new-view.
    pub new_views: u64,
    /// Evidence outputs.
    pub evidence: u64,
    /// Leader equivocations detected (two signed headers for one slot).
    pub equivocations_seen: u64,
    /// Catch-up requests sent.
    pub fetches: u64,
}

/// A slot this replica decided (or adopted), kept for catch-up and
/// view-changes.
#[derive(Clone, Debug)]
pub(crate) struct DecidedSlot {
    pub digest: Digest,
    pub batch: Vec<Request>,
    /// The prepared certificate it decided with (`None` when adopted).
    pub cert: Option<PreparedCert>,
}

/// Whether a message for `(view, slot)` can be handled now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relevance {
    Now,
    Later,
    Stale,
}

/// One ProBFT replica. See the crate docs for how to drive it.
pub struct Probft {
    pub(crate) cfg: ProbftConfig,
    pub(crate) id: NodeId,
    pub(crate) key: SecretKey,
    pub(crate) publics: Vec<PublicKey>,
    pub(crate) sample: usize,
    pub(crate) quorum: usize,
    pub(crate) now: Time,
    pub(crate) view: u64,
    pub(crate) active: bool,
    /// First slot a fresh proposal of this view may take (slots below were
    /// re-proposed by its new-view).
    pub(crate) view_start: u64,
    /// Lowest slot not yet delivered.
    pub(crate) next_slot: u64,
    pub(crate) instances: BTreeMap<(u64, u64), Instance>,
    /// Highest-view prepared certificate per slot.
    pub(crate) certs: BTreeMap<u64, PreparedCert>,
    pub(crate) decided: BTreeMap<u64, DecidedSlot>,
    pub(crate) delivered: BTreeSet<(u64, u64)>,
    pub(crate) requests: Requests,
    pub(crate) guard: SignGuard,
    pub(crate) vc: ViewChanges,
    pub(crate) catchup: CatchUp,
    buffer: Vec<VecDeque<Message>>,
    pub(crate) progress_since: Option<Time>,
    /// Set when the current view's leader was caught equivocating.
    pub(crate) suspect_leader: bool,
    /// Set whenever the view or the next slot moves (buffered messages may
    /// have become relevant).
    pub(crate) moved: bool,
    out: VecDeque<ProbftOutput>,
    pub(crate) stats: Stats,
}

impl Probft {
    /// A replica `id` of the committee whose public keys are `publics`
    /// (indexed by `NodeId`), signing with `key`. `rng` must be seeded
    /// (`dwcp_core::rng::derive(seed, id)`); the protocol itself draws
    /// nothing from it, all randomness coming from the VRF.
    pub fn new(
        cfg: ProbftConfig,
        id: NodeId,
        key: SecretKey,
        publics: Vec<PublicKey>,
        _rng: Rng,
    ) -> Result<Probft, ConfigError> {
        cfg.validate()?;
        if publics.len() != cfg.n {
            return Err(ConfigError::Invalid("publics must hold exactly n keys"));
        }
        if id.index() >= cfg.n {
            return Err(ConfigError::Invalid("replica id outside 0..n"));
        }
        if publics.get(id.index()) != Some(&key.public()) {
            return Err(ConfigError::Invalid(
                "secret key does not match publics[id]",
            ));
        }
        let n = cfg.n;
        Ok(Probft {
            sample: cfg.sample_size(),
            quorum: cfg.quorum(),
            id,
            key,
            publics,
            now: Time::ZERO,
            view: 0,
            active: true,
            view_start: 0,
            next_slot: 0,
            instances: BTreeMap::new(),
            certs: BTreeMap::new(),
            decided: BTreeMap::new(),
            delivered: BTreeSet::new(),
            requests: Requests::default(),
            guard: SignGuard::default(),
            vc: ViewChanges::default(),
            catchup: CatchUp::new(n),
            buffer: vec![VecDeque::new(); n],
            progress_since: None,
            suspect_leader: false,
            moved: false,
            out: VecDeque::new(),
            stats: Stats::default(),
            cfg,
        })
    }

    /// The current view.
    pub fn view(&self) -> u64 {
        self.view
    }

    /// Whether the replica is working in its view (false during a view change).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether this replica leads its current view.
    pub fn is_leader(&self) -> bool {
        self.leader() == self.id
    }

    /// The lowest slot not yet delivered.
    pub fn next_slot(&self) -> u64 {
        self.next_slot
    }

    /// The digest decided at `slot`, while it is retained.
    pub fn decided_digest(&self, slot: u64) -> Option<Digest> {
        self.decided.get(&slot).map(|d| d.digest)
    }

    /// The configuration.
    pub fn config(&self) -> &ProbftConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// `(s, q)`: sample size and quorum.
    pub fn sizes(&self) -> (usize, usize) {
        (self.sample, self.quorum)
    }

    pub(crate) fn n(&self) -> usize {
        self.cfg.n
    }

    pub(crate) fn leader(&self) -> NodeId {
        leader_of(self.view, self.n())
    }

    pub(crate) fn params(&self) -> Params<'_> {
        Params {
            publics: &self.publics,
            sample: self.sample,
            quorum: self.quorum,
            max_batch: self.cfg.max_batch,
            max_certs: (self.cfg.history + self.cfg.window) as usize,
            clients: self.cfg.clients.as_deref(),
        }
    }

    // ----- outputs -----

    pub(crate) fn send(&mut self, to: Target, msg: Message) {
        self.out.push_back(Output::Send { to, msg });
    }

    pub(crate) fn persist(&mut self, record: Record) {
        self.out.push_back(Output::Persist(record));
    }

    pub(crate) fn deliver(&mut self, req: Request) {
        self.stats.delivered += 1;
        self.out.push_back(Output::Deliver(req));
    }

    /// Whether a request is acceptable: signed by its client when the
    /// configuration lists client keys.
    pub(crate) fn request_ok(&self, req: &Request) -> bool {
        self.cfg
            .clients
            .as_ref()
            .is_none_or(|keys| req.verify(keys))
    }

    pub(crate) fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        self.stats.evidence += 1;
        self.out
            .push_back(Output::Evidence(Evidence { culprit, fault }));
    }

    // ----- relevance and buffering -----

    pub(crate) fn relevance(&self, view: u64, slot: u64) -> Relevance {
        if view < self.view || view > self.view.saturating_add(self.cfg.max_views_ahead) {
            return Relevance::Stale;
        }
        if view > self.view || !self.active {
            return Relevance::Later;
        }
        if slot.saturating_add(self.cfg.history) < self.next_slot {
            return Relevance::Stale;
        }
        if slot >= self.next_slot.saturating_add(self.cfg.window) {
            return Relevance::Later;
        }
        Relevance::Now
    }

    pub(crate) fn buffer(&mut self, from: NodeId, msg: Message) {
        let cap = self.cfg.buffer_per_peer;
        if let Some(q) = self.buffer.get_mut(from.index()) {
            if q.len() >= cap {
                q.pop_front();
            }
            q.push_back(msg);
        }
    }

    /// Re-handles buffered messages while the view or slot keeps moving.
    fn replay(&mut self) {
        for _ in 0..64 {
            if !std::mem::take(&mut self.moved) {
                return;
            }
            let queued: Vec<(NodeId, VecDeque<Message>)> = self
                .buffer
                .iter_mut()
                .enumerate()
                .filter(|(_, q)| !q.is_empty())
                .map(|(i, q)| (NodeId(i as u32), std::mem::take(q)))
                .collect();
            for (from, msgs) in queued {
                for m in msgs {
                    self.dispatch(from, m);
                }
            }
        }
    }

    fn dispatch(&mut self, from: NodeId, msg: Message) {
        if from.index() >= self.n() || from == self.id {
            return;
        }
        match msg {
            Message::Request(r) if !self.request_ok(&r) => {
                self.evidence(from, Fault::InvalidSignature);
            }
            Message::Request(r) => self.on_forwarded_request(r),
            Message::Propose(p) => self.on_propose(from, p),
            Message::Vote(v) => self.on_vote(from, v),
            Message::ViewChange(v) => self.on_view_change(from, v),
            Message::NewView(v) => self.on_new_view(from, v),
            Message::Fetch { slot } => self.on_fetch(from, slot),
            Message::Decided { slot, batch, next } => self.on_decided(from, slot, batch, next),
        }
    }

    /// Housekeeping after every input: leader suspicion, buffered messages,
    /// the progress timer, proposing, catch-up arming.
    fn after(&mut self) {
        if self.suspect_leader && self.active {
            self.suspect_leader = false;
            self.start_view_change(self.view + 1);
        }
        self.replay();
        self.maybe_propose();
        let waiting = self.waiting();
        match (waiting, self.progress_since) {
            (true, None) => self.progress_since = Some(self.now),
            (false, _) => self.progress_since = None,
            _ => {}
        }
        self.arm_catch_up();
    }

    /// Whether something should get decided: a pending request, or an
    /// accepted proposal of this view not yet decided.
    fn waiting(&self) -> bool {
        !self.requests.is_empty()
            || self
                .instances
                .range((self.view, self.next_slot)..=(self.view, u64::MAX))
                .any(|(_, i)| i.accepted.is_some() && !i.decided)
    }

    pub(crate) fn view_change_timeout(&self) -> Duration {
        let base = self.cfg.view_change_timeout;
        let factor = 1u32
            .checked_shl(self.vc.attempts.min(16))
            .unwrap_or(u32::MAX);
        base.saturating_mul(factor)
            .min(self.cfg.max_view_change_timeout)
    }

    /// Escalation `view_change_timeout` after a view-change quorum was
    /// held, else retransmission of the own view-change.
    fn view_change_deadline(&self) -> Time {
        self.vc.quorum_since.unwrap_or(self.vc.started) + self.view_change_timeout()
    }

    fn batch_deadline(&self) -> Option<Time> {
        if !self.can_propose() || self.requests.waiting() == 0 {
            return None;
        }
        if self.requests.waiting() >= self.cfg.max_batch {
            return Some(self.now);
        }
        self.requests
            .oldest_waiting()
            .map(|t| t + self.cfg.batch_timeout)
    }
}

impl Engine for Probft {
    type Message = Message;
    type Request = Request;
    type Record = Record;
    type Value = Request;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Message) {
        self.now = self.now.max(now);
        self.dispatch(from, msg);
        self.after();
    }

    fn handle_request(&mut self, now: Time, req: Request) {
        self.now = self.now.max(now);
        if self.request_ok(&req) {
            self.on_local_request(req);
        }
        self.after();
    }

    fn handle_timeout(&mut self, now: Time) {
        self.now = self.now.max(now);
        if self.active {
            if self
                .progress_since
                .is_some_and(|t| t + self.cfg.request_timeout <= self.now)
            {
                if !self.catchup.asked_before_suspecting {
                    // Others may have decided without us and gone quiet:
                    // ask first, suspect the leader only if that does not help.
                    self.catchup.asked_before_suspecting = true;
                    self.send_fetch();
                    let wait = self.cfg.fetch_delay.saturating_mul(2);
                    let back = self.cfg.request_timeout.saturating_sub(wait);
                    self.progress_since =
                        Some(Time(self.now.0.saturating_sub(back.as_nanos() as u64)));
                } else {
                    self.catchup.asked_before_suspecting = false;
                    self.start_view_change(self.view + 1);
                }
            }
        } else if self.view_change_deadline() <= self.now {
            self.view_change_timer();
        } else if self.vc.grace_until.is_some_and(|t| t <= self.now) {
            self.try_new_view();
        }
        if self.catchup.deadline.is_some_and(|t| t <= self.now) {
            self.catchup.deadline = None;
            if self.catchup.armed_for == Some(self.next_slot) {
                self.send_fetch();
            }
        }
        self.after();
    }

    fn poll_output(&mut self) -> Option<ProbftOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        let progress = if self.active {
            self.progress_since.map(|t| t + self.cfg.request_timeout)
        } else {
            Some(self.view_change_deadline())
        };
        let grace = if self.active {
            None
        } else {
            self.vc.grace_until
        };
        [
            self.batch_deadline(),
            progress,
            self.catchup.deadline,
            grace,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.now = self.now.max(now);
        self.restore_records(records);
        self.after();
    }
}

impl std::fmt::Debug for Probft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probft")
            .field("id", &self.id)
            .field("view", &self.view)
            .field("active", &self.active)
            .field("next_slot", &self.next_slot)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
