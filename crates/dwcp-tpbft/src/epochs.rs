//! The T-PBFT epoch loop in the simulator, and the same loop with equal
//! trust (plain PBFT with the primary rotating every epoch) as baseline.
//!
//! Each epoch is a fresh PBFT engine instance under the epoch's policy,
//! fed `per_epoch` requests at a fixed offered load. T-PBFT's ledger is fed
//! from the committed log only, so that every honest node computes the same
//! trust and the same next election:
//!
//! - once the epoch's requests are delivered, every replica's host builds
//!   an [`crate::attest::Attestation`] from its own engine (the peers whose
//!   checkpoints reached it in time, `Pbft::checkpoint_votes`; the views it
//!   left without preparing anything; the invalid signatures and
//!   conflicting statements it caught) and submits it, signed; the epoch
//!   ends when the honest replicas' attestations are committed (its
//!   duration includes that time), and they feed the ledger
//!   ([`crate::attest::Attestations::apply`]: each attester's own
//!   observations as its local trust, a missed deadline against a view's
//!   primary only on `f + 1` attesters, a permanent Byzantine mark for a
//!   verified conflicting pair) before the next election;
//! - with [`RunConfig::complaints`], every `(epoch, view)` whose primary
//!   drew valid late-proposal complaints from `f + 1` distinct replicas in
//!   the committed log is an [`Observation::LateProposal`] of that primary
//!   ([`crate::timeliness`]). Each honest replica's host runs a [`Monitor`]
//!   on its own requests and persisted votes (bound: half the request
//!   timeout) and submits its signed complaints as requests with its
//!   attestation when the epoch closes (those not committed by then are
//!   submitted again at the start of the next epoch).
//!
//! Attestations and complaints are ordinary requests: T-PBFT pays their
//! slots, PBFT (equal trust, no ledger needed) does not. Byzantine replicas
//! attest what their engine saw (silent ones nothing; in
//! [`Scenario::FalseComplaints`] they also report the first views of every
//! epoch failed, which takes `f + 1` attesters to count).
//!
//! T-PBFT then re-elects from the new scores; the baseline keeps equal
//! trust.

use crate::attest::{Attestation, Attestations};
use crate::certificate::GroupSigner;
use crate::election::{Election, ElectionParams};
use crate::policy::{ProposalEndorser, TrustPolicy};
use crate::timeliness::{Monitor, Tally};
use dwcp_core::{Duration, Fault, NodeId, Time, rng};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness;
use dwcp_pbft::{Pbft, PbftConfig, Record, Request};
use dwcp_reputation::{Ledger, LedgerConfig, Observation};
use dwcp_sim::Simulation;
use dwcp_sim::adversary::Silent;
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which nodes misbehave, and how. The Byzantine nodes are `0..f`, so that
/// under round-robin they become primary in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Everybody honest.
    NoFaults,
    /// `f` nodes silent from the start (a primary that never proposes).
    SilentPrimaries,
    /// `f` nodes equivocating (conflicting, validly signed statements).
    Equivocators,
    /// `f` nodes corrupting the signature of half of their messages.
    InvalidSignatures,
    /// `f` nodes holding back each pre-prepare they send as primary for
    /// [`slow_delay`] (just under the request timeout), so that their views
    /// never time out.
    SlowPrimaries,
    /// `f` nodes that run the protocol correctly but sign and submit a false
    /// late-proposal complaint against the primary of every epoch's first
    /// views (an attempt to frame honest primaries).
    FalseComplaints,
}

/// How long a slow primary holds each pre-prepare: 4/5 of the request
/// timeout of `config`.
pub fn slow_delay(config: &PbftConfig) -> Duration {
    config.request_timeout * 4 / 5
}

/// Which protocol runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Equal trust: PBFT, primary rotating by one every epoch.
    Pbft,
    /// Trust-elected groups and weights, re-elected every epoch.
    TPbft,
}

