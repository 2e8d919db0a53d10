//! The host rules: drain, durability, crash/restart, pause, timers, clocks.

mod common;

use common::{Cmd, Msg, Script, id, ms};
use dwcp_core::{Duration, NodeId, Target, Time};
use dwcp_sim::{AppLog, FaultEvent, NetworkConfig, SimConfig, Simulation};

fn sim(n: usize) -> Simulation<Script> {
    let cfg = SimConfig::new(n, 7).with_network(NetworkConfig::fixed(Duration::from_millis(10)));
    Simulation::new(cfg, Script::new)
}

fn script(sim: &Simulation<Script>, i: u32) -> &Script {
    sim.engine(NodeId(i)).expect("node is up")
}

#[test]
fn sends_after_a_persist_wait_for_the_fsync() {
    let mut s = sim(3);
    s.submit(
        ms(5),
        id(0),
        Cmd::Batch(vec![
            Cmd::Send(Target::One(id(1)), Msg::new(1)),
            Cmd::Persist(7),
            Cmd::Send(Target::One(id(1)), Msg::new(2)),
        ]),
    );
    // A later drain while the fsync is still pending: the send queues behind it.
    s.submit(
        Time(5_500_000),
        id(0),
        Cmd::Send(Target::One(id(2)), Msg::new(3)),
    );
    // After the fsync completed: leaves at once.
    s.submit(ms(8), id(0), Cmd::Send(Target::One(id(2)), Msg::new(4)));
    s.run_until(ms(100));
    assert_eq!(
        script(&s, 1).arrivals(1),
        vec![ms(15)],
        "before the persist: leaves at once"
    );
    assert_eq!(
        script(&s, 1).arrivals(2),
        vec![ms(16)],
        "after the persist: leaves at now + fsync"
    );
    assert_eq!(script(&s, 2).arrivals(3), vec![ms(16)]);
    assert_eq!(script(&s, 2).arrivals(4), vec![ms(18)]);
    assert_eq!(s.persisted(id(0)), &[7]);
}

#[test]
fn fsync_latency_is_configurable() {
    let cfg = SimConfig::new(2, 7)
        .with_network(NetworkConfig::fixed(Duration::from_millis(10)))
        .with_fsync(Duration::from_millis(7));
    let mut s = Simulation::new(cfg, Script::new);
    s.submit(
        ms(0),
        id(0),
        Cmd::Batch(vec![
            Cmd::Persist(1),
            Cmd::Send(Target::One(id(1)), Msg::new(1)),
        ]),
    );
    s.run_until(ms(100));
    assert_eq!(script(&s, 1).arrivals(1), vec![ms(17)]);
}

#[test]
fn a_crash_keeps_only_durable_records_and_restart_restores_them() {
    let mut s = sim(2);
    s.submit(
        ms(10),
        id(0),
        Cmd::Batch(vec![Cmd::Persist(1), Cmd::Deliver(100)]),
    );
    s.submit(
        ms(20),
        id(0),
        Cmd::Batch(vec![
            Cmd::Persist(2),
            Cmd::Deliver(200),
            Cmd::Send(Target::One(id(1)), Msg::new(9)),
        ]),
    );
    s.schedule(Time(20_500_000), FaultEvent::Crash(id(0)));
    s.submit(ms(18), id(1), Cmd::Send(Target::One(id(0)), Msg::new(5)));
    s.submit(ms(25), id(0), Cmd::Deliver(300));
    s.schedule(ms(30), FaultEvent::Restart(id(0)));
    s.run_until(ms(200));
    let restarted = script(&s, 0);
    assert_eq!(
        restarted.restored,
        Some((ms(30), vec![1])),
        "only the fsync'd record survives"
    );
    assert_eq!(s.persisted(id(0)), &[1]);
    assert_eq!(
        s.delivered(id(0)),
        &[100],
        "a delivery waiting for the lost fsync is lost too"
    );
    assert!(
        script(&s, 1).arrivals(9).is_empty(),
        "a send waiting for the lost fsync never leaves"
    );
    assert!(
        restarted.received.is_empty(),
        "messages to a crashed node are dropped"
    );
    assert_eq!(s.stats().dropped_at_crashed, 1);
    assert_eq!(s.stats().dropped_sender_crashed, 1);
    assert_eq!(s.stats().dropped_requests, 1);
}

#[test]
fn restarting_a_running_node_bounces_it() {
    let mut s = sim(2);
    s.submit(ms(1), id(0), Cmd::Persist(4));
    s.schedule(ms(10), FaultEvent::Restart(id(0)));
    s.run_until(ms(20));
    assert_eq!(script(&s, 0).restored, Some((ms(10), vec![4])));
}

#[test]
fn volatile_logs_are_archived_on_crash() {
    let cfg = SimConfig {
        app_log: AppLog::Volatile,
        ..SimConfig::new(2, 1)
    };
    let mut s = Simulation::new(cfg, Script::new);
    s.submit(ms(1), id(0), Cmd::Deliver(1));
    s.schedule(ms(5), FaultEvent::Crash(id(0)));
    s.schedule(ms(6), FaultEvent::Restart(id(0)));
    s.submit(ms(7), id(0), Cmd::Deliver(1));
    s.run_until(ms(10));
    assert_eq!(s.archived_logs(), &[(id(0), vec![1])]);
    assert_eq!(s.delivered(id(0)), &[1]);
    assert!(
        s.check_safety().is_ok(),
        "re-delivering after a volatile crash is fine"
    );
}

