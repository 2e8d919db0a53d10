//! The replica: state, the [`Engine`] implementation and message dispatch.
//! The leader's phases live in `leader.rs`, delivery, catch-up and client
//! transactions in `learner.rs`, restore in `persist.rs`.

use crate::config::{ConfigError, PaxosConfig};
use crate::message::{AcceptedEntry, Ballot, Batch, Decision, Message, Record, Tx};
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Duration, Engine, NodeId, Output, Target, Time};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The output type of [`Paxos`].
pub type PaxosOutput = Output<Message, Record, Decision>;

/// Counters for observation and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Elections started.
    pub elections: u64,
    /// Times this node became leader.
    pub terms_led: u64,
    /// Slots this node proposed as leader.
    pub proposed: u64,
    /// Catch-up requests sent.
    pub catch_up_requests: u64,
    /// Slots learned through catch-up.
    pub caught_up: u64,
}

/// A candidate's promises so far: per acceptor, its decided point, its
/// retention floor and its accepted entries.
pub(crate) type Promises = BTreeMap<NodeId, (u64, u64, Vec<AcceptedEntry>)>;

#[derive(Clone, Debug)]
pub(crate) enum Role {
    Follower,
    Candidate {
        ballot: Ballot,
        from_slot: u64,
        promises: Promises,
    },
    Leader {
        ballot: Ballot,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    pub batch: Batch,
    pub acks: BTreeSet<NodeId>,
    pub sent_at: Time,
}

/// A Multi-Paxos replica (proposer, acceptor and learner in one).
pub struct Paxos {
    pub(crate) cfg: PaxosConfig,
    pub(crate) id: NodeId,
    pub(crate) rng: Rng,
    pub(crate) out: VecDeque<PaxosOutput>,
    pub(crate) stats: Stats,
    // Acceptor.
    pub(crate) promised: Ballot,
    pub(crate) accepted: BTreeMap<u64, (Ballot, Batch)>,
    // Leadership.
    pub(crate) role: Role,
    pub(crate) max_round: u64,
    pub(crate) leader: Option<NodeId>,
    pub(crate) last_heard: Time,
    pub(crate) election_at: Option<Time>,
    pub(crate) next_slot: u64,
    pub(crate) commit: u64,
    pub(crate) inflight: BTreeMap<u64, InFlight>,
    pub(crate) mempool: VecDeque<Tx>,
    pub(crate) mempool_ids: BTreeSet<u64>,
    pub(crate) mempool_bytes: usize,
    pub(crate) batch_at: Option<Time>,
    pub(crate) heartbeat_at: Option<Time>,
    pub(crate) commit_dirty: bool,
    // Learner.
    pub(crate) decided: BTreeMap<u64, Batch>,
    pub(crate) deliver_next: u64,
    pub(crate) known_commit: u64,
    pub(crate) catch_up_ok_at: Time,
    // Clients.
    pub(crate) pending: BTreeMap<u64, (Tx, Time)>,
    pub(crate) outbox: Vec<Tx>,
    pub(crate) flush_at: Option<Time>,
    pub(crate) resubmit_at: Option<Time>,
    pub(crate) recent: BTreeSet<u64>,
    pub(crate) recent_order: VecDeque<u64>,
}

/// Rounds and slots beyond this are refused (no run gets near it), so that
/// arithmetic on peer-supplied values cannot overflow.
pub(crate) const MAX_NUMBER: u64 = 1 << 48;

fn in_range(msg: &Message) -> bool {
    let ok = |v: u64| v < MAX_NUMBER;
    let b = |b: &Ballot| ok(b.round);
    match msg {
        Message::Forward(_) | Message::CatchUpRequest { .. } => true,
        Message::Prepare { ballot, from_slot } => b(ballot) && ok(*from_slot),
        Message::Promise {
            ballot, accepted, ..
        } => b(ballot) && accepted.iter().all(|e| b(&e.ballot) && ok(e.slot)),
        Message::Reject { ballot, promised } => b(ballot) && b(promised),
        Message::Accept { ballot, slot, .. } | Message::Accepted { ballot, slot } => {
            b(ballot) && ok(*slot)
        }
        Message::Heartbeat { ballot, commit } => b(ballot) && ok(*commit),
        Message::CatchUp { from_slot, .. } => ok(*from_slot),
    }
}

/// How many committed transaction ids a node remembers to drop duplicates.
pub(crate) const RECENT_CAP: usize = 1 << 18;

impl Paxos {
    /// A replica `id` with configuration `cfg` and a seeded RNG (from
    /// `dwcp_core::rng::derive(seed, id)`).
    pub fn new(cfg: PaxosConfig, id: NodeId, rng: Rng) -> Result<Paxos, ConfigError> {
        cfg.validate()?;
        if id.index() >= cfg.n {
            return Err(ConfigError("id outside the committee"));
        }
        // The initial leader campaigns at once; the others wait a (jittered)
        // leader timeout first.
        let election_at = (cfg.initial_leader == Some(id)).then_some(Time::ZERO);
        let mut p = Paxos {
            cfg,
            id,
            rng,
            out: VecDeque::new(),
            stats: Stats::default(),
            promised: Ballot::default(),
            accepted: BTreeMap::new(),
            role: Role::Follower,
            max_round: 0,
            leader: None,
            last_heard: Time::ZERO,
            election_at,
            next_slot: 0,
            commit: 0,
            inflight: BTreeMap::new(),
            mempool: VecDeque::new(),
            mempool_ids: BTreeSet::new(),
            mempool_bytes: 0,
            batch_at: None,
            heartbeat_at: None,
            commit_dirty: false,
            decided: BTreeMap::new(),
            deliver_next: 0,
            known_commit: 0,
            catch_up_ok_at: Time::ZERO,
            pending: BTreeMap::new(),
            outbox: Vec::new(),
            flush_at: None,
            resubmit_at: None,
            recent: BTreeSet::new(),
            recent_order: VecDeque::new(),
        };
        if p.cfg.initial_leader != Some(id) {
            p.reset_election_timer(Time::ZERO);
        }
        Ok(p)
    }

