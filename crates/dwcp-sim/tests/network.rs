//! The network model: partitions, bandwidth, regions, loss, duplication,
//! jitter, GST.

mod common;

use common::{Cmd, Msg, Script, id, ms};
use dwcp_core::{Duration, NodeId, Target, Time};
use dwcp_sim::{
    FaultEvent, Gst, LatencyModel, LinkEffect, NetworkConfig, Partition, RegionMatrix, SimConfig,
    Simulation,
};

fn sim_with(n: usize, net: NetworkConfig) -> Simulation<Script> {
    Simulation::new(SimConfig::new(n, 11).with_network(net), Script::new)
}

fn fixed(n: usize) -> Simulation<Script> {
    sim_with(n, NetworkConfig::fixed(Duration::from_millis(10)))
}

fn script(sim: &Simulation<Script>, i: u32) -> &Script {
    sim.engine(NodeId(i)).expect("up")
}

fn broadcast(s: &mut Simulation<Script>, at: Time, from: u32, msg: Msg) {
    s.submit(at, id(from), Cmd::Send(Target::all_but(id(from)), msg));
}

#[test]
fn symmetric_partition_blocks_both_ways_then_heals() {
    let mut s = fixed(4);
    s.partition_between(
        ms(5),
        ms(100),
        Partition::split(vec![vec![id(0), id(1)], vec![id(2), id(3)]]),
    );
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    broadcast(&mut s, ms(10), 3, Msg::new(2));
    broadcast(&mut s, ms(150), 0, Msg::new(3));
    s.run_until(ms(300));
    assert_eq!(script(&s, 1).arrivals(1), vec![ms(20)]);
    assert!(script(&s, 2).arrivals(1).is_empty() && script(&s, 3).arrivals(1).is_empty());
    assert_eq!(script(&s, 2).arrivals(2), vec![ms(20)]);
    assert!(script(&s, 0).arrivals(2).is_empty() && script(&s, 1).arrivals(2).is_empty());
    for i in 1..4 {
        assert_eq!(script(&s, i).arrivals(3), vec![ms(160)], "healed");
    }
    assert_eq!(s.stats().partitioned, 4);
}

#[test]
fn asymmetric_partition_blocks_one_direction_until_heal() {
    let mut s = fixed(3);
    s.schedule(
        ms(0),
        FaultEvent::Partition(Partition::one_way(vec![id(0)], vec![id(1)])),
    );
    s.submit(ms(10), id(0), Cmd::Send(Target::One(id(1)), Msg::new(1)));
    s.submit(ms(10), id(0), Cmd::Send(Target::One(id(2)), Msg::new(2)));
    s.submit(ms(10), id(1), Cmd::Send(Target::One(id(0)), Msg::new(3)));
    s.schedule(ms(50), FaultEvent::Heal);
    s.submit(ms(60), id(0), Cmd::Send(Target::One(id(1)), Msg::new(4)));
    s.run_until(ms(200));
    assert!(script(&s, 1).arrivals(1).is_empty(), "0 -> 1 blocked");
    assert_eq!(script(&s, 2).arrivals(2), vec![ms(20)], "0 -> 2 open");
    assert_eq!(script(&s, 0).arrivals(3), vec![ms(20)], "1 -> 0 open");
    assert_eq!(script(&s, 1).arrivals(4), vec![ms(70)], "healed");
}

#[test]
fn a_megabyte_over_ten_megabytes_per_second_takes_100_ms() {
    let mut net = NetworkConfig::fixed(Duration::from_millis(1));
    net.uplink = Some(10_000_000);
    let mut s = sim_with(2, net);
    s.submit(
        ms(0),
        id(0),
        Cmd::Send(Target::One(id(1)), Msg::sized(1000, 1_000_000)),
    );
    s.run_until(ms(500));
    let at = script(&s, 1).arrivals(1000);
    assert_eq!(at, vec![ms(101)]);
    assert!(at[0] >= ms(100));
}

