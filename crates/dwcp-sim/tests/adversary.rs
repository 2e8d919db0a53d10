//! Each generic adversary does what it says, and only within the model.

mod common;

use common::{Cmd, Msg, Script, id, ms};
use dwcp_core::{Duration, Fault, NodeId, Output, Target, Time};
use dwcp_sim::adversary::{
    CrashAt, Equivocate, Flood, FnAdversary, InvalidSignature, Mutate, Replay, Silent,
};
use dwcp_sim::toy::{Toy, ToyConfig};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};

fn sim(n: usize) -> Simulation<Script> {
    let cfg = SimConfig::new(n, 5).with_network(NetworkConfig::fixed(Duration::from_millis(10)));
    Simulation::new(cfg, Script::new)
}

fn script(sim: &Simulation<Script>, i: u32) -> &Script {
    sim.engine(NodeId(i)).expect("up")
}

fn broadcast(s: &mut Simulation<Script>, at: Time, from: u32, msg: Msg) {
    s.submit(at, id(from), Cmd::Send(Target::all_but(id(from)), msg));
}

/// Everything node `i` received from node `from`.
fn from(s: &Simulation<Script>, i: u32, sender: u32) -> Vec<Msg> {
    script(s, i)
        .received
        .iter()
        .filter(|(_, f, _)| f.0 == sender)
        .map(|(_, _, m)| m.clone())
        .collect()
}

#[test]
fn silent_sends_nothing_after_its_time() {
    let mut s = sim(3);
    s.make_byzantine(id(0), Silent { after: ms(50) });
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    broadcast(&mut s, ms(60), 0, Msg::new(2));
    s.submit(ms(60), id(0), Cmd::Deliver(9));
    s.submit(ms(60), id(1), Cmd::Send(Target::One(id(0)), Msg::new(3)));
    s.run_until(ms(200));
    for i in 1..3 {
        assert_eq!(
            from(&s, i, 0).iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![1]
        );
    }
    assert_eq!(s.stats().nodes[0].sent, 2);
    assert!(s.delivered(id(0)).is_empty());
    assert_eq!(
        script(&s, 0).arrivals(3).len(),
        1,
        "a silent node still listens"
    );
}

#[test]
fn crash_adversary_stops_listening_and_talking() {
    let mut s = sim(3);
    s.make_byzantine(id(0), CrashAt { at: ms(50) });
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    s.submit(ms(60), id(1), Cmd::Send(Target::One(id(0)), Msg::new(3)));
    broadcast(&mut s, ms(70), 0, Msg::new(2));
    s.run_until(ms(200));
    assert!(script(&s, 0).received.is_empty());
    assert!(
        script(&s, 0).requests.len() == 1,
        "requests after the crash are hidden"
    );
    assert_eq!(from(&s, 2, 0).len(), 1);
}

#[test]
fn equivocation_reaches_the_two_halves_with_different_variants() {
    let mut s = sim(6);
    s.make_byzantine(id(0), Equivocate { from: Time::ZERO });
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    s.submit(ms(20), id(0), Cmd::Send(Target::One(id(4)), Msg::new(2)));
    s.run_until(ms(200));
    for i in 1..3 {
        assert_eq!(
            from(&s, i, 0),
            vec![Msg::new(1)],
            "lower half gets the original"
        );
    }
    for i in 3..6 {
        assert_eq!(
            from(&s, i, 0)[0],
            Msg {
                tag: 1,
                ..Msg::new(1)
            },
            "upper half gets the variant"
        );
    }
    assert_eq!(
        from(&s, 4, 0)[1].tag,
        1,
        "the split is the same for unicasts"
    );
    assert!(s.check_safety().is_ok());
}

#[test]
fn invalid_signatures_on_every_send() {
    let mut s = sim(4);
    s.make_byzantine(id(0), InvalidSignature { probability: 1.0 });
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    broadcast(&mut s, ms(10), 1, Msg::new(2));
    s.run_until(ms(200));
    for i in 1..4 {
        assert!(from(&s, i, 0).iter().all(|m| m.tag & 0x80 != 0));
    }
    assert!(
        from(&s, 2, 1).iter().all(|m| m.tag == 0),
        "honest nodes untouched"
    );
}