/// One run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Committee size.
    pub n: usize,
    /// Epochs.
    pub epochs: u64,
    /// Requests per epoch (one request per batch: a decision each).
    pub per_epoch: u64,
    /// Time between two submitted requests (offered load).
    pub interval: Duration,
    /// Master seed (keys, network, adversaries).
    pub seed: u64,
    /// Faults.
    pub scenario: Scenario,
    /// Protocol.
    pub protocol: Protocol,
    /// Network model.
    pub network: NetworkConfig,
    /// Real sr25519 signatures (else the insecure mock).
    pub real_crypto: bool,
    /// Give up on an epoch after this much simulated time.
    pub epoch_limit: Duration,
    /// Faults scheduled in given epochs: `(epoch, at, fault)`, `at` counted
    /// from the epoch's start.
    pub faults: Vec<(u64, Time, FaultEvent)>,
    /// Reputation weights and decay.
    pub ledger: LedgerConfig,
    /// T-PBFT: once trust singles out a primary group, backups prepare a
    /// pre-prepare only with the group's threshold signature on it
    /// (dwcp-pbft's endorsed proposals; one more message delay).
    pub group_signed_proposals: bool,
    /// Real blsttc keys for the primary group (else dwcp-crypto's insecure
    /// mock shares when the `insecure-mock-crypto` feature is on; the
    /// choice changes no count or simulated time).
    pub real_group_crypto: bool,
    /// T-PBFT: honest replicas file signed late-proposal complaints
    /// ([`crate::timeliness`]) and the ledger charges primaries confirmed
    /// late by `f + 1` of them. Ignored by [`Protocol::Pbft`].
    pub complaints: bool,
    /// Fault bound (`None`: the largest, `⌊(n − 1)/3⌋`); nodes `0..f` are
    /// the Byzantine ones. Both protocols use it for their quorums.
    pub f: Option<usize>,
    /// T-PBFT: consensus-group size (clamped to `[3f + 1, n]`; `None`:
    /// every member votes). The rest follow by commit certificate once
    /// trust tells members apart.
    pub consensus_group: Option<usize>,
}

impl RunConfig {
    /// Defaults: 10 ms links, 2 ms between requests, 20 epochs of 20
    /// requests, real sr25519 signatures and blsttc group keys, 60 s per
    /// epoch at most.
    pub fn new(n: usize, scenario: Scenario, protocol: Protocol, seed: u64) -> RunConfig {
        RunConfig {
            n,
            epochs: 20,
            per_epoch: 20,
            interval: Duration::from_millis(2),
            seed,
            scenario,
            protocol,
            network: NetworkConfig::fixed(Duration::from_millis(10)),
            real_crypto: true,
            epoch_limit: Duration::from_secs(60),
            faults: vec![],
            ledger: ledger_config(),
            group_signed_proposals: true,
            real_group_crypto: true,
            complaints: true,
            f: None,
            consensus_group: None,
        }
    }
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// Epoch number.
    pub epoch: u64,
    /// Its primary group.
    pub primary_group: Vec<NodeId>,
    /// Its consensus group (the members that voted).
    pub consensus_group: Vec<NodeId>,
    /// Requests delivered at the honest observer.
    pub decisions: u64,
    /// Simulated time until the last of them.
    pub duration: Duration,
    /// Views installed beyond view 0 at the observer.
    pub view_changes: u64,
    /// Messages sent.
    pub messages: u64,
    /// Sum of submit-to-delivery latencies at the observer.
    pub latency_sum: Duration,
    /// Safety check over honest logs (`Err` holds the violation).
    pub safety: Result<(), String>,
    /// Trust after the epoch, per node.
    pub trust: Vec<f64>,
    /// Nodes marked Byzantine so far.
    pub marked: Vec<NodeId>,
    /// T-PBFT only: whether the epoch's committed log (at the observer) was
    /// certified by the honest members of the primary group and accepted by
    /// a follower outside the group ([`crate::certify_log`]).
    pub certified: bool,
    /// Valid late-proposal complaints committed in this epoch's log.
    pub complaints: u64,
    /// Primaries charged a late proposal after this epoch (one entry per
    /// confirmed `(epoch, view)`).
    pub late_charged: Vec<NodeId>,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Per epoch.
    pub epochs: Vec<EpochReport>,
}

