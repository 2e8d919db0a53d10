//! The Narwhal node: state, construction, output queue and the `Engine`
//! implementation. The handlers live in `headers`, `certs`, `proposer`,
//! `deliver` and `restore`.

use crate::config::{Keys, NarwhalConfig};
use crate::dag::Dag;
use crate::message::{Message, Record};
use crate::order::Orderer;
use crate::types::{Batch, Committed, Header, Round, Transaction, Vertex};
use dwcp_core::rng::Rng;
use dwcp_core::{
    Committee, Digest, Engine, Evidence, Fault, NodeId, Output, QuorumError, Target, Time,
};
use dwcp_crypto::{AggSignature, Signed};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Why a node could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `n` and `f` are inconsistent.
    Committee(QuorumError),
    /// The keys do not cover the committee or the id is out of range.
    Keys,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Committee(e) => write!(f, "committee: {e}"),
            ConfigError::Keys => write!(f, "keys do not match the committee"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Counters of one node's activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Headers this node proposed.
    pub headers: u64,
    /// Certificates this node assembled for its own headers.
    pub certificates: u64,
    /// Votes cast.
    pub votes: u64,
    /// Batches sealed by this node.
    pub batches: u64,
    /// Certificates ordered (the total-order length).
    pub ordered: u64,
    /// Transactions delivered.
    pub delivered_txs: u64,
    /// State-sync jumps taken.
    pub syncs: u64,
}

/// How much this node holds in memory (counts of entries; each is bounded
/// in size).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Certificates in the DAG.
    pub dag_vertices: usize,
    /// Collected certificates retained for lagging peers.
    pub archived: usize,
    /// Rounds in the DAG.
    pub dag_rounds: usize,
    /// Stored batches.
    pub batches: usize,
    /// Headers remembered for voting and equivocation checks.
    pub headers: usize,
    /// Votes remembered.
    pub votes: usize,
    /// Certificates waiting for parents.
    pub pending_certificates: usize,
    /// Ordered certificates waiting for batches.
    pub undelivered: usize,
    /// Delivered batch digests remembered (de-duplication window).
    pub delivered_batches: usize,
    /// The orderer's own state ([`Orderer::memory`]).
    pub orderer: usize,
    /// State sync: checkpoints kept, offers held, per-peer marks.
    pub sync: usize,
}

impl Memory {
    /// The sum of every count.
    pub fn total(&self) -> usize {
        self.dag_vertices
            + self.archived
            + self.batches
            + self.headers
            + self.votes
            + self.pending_certificates
            + self.undelivered
            + self.delivered_batches
            + self.orderer
            + self.sync
    }
}

/// When an anchor (a committed leader) was committed at this node, for
/// latency measurements ([`Narwhal::anchor_commits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorCommit {
    /// The anchor's round.
    pub round: Round,
    /// The anchor's author.
    pub author: NodeId,
    /// When this node committed it.
    pub committed_at: Time,
    /// The highest round in this node's DAG at that moment.
    pub dag_round: Round,
}

/// How many anchor commits and own proposal times a node remembers.
pub const TIMING_LOG: usize = 4096;

/// A header remembered for voting: its digest and the signed header.
pub(crate) type SeenHeader = (Digest, Arc<Signed<Header>>);

/// The node's own header and the votes it gathered.
#[derive(Clone, Debug)]
pub(crate) struct OwnHeader {
    pub signed: Arc<Signed<Header>>,
    pub digest: Digest,
    pub votes: BTreeMap<NodeId, AggSignature>,
    pub certified: bool,
}

/// A stored batch and the round it is accounted to for GC.
#[derive(Clone, Debug)]
pub(crate) struct StoredBatch {
    pub batch: Arc<Batch>,
    pub round: Round,
}

/// A certificate waiting for its parents.
#[derive(Clone, Debug)]
pub(crate) struct PendingCert {
    pub vertex: Vertex,
    pub missing: BTreeSet<Digest>,
}

/// An ordered certificate waiting to be delivered.
#[derive(Clone, Debug)]
pub(crate) struct ToDeliver {
    pub index: u64,
    pub leader_round: Round,
    pub vertex: Vertex,
}

