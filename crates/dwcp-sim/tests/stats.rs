//! Counters by message kind, by node, and per decision.

mod common;

use common::{Cmd, Msg, Script, id, ms};
use dwcp_core::{Duration, Target};
use dwcp_sim::toy::{Toy, ToyConfig};
use dwcp_sim::{NetworkConfig, SimConfig, Simulation};

#[test]
fn counts_by_kind_node_and_decision() {
    let cfg = SimConfig::new(4, 1).with_network(NetworkConfig::fixed(Duration::from_millis(5)));
    let mut s = Simulation::new(cfg, |i| Script::new(i).echo());
    s.submit(
        ms(1),
        id(0),
        Cmd::Batch(vec![
            Cmd::Send(Target::all_but(id(0)), Msg::new(1)),
            Cmd::Send(Target::One(id(1)), Msg::sized(1000, 5000)),
        ]),
    );
    s.run_until(ms(100));
    let st = s.stats();
    let msg = st.kind("msg").unwrap();
    assert_eq!(
        (msg.sent, msg.sent_bytes, msg.delivered, msg.delivered_bytes),
        (3, 300, 3, 300)
    );
    let big = st.kind("big").unwrap();
    assert_eq!((big.sent, big.sent_bytes, big.delivered), (1, 5000, 1));
    assert_eq!(st.sends, 2);
    assert_eq!((st.nodes[0].sent, st.nodes[0].sent_bytes), (4, 5300));
    assert_eq!(
        (st.nodes[1].received, st.nodes[1].received_bytes),
        (2, 5100)
    );
    assert_eq!(st.nodes[1].delivered_values, 2);
    assert_eq!(st.delivered_events, 4);
    assert_eq!(s.decisions(), 2);
    assert_eq!(s.messages_per_decision(), 2.0);
    assert_eq!(st.bytes_per_decision(2), 2650.0);
    assert_eq!(st.kind_per_decision("big", 2), 0.5);
}

#[test]
fn the_toy_costs_n_times_n_minus_one_votes_per_round() {
    let n = 10;
    let rounds = 20;
    let cfg = SimConfig::new(n, 2).with_network(NetworkConfig::default());
    let toy = ToyConfig::new(n, rounds);
    let mut s = Simulation::new(cfg, move |i| Toy::new(toy.clone(), i));
    assert!(s.run_until_quiet(dwcp_core::Time::from_secs(60)));
    s.check_safety().unwrap_or_else(|v| panic!("{v}"));
    assert_eq!(s.decisions(), rounds);
    // rounds + 1 broadcasts per node (the last one announces the end), no loss.
    let expected = (n * (n - 1)) as u64 * (rounds + 1);
    assert_eq!(s.stats().kind("vote").unwrap().sent, expected);
    assert_eq!(s.stats().delivered_events, expected);
    assert!(s.evidence().is_empty());
}
