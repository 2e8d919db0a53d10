//! `chaos`: seeded fault runs of any protocol, reporting safety and liveness per seed.
//!
//! A run has two phases (TigerBeetle's VOPR scheme): a **safety phase** with the
//! faults of the SPEC in force, then a **liveness phase** in which every partition
//! heals, loss stops (GST), crashed honest nodes restart, and every honest node must
//! deliver every submitted request within a bound. Safety (no duplicates, total-order
//! prefix consistency, validity) is checked over both phases by the simulator's
//! protocol-independent checkers.

use dwcp_core::{Duration, Engine, NodeId, Time};
use dwcp_sim::adversary::{CrashAt, Equivocate, Flood, InvalidSignature, Mutate, Replay, Silent};
use dwcp_sim::{ByzantineMessage, FaultEvent, Gst, NetworkConfig, Partition, Simulation};
use std::process::ExitCode;

/// Help for the fault SPEC.
pub const SPEC_HELP: &str = "fault SPEC: comma-separated items, e.g. \"byz=1:equivocate,crash=2@1s,restart=2@3s,split@1s..4s,loss=0.05\"
  none                     no faults
  byz=K:STRATEGY           nodes 0..K are Byzantine (node 0 leads view 0); STRATEGY is one of
                           silent, crash, equivocate, badsig, replay, mutate, flood
  crash=I@T                honest node I crashes at T (restarted for the liveness phase)
  restart=I@T              node I restarts from its persisted records at T
  pause=I@T+D              node I pauses for D from T
  isolate=I@T1..T2         node I is cut off both ways between T1 and T2
  oneway=I@T1..T2          node I's outgoing links are cut between T1 and T2
  split@T1..T2             the committee splits into two halves between T1 and T2
  loss=P                   each copy is lost with probability P until the liveness phase
times: 250ms, 2s, 1.5s";

/// A Byzantine strategy named in the SPEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Falls silent at time zero.
    Silent,
    /// Stops for good at time zero.
    Crash,
    /// Sends conflicting messages to the two halves of the committee.
    Equivocate,
    /// Corrupts every signature.
    BadSig,
    /// Replays stale messages.
    Replay,
    /// Mutates messages.
    Mutate,
    /// Floods peers with junk.
    Flood,
}

/// One scheduled fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// Nodes `0..k` run `strategy`.
    Byz(usize, Strategy),
    /// Crash at a time.
    Crash(u32, Time),
    /// Restart at a time.
    Restart(u32, Time),
    /// Pause at a time for a duration.
    Pause(u32, Time, Duration),
    /// Isolate between two times.
    Isolate(u32, Time, Time),
    /// Cut outgoing links between two times.
    OneWay(u32, Time, Time),
    /// Split in halves between two times.
    Split(Time, Time),
    /// Loss probability.
    Loss(f64),
}

/// Parses a time like `250ms`, `2s`, `1.5s`.
pub fn parse_time(s: &str) -> Result<Time, String> {
    let (num, scale) = if let Some(v) = s.strip_suffix("ms") {
        (v, 1e6)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1e9)
    } else {
        return Err(format!("time {s:?} needs a unit (ms or s)"));
    };
    let x: f64 = num.parse().map_err(|_| format!("bad time {s:?}"))?;
    if !(0.0..1e7).contains(&x) {
        return Err(format!("time {s:?} out of range"));
    }
    Ok(Time((x * scale) as u64))
}

fn parse_span(s: &str) -> Result<(Time, Time), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("span {s:?} must be T1..T2"))?;
    let (a, b) = (parse_time(a)?, parse_time(b)?);
    if b <= a {
        return Err(format!("span {s:?} ends before it starts"));
    }
    Ok((a, b))
}

fn parse_node(s: &str, n: usize) -> Result<u32, String> {
    let i: u32 = s.parse().map_err(|_| format!("bad node {s:?}"))?;
    if i as usize >= n {
        return Err(format!("node {i} out of range for n={n}"));
    }
    Ok(i)
}

