//! The replica: keys, state, the [`Engine`] implementation and dispatch.
//! Proposals, votes and the commit rule live in `consensus.rs`, views and
//! timeouts in `pacemaker.rs`, block fetching and client transactions in
//! `sync.rs`, restore in `persist.rs`.

use crate::config::{ConfigError, HotStuffConfig};
use crate::message::{Block, Committed, Message, Qc, Record, Tc, Vote, vote_bytes};
use crate::tx::Tx;
use dwcp_core::{Digest, Engine, Evidence, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{PartialSig, PublicKey, SecretKey, Signed, ThresholdPublic, ThresholdShare};

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::message::Proposal;

/// The output type of [`HotStuff`].
pub type HotStuffOutput = Output<Message, Record, Committed>;

/// A replica's keys: its sr25519 key (proposals) and threshold share (votes
/// and timeouts), and everybody's public counterparts.
#[derive(Clone, Debug)]
pub struct Keys {
    /// This replica's signing key.
    pub secret: SecretKey,
    /// Every replica's public key, indexed by `NodeId`.
    pub publics: Vec<PublicKey>,
    /// This replica's threshold key share.
    pub share: ThresholdShare,
    /// The group's threshold public key (`quorum` shares needed).
    pub threshold: ThresholdPublic,
}

/// Counters for observation and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Views entered.
    pub views: u64,
    /// Local view timeouts.
    pub timeouts: u64,
    /// Blocks this replica proposed.
    pub proposed: u64,
    /// Votes sent.
    pub votes: u64,
    /// QCs this replica combined as next leader.
    pub qcs_formed: u64,
    /// TCs this replica combined.
    pub tcs_formed: u64,
    /// Blocks requested from peers.
    pub fetched: u64,
    /// Blocks committed.
    pub committed_blocks: u64,
}

/// A proposal waiting for its parent block.
#[derive(Clone, Debug)]
pub(crate) struct Waiting {
    pub from: NodeId,
    pub digest: Digest,
    pub block: Block,
}

/// A chained HotStuff replica.
pub struct HotStuff {
    pub(crate) cfg: HotStuffConfig,
    pub(crate) id: NodeId,
    pub(crate) keys: Keys,
    pub(crate) out: VecDeque<HotStuffOutput>,
    pub(crate) stats: Stats,
    // The chain.
    pub(crate) store: BTreeMap<Digest, Block>,
    pub(crate) high_qc: Qc,
    pub(crate) locked: Qc,
    pub(crate) committed: (u64, Digest),
    pub(crate) commit_target: Option<(u64, Digest)>,
    pub(crate) verified: BTreeSet<(u64, Digest)>,
    // Views and votes.
    pub(crate) view: u64,
    pub(crate) last_voted: u64,
    pub(crate) last_proposed: u64,
    pub(crate) view_deadline: Option<Time>,
    pub(crate) timeouts_in_row: u32,
    pub(crate) timed_out_view: u64,
    pub(crate) last_tc: Option<Tc>,
    pub(crate) votes: BTreeMap<u64, BTreeMap<Digest, BTreeMap<NodeId, PartialSig>>>,
    pub(crate) voters: BTreeMap<u64, BTreeMap<NodeId, Vote>>,
    pub(crate) last_vote: Option<Vote>,
    pub(crate) convicted: BTreeSet<u64>,
    pub(crate) timeouts: BTreeMap<u64, BTreeMap<NodeId, PartialSig>>,
    pub(crate) proposals: BTreeMap<u64, Signed<Proposal>>,
    pub(crate) waiting: BTreeMap<u64, Waiting>,
    pub(crate) fetching: BTreeMap<Digest, (Time, NodeId)>,
    pub(crate) propose_at: Option<Time>,
    pub(crate) suspected: BTreeSet<NodeId>,
    // Transactions.
    pub(crate) mempool: VecDeque<Tx>,
    pub(crate) mempool_ids: BTreeSet<u64>,
    pub(crate) pending: BTreeMap<u64, (Tx, Time, NodeId)>,
    pub(crate) outbox: BTreeMap<NodeId, Vec<Tx>>,
    pub(crate) flush_at: Option<Time>,
    pub(crate) resubmit_at: Option<Time>,
    pub(crate) recent: BTreeSet<u64>,
    pub(crate) recent_order: VecDeque<u64>,
}