#[test]
fn broadcast_copies_serialise_one_after_another_and_keep_the_uplink_busy() {
    let mut net = NetworkConfig::fixed(Duration::from_millis(1));
    net.uplink = Some(10_000_000);
    let mut s = sim_with(4, net);
    broadcast(&mut s, ms(0), 1, Msg::sized(1000, 1_000_000));
    // Queued behind the broadcast on the same uplink.
    s.submit(
        ms(50),
        id(1),
        Cmd::Send(Target::One(id(0)), Msg::sized(1001, 1_000_000)),
    );
    // Another node's uplink is independent.
    s.submit(
        ms(50),
        id(0),
        Cmd::Send(Target::One(id(3)), Msg::sized(1002, 1_000_000)),
    );
    s.run_until(Time::from_secs(1));
    // Starting with the sender's successor: 2, 3, then 0.
    assert_eq!(script(&s, 2).arrivals(1000), vec![ms(101)]);
    assert_eq!(script(&s, 3).arrivals(1000), vec![ms(201)]);
    assert_eq!(script(&s, 0).arrivals(1000), vec![ms(301)]);
    assert_eq!(script(&s, 0).arrivals(1001), vec![ms(401)]);
    assert_eq!(script(&s, 3).arrivals(1002), vec![ms(151)]);
    // A per-node override.
    s.set_uplink(id(2), Some(1_000_000_000));
    s.submit(
        Time::from_secs(1),
        id(2),
        Cmd::Send(Target::One(id(3)), Msg::sized(1003, 1_000_000)),
    );
    s.run_until(Time::from_secs(2));
    assert_eq!(script(&s, 3).arrivals(1003), vec![Time::from_millis(1_002)]);
}

#[test]
fn region_matrix_latencies() {
    let m = RegionMatrix::from_millis(
        &["a", "b", "c"],
        &[&[1, 20, 50], &[20, 1, 80], &[50, 80, 1]],
        Duration::ZERO,
    );
    let mut s = sim_with(
        6,
        NetworkConfig {
            latency: LatencyModel::Regions(m.clone()),
            ..Default::default()
        },
    );
    broadcast(&mut s, ms(0), 0, Msg::new(1));
    broadcast(&mut s, ms(0), 1, Msg::new(2));
    s.run_until(ms(500));
    // Round-robin: node i lives in region i % 3.
    let expect0 = [(1, 20), (2, 50), (3, 1), (4, 20), (5, 50)];
    for (to, lat) in expect0 {
        assert_eq!(script(&s, to).arrivals(1), vec![ms(lat)], "0 -> {to}");
    }
    assert_eq!(script(&s, 2).arrivals(2), vec![ms(80)]);
    // Explicit assignment, with jitter bounded by its configured value.
    let m = RegionMatrix {
        assignment: vec![2, 2, 0],
        jitter: Duration::from_millis(5),
        ..m
    };
    let mut s = sim_with(
        3,
        NetworkConfig {
            latency: LatencyModel::Regions(m),
            ..Default::default()
        },
    );
    broadcast(&mut s, ms(0), 0, Msg::new(1));
    s.run_until(ms(500));
    let a1 = script(&s, 1).arrivals(1)[0];
    let a2 = script(&s, 2).arrivals(1)[0];
    assert!(a1 >= ms(1) && a1 <= ms(6), "{a1}");
    assert!(a2 >= ms(50) && a2 <= ms(55), "{a2}");
}

#[test]
fn loss_and_duplication_rates_are_roughly_right() {
    let net = NetworkConfig {
        loss: 0.1,
        duplicate: 0.05,
        ..NetworkConfig::fixed(Duration::from_millis(1))
    };
    let mut s = sim_with(2, net);
    let sends = (0..20_000)
        .map(|i| Cmd::Send(Target::One(id(1)), Msg::new(i % 1000)))
        .collect();
    s.submit(ms(0), id(0), Cmd::Batch(sends));
    s.run_until(ms(100));
    let st = s.stats();
    // Expected 2000 lost (sd ~42) and 900 duplicated (sd ~29).
    assert!((1800..=2200).contains(&st.lost), "lost {}", st.lost);
    assert!(
        (750..=1050).contains(&st.duplicated),
        "duplicated {}",
        st.duplicated
    );
    assert_eq!(
        script(&s, 1).received.len() as u64,
        20_000 - st.lost + st.duplicated
    );
}

#[test]
fn jitter_reorders_within_its_bound() {
    let net = NetworkConfig {
        jitter: Duration::from_millis(10),
        ..NetworkConfig::fixed(Duration::from_millis(10))
    };
    let mut s = sim_with(2, net);
    let sends = (0..100)
        .map(|i| Cmd::Send(Target::One(id(1)), Msg::new(i)))
        .collect();
    s.submit(ms(0), id(0), Cmd::Batch(sends));
    s.run_until(ms(100));
    let r = &script(&s, 1).received;
    assert_eq!(r.len(), 100);
    assert!(r.iter().all(|(t, _, _)| *t >= ms(10) && *t <= ms(20)));
    assert!(
        r.windows(2).any(|w| w[0].2.id > w[1].2.id),
        "some reordering"
    );
}