/// Parses a fault SPEC for a committee of `n` nodes.
pub fn parse_spec(spec: &str, n: usize) -> Result<Vec<Item>, String> {
    let mut items = vec![];
    for tok in spec
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "none")
    {
        let item = if let Some(rest) = tok.strip_prefix("byz=") {
            let (k, strat) = rest.split_once(':').ok_or("byz=K:STRATEGY")?;
            let k: usize = k.parse().map_err(|_| format!("bad count in {tok:?}"))?;
            if 3 * k >= n {
                return Err(format!("{k} Byzantine nodes is not below n/3 for n={n}"));
            }
            let s = match strat {
                "silent" => Strategy::Silent,
                "crash" => Strategy::Crash,
                "equivocate" => Strategy::Equivocate,
                "badsig" => Strategy::BadSig,
                "replay" => Strategy::Replay,
                "mutate" => Strategy::Mutate,
                "flood" => Strategy::Flood,
                other => return Err(format!("unknown strategy {other:?}")),
            };
            Item::Byz(k, s)
        } else if let Some(rest) = tok.strip_prefix("crash=") {
            let (i, t) = rest.split_once('@').ok_or("crash=I@T")?;
            Item::Crash(parse_node(i, n)?, parse_time(t)?)
        } else if let Some(rest) = tok.strip_prefix("restart=") {
            let (i, t) = rest.split_once('@').ok_or("restart=I@T")?;
            Item::Restart(parse_node(i, n)?, parse_time(t)?)
        } else if let Some(rest) = tok.strip_prefix("pause=") {
            let (i, rest) = rest.split_once('@').ok_or("pause=I@T+D")?;
            let (t, d) = rest.split_once('+').ok_or("pause=I@T+D")?;
            Item::Pause(
                parse_node(i, n)?,
                parse_time(t)?,
                Duration::from_nanos(parse_time(d)?.0),
            )
        } else if let Some(rest) = tok.strip_prefix("isolate=") {
            let (i, span) = rest.split_once('@').ok_or("isolate=I@T1..T2")?;
            let (a, b) = parse_span(span)?;
            Item::Isolate(parse_node(i, n)?, a, b)
        } else if let Some(rest) = tok.strip_prefix("oneway=") {
            let (i, span) = rest.split_once('@').ok_or("oneway=I@T1..T2")?;
            let (a, b) = parse_span(span)?;
            Item::OneWay(parse_node(i, n)?, a, b)
        } else if let Some(span) = tok.strip_prefix("split@") {
            let (a, b) = parse_span(span)?;
            Item::Split(a, b)
        } else if let Some(p) = tok.strip_prefix("loss=") {
            let p: f64 = p
                .parse()
                .map_err(|_| format!("bad probability in {tok:?}"))?;
            if !(0.0..1.0).contains(&p) {
                return Err(format!("loss {p} must be in [0, 1)"));
            }
            Item::Loss(p)
        } else {
            return Err(format!("unknown fault {tok:?}\n{SPEC_HELP}"));
        };
        items.push(item);
    }
    Ok(items)
}

/// The end of the safety phase: one second after the last scheduled fault, at least `min`.
pub fn fault_horizon(items: &[Item], min: Time) -> Time {
    let last = items
        .iter()
        .map(|it| match *it {
            Item::Crash(_, t) | Item::Restart(_, t) => t,
            Item::Pause(_, t, d) => t + d,
            Item::Isolate(_, _, b) | Item::OneWay(_, _, b) | Item::Split(_, b) => b,
            Item::Byz(..) | Item::Loss(_) => Time::ZERO,
        })
        .max()
        .unwrap_or(Time::ZERO);
    (last + Duration::from_secs(1)).max(min)
}

/// The network for the safety phase: `base` with the SPEC's loss until `heal`.
pub fn network_for(items: &[Item], base: NetworkConfig, heal: Time) -> NetworkConfig {
    let loss = items
        .iter()
        .find_map(|it| {
            if let Item::Loss(p) = it {
                Some(*p)
            } else {
                None
            }
        })
        .unwrap_or(0.0);
    NetworkConfig {
        gst: Some(Gst {
            at: heal,
            loss_before: loss,
            extra_delay_before: Duration::ZERO,
            delta: Duration::from_millis(500),
        }),
        ..base
    }
}

/// The Byzantine nodes the SPEC names.
pub fn byzantine(items: &[Item]) -> Vec<NodeId> {
    let k = items
        .iter()
        .map(|it| if let Item::Byz(k, _) = it { *k } else { 0 })
        .max()
        .unwrap_or(0);
    NodeId::all(k).collect()
}

