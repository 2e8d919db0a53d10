//! The server engine fed by hand: every kind of bad update is rejected with
//! evidence and the round goes on; deadlines close rounds with whoever arrived.

use dwcp_core::{Duration, Engine, Fault, NodeId, Output, Target, Time};
use dwcp_federated::config::FlConfig;
use dwcp_federated::message::{FlMessage, Update};
use dwcp_federated::server::{RoundOutcome, Server, ServerRequest};
use dwcp_federated::wire::encode_dense_raw;

fn cfg() -> FlConfig {
    let mut c = FlConfig::new(3);
    c.model.sizes = vec![4, 3, 2];
    c.rounds = 5;
    c.max_update_bytes = 100;
    c
}

fn dim() -> usize {
    4 * 3 + 3 + 3 * 2 + 2
}

fn update(round: u64, v: Vec<f32>) -> FlMessage {
    FlMessage::Update(Update {
        round,
        weight: 10,
        contributors: 1,
        payload: encode_dense_raw(&v),
    })
}

#[derive(Default)]
struct Drained {
    sends: Vec<(Target, FlMessage)>,
    evidence: Vec<(NodeId, &'static str)>,
    delivered: Vec<RoundOutcome>,
    persisted: usize,
}

fn drain(s: &mut Server) -> Drained {
    let mut d = Drained::default();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Send { to, msg } => d.sends.push((to, msg)),
            Output::Evidence(e) => match e.fault {
                Fault::Protocol(r) => d.evidence.push((e.culprit, r)),
                other => panic!("unexpected fault {other:?}"),
            },
            Output::Deliver(v) => d.delivered.push(v),
            Output::Persist(_) => d.persisted += 1,
        }
    }
    d
}

#[test]
fn bad_updates_are_rejected_with_evidence_and_the_round_goes_on() {
    let mut s = Server::new(cfg(), 1).unwrap();
    let t = Time::ZERO;
    s.handle_request(t, ServerRequest::Start);
    let d = drain(&mut s);
    assert_eq!(d.sends.len(), 1);
    assert_eq!(
        d.sends[0].0,
        Target::Many(vec![NodeId(1), NodeId(2), NodeId(3)])
    );
    let good = vec![0.5f32; dim()];

    s.handle_message(t, NodeId(1), update(1, good.clone()));
    assert!(drain(&mut s).evidence.is_empty());

    let mut nan = good.clone();
    nan[3] = f32::NAN;
    let mut inf = good.clone();
    inf[0] = f32::INFINITY;
    let cases: Vec<(NodeId, FlMessage, &str)> = vec![
        (NodeId(1), update(1, good.clone()), "duplicate update"),
        (
            NodeId(2),
            update(0, good.clone()),
            "stale update (wrong round)",
        ),
        (
            NodeId(2),
            update(2, good.clone()),
            "stale update (wrong round)",
        ),
        (
            NodeId(2),
            update(1, nan),
            "update with NaN or infinite values",
        ),
        (
            NodeId(2),
            update(1, inf),
            "update with NaN or infinite values",
        ),
        (
            NodeId(2),
            update(1, vec![0.0; dim() + 2]),
            "oversized update",
        ),
        (
            NodeId(2),
            update(1, vec![0.0; dim() - 1]),
            "update of the wrong dimension",
        ),
        (
            NodeId(9),
            update(1, good.clone()),
            "update from a node not expected to upload this round",
        ),
        (
            NodeId(2),
            FlMessage::Update(Update {
                round: 1,
                weight: 0,
                contributors: 1,
                payload: encode_dense_raw(&good),
            }),
            "implausible update weight or contributor count",
        ),
        (
            NodeId(2),
            FlMessage::Update(Update {
                round: 1,
                weight: 1,
                contributors: 1,
                payload: vec![7, dim() as u8],
            }),
            "malformed update",
        ),
    ];
    for (from, msg, rule) in cases {
        s.handle_message(t, from, msg);
        let d = drain(&mut s);
        assert_eq!(d.evidence, vec![(from, rule)]);
        assert!(d.delivered.is_empty(), "round closed early on {rule}");
    }
    s.handle_message(t, NodeId(2), update(1, good.clone()));
    s.handle_message(t, NodeId(3), update(1, good.clone()));
    let d = drain(&mut s);
    assert_eq!(d.delivered.len(), 1);
    let o = &d.delivered[0];
    assert_eq!(
        (o.round, o.accepted, o.missing, o.rejected, o.skipped),
        (1, 3, 0, 10, false)
    );
    assert_eq!(d.persisted, 1);
    // The model moved by the mean update and round 2 opened.
    assert_eq!(s.round(), 2);
    assert!(
        matches!(d.sends.last(), Some((_, FlMessage::RoundStart(rs))) if rs.round == 2 && rs.full)
    );
}

#[test]
fn the_deadline_closes_a_round_with_whoever_arrived() {
    let c = cfg();
    let timeout = c.round_timeout;
    let mut s = Server::new(c, 1).unwrap();
    s.handle_request(Time::ZERO, ServerRequest::Start);
    let _ = drain(&mut s);
    let before = s.model().to_vec();
    s.handle_message(Time::ZERO, NodeId(2), update(1, vec![1.0; dim()]));
    assert_eq!(s.next_deadline(), Some(Time::ZERO + timeout));
    s.handle_timeout(Time::ZERO + (timeout - Duration::from_nanos(1)));
    assert!(drain(&mut s).delivered.is_empty());
    s.handle_timeout(Time::ZERO + timeout);
    let d = drain(&mut s);
    assert_eq!(d.delivered[0].accepted, 1);
    assert_eq!(d.delivered[0].missing, 2);
    assert!(
        s.model()
            .iter()
            .zip(&before)
            .all(|(a, b)| (a - b - 1.0).abs() < 1e-6)
    );
    // A straggler's late update for round 1 is stale in round 2.
    s.handle_message(Time::ZERO + timeout, NodeId(1), update(1, vec![0.0; dim()]));
    assert_eq!(
        drain(&mut s).evidence,
        vec![(NodeId(1), "stale update (wrong round)")]
    );
    // A round with no updates keeps the model and is reported as skipped.
    let m = s.model().to_vec();
    s.handle_timeout(Time::ZERO + timeout + timeout);
    let d = drain(&mut s);
    assert!(d.delivered[0].skipped);
    assert_eq!(s.model(), &m[..]);
}

#[test]
fn restore_resumes_from_the_last_valid_checkpoint() {
    let mut s = Server::new(cfg(), 1).unwrap();
    s.handle_request(Time::ZERO, ServerRequest::Start);
    let _ = drain(&mut s);
    for k in 1..=3 {
        s.handle_message(Time::ZERO, NodeId(k), update(1, vec![0.25; dim()]));
    }
    let mut records = vec![];
    while let Some(o) = s.poll_output() {
        if let Output::Persist(r) = o {
            records.push(r);
        }
    }
    let mut bad = records[0].clone();
    bad.params[0] = f32::NAN;
    records.push(bad);
    let mut t = Server::new(cfg(), 1).unwrap();
    t.restore(Time::ZERO, records);
    assert_eq!(t.model(), s.model());
    assert_eq!(t.round(), 1);
    t.handle_request(Time::ZERO, ServerRequest::Start);
    assert_eq!(t.round(), 2);
}