#[test]
fn uniform_and_exponential_latencies_respect_their_floors() {
    let uni = NetworkConfig {
        latency: LatencyModel::Uniform {
            min: Duration::from_millis(3),
            max: Duration::from_millis(7),
        },
        ..Default::default()
    };
    let exp = NetworkConfig {
        latency: LatencyModel::ExpTail {
            min: Duration::from_millis(2),
            mean: Duration::from_millis(20),
        },
        ..Default::default()
    };
    for (net, lo, hi, mean_lo, mean_hi) in [(uni, 3, 7, 4.5, 5.5), (exp, 2, u64::MAX, 19.0, 25.0)] {
        let mut s = sim_with(2, net);
        let sends = (0..2000)
            .map(|i| Cmd::Send(Target::One(id(1)), Msg::new(i % 1000)))
            .collect();
        s.submit(ms(0), id(0), Cmd::Batch(sends));
        s.run_until(Time::from_secs(10));
        let lat: Vec<f64> = script(&s, 1)
            .received
            .iter()
            .map(|(t, _, _)| t.as_secs_f64() * 1e3)
            .collect();
        assert!(lat.iter().all(|l| *l >= lo as f64 && *l <= hi as f64));
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        assert!(mean >= mean_lo && mean <= mean_hi, "mean {mean}");
    }
}

#[test]
fn gst_stops_loss_and_bounds_latency() {
    let net = NetworkConfig {
        latency: LatencyModel::ExpTail {
            min: Duration::from_millis(1),
            mean: Duration::from_secs(1),
        },
        gst: Some(Gst {
            at: Time::from_secs(10),
            loss_before: 0.5,
            extra_delay_before: Duration::from_secs(30),
            delta: Duration::from_millis(100),
        }),
        ..Default::default()
    };
    let mut s = sim_with(2, net);
    let before = (0..1000)
        .map(|i| Cmd::Send(Target::One(id(1)), Msg::new(i)))
        .collect();
    let after = (0..1000)
        .map(|i| Cmd::Send(Target::One(id(1)), Msg::new(1000 + i)))
        .collect();
    s.submit(Time::from_secs(1), id(0), Cmd::Batch(before));
    s.submit(Time::from_secs(20), id(0), Cmd::Batch(after));
    s.run_until(Time::from_secs(100));
    let r = &script(&s, 1).received;
    let pre: Vec<Time> = r
        .iter()
        .filter(|(_, _, m)| m.id < 1000)
        .map(|x| x.0)
        .collect();
    let post: Vec<Time> = r
        .iter()
        .filter(|(_, _, m)| m.id >= 1000)
        .map(|x| x.0)
        .collect();
    assert!(
        (400..=600).contains(&pre.len()),
        "about half lost before GST: {}",
        pre.len()
    );
    assert!(
        pre.iter().all(|t| *t <= Time::from_millis(10_100)),
        "survivors arrive by GST + delta"
    );
    assert_eq!(post.len(), 1000, "nothing lost after GST");
    assert!(
        post.iter().all(|t| *t <= Time::from_millis(20_100)),
        "latency capped at delta"
    );
    assert_eq!(s.stats().lost, 1000 - pre.len() as u64);
}

#[test]
fn messages_to_oneself_arrive_at_departure() {
    let mut s = fixed(2);
    s.submit(
        ms(3),
        id(0),
        Cmd::Send(Target::many(vec![id(0), id(1)]), Msg::new(1)),
    );
    s.run_until(ms(100));
    assert_eq!(script(&s, 0).arrivals(1), vec![ms(3)]);
    assert_eq!(script(&s, 1).arrivals(1), vec![ms(13)]);
}

#[test]
fn clogged_and_lossy_links() {
    let mut s = fixed(4);
    s.link_fault_between(
        ms(0),
        ms(100),
        Partition::links(vec![(id(0), id(1))]),
        LinkEffect::Delay(Duration::from_millis(50)),
    );
    s.schedule(
        ms(0),
        FaultEvent::LinkFault(
            Partition::one_way(vec![id(0)], vec![id(2)]),
            LinkEffect::Loss(1.0),
        ),
    );
    broadcast(&mut s, ms(10), 0, Msg::new(1));
    broadcast(&mut s, ms(10), 1, Msg::new(2));
    s.schedule(ms(150), FaultEvent::Heal);
    broadcast(&mut s, ms(200), 0, Msg::new(3));
    s.run_until(ms(500));
    assert_eq!(script(&s, 1).arrivals(1), vec![ms(70)], "clogged");
    assert!(script(&s, 2).arrivals(1).is_empty(), "lossy");
    assert_eq!(script(&s, 3).arrivals(1), vec![ms(20)], "unaffected");
    assert_eq!(
        script(&s, 0).arrivals(2),
        vec![ms(20)],
        "the reverse direction is fine"
    );
    assert_eq!(s.stats().lost, 1);
    for i in 1..4 {
        assert_eq!(script(&s, i).arrivals(3), vec![ms(210)], "healed");
    }
}