#[test]
fn a_paused_node_queues_inputs_and_defers_timers() {
    let mut s = sim(2);
    s.submit(ms(0), id(0), Cmd::Deadline(Some(ms(15))));
    s.submit(ms(0), id(1), Cmd::Send(Target::One(id(0)), Msg::new(1)));
    s.schedule(ms(5), FaultEvent::Pause(id(0), Duration::from_millis(20)));
    s.submit(ms(12), id(0), Cmd::Deliver(3));
    s.run_until(ms(20));
    assert!(s.is_paused(id(0)));
    assert!(script(&s, 0).received.is_empty() && script(&s, 0).timeouts.is_empty());
    s.run_until(ms(100));
    let e = script(&s, 0);
    assert_eq!(
        e.received.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![ms(25)]
    );
    assert_eq!(e.requests, vec![ms(0), ms(25)]);
    assert_eq!(e.timeouts, vec![ms(25)]);
    assert_eq!(s.delivered(id(0)), &[3]);
    assert_eq!(s.stats().queued_while_paused, 2);
}

#[test]
fn timers_fire_once_at_the_latest_deadline_never_early() {
    let mut s = sim(1);
    s.submit(ms(0), id(0), Cmd::Deadline(Some(ms(50))));
    s.submit(ms(10), id(0), Cmd::Deadline(Some(ms(30))));
    s.submit(ms(20), id(0), Cmd::Deadline(Some(ms(40))));
    // A deadline already in the past fires right away, not before now.
    s.submit(ms(60), id(0), Cmd::Deadline(Some(ms(55))));
    s.run_until(ms(200));
    assert_eq!(script(&s, 0).timeouts, vec![ms(40), ms(60)]);
    assert_eq!(s.stats().timer_events, 2);
}

#[test]
fn clock_offsets_shift_what_each_node_sees() {
    let cfg = SimConfig {
        clock_offsets: vec![1_000_000_000, -2_000_000],
        ..SimConfig::new(2, 3).with_network(NetworkConfig::fixed(Duration::from_millis(10)))
    };
    let mut s = Simulation::new(cfg, Script::new);
    // Node 0's clock is one second ahead: its local deadline 1.020 s is global 20 ms.
    s.submit(ms(10), id(0), Cmd::Deadline(Some(Time::from_millis(1_020))));
    s.submit(ms(10), id(1), Cmd::Send(Target::One(id(0)), Msg::new(1)));
    s.submit(ms(10), id(0), Cmd::Send(Target::One(id(1)), Msg::new(2)));
    s.run_until(ms(19));
    assert!(script(&s, 0).timeouts.is_empty());
    s.run_until(ms(100));
    assert_eq!(script(&s, 0).timeouts, vec![Time::from_millis(1_020)]);
    assert_eq!(script(&s, 0).requests[0], Time::from_millis(1_010));
    assert_eq!(script(&s, 0).arrivals(1), vec![Time::from_millis(1_020)]);
    assert_eq!(
        script(&s, 1).arrivals(2),
        vec![ms(18)],
        "node 1 is 2 ms behind"
    );
}

#[test]
fn engines_are_drained_at_start_and_act_on_a_zero_deadline() {
    let cfg = SimConfig::new(4, 3).with_network(NetworkConfig::fixed(Duration::from_millis(10)));
    let mut s = Simulation::new(cfg, |i| Script::new(i).hello());
    s.run_until(ms(50));
    for i in 1..4 {
        assert_eq!(
            script(&s, i).received.len(),
            3,
            "every node hears every other"
        );
        assert!(
            script(&s, i)
                .received
                .iter()
                .all(|(t, from, m)| *t == ms(10) && m.id == from.0 as u64)
        );
    }
}

#[test]
fn run_helpers_stop_where_they_say() {
    let mut s = sim(2);
    s.submit(ms(1), id(0), Cmd::Send(Target::One(id(1)), Msg::new(1)));
    assert!(s.run_until_cond(ms(100), |s| {
        !s.engine(id(1)).is_some_and(|e| e.received.is_empty())
    }));
    assert_eq!(s.now(), ms(11));
    assert!(s.run_until_quiet(ms(100)));
    s.run_for(Duration::from_millis(5));
    assert_eq!(s.now(), ms(16));
    assert!(!s.step(), "nothing left to do");
}

#[test]
fn the_load_generator_submits_at_a_fixed_rate() {
    let mut s = sim(3);
    s.load(ms(10), Duration::from_millis(5), 6, |k, _| {
        (NodeId((k % 3) as u32), Cmd::Deliver(k))
    });
    s.run_until(ms(100));
    assert_eq!(script(&s, 0).requests, vec![ms(10), ms(25)]);
    assert_eq!(script(&s, 2).requests, vec![ms(20), ms(35)]);
    assert_eq!(s.delivered(id(1)), &[1, 4]);
    assert_eq!(s.submitted().len(), 6);
    let mut t = sim(2);
    t.submit_many((0..4).map(|k| (ms(k), id(1), Cmd::Deliver(k))));
    t.run_until(ms(10));
    assert_eq!(t.delivered(id(1)), &[0, 1, 2, 3]);
}
