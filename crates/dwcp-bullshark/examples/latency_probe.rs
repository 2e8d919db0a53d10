//! Where commit latency goes: one light-load run in the lab's WAN setting,
//! reporting round durations and the split of latency into "waiting for a
//! header" and "header to commit".
//!
//! `cargo run --release -p dwcp-bullshark --example latency_probe -- 10 0 3000 [rr|tusk]`
//! (n, crashed, offered tx/s; `rr`: round-robin leaders, `tusk`: Tusk;
//! default: Bullshark with the reputation schedule). Insecure mock keys.

use dwcp_core::{Duration, NodeId, Time};
use dwcp_narwhal::harness::{CryptoMode, cluster, pace_batches, throughput_config, txs_of};
use dwcp_narwhal::{Narwhal, Orderer, Transaction};
use dwcp_sim::workload::{ThroughputConfig, payload};
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, crashed, rate) = (arg(1, 10.0) as usize, arg(2, 0.0) as usize, arg(3, 3000.0));
    let mut tc = ThroughputConfig::five_region_wan(n, crashed, 1);
    tc.load.rate = rate;
    let nc = throughput_config(n);
    let o = if args.get(4).is_some_and(|a| a == "rr") {
        dwcp_bullshark::orderer(&nc)
    } else {
        dwcp_bullshark::orderer_with_reputation(&nc, dwcp_bullshark::Reputation::default())
    };
    if args.get(4).is_some_and(|a| a == "tusk") {
        let setup = dwcp_tusk::harness::coin_setup(CryptoMode::choose(false), n, nc.f, 7);
        let public = Arc::new(setup.public);
        let (f, gc) = (nc.f, nc.gc_depth);
        probe("tusk", &tc, nc, move |id| {
            dwcp_tusk::Tusk::new(n, f, gc, public.clone(), setup.shares[id.index()].clone())
        });
    } else {
        probe("bullshark", &tc, nc, move |_| o.clone());
    }
}