#[test]
fn replay_resends_stale_messages_under_its_own_name() {
    let mut s = sim(3);
    s.make_byzantine(id(0), Replay::new(1.0, 64));
    for k in 7..15 {
        s.submit(ms(0), id(1), Cmd::Send(Target::One(id(0)), Msg::new(k)));
    }
    for k in 0..10 {
        broadcast(&mut s, ms(20 + k), 0, Msg::new(100 + k));
    }
    s.run_until(ms(200));
    let seen: Vec<u64> = [1, 2]
        .iter()
        .flat_map(|i| from(&s, *i, 0))
        .map(|m| m.id)
        .collect();
    assert!(
        seen.iter().any(|m| (7..15).contains(m)),
        "node 1's stale messages came back, from node 0: {seen:?}"
    );
    assert!(seen.len() > 20, "extra copies on top of the 20 honest ones");
}

#[test]
fn mutate_changes_what_is_sent() {
    let mut s = sim(3);
    s.make_byzantine(id(0), Mutate { probability: 1.0 });
    for k in 0..10 {
        broadcast(&mut s, ms(10), 0, Msg::new(k));
    }
    s.run_until(ms(200));
    let ids: Vec<u64> = from(&s, 1, 0).iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 10);
    assert!(
        ids.iter().enumerate().all(|(k, id)| *id != k as u64),
        "{ids:?}"
    );
}

#[test]
fn flood_produces_many_messages() {
    let mut s = sim(4);
    s.make_byzantine(id(0), Flood::new(ms(10), Duration::from_millis(1), 10));
    broadcast(&mut s, ms(5), 0, Msg::new(1));
    s.run_until(ms(110));
    let got = from(&s, 1, 0).len();
    assert!(got >= 800, "about 100 bursts of 10: {got}");
    let mut s = sim(4);
    s.make_byzantine(
        id(0),
        Flood::new(ms(10), Duration::from_millis(1), 10)
            .with_mutation()
            .at_victim(id(2)),
    );
    broadcast(&mut s, ms(5), 0, Msg::new(1));
    s.run_until(ms(110));
    assert_eq!(from(&s, 1, 0).len(), 1, "only the victim is flooded");
    assert!(
        from(&s, 2, 0).iter().filter(|m| m.id != 1).count() > 500,
        "junk, not copies"
    );
}

#[test]
fn a_closure_adversary_can_drop_selectively() {
    let mut s = sim(3);
    s.make_byzantine(
        id(0),
        FnAdversary::new(
            "skip-2",
            |ctx: &mut dwcp_sim::AdversaryCtx<'_, Script>, out| match out {
                Output::Send { to, msg } => {
                    let keep: Vec<NodeId> = ctx
                        .recipients(&to)
                        .into_iter()
                        .filter(|r| r.0 != 2)
                        .collect();
                    ctx.send(Target::Many(keep), msg);
                }
                other => ctx.emit(other),
            },
        ),
    );
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    s.run_until(ms(100));
    assert_eq!(from(&s, 1, 0).len(), 1);
    assert!(from(&s, 2, 0).is_empty());
}

#[test]
fn byzantine_deliveries_are_excluded_from_invariants() {
    let mut s = sim(3);
    s.make_byzantine(id(0), Silent { after: Time::MAX });
    s.submit(ms(1), id(0), Cmd::Deliver(5));
    s.submit(ms(1), id(1), Cmd::Deliver(6));
    s.run_until(ms(10));
    assert_eq!(s.delivered(id(0)), &[5]);
    assert!(s.check_safety().is_ok());
    assert_eq!(s.honest(), vec![id(1), id(2)]);
}

#[test]
fn honest_toy_nodes_report_bad_signatures_and_still_progress() {
    let n = 4;
    let cfg = SimConfig::new(n, 9).with_network(NetworkConfig::default());
    let toy = ToyConfig::new(n, 10);
    let mut s = Simulation::new(cfg, move |i| Toy::new(toy.clone(), i));
    s.make_byzantine(id(3), InvalidSignature { probability: 1.0 });
    s.run_until_delivered(10, Time::from_secs(10))
        .unwrap_or_else(|v| panic!("{v}"));
    let honest_reports: Vec<_> = s
        .evidence()
        .iter()
        .filter(|(_, r, _)| s.is_honest(*r))
        .collect();
    assert!(!honest_reports.is_empty());
    assert!(
        honest_reports
            .iter()
            .all(|(_, _, e)| e.culprit == id(3) && e.fault == Fault::InvalidSignature)
    );
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
}