    /// This node's configuration.
    pub fn config(&self) -> &PaxosConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether this node currently leads (phase 1 done).
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The node this one follows, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The highest ballot this acceptor promised.
    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// The next slot to deliver (every earlier slot was delivered).
    pub fn delivered_upto(&self) -> u64 {
        self.deliver_next
    }

    /// Transactions waiting at this node as leader.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    /// Slots kept in memory (accepted and decided), for bounded-memory
    /// checks.
    pub fn retained_slots(&self) -> usize {
        self.accepted.len() + self.decided.len()
    }

    pub(crate) fn send(&mut self, to: Target, msg: Message) {
        self.out.push_back(Output::Send { to, msg });
    }

    pub(crate) fn persist(&mut self, r: Record) {
        self.out.push_back(Output::Persist(r));
    }

    pub(crate) fn broadcast(&mut self, msg: Message) {
        if self.cfg.n > 1 {
            self.send(Target::all_but(self.id), msg);
        }
    }

    /// A follower's next election: a leader timeout plus a per-node jitter
    /// of up to half of it, so that candidates rarely collide.
    pub(crate) fn reset_election_timer(&mut self, now: Time) {
        let base = self.cfg.leader_timeout;
        let half = u64::try_from(base.as_nanos() / 2)
            .unwrap_or(u64::MAX)
            .max(1);
        let jitter = Duration::from_nanos(self.rng.next_u64() % half);
        self.election_at = Some(now + base + jitter);
    }

    /// The lowest slot this node still remembers.
    pub(crate) fn floor(&self) -> u64 {
        self.deliver_next.saturating_sub(self.cfg.retention)
    }

    fn on_accept(
        &mut self,
        now: Time,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
        batch: Batch,
        commit: u64,
    ) {
        if ballot.leader != from {
            return;
        }
        if ballot < self.promised {
            self.send(
                Target::One(from),
                Message::Reject {
                    ballot,
                    promised: self.promised,
                },
            );
            return;
        }
        // Bounded memory: nothing far beyond what could be in flight.
        let horizon = self.deliver_next + self.cfg.retention + self.cfg.pipeline;
        if slot > horizon {
            return;
        }
        self.follow(now, ballot);
        if slot >= self.floor() && self.accepted.get(&slot).map(|(b, _)| *b) != Some(ballot) {
            self.accepted.insert(slot, (ballot, batch.clone()));
            self.persist(Record::Accepted(AcceptedEntry {
                slot,
                ballot,
                batch,
            }));
        }
        self.send(Target::One(from), Message::Accepted { ballot, slot });
        self.learn(now, ballot, commit);
    }