/// A Narwhal node with orderer `O`: a [`dwcp_core::Engine`] whose requests
/// are [`Transaction`]s and whose values are [`Committed`] certificates in
/// the total order `O` decides.
pub struct Narwhal<O: Orderer> {
    pub(crate) cfg: NarwhalConfig,
    pub(crate) committee: Committee,
    pub(crate) me: NodeId,
    pub(crate) keys: Keys,
    pub(crate) orderer: O,
    pub(crate) rng: Rng,
    pub(crate) now: Time,
    pub(crate) out: VecDeque<Output<Message, Record, Committed>>,
    pub(crate) stats: NodeStats,
    pub(crate) replaying: bool,
    // DAG and voting.
    pub(crate) dag: Dag,
    pub(crate) seen_headers: BTreeMap<(Round, NodeId), SeenHeader>,
    pub(crate) votes_cast: BTreeMap<(Round, NodeId), Digest>,
    pub(crate) waiting_headers: BTreeSet<(Round, NodeId)>,
    pub(crate) pending_certs: BTreeMap<Digest, PendingCert>,
    pub(crate) pending_slots: BTreeSet<(Round, NodeId)>,
    pub(crate) waiting_on: BTreeMap<Digest, BTreeSet<Digest>>,
    // Proposer.
    pub(crate) round: Round,
    pub(crate) current: Option<OwnHeader>,
    pub(crate) last_cert: Option<Arc<crate::types::Certificate>>,
    pub(crate) own_unordered: BTreeMap<Round, Vertex>,
    pub(crate) last_proposal: Option<Time>,
    pub(crate) quorum_since: Option<(Round, Time)>,
    // Batches.
    pub(crate) pending_txs: Vec<Transaction>,
    pub(crate) pending_bytes: usize,
    pub(crate) pending_since: Option<Time>,
    pub(crate) batch_seq: u64,
    pub(crate) next_seal: Time,
    pub(crate) ready_digests: VecDeque<Digest>,
    pub(crate) batches: BTreeMap<Digest, StoredBatch>,
    pub(crate) batches_per_author: BTreeMap<NodeId, usize>,
    pub(crate) requested_batches: BTreeSet<Digest>,
    // Delivery.
    pub(crate) to_deliver: VecDeque<ToDeliver>,
    pub(crate) next_index: u64,
    pub(crate) delivered: u64,
    pub(crate) delivered_batches: BTreeMap<Digest, Round>,
    pub(crate) next_sync: Time,
    pub(crate) round_at_last_sync: Round,
    // State sync.
    pub(crate) sequence: Digest,
    pub(crate) ordered_batches: BTreeMap<Digest, Round>,
    pub(crate) ordered_horizon: Round,
    pub(crate) checkpoints: VecDeque<Arc<crate::sync::SyncState>>,
    pub(crate) peer_rounds: BTreeMap<NodeId, Round>,
    pub(crate) sync_served: BTreeMap<NodeId, Time>,
    pub(crate) sync_offers: BTreeMap<NodeId, Vec<Arc<crate::sync::SyncState>>>,
    pub(crate) sync_until: Option<Time>,
    // Timings (bounded logs for measurements).
    pub(crate) anchor_log: VecDeque<AnchorCommit>,
    pub(crate) proposal_log: VecDeque<(Round, Time)>,
}

impl<O: Orderer> std::fmt::Debug for Narwhal<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Narwhal")
            .field("me", &self.me)
            .field("round", &self.round)
            .field("dag", &self.dag.len())
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
}

impl<O: Orderer> Narwhal<O> {
    /// Node `me` of the committee in `cfg`, with its `keys` (whose public
    /// lists cover the committee), orderer and seeded RNG (from
    /// `dwcp_core::rng::derive(seed, me)`).
    pub fn new(
        cfg: NarwhalConfig,
        me: NodeId,
        keys: Keys,
        mut orderer: O,
        rng: Rng,
    ) -> Result<Narwhal<O>, ConfigError> {
        orderer.set_checkpoint_interval(cfg.checkpoint_interval);
        let committee = cfg.committee().map_err(ConfigError::Committee)?;
        if me.index() >= cfg.n
            || keys.sign_publics.len() != cfg.n
            || keys.vote_publics.len() != cfg.n
        {
            return Err(ConfigError::Keys);
        }
        Ok(Narwhal {
            dag: Dag::new(cfg.n),
            cfg,
            committee,
            me,
            keys,
            orderer,
            rng,
            now: Time::ZERO,
            out: VecDeque::new(),
            stats: NodeStats::default(),
            replaying: false,
            seen_headers: BTreeMap::new(),
            votes_cast: BTreeMap::new(),
            waiting_headers: BTreeSet::new(),
            pending_certs: BTreeMap::new(),
            pending_slots: BTreeSet::new(),
            waiting_on: BTreeMap::new(),
            round: 0,
            current: None,
            last_cert: None,
            own_unordered: BTreeMap::new(),
            last_proposal: None,
            quorum_since: None,
            pending_txs: vec![],
            pending_bytes: 0,
            pending_since: None,
            batch_seq: 0,
            next_seal: Time::ZERO,
            ready_digests: VecDeque::new(),
            batches: BTreeMap::new(),
            batches_per_author: BTreeMap::new(),
            requested_batches: BTreeSet::new(),
            to_deliver: VecDeque::new(),
            next_index: 0,
            delivered: 0,
            delivered_batches: BTreeMap::new(),
            next_sync: Time::ZERO,
            round_at_last_sync: 0,
            sequence: Digest::default(),
            ordered_batches: BTreeMap::new(),
            ordered_horizon: 0,
            checkpoints: VecDeque::new(),
            peer_rounds: BTreeMap::new(),
            sync_served: BTreeMap::new(),
            sync_offers: BTreeMap::new(),
            sync_until: None,
            anchor_log: VecDeque::new(),
            proposal_log: VecDeque::new(),
        })
    }

    /// The local DAG.
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// The orderer.
    pub fn orderer(&self) -> &O {
        &self.orderer
    }