fn probe<O: Orderer + 'static>(
    name: &str,
    tc: &ThroughputConfig,
    mut cfg: dwcp_narwhal::NarwhalConfig,
    make: impl Fn(NodeId) -> O + 'static,
) {
    pace_batches(&mut cfg, tc.uplink_bytes_per_s.unwrap_or(5_000_000));
    let keys = CryptoMode::choose(false).keys(tc.n, tc.seed);
    let mut sim = cluster(cfg, tc.sim_config(), keys, make);
    tc.apply(&mut sim);
    let spec = tc.load.clone();
    let clients: Vec<NodeId> = NodeId::all(tc.n - tc.crashed).collect();
    let cl = clients.clone();
    let interval = spec.interval_ns();
    sim.load(
        spec.start,
        Duration::from_nanos(interval),
        spec.count(),
        move |tick, rng| {
            let node = cl[(tick % cl.len() as u64) as usize];
            (
                node,
                Transaction::new(Arc::<[u8]>::from(payload(tick, 512, rng))),
            )
        },
    );
    // Round start times at node 0.
    let mut starts: Vec<(u64, Time)> = vec![];
    let end = spec.start + spec.warmup + spec.duration + Duration::from_secs(3);
    let mut t = Time::ZERO;
    while t < end {
        t += Duration::from_millis(5);
        sim.run_until(t);
        let r = sim.engine(NodeId(0)).map_or(0, Narwhal::round);
        if starts.last().is_none_or(|(lr, _)| *lr < r) {
            starts.push((r, t));
        }
    }
    let w0 = (spec.start + spec.warmup).as_nanos();
    let w1 = (spec.start + spec.warmup + spec.duration).as_nanos();
    let in_window: Vec<_> = starts
        .iter()
        .filter(|(_, t)| (w0..w1).contains(&t.as_nanos()))
        .collect();
    if let (Some(a), Some(b)) = (in_window.first(), in_window.last()) {
        let ms = (b.1.as_nanos() - a.1.as_nanos()) as f64 / 1e6;
        println!(
            "{name}: node 0 rounds {}..{} in window: {:.0} ms per round",
            a.0,
            b.0,
            ms / (b.0 - a.0).max(1) as f64
        );
    }
    // Latency split at node 0 for its own transactions.
    let node = NodeId(0);
    let start_of = |r: u64| {
        starts
            .iter()
            .find(|(x, _)| *x >= r)
            .map(|(_, t)| t.as_nanos())
    };
    let (mut wait, mut commit, mut total, mut k) = (0f64, 0f64, 0f64, 0f64);
    let mut by_parity = [(0f64, 0f64); 2];
    let mut hist = std::collections::BTreeMap::new();
    for (v, &at) in sim.delivered(node).iter().zip(sim.delivered_at(node)) {
        if v.author != node {
            continue;
        }
        let Some(hs) = start_of(v.round) else {
            continue;
        };
        for id in txs_of(v) {
            if id % clients.len() as u64 != 0 {
                continue;
            }
            let sub = spec.start.as_nanos() + id * interval;
            if !(w0..w1).contains(&sub) {
                continue;
            }
            wait += (hs.saturating_sub(sub)) as f64 / 1e6;
            commit += (at.saturating_sub(hs)) as f64 / 1e6;
            total += (at - sub) as f64 / 1e6;
            k += 1.0;
            let commit_round = starts
                .iter()
                .take_while(|(_, t)| t.as_nanos() <= at)
                .last()
                .map_or(0, |(r, _)| *r);
            *hist
                .entry((v.round % 2, commit_round.saturating_sub(v.round)))
                .or_insert(0u32) += 1;
            let p = &mut by_parity[(v.round % 2) as usize];
            p.0 += (at.saturating_sub(hs)) as f64 / 1e6;
            p.1 += 1.0;
        }
    }
    println!(
        "{name}: node 0's own txs: mean total {:.0} ms = to header {:.0} + header to commit {:.0} (even-round headers {:.0} ms, odd {:.0} ms)",
        total / k,
        wait / k,
        commit / k,
        by_parity[0].0 / by_parity[0].1,
        by_parity[1].0 / by_parity[1].1
    );
    // Transactions submitted in the window that their client never delivered.
    let mut missing = std::collections::BTreeMap::new();
    for (ci, c) in clients.iter().enumerate() {
        let got: std::collections::BTreeSet<u64> =
            sim.delivered(*c).iter().flat_map(txs_of).collect();
        let k = (0..spec.count())
            .filter(|id| *id as usize % clients.len() == ci)
            .filter(|id| (w0..w1).contains(&(spec.start.as_nanos() + id * interval)))
            .filter(|id| !got.contains(id))
            .count();
        if k > 0 {
            missing.insert(c.0, k);
        }
    }
    println!("{name}: window transactions never delivered at their client: {missing:?}");
    // Mean latency of each client's window transactions at that client.
    let mut per_node = vec![];
    for (ci, c) in clients.iter().enumerate() {
        let (mut sum, mut k) = (0f64, 0f64);
        for (v, &at) in sim.delivered(*c).iter().zip(sim.delivered_at(*c)) {
            for id in txs_of(v) {
                let sub = spec.start.as_nanos() + id * interval;
                if id as usize % clients.len() == ci && (w0..w1).contains(&sub) {
                    sum += (at - sub) as f64 / 1e6;
                    k += 1.0;
                }
            }
        }
        per_node.push(format!("{}:{:.0}", c.0, sum / k.max(1.0)));
    }
    println!(
        "{name}: mean latency per client node (ms): {}",
        per_node.join(" ")
    );
    println!("{name}: (header round parity, rounds until commit) -> txs: {hist:?}");
    let s = sim.engine(node).map(|e| e.stats().clone());
    println!("{name}: stats {s:?}");
    let committed = sim
        .delivered(node)
        .iter()
        .map(|v| v.txs.len())
        .sum::<usize>();
    println!(
        "{name}: node 0 delivered {committed} txs, {:.0} tx/s over the window",
        {
            let (a, b) = (w0, w1);
            sim.delivered(node)
                .iter()
                .zip(sim.delivered_at(node))
                .filter(|(_, t)| (a..b).contains(*t))
                .map(|(v, _)| v.txs.len())
                .sum::<usize>() as f64
                / spec.duration.as_secs_f64()
        }
    );
}