    /// `ballot`'s leader is active: adopt it, stepping down if needed.
    pub(crate) fn follow(&mut self, now: Time, ballot: Ballot) {
        // Accepting (or heeding) a ballot implies promising it: durable
        // before the reply that follows.
        if ballot > self.promised {
            self.promised = ballot;
            self.persist(Record::Promised(ballot));
        }
        self.max_round = self.max_round.max(ballot.round);
        if ballot.leader != self.id {
            if !matches!(self.role, Role::Follower) {
                self.step_down();
            }
            let changed = self.leader != Some(ballot.leader);
            self.leader = Some(ballot.leader);
            self.last_heard = now;
            self.reset_election_timer(now);
            if changed {
                self.reforward_all(now);
            }
        }
    }

    fn on_heartbeat(&mut self, now: Time, from: NodeId, ballot: Ballot, commit: u64) {
        if ballot.leader != from {
            return;
        }
        if ballot < self.promised {
            self.send(
                Target::One(from),
                Message::Reject {
                    ballot,
                    promised: self.promised,
                },
            );
            return;
        }
        self.follow(now, ballot);
        self.learn(now, ballot, commit);
    }

    fn dispatch(&mut self, now: Time, from: NodeId, msg: Message) {
        if from == self.id || from.index() >= self.cfg.n || !in_range(&msg) {
            return;
        }
        match msg {
            Message::Forward(txs) => self.on_forward(now, txs),
            Message::Prepare { ballot, from_slot } => self.on_prepare(now, from, ballot, from_slot),
            Message::Promise {
                ballot,
                decided,
                retained_from,
                accepted,
            } => self.on_promise(now, from, ballot, decided, retained_from, accepted),
            Message::Reject { ballot, promised } => self.on_reject(now, ballot, promised),
            Message::Accept {
                ballot,
                slot,
                batch,
                commit,
            } => self.on_accept(now, from, ballot, slot, batch, commit),
            Message::Accepted { ballot, slot } => self.on_accepted(now, from, ballot, slot),
            Message::Heartbeat { ballot, commit } => self.on_heartbeat(now, from, ballot, commit),
            Message::CatchUpRequest { from_slot } => self.on_catch_up_request(from, from_slot),
            Message::CatchUp { from_slot, batches } => {
                self.on_catch_up(now, from, from_slot, batches)
            }
        }
    }

    /// Work that follows every input: propose what is ready, announce a
    /// moved commit point, flush forwarded transactions.
    fn after_input(&mut self, now: Time) {
        self.try_propose(now, false);
        if self.commit_dirty {
            self.commit_dirty = false;
            if let Role::Leader { ballot } = self.role {
                self.broadcast(Message::Heartbeat {
                    ballot,
                    commit: self.commit,
                });
                self.heartbeat_at = Some(now + self.cfg.heartbeat_interval);
            }
        }
    }
}

impl Engine for Paxos {
    type Message = Message;
    type Request = Tx;
    type Record = Record;
    type Value = Decision;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Message) {
        self.dispatch(now, from, msg);
        self.after_input(now);
    }

    fn handle_request(&mut self, now: Time, req: Tx) {
        self.on_client_tx(now, req);
        self.after_input(now);
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.election_at.is_some_and(|t| t <= now) {
            self.election_at = None;
            self.start_election(now);
        }
        if self.heartbeat_at.is_some_and(|t| t <= now) {
            self.heartbeat_at = None;
            self.heartbeat(now);
        }
        if self.batch_at.is_some_and(|t| t <= now) {
            self.batch_at = None;
            self.try_propose(now, true);
        }
        if self.flush_at.is_some_and(|t| t <= now) {
            self.flush_at = None;
            self.flush_outbox();
        }
        if self.resubmit_at.is_some_and(|t| t <= now) {
            self.resubmit_at = None;
            self.resubmit(now);
        }
        self.after_input(now);
    }

    fn poll_output(&mut self) -> Option<PaxosOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        [
            self.election_at,
            self.heartbeat_at,
            self.batch_at,
            self.flush_at,
            self.resubmit_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.restore_records(now, records);
    }
}