/// Views and heights beyond this are refused (no honest replica gets near
/// it), so that arithmetic on peer-supplied values cannot overflow.
pub(crate) const MAX_VIEW: u64 = 1 << 48;

/// Whether every view and height in `msg` is below [`MAX_VIEW`].
fn in_range(msg: &Message) -> bool {
    let ok = |v: u64| v < MAX_VIEW;
    let block_ok = |b: &Block| ok(b.view) && ok(b.height) && ok(b.justify.view);
    match msg {
        Message::Propose { block, tc, .. } => {
            block_ok(block) && tc.as_ref().is_none_or(|t| ok(t.view))
        }
        Message::Vote(v) => ok(v.view),
        Message::Timeout {
            view,
            high_qc,
            vote,
            ..
        } => ok(*view) && ok(high_qc.view) && vote.as_ref().is_none_or(|v| ok(v.view)),
        Message::Help { view, high_qc, .. } => ok(*view) && ok(high_qc.view),
        Message::Forward(_) | Message::Fetch { .. } => true,
        Message::Blocks(bs) => bs.iter().all(block_ok),
    }
}

/// How many committed transaction ids a node remembers to drop duplicates.
pub(crate) const RECENT_CAP: usize = 1 << 18;
/// Most proposals waiting for a parent.
pub(crate) const MAX_WAITING: usize = 16;
/// Most blocks being fetched at once.
pub(crate) const MAX_FETCHING: usize = 64;

impl HotStuff {
    /// Replica `id` with configuration `cfg` and its keys. The leader of
    /// view 1 proposes at once; everyone else waits for it.
    pub fn new(cfg: HotStuffConfig, id: NodeId, keys: Keys) -> Result<HotStuff, ConfigError> {
        cfg.validate()?;
        if id.index() >= cfg.n || keys.publics.len() != cfg.n || keys.share.node() != id {
            return Err(ConfigError("keys or id do not match the committee"));
        }
        if keys.threshold.n() != cfg.n || keys.threshold.threshold() != cfg.quorum() {
            return Err(ConfigError("the threshold key must need n - f shares"));
        }
        let genesis = Block::genesis();
        let g = genesis.digest();
        let gqc = Qc {
            view: 0,
            block: g,
            cert: None,
        };
        let mut store = BTreeMap::new();
        store.insert(g, genesis);
        let mut h = HotStuff {
            cfg,
            id,
            keys,
            out: VecDeque::new(),
            stats: Stats::default(),
            store,
            high_qc: gqc.clone(),
            locked: gqc,
            committed: (0, g),
            commit_target: None,
            verified: BTreeSet::new(),
            view: 0,
            last_voted: 0,
            last_proposed: 0,
            view_deadline: None,
            timeouts_in_row: 0,
            timed_out_view: 0,
            last_tc: None,
            votes: BTreeMap::new(),
            voters: BTreeMap::new(),
            last_vote: None,
            convicted: BTreeSet::new(),
            timeouts: BTreeMap::new(),
            proposals: BTreeMap::new(),
            waiting: BTreeMap::new(),
            fetching: BTreeMap::new(),
            propose_at: None,
            suspected: BTreeSet::new(),
            mempool: VecDeque::new(),
            mempool_ids: BTreeSet::new(),
            pending: BTreeMap::new(),
            outbox: BTreeMap::new(),
            flush_at: None,
            resubmit_at: None,
            recent: BTreeSet::new(),
            recent_order: VecDeque::new(),
        };
        h.enter_view(Time::ZERO, 1);
        Ok(h)
    }

    /// The configuration.
    pub fn config(&self) -> &HotStuffConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The current view.
    pub fn view(&self) -> u64 {
        self.view
    }

    /// The highest QC known.
    pub fn high_qc(&self) -> &Qc {
        &self.high_qc
    }

    /// The locked QC.
    pub fn locked_qc(&self) -> &Qc {
        &self.locked
    }