    /// The round of this node's latest header.
    pub fn round(&self) -> Round {
        self.round
    }

    /// The configuration.
    pub fn config(&self) -> &NarwhalConfig {
        &self.cfg
    }

    /// Activity counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// How many certificates have been ordered (the next index).
    pub fn ordered(&self) -> u64 {
        self.next_index
    }

    /// What the node holds in memory.
    pub fn memory(&self) -> Memory {
        Memory {
            dag_vertices: self.dag.len(),
            archived: self.dag.archived(),
            dag_rounds: self.dag.rounds_held(),
            batches: self.batches.len(),
            headers: self.seen_headers.len(),
            votes: self.votes_cast.len(),
            pending_certificates: self.pending_certs.len(),
            undelivered: self.to_deliver.len(),
            delivered_batches: self.delivered_batches.len(),
            orderer: self.orderer.memory(),
            sync: self.sync_memory(),
        }
    }

    /// The checkpoints this node serves to peers that fell behind, oldest
    /// first (at most two).
    pub fn checkpoints(&self) -> impl Iterator<Item = &crate::sync::SyncState> {
        self.checkpoints.iter().map(|c| &**c)
    }

    /// The last [`TIMING_LOG`] anchors this node committed since it
    /// started (not replayed ones), oldest first.
    pub fn anchor_commits(&self) -> impl Iterator<Item = &AnchorCommit> {
        self.anchor_log.iter()
    }

    /// When this node proposed its last [`TIMING_LOG`] headers: (round,
    /// time), oldest first.
    pub fn proposal_times(&self) -> impl Iterator<Item = &(Round, Time)> {
        self.proposal_log.iter()
    }

    pub(crate) fn log_timing<T>(log: &mut VecDeque<T>, entry: T) {
        log.push_back(entry);
        if log.len() > TIMING_LOG {
            log.pop_front();
        }
    }

    /// The running digest of the total order so far ([`crate::SyncPoint::sequence`]).
    pub fn sequence_digest(&self) -> Digest {
        self.sequence
    }

    pub(crate) fn quorum(&self) -> usize {
        self.committee.quorum()
    }

    pub(crate) fn send(&mut self, to: Target, msg: Message) {
        if !self.replaying {
            self.out.push_back(Output::Send { to, msg });
        }
    }

    pub(crate) fn persist(&mut self, r: Record) {
        if !self.replaying {
            self.out.push_back(Output::Persist(r));
        }
    }

    pub(crate) fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        if !self.replaying && culprit != self.me {
            self.out
                .push_back(Output::Evidence(Evidence { culprit, fault }));
        }
    }

    /// A uniformly random peer other than this node.
    pub(crate) fn random_peer(&mut self) -> NodeId {
        use dwcp_core::rng::RngCore;
        let n = self.cfg.n as u64;
        if n <= 1 {
            return self.me;
        }
        let i = (self.rng.next_u64() % (n - 1)) as u32;
        NodeId(if i >= self.me.0 { i + 1 } else { i })
    }

    /// Everything time-driven plus proposing and delivering; run after every
    /// input.
    fn step(&mut self) {
        self.seal_batches();
        if self.now >= self.next_sync {
            self.sync_tick();
            self.next_sync = self.now + self.cfg.sync_retry;
        }
        self.try_propose();
        self.flush_deliveries();
    }
}

impl<O: Orderer> Engine for Narwhal<O> {
    type Message = Message;
    type Request = Transaction;
    type Record = Record;
    type Value = Committed;

    fn id(&self) -> NodeId {
        self.me
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Message) {
        self.now = now;
        if from.index() >= self.cfg.n || from == self.me {
            return;
        }
        match msg {
            Message::Batch(b) => self.on_batch(from, b),
            Message::Header(h) => self.on_header(from, h),
            Message::Vote(v) => self.on_vote(from, v),
            Message::Certificate(c) => self.on_certificate(from, c),
            Message::CertificateRequest(ds) => self.on_certificate_request(from, ds),
            Message::BatchRequest(ds) => self.on_batch_request(from, ds),
            Message::SyncRequest(_) => self.on_sync_request(from),
            Message::SyncResponse(states) => self.on_sync_response(from, states),
        }
        self.step();
    }

    fn handle_request(&mut self, now: Time, tx: Transaction) {
        self.now = now;
        self.add_transaction(tx);
        self.step();
    }

    fn handle_timeout(&mut self, now: Time) {
        self.now = now;
        self.step();
    }

    fn poll_output(&mut self) -> Option<Output<Message, Record, Committed>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        let mut t = self.next_sync;
        if let Some(since) = self.pending_since
            && self.ready_digests.len() < self.cfg.max_unproposed_batches
        {
            let due = if self.pending_bytes >= self.cfg.batch_size {
                self.now
            } else {
                since + self.cfg.max_batch_delay
            };
            t = t.min(due.max(self.next_seal));
        }
        if let Some(p) = self.proposal_deadline() {
            t = t.min(p);
        }
        Some(t)
    }

    fn restore(&mut self, now: Time, records: Vec<Record>) {
        self.now = now;
        self.replay(records);
        self.step();
    }
}
