//! How fast a node that was down for hundreds of rounds rejoins by state
//! sync, and what the sync costs on the wire.
//!
//! `cargo run --release -p dwcp-bullshark --example state_sync -- [n] [down_s] [real]`
//! (default 4 nodes, node n-1 down from 1 s for 14 s; GC depth 10, 20 rounds
//! of archive, a checkpoint every 4 rounds; reputation schedule; mock keys,
//! or real sr25519/BLS keys with `real`; the simulator's default network).

use dwcp_bullshark::Reputation;
use dwcp_bullshark::harness::{self, CryptoMode};
use dwcp_core::{Duration, NodeId, Time};
use dwcp_sim::{FaultEvent, NetworkConfig, SimConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, down) = (arg(1, 4) as usize, arg(2, 14));
    let mut cfg = harness::test_config(n);
    cfg.gc_depth = 10;
    cfg.sync_retention = 20;
    cfg.checkpoint_interval = 4;
    let o = dwcp_bullshark::orderer_with_reputation(&cfg, Reputation::default());
    let crypto = CryptoMode::choose(args.iter().any(|a| a == "real"));
    let keys = crypto.keys(n, 1);
    let sim_cfg = SimConfig::new(n, 1).with_network(NetworkConfig::default());
    let mut sim = dwcp_narwhal::harness::cluster(cfg, sim_cfg, keys, move |_| o.clone());
    let lagger = NodeId(n as u32 - 1);
    let restart = Time::from_secs(1 + down);
    sim.schedule(Time::from_secs(1), FaultEvent::Crash(lagger));
    sim.schedule(restart, FaultEvent::Restart(lagger));
    let others: Vec<NodeId> = NodeId::all(n - 1).collect();
    let count = (down + 5) * 20;
    harness::submit(
        &mut sim,
        count,
        Time::from_millis(100),
        Duration::from_millis(50),
        &others,
    );
    sim.run_until(Time::from_millis(990));
    let crash_round = sim.engine(lagger).map_or(0, |e| e.round());
    let mut jump_at = None;
    let mut resumed_at = None;
    let mut t = restart;
    while t < restart + Duration::from_secs(20) && resumed_at.is_none() {
        t += Duration::from_millis(5);
        sim.run_until(t);
        let log = sim.delivered(lagger);
        if let Some(pos) = log.iter().position(|v| v.sync.is_some()) {
            jump_at.get_or_insert(t);
            if log.len() > pos + 1 {
                resumed_at = Some(t);
            }
        }
    }
    let log = sim.delivered(lagger);
    let mark = log.iter().find_map(|v| v.sync.clone());
    let peer_round = sim.engine(NodeId(0)).map_or(0, |e| e.round());
    let ms = |x: Option<Time>| {
        x.map_or(f64::NAN, |x| {
            (x.as_nanos() - restart.as_nanos()) as f64 / 1e6
        })
    };
    println!(
        "n={n}: down at round {crash_round}, restarted at {:.0} s (peers at round {peer_round}); jumped to anchor {:?} (index {:?}) {:.0} ms after the restart; first delivery after the jump {:.0} ms after the restart",
        restart.as_nanos() as f64 / 1e9,
        mark.as_ref().map(|m| m.anchor_round),
        mark.as_ref().map(|m| m.next_index),
        ms(jump_at),
        ms(resumed_at),
    );
    for k in sim
        .stats()
        .kinds
        .iter()
        .filter(|k| k.kind.starts_with("sync"))
    {
        println!("{}: {} copies, {} bytes", k.kind, k.sent, k.sent_bytes);
    }
    sim.run_until(t + Duration::from_secs(5));
    println!(
        "checked after the jump: {:?}",
        dwcp_narwhal::harness::check_synced(&sim)
    );
}