impl RunReport {
    /// Total decisions.
    pub fn decisions(&self) -> u64 {
        self.epochs.iter().map(|e| e.decisions).sum()
    }
    /// Total simulated time.
    pub fn duration(&self) -> Duration {
        self.epochs.iter().map(|e| e.duration).sum()
    }
    /// Decisions per simulated second.
    pub fn throughput(&self) -> f64 {
        self.decisions() as f64 / self.duration().as_secs_f64().max(1e-9)
    }
    /// View changes.
    pub fn view_changes(&self) -> u64 {
        self.epochs.iter().map(|e| e.view_changes).sum()
    }
    /// View changes per 1,000 decisions.
    pub fn view_changes_per_1000(&self) -> f64 {
        1000.0 * self.view_changes() as f64 / self.decisions().max(1) as f64
    }
    /// Messages per decision.
    pub fn messages_per_decision(&self) -> f64 {
        let m: u64 = self.epochs.iter().map(|e| e.messages).sum();
        m as f64 / self.decisions().max(1) as f64
    }
    /// Mean latency in milliseconds.
    pub fn mean_latency_ms(&self) -> f64 {
        let s: Duration = self.epochs.iter().map(|e| e.latency_sum).sum();
        s.as_secs_f64() * 1000.0 / self.decisions().max(1) as f64
    }
    /// The first epoch after which `node`'s trust is below `tau`, if any.
    pub fn detected_after(&self, node: NodeId, tau: f64) -> Option<u64> {
        self.epochs
            .iter()
            .find(|e| e.trust.get(node.index()).is_some_and(|t| *t < tau))
            .map(|e| e.epoch)
    }

    /// Epochs after which `node`'s trust was below `tau`.
    pub fn epochs_below(&self, node: NodeId, tau: f64) -> u64 {
        self.epochs
            .iter()
            .filter(|e| e.trust.get(node.index()).is_some_and(|t| *t < tau))
            .count() as u64
    }

    /// Epochs whose committed log a follower accepted from a group
    /// certificate.
    pub fn certified_epochs(&self) -> u64 {
        self.epochs.iter().filter(|e| e.certified).count() as u64
    }

    /// Whether every epoch was safe.
    pub fn safe(&self) -> bool {
        self.epochs.iter().all(|e| e.safety.is_ok())
    }
}

/// A simulated cluster under `policy` whose primary-group members sign
/// endorsement shares with `signers` (set again on every restart).
fn cluster(
    config: PbftConfig,
    policy: TrustPolicy,
    sim: SimConfig,
    keys: &Keyring,
    signers: Vec<GroupSigner>,
) -> Simulation<Pbft<TrustPolicy>> {
    let mut config = config;
    if config.clients.is_none() {
        config.clients = Some(harness::client_keys().publics.clone());
    }
    let seed = sim.seed;
    let keys = keys.clone();
    Simulation::new(sim, move |id: NodeId| {
        let mut e = Pbft::with_policy(
            config.clone(),
            policy.clone(),
            id,
            keys.secrets[id.index()].clone(),
            keys.publics.clone(),
            rng::derive(seed, id.0 as u64),
        )
        .unwrap_or_else(|e| panic!("replica {id}: {e}"));
        if let Some(s) = signers.iter().find(|s| s.node == id) {
            e.set_endorser(Arc::new(ProposalEndorser(s.clone())));
        }
        e
    })
}

/// The ledger weights used by the loop (the defaults).
pub fn ledger_config() -> LedgerConfig {
    LedgerConfig::default()
}

fn byzantine(cfg: &RunConfig, f: usize) -> Vec<NodeId> {
    match cfg.scenario {
        Scenario::NoFaults => vec![],
        _ => (0..f as u32).map(NodeId).collect(),
    }
}