    /// Height and digest of the last committed block.
    pub fn committed_tip(&self) -> (u64, Digest) {
        self.committed
    }

    /// Blocks held in memory (for bounded-memory checks).
    pub fn stored_blocks(&self) -> usize {
        self.store.len()
    }

    /// Transactions waiting in this replica's mempool.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    /// Transactions this replica holds for its clients until they commit.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn send(&mut self, to: Target, msg: Message) {
        self.out.push_back(Output::Send { to, msg });
    }

    pub(crate) fn persist(&mut self, r: Record) {
        self.out.push_back(Output::Persist(r));
    }

    pub(crate) fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        self.out
            .push_back(Output::Evidence(Evidence { culprit, fault }));
    }

    pub(crate) fn broadcast(&mut self, msg: Message) {
        if self.cfg.n > 1 {
            self.send(Target::all_but(self.id), msg);
        }
    }

    /// Whether `qc` carries a valid certificate (genesis: none), checked at
    /// most once per `(view, block)`.
    pub(crate) fn verify_qc(&mut self, qc: &Qc) -> bool {
        if qc.view == 0 {
            return qc.cert.is_none() && qc.block == Block::genesis().digest();
        }
        if self.verified.contains(&(qc.view, qc.block)) {
            return true;
        }
        let Some(cert) = &qc.cert else {
            return false;
        };
        let ok = self
            .keys
            .threshold
            .verify(&vote_bytes(qc.view, &qc.block), cert);
        if ok {
            if self.verified.len() >= 4096 {
                self.verified.pop_first();
            }
            self.verified.insert((qc.view, qc.block));
        }
        ok
    }

    /// Evidence of two votes by one replica in one view.
    pub(crate) fn vote_equivocation(&mut self, culprit: NodeId, first: Vote, second: Vote) {
        let fault = Fault::Equivocation {
            first: codec::encode(&Message::Vote(first)),
            second: codec::encode(&Message::Vote(second)),
        };
        self.evidence(culprit, fault);
    }

    fn dispatch(&mut self, now: Time, from: NodeId, msg: Message) {
        if from == self.id || from.index() >= self.cfg.n {
            return;
        }
        if !in_range(&msg) {
            self.evidence(from, Fault::Protocol("view or height out of range"));
            return;
        }
        match msg {
            Message::Propose {
                proposal,
                block,
                tc,
            } => self.on_proposal(now, from, proposal, block, tc),
            Message::Vote(vote) => self.on_vote(now, from, vote),
            Message::Timeout {
                view,
                high_qc,
                share,
                vote,
            } => self.on_timeout_msg(now, from, view, high_qc, share, vote),
            Message::Help {
                view,
                high_qc,
                share,
            } => self.on_help(now, from, view, high_qc, share),
            Message::Forward(txs) => self.on_forward(now, txs),
            Message::Fetch { block, max } => self.on_fetch(from, block, max),
            Message::Blocks(blocks) => self.on_blocks(now, from, blocks),
        }
    }
}

impl Engine for HotStuff {
    type Message = Message;
    type Request = Tx;
    type Record = Record;
    type Value = Committed;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Message) {
        self.dispatch(now, from, msg);
    }

    fn handle_request(&mut self, now: Time, req: Tx) {
        self.on_client_tx(now, req);
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.view_deadline.is_some_and(|t| t <= now) {
            self.local_timeout(now);
        }
        if self.propose_at.is_some_and(|t| t <= now) {
            self.propose_at = None;
            self.propose(now);
        }
        if self.flush_at.is_some_and(|t| t <= now) {
            self.flush_at = None;
            self.flush_outbox(now);
        }
        if self.resubmit_at.is_some_and(|t| t <= now) {
            self.resubmit_at = None;
            self.resubmit(now);
        }
        self.retry_fetches(now);
    }

    fn poll_output(&mut self) -> Option<HotStuffOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        let fetch = self
            .fetching
            .values()
            .map(|(at, _)| *at + self.cfg.fetch_retry)
            .min();
        [
            self.view_deadline,
            self.propose_at,
            self.flush_at,
            self.resubmit_at,
            fetch,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.restore_records(now, records);
    }
}
