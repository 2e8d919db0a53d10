//! Runs one secure-aggregation session in memory: `n` clients and the
//! server, instant delivery, clients dropping out at chosen points, the
//! server's round timeouts fired when the network goes quiet. Counts bytes
//! per client and (with a caller-supplied clock) compute time per party.

use super::client::{ClientEvent, ClientInput, SecAggClient};
use super::config::SecAggConfig;
use super::messages::SecAggMessage;
use super::server::{SecAggServer, ServerOutcome, ServerRequest};
use dwcp_core::{Engine, Evidence, NodeId, Output, Time, WireMessage};
use dwcp_crypto::Keyring;
use std::collections::VecDeque;

/// When a client stops answering for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DropPoint {
    /// Stays to the end.
    Never,
    /// Never starts (no input).
    BeforeAdvertise,
    /// Gone right after sending its keys.
    AfterAdvertise,
    /// Gone right after sending its encrypted shares.
    AfterShareKeys,
    /// Gone right after sending its masked input (its input is in the sum,
    /// so its self-mask must be recovered from others' shares).
    AfterMaskedInput,
    /// Gone right after signing the survivor set.
    AfterConsistency,
}

impl DropPoint {
    fn last_message(self) -> Option<&'static str> {
        match self {
            DropPoint::Never | DropPoint::BeforeAdvertise => None,
            DropPoint::AfterAdvertise => Some("advertise-keys"),
            DropPoint::AfterShareKeys => Some("share-keys"),
            DropPoint::AfterMaskedInput => Some("masked-input"),
            DropPoint::AfterConsistency => Some("consistency-signature"),
        }
    }
}

/// A party's clock for compute-time accounting, in nanoseconds. The crate
/// never reads a clock itself: the lab passes a monotonic one, tests a
/// counter or a constant.
pub type Clock<'a> = &'a mut dyn FnMut() -> u64;

/// What one session did.
#[derive(Clone, Debug)]
pub struct SessionReport {
    /// The server's result (`None` if it never finished, which is a bug).
    pub outcome: Option<ServerOutcome>,
    /// Bytes each client sent.
    pub upload_bytes: Vec<u64>,
    /// Bytes each client received.
    pub download_bytes: Vec<u64>,
    /// Compute time of each client, by the supplied clock.
    pub client_ns: Vec<u64>,
    /// Compute time of the server, by the supplied clock.
    pub server_ns: u64,
    /// Server time spent in the final round (unmasking), by the supplied clock.
    pub server_unmask_ns: u64,
    /// Evidence raised by anyone (none in an honest run).
    pub evidence: Vec<(NodeId, Evidence)>,
    /// Client events, per client.
    pub client_events: Vec<Vec<ClientEvent>>,
}