/// Runs the epoch loop.
///
/// Real sr25519 keys, or the insecure mock when asked for and the
/// `insecure-mock-crypto` feature is on.
fn keyring(n: usize, seed: u64, real: bool) -> Keyring {
    #[cfg(feature = "insecure-mock-crypto")]
    if !real {
        return Keyring::insecure_mock(n, seed);
    }
    let _ = real;
    Keyring::sr25519(n, seed)
}

/// # Panics
/// If `n < 4` (a configuration error).
pub fn run(cfg: &RunConfig) -> RunReport {
    let n = cfg.n;
    let mut params = cfg.f.map_or_else(
        || ElectionParams::for_n(n),
        |f| ElectionParams::with_faults(n, f),
    );
    params.consensus_group = cfg.consensus_group.unwrap_or(n);
    let f = params.f;
    assert!(f >= 1, "need n >= 4");
    let keys = keyring(n, cfg.seed, cfg.real_crypto);
    let byz = byzantine(cfg, f);
    let observer = NodeId(n as u32 - 1);
    let mut ledger = Ledger::new(n, cfg.ledger.clone());
    let mut epochs = vec![];
    // Replicas are clients too (ids `CLIENTS + r`, their replica keys), so
    // that their signed complaints are ordinary requests.
    let base = harness::CLIENTS as u64;
    let mut clients = harness::client_keys().publics.clone();
    clients.extend(keys.publics.iter().cloned());
    let complaints = cfg.protocol == Protocol::TPbft && cfg.complaints;
    // T-PBFT's trust comes from committed attestations; PBFT keeps equal
    // trust and needs none.
    let attest = cfg.protocol == Protocol::TPbft;
    let mut tally = Tally::new(f, COMPLAINT_CAP);
    // Complaints filed but not yet committed, per replica.
    let mut carried: BTreeMap<NodeId, Vec<Request>> = BTreeMap::new();
    for epoch in 0..cfg.epochs {
        tally.start_epoch(epoch);
        let election = match cfg.protocol {
            Protocol::Pbft => Election::equal_with(&params, n, epoch).ok(),
            Protocol::TPbft => ledger
                .scores()
                .ok()
                .and_then(|s| Election::elect(&s, &params, epoch).ok())
                .or_else(|| Election::equal_with(&params, n, epoch).ok()),
        }
        .unwrap_or_else(|| panic!("n = {n}: no valid election"));
        let mut config = PbftConfig::new(n).unwrap_or_else(|e| panic!("{e}"));
        config.max_batch = 1;
        config.checkpoint_interval = 4;
        config.window = 16;
        config.clients = Some(clients.clone());
        let bound = config.request_timeout / 2;
        let window = config.window;
        let seed = cfg.seed ^ (epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let delay = slow_delay(&config);
        // Group-signed pre-prepares once trust singles out a primary group
        // (with equal trust T-PBFT is exactly PBFT).
        let group_signed = cfg.protocol == Protocol::TPbft
            && cfg.group_signed_proposals
            && election.primary_group.len() < n;
        let (policy, signers) = if group_signed {
            let (key, signers) = crate::deal(&election, seed, !cfg.real_group_crypto);
            (
                TrustPolicy::with_group_signature(election.clone(), key),
                signers,
            )
        } else {
            (TrustPolicy::new(election.clone()), vec![])
        };
        let mut sim = cluster(
            config,
            policy,
            SimConfig::new(n, seed).with_network(cfg.network.clone()),
            &keys,
            signers,
        );
        for &b in &byz {
            match cfg.scenario {
                Scenario::SilentPrimaries => sim.make_byzantine(b, Silent { after: Time::ZERO }),
                Scenario::Equivocators => sim.make_byzantine(
                    b,
                    dwcp_pbft::adversary::Equivocator::new(
                        keys.secrets[b.index()].clone(),
                        Time::ZERO,
                    ),
                ),
                Scenario::InvalidSignatures => sim.make_byzantine(
                    b,
                    dwcp_sim::adversary::InvalidSignature { probability: 0.5 },
                ),
                Scenario::SlowPrimaries => {
                    sim.make_byzantine(b, crate::slow::SlowPrimary::new(delay))
                }
                Scenario::FalseComplaints => {
                    // Correct in the protocol; its false complaints are
                    // submitted below.
                    sim.make_byzantine(b, Silent { after: Time::MAX });
                    for view in 0..FRAMED_VIEWS {
                        let c = crate::timeliness::Complaint {
                            epoch,
                            view,
                            seq: 1,
                            primary: election.primary(view),
                        };
                        if c.primary != b {
                            let req = c.to_request(b, &keys.secrets[b.index()], base);
                            sim.submit(Time::ZERO, b, req);
                        }
                    }
                }
                Scenario::NoFaults => {}
            }
        }
        for (e, at, fault) in &cfg.faults {
            if *e == epoch {
                sim.schedule(*at, fault.clone());
            }
        }
        // Requests go to honest replicas only (a client retries elsewhere).
        let honest: Vec<NodeId> = (0..n as u32)
            .map(NodeId)
            .filter(|x| !byz.contains(x))
            .collect();
        let mut monitors: BTreeMap<NodeId, (Monitor, usize)> = BTreeMap::new();
        if complaints {
            for &h in &honest {
                let m = Monitor::new(epoch, bound, Time::ZERO, window);
                monitors.insert(h, (m, 0));
                // Complaints of the previous epoch not committed yet.
                for req in carried.get(&h).into_iter().flatten() {
                    sim.submit(Time::ZERO, h, req.clone());
                }
            }
        }
        for i in 0..cfg.per_epoch {
            let at = Time::ZERO + cfg.interval * i as u32;
            let node = honest[i as usize % honest.len()];
            let req = harness::request(i);
            if let Some((m, _)) = monitors.get_mut(&node) {
                m.on_request(at, &req);
            }
            sim.submit(at, node, req);
        }
        let mut filed: BTreeMap<NodeId, Vec<Request>> = BTreeMap::new();
        let limit = Time::ZERO + cfg.epoch_limit;
        let (mut pos, mut seen) = (0usize, 0usize);
        let mut latency = Duration::ZERO;
        let mut last = Duration::ZERO;
        while seen < cfg.per_epoch as usize && sim.now() < limit && sim.step() {
            let log = sim.delivered(observer);
            while seen < cfg.per_epoch as usize && pos < log.len() {
                let Some(r) = log.get(pos) else { break };
                pos += 1;
                if r.client >= base {
                    continue;
                }
                let now = sim.now().saturating_since(Time::ZERO);
                latency += now.saturating_sub(cfg.interval * r.id as u32);
                last = now;
                seen += 1;
            }
            watch(&mut sim, &mut monitors, &mut filed, &keys, base);
        }
        if attest {
            // The epoch closes with its attestations committed: what each
            // replica saw, ordered like requests (their time is T-PBFT's).
            let mine = attestations_of(&sim, cfg.scenario, &byz, epoch, &keys, base);
            let at = sim.now();
            let mut wanted: std::collections::BTreeSet<(u64, u64)> = mine
                .iter()
                .filter(|(r, _)| !byz.contains(r))
                .map(|(_, req)| req.key())
                .collect();
            for (&r, req) in &mine {
                sim.submit(at, r, req.clone());
            }
            // The epoch's late-proposal complaints close it too, so that a
            // slow primary is charged before the next election.
            watch(&mut sim, &mut monitors, &mut filed, &keys, base);
            for (&h, reqs) in &filed {
                for req in reqs.iter().take(COMPLAINT_CAP) {
                    wanted.insert(req.key());
                    sim.submit(at, h, req.clone());
                }
            }
            let until = (at + ATTEST_WAIT).min(limit + ATTEST_WAIT);
            let mut cursor = pos;
            while !wanted.is_empty() && sim.now() < until && sim.step() {
                for r in sim.delivered(observer).get(cursor..).unwrap_or(&[]) {
                    wanted.remove(&r.key());
                }
                cursor = sim.delivered(observer).len();
                watch(&mut sim, &mut monitors, &mut filed, &keys, base);
            }
            last = last.max(sim.now().saturating_since(Time::ZERO));
        }
        let safety = harness::check(&sim).map_err(|v| v.to_string());
        let certified = cfg.protocol == Protocol::TPbft && {
            let log = sim.delivered(observer);
            let value = dwcp_core::Digest::of_value(log.get(..pos).unwrap_or(log));
            let honest = |x: NodeId| !byz.contains(&x);
            crate::certify_log(&election, seed, !cfg.real_crypto, honest, value).is_some()
        };
        let final_view = sim.engine(observer).map_or(0, |e| e.view());
        let log = sim.delivered(observer);
        // The epoch's committed attestations (identical in every honest
        // log) feed the ledger.
        if attest {
            let mut read = Attestations::new(f, n, epoch);
            for r in log {
                read.add(r, base, &clients);
            }
            read.apply(&mut ledger, &election, &keys.publics);
        }
        // Committed complaints (identical in every honest log) charge the
        // primaries that f + 1 replicas found late.
        let committed = log
            .iter()
            .filter(|r| tally.add(r, base, n, &clients))
            .count() as u64;
        let late_charged: Vec<NodeId> = tally
            .newly_confirmed()
            .into_iter()
            .map(|(_, _, p)| p)
            .collect();
        for &p in &late_charged {
            for i in 0..n as u32 {
                ledger.observe(NodeId(i), p, Observation::LateProposal);
            }
        }
        ledger.end_epoch();
        // What this epoch filed is submitted at the start of the next one
        // (once: complaints older than that are dropped).
        let done: std::collections::BTreeSet<(u64, u64)> = log.iter().map(|r| r.key()).collect();
        carried = filed
            .into_iter()
            .map(|(h, reqs)| {
                let keep: Vec<Request> = reqs
                    .into_iter()
                    .filter(|r| !done.contains(&r.key()))
                    .take(COMPLAINT_CAP)
                    .collect();
                (h, keep)
            })
            .collect();
        let trust = ledger.scores().map(|s| s.values).unwrap_or_default();
        epochs.push(EpochReport {
            epoch,
            primary_group: election.primary_group.clone(),
            consensus_group: election.consensus_group.clone(),
            decisions: seen as u64,
            duration: last,
            view_changes: final_view,
            messages: sim.stats().messages_sent(),
            latency_sum: latency,
            safety,
            trust,
            marked: ledger.byzantine().iter().copied().collect(),
            certified,
            complaints: committed,
            late_charged,
        });
    }
    RunReport { epochs }
}

/// How long an epoch waits for its honest replicas' attestations to be
/// committed (simulated time).
const ATTEST_WAIT: Duration = Duration::from_secs(10);

/// Most complaints per replica and epoch that count (and that are carried
/// to the next epoch).
const COMPLAINT_CAP: usize = 8;

/// Views of each epoch the [`Scenario::FalseComplaints`] nodes complain
/// about.
const FRAMED_VIEWS: u64 = 2;

/// Each honest replica's host feeds its monitor the records its engine
/// persisted since the last step (at the current time): installed views,
/// stable checkpoints and its own prepare votes (with the batch), and keeps
/// the complaints for the epoch's close.
fn watch(
    sim: &mut Simulation<Pbft<TrustPolicy>>,
    monitors: &mut BTreeMap<NodeId, (Monitor, usize)>,
    filed: &mut BTreeMap<NodeId, Vec<Request>>,
    keys: &Keyring,
    base: u64,
) {
    let now = sim.now();
    for (&node, (monitor, cursor)) in monitors.iter_mut() {
        let records = sim.persisted(node);
        let mut out = vec![];
        for rec in records.get(*cursor..).unwrap_or(&[]) {
            match rec {
                Record::View { view, active: true } => monitor.on_view(now, *view),
                Record::Stable(proof) => monitor.on_stable(now, proof.seq),
                Record::Voted(v) if v.pre_prepare.body.primary != node => {
                    if let Some(c) = monitor.on_proposal(now, &v.pre_prepare.body, &v.batch) {
                        out.push(c.to_request(node, &keys.secrets[node.index()], base));
                    }
                }
                _ => {}
            }
        }
        *cursor = records.len();
        filed.entry(node).or_default().extend(out);
    }
}

/// Each replica's attestation about `epoch`, built by its host from its own
/// engine's records and evidence, as a signed request to submit when the
/// epoch closes. Honest replicas report what they saw, and so do
/// the Byzantine ones (so that they look honest outside their specific
/// fault), except that silent ones attest nothing and in
/// [`Scenario::FalseComplaints`] they also report the epoch's first views
/// failed (an attempt to frame their primaries).
fn attestations_of<P: dwcp_pbft::Policy + 'static>(
    sim: &dwcp_sim::Simulation<dwcp_pbft::Pbft<P>>,
    scenario: Scenario,
    byz: &[NodeId],
    epoch: u64,
    keys: &Keyring,
    base: u64,
) -> BTreeMap<NodeId, Request> {
    let n = sim.config().n as u32;
    let mut out = BTreeMap::new();
    for r in (0..n).map(NodeId) {
        let a = if !byz.contains(&r) {
            observed(sim, r, epoch)
        } else if scenario == Scenario::FalseComplaints {
            Attestation {
                failed_views: (0..FRAMED_VIEWS).collect(),
                ..observed(sim, r, epoch)
            }
        } else if scenario == Scenario::SilentPrimaries {
            continue;
        } else {
            observed(sim, r, epoch)
        };
        out.insert(r, a.to_request(r, &keys.secrets[r.index()], base));
    }
    out
}