/// Nodes that clients may use: honest and never crashed by the SPEC (a request
/// handed to a crashed node is lost with it, which says nothing about the protocol).
pub fn entry_nodes(items: &[Item], n: usize) -> Vec<NodeId> {
    let byz = byzantine(items);
    let crashed: Vec<NodeId> = items
        .iter()
        .filter_map(|it| {
            if let Item::Crash(i, _) | Item::Restart(i, _) = it {
                Some(NodeId(*i))
            } else {
                None
            }
        })
        .collect();
    NodeId::all(n)
        .filter(|id| !byz.contains(id) && !crashed.contains(id))
        .collect()
}

/// Applies the SPEC to a freshly built simulation. `custom` may install a
/// protocol's own adversary for a strategy (returning `true`), for example an
/// equivocator that re-signs conflicting messages with the node's own key.
pub fn apply<E>(
    sim: &mut Simulation<E>,
    items: &[Item],
    n: usize,
    custom: &mut dyn FnMut(&mut Simulation<E>, NodeId, Strategy) -> bool,
) where
    E: Engine + 'static,
    E::Message: ByzantineMessage,
{
    for it in items {
        match *it {
            Item::Byz(k, s) => {
                for id in NodeId::all(k) {
                    if custom(sim, id, s) {
                        continue;
                    }
                    match s {
                        Strategy::Silent => sim.make_byzantine(id, Silent { after: Time::ZERO }),
                        Strategy::Crash => sim.make_byzantine(id, CrashAt { at: Time::ZERO }),
                        Strategy::Equivocate => {
                            sim.make_byzantine(id, Equivocate { from: Time::ZERO })
                        }
                        Strategy::BadSig => {
                            sim.make_byzantine(id, InvalidSignature { probability: 1.0 })
                        }
                        Strategy::Replay => {
                            sim.make_byzantine(id, Replay::<E::Message>::new(0.5, 256))
                        }
                        Strategy::Mutate => sim.make_byzantine(id, Mutate { probability: 0.5 }),
                        Strategy::Flood => sim.make_byzantine(
                            id,
                            Flood::<E::Message>::new(Time::ZERO, Duration::from_millis(20), 16)
                                .with_mutation(),
                        ),
                    }
                }
            }
            Item::Crash(i, t) => sim.schedule(t, FaultEvent::Crash(NodeId(i))),
            Item::Restart(i, t) => sim.schedule(t, FaultEvent::Restart(NodeId(i))),
            Item::Pause(i, t, d) => sim.schedule(t, FaultEvent::Pause(NodeId(i), d)),
            Item::Isolate(i, a, b) => {
                sim.partition_between(a, b, Partition::isolate(vec![NodeId(i)]))
            }
            Item::OneWay(i, a, b) => {
                let others: Vec<NodeId> = NodeId::all(n).filter(|x| x.0 != i).collect();
                sim.partition_between(a, b, Partition::one_way(vec![NodeId(i)], others))
            }
            Item::Split(a, b) => {
                let (lo, hi): (Vec<NodeId>, Vec<NodeId>) =
                    NodeId::all(n).partition(|x| x.index() < n / 2);
                sim.partition_between(a, b, Partition::split(vec![lo, hi]))
            }
            Item::Loss(_) => {}
        }
    }
}

/// What one seeded run showed.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Seed.
    pub seed: u64,
    /// `Ok` or the safety violation (its text starts with the seed).
    pub safety: Result<(), String>,
    /// `Ok` or the liveness violation.
    pub liveness: Result<(), String>,
    /// Values delivered by the slowest honest node.
    pub min_delivered: usize,
    /// Evidence outputs raised by honest nodes.
    pub evidence: usize,
    /// Messages sent.
    pub messages: u64,
}