enum Party<'a> {
    Server(&'a mut SecAggServer),
    Client(&'a mut SecAggClient),
}

/// Runs a session with `inputs[i]` for client `i`, dropping client `i` at
/// `drops[i]` (missing entries mean [`DropPoint::Never`]). Signing keys are
/// `Keyring::sr25519(n, seed)`.
pub fn run_session(
    cfg: &SecAggConfig,
    inputs: Vec<ClientInput>,
    drops: &[DropPoint],
    seed: u64,
    clock: Clock<'_>,
) -> SessionReport {
    let n = cfg.clients;
    let keys = Keyring::sr25519(n, seed);
    let mut server = SecAggServer::new(cfg.clone(), keys.publics.clone());
    let mut clients: Vec<SecAggClient> = (0..n)
        .map(|i| {
            let secret = keys.secrets.get(i).cloned();
            let secret =
                secret.unwrap_or_else(|| dwcp_crypto::SecretKey::sr25519_from_seed([0; 32]));
            SecAggClient::new(
                cfg.clone(),
                NodeId(i as u32),
                secret,
                keys.publics.clone(),
                seed,
            )
        })
        .collect();
    let drop_at = |i: usize| drops.get(i).copied().unwrap_or(DropPoint::Never);
    let mut alive: Vec<bool> = (0..n)
        .map(|i| drop_at(i) != DropPoint::BeforeAdvertise)
        .collect();
    let mut report = SessionReport {
        outcome: None,
        upload_bytes: vec![0; n],
        download_bytes: vec![0; n],
        client_ns: vec![0; n],
        server_ns: 0,
        server_unmask_ns: 0,
        evidence: vec![],
        client_events: vec![vec![]; n],
    };
    let server_id = cfg.server();
    let mut queue: VecDeque<(NodeId, NodeId, SecAggMessage)> = VecDeque::new();
    let mut now = Time(0);

    // Drains a party's outputs into the queue and the report.
    let drain = |party: Party<'_>,
                 report: &mut SessionReport,
                 queue: &mut VecDeque<(NodeId, NodeId, SecAggMessage)>,
                 alive: &mut Vec<bool>| {
        match party {
            Party::Server(s) => {
                while let Some(o) = s.poll_output() {
                    match o {
                        Output::Send { to, msg } => to.for_each(n, |v| {
                            if let Some(d) = report.download_bytes.get_mut(v.index()) {
                                *d += msg.wire_size() as u64;
                            }
                            queue.push_back((server_id, v, msg.clone()));
                        }),
                        Output::Deliver(v) => report.outcome = Some(v),
                        Output::Evidence(e) => report.evidence.push((server_id, e)),
                        Output::Persist(()) => {}
                    }
                }
            }
            Party::Client(c) => {
                let i = c.id().index();
                while let Some(o) = c.poll_output() {
                    match o {
                        Output::Send { msg, .. } => {
                            if alive.get(i) == Some(&true) {
                                if let Some(u) = report.upload_bytes.get_mut(i) {
                                    *u += msg.wire_size() as u64;
                                }
                                if drop_at(i).last_message() == Some(msg.kind())
                                    && let Some(a) = alive.get_mut(i)
                                {
                                    *a = false;
                                }
                                queue.push_back((c.id(), server_id, msg));
                            }
                        }
                        Output::Deliver(v) => {
                            if let Some(ev) = report.client_events.get_mut(i) {
                                ev.push(v);
                            }
                        }
                        Output::Evidence(e) => report.evidence.push((c.id(), e)),
                        Output::Persist(()) => {}
                    }
                }
            }
        }
    };

    let t0 = clock();
    server.handle_request(now, ServerRequest::Start);
    report.server_ns += clock().saturating_sub(t0);
    drain(
        Party::Server(&mut server),
        &mut report,
        &mut queue,
        &mut alive,
    );
    for (i, (c, input)) in clients.iter_mut().zip(inputs).enumerate() {
        if alive.get(i) == Some(&true) {
            let t0 = clock();
            c.handle_request(now, input);
            if let Some(x) = report.client_ns.get_mut(i) {
                *x += clock().saturating_sub(t0);
            }
            drain(Party::Client(c), &mut report, &mut queue, &mut alive);
        }
    }
    loop {
        while let Some((from, to, msg)) = queue.pop_front() {
            if to == server_id {
                let unmasking = server.round() == super::server::Round::Unmasking;
                let t0 = clock();
                server.handle_message(now, from, msg);
                let dt = clock().saturating_sub(t0);
                report.server_ns += dt;
                if unmasking {
                    report.server_unmask_ns += dt;
                }
                drain(
                    Party::Server(&mut server),
                    &mut report,
                    &mut queue,
                    &mut alive,
                );
            } else if alive.get(to.index()) == Some(&true) {
                let Some(c) = clients.get_mut(to.index()) else {
                    continue;
                };
                let t0 = clock();
                c.handle_message(now, from, msg);
                if let Some(x) = report.client_ns.get_mut(to.index()) {
                    *x += clock().saturating_sub(t0);
                }
                drain(Party::Client(c), &mut report, &mut queue, &mut alive);
            }
        }
        if report.outcome.is_some() {
            break;
        }
        let Some(deadline) = server.next_deadline() else {
            break;
        };
        now = deadline;
        let unmasking = server.round() == super::server::Round::Unmasking;
        let t0 = clock();
        server.handle_timeout(now);
        let dt = clock().saturating_sub(t0);
        report.server_ns += dt;
        if unmasking {
            report.server_unmask_ns += dt;
        }
        drain(
            Party::Server(&mut server),
            &mut report,
            &mut queue,
            &mut alive,
        );
    }
    report
}

/// The drop plan the lab and the tests use: `⌊percent · n / 100⌋` clients
/// drop, spread evenly over the four drop points after advertising, the
/// dropping clients chosen by a seeded shuffle.
pub fn spread_dropouts(n: usize, percent: usize, seed: u64) -> Vec<DropPoint> {
    use dwcp_core::rng::{self, RngCore};
    let k = n * percent / 100;
    let mut order: Vec<usize> = (0..n).collect();
    let mut r = rng::seeded(seed);
    for i in (1..n).rev() {
        order.swap(i, (r.next_u64() % (i as u64 + 1)) as usize);
    }
    let points = [
        DropPoint::AfterAdvertise,
        DropPoint::AfterShareKeys,
        DropPoint::AfterMaskedInput,
        DropPoint::AfterConsistency,
    ];
    let mut plan = vec![DropPoint::Never; n];
    for (j, &i) in order.iter().take(k).enumerate() {
        if let (Some(p), Some(pt)) = (plan.get_mut(i), points.get(j % points.len())) {
            *p = *pt;
        }
    }
    plan
}