/// What replica `r` saw in `epoch`: the signers of its stable-checkpoint
/// proofs, the views it left without preparing anything, and the invalid
/// signatures and conflicting statements it caught.
fn observed<P: dwcp_pbft::Policy + 'static>(
    sim: &dwcp_sim::Simulation<dwcp_pbft::Pbft<P>>,
    r: NodeId,
    epoch: u64,
) -> Attestation {
    let prepared: std::collections::BTreeSet<u64> = sim
        .persisted(r)
        .iter()
        .filter_map(|rec| match rec {
            Record::Prepared(p) => Some(p.pre_prepare.body.view),
            _ => None,
        })
        .collect();
    let engine = sim.engine(r);
    let timely: Vec<(NodeId, u32)> = engine
        .map(|e| e.checkpoint_votes())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(i, k)| *i != r.index() && **k > 0)
        .map(|(i, k)| (NodeId(i as u32), (*k).min(u64::from(u32::MAX)) as u32))
        .collect();
    let final_view = engine.map_or(0, |e| e.view());
    let failed: Vec<u64> = (0..final_view).filter(|v| !prepared.contains(v)).collect();
    let skip = failed.len().saturating_sub(crate::attest::MAX_VIEWS);
    let mut invalid: BTreeMap<NodeId, u32> = BTreeMap::new();
    let mut conflicts = vec![];
    for (_, reporter, ev) in sim.evidence() {
        if *reporter != r {
            continue;
        }
        match &ev.fault {
            Fault::InvalidSignature => *invalid.entry(ev.culprit).or_default() += 1,
            Fault::Equivocation { first, second }
                if conflicts.len() < crate::attest::MAX_EVIDENCE
                    && first.len() <= crate::attest::MAX_STATEMENT
                    && second.len() <= crate::attest::MAX_STATEMENT
                    && !conflicts.iter().any(|(c, _, _)| *c == ev.culprit) =>
            {
                conflicts.push((ev.culprit, first.clone(), second.clone()));
            }
            _ => {}
        }
    }
    Attestation {
        epoch,
        timely,
        failed_views: failed.into_iter().skip(skip).collect(),
        invalid: invalid.into_iter().collect(),
        conflicts,
    }
}