/// Runs the two phases on a prepared simulation (faults applied, requests submitted).
pub fn two_phases<E: Engine + 'static>(
    mut sim: Simulation<E>,
    seed: u64,
    heal: Time,
    crashed: &[NodeId],
    expected: usize,
    bound: Duration,
    validity: impl Fn(&E::Value, &[(Time, NodeId, E::Request)]) -> bool,
) -> Outcome {
    sim.run_until(heal);
    sim.schedule(heal, FaultEvent::Heal);
    for &id in crashed {
        if !sim.is_up(id) {
            sim.schedule(heal, FaultEvent::Restart(id));
        }
    }
    let liveness = sim
        .run_until_delivered(expected, heal + bound)
        .map_err(|v| v.to_string());
    let safety = sim
        .check_safety()
        .and_then(|()| sim.check_validity(&validity))
        .map_err(|v| v.to_string());
    let honest = sim.honest();
    let min_delivered = honest
        .iter()
        .map(|&id| sim.delivered(id).len())
        .min()
        .unwrap_or(0);
    let evidence = sim
        .evidence()
        .iter()
        .filter(|(_, by, _)| sim.is_honest(*by))
        .count();
    Outcome {
        seed,
        safety,
        liveness,
        min_delivered,
        evidence,
        messages: sim.stats().messages_sent(),
    }
}

struct Args {
    protocol: String,
    n: usize,
    faults: String,
    seeds: (u64, u64),
    secs: u64,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        protocol: "pbft".into(),
        n: 4,
        faults: "none".into(),
        seeds: (1, 10),
        secs: 5,
    };
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{k} needs a value"))
        };
        match k.as_str() {
            "--protocol" => a.protocol = val()?,
            "--n" => a.n = val()?.parse().map_err(|e| format!("--n: {e}"))?,
            "--faults" => a.faults = val()?,
            "--secs" => a.secs = val()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--seeds" => {
                let v = val()?;
                let (x, y) = v.split_once("..").ok_or("--seeds A..B")?;
                let x: u64 = x.parse().map_err(|_| "--seeds A..B")?;
                let y: u64 = y.parse().map_err(|_| "--seeds A..B")?;
                if y < x {
                    return Err("--seeds A..B needs A <= B".into());
                }
                a.seeds = (x, y);
            }
            other => return Err(format!("unknown chaos option {other}")),
        }
    }
    Ok(a)
}

/// `dwcp-lab chaos ...`
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "dwcp-lab chaos --protocol P --n N --faults SPEC --seeds A..B [--secs T]\nprotocols: {}\n{SPEC_HELP}",
            crate::protocols::NAMES.join(", ")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let a = parse_args(args)?;
    let items = parse_spec(&a.faults, a.n)?;
    let min = Time::from_secs(a.secs);
    println!(
        "| seed | safety | liveness | min delivered | evidence | messages |\n|---|---|---|---|---|---|"
    );
    let (mut unsafe_runs, mut stuck_runs) = (0, 0);
    for seed in a.seeds.0..=a.seeds.1 {
        let o = crate::protocols::chaos_run(&a.protocol, a.n, seed, &items, min)?;
        unsafe_runs += o.safety.is_err() as usize;
        stuck_runs += o.liveness.is_err() as usize;
        let show = |r: &Result<(), String>| match r {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("FAIL: {e}"),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            o.seed,
            show(&o.safety),
            show(&o.liveness),
            o.min_delivered,
            o.evidence,
            o.messages
        );
    }
    let runs = a.seeds.1 - a.seeds.0 + 1;
    println!("\n{runs} runs: {unsafe_runs} safety violations, {stuck_runs} liveness failures");
    Ok(if unsafe_runs + stuck_runs == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_item() {
        let items = parse_spec("byz=1:equivocate,crash=2@1s,restart=2@3s,pause=3@500ms+1s,isolate=1@1s..2s,oneway=2@1s..2s,split@2s..3s,loss=0.05", 4).unwrap();
        assert_eq!(items.len(), 8);
        assert_eq!(items[1], Item::Crash(2, Time::from_secs(1)));
        assert_eq!(fault_horizon(&items, Time::ZERO), Time::from_secs(4));
        assert_eq!(byzantine(&items), vec![NodeId(0)]);
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "byz=2:silent",
            "crash=9@1s",
            "split@3s..1s",
            "loss=1.5",
            "crash=1@1",
            "frobnicate",
            "byz=1:nope",
        ] {
            assert!(parse_spec(bad, 4).is_err(), "{bad}");
        }
        assert!(parse_spec("none", 4).unwrap().is_empty());
    }
}
