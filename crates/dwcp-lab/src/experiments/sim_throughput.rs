//! `sim-throughput`: delivered events per wall-clock second of the simulator.

use super::Ctx;
use crate::report::{Claim, ExperimentResult, Op, Plot};
use dwcp_sim::{probe_network, throughput_probe};
use serde_json::json;

/// Runs the toy all-to-all protocol at n = 100 and n = 1000 (twice each with
/// the same seed, to check the trace hash) and reports events/s.
pub fn run(ctx: &Ctx) -> ExperimentResult {
    let sizes: &[(usize, u64)] = if ctx.quick {
        &[(10, 400), (100, 200), (1000, 6)]
    } else {
        &[(10, 2000), (100, 200), (300, 40), (1000, 20)]
    };
    let mut rows = vec![];
    let mut claims = vec![];
    let mut series = vec![];
    for &(n, rounds) in sizes {
        let a = throughput_probe(n, rounds, ctx.seed);
        let b = throughput_probe(n, rounds, ctx.seed);
        let best = a.events_per_sec.max(b.events_per_sec);
        series.push((n as f64, best / 1e6));
        rows.push(json!({
            "n": n, "rounds": rounds, "events": a.events, "wall_secs_run1": a.wall_secs, "wall_secs_run2": b.wall_secs,
            "events_per_sec": best, "sim_secs": a.sim_secs, "trace_hash": format!("{:016x}", a.trace_hash),
            "same_trace_twice": a.trace_hash == b.trace_hash,
        }));
        let target = match n {
            100 => Some(5e6),
            1000 => Some(3e6),
            _ => None,
        };
        if let Some(t) = target {
            claims.push(Claim::new(
                &format!("delivered events/s at n={n}, one core"),
                best,
                Op::Ge,
                t,
                "events/s",
                "research prototype loop (notes §1.5, not rerun): 4.9 M/s at n=100, 3.8 M/s at n=1000",
            ));
        }
    }
    let same = rows
        .iter()
        .filter(|r| r["same_trace_twice"] == true)
        .count();
    claims.push(Claim::new(
        "runs whose same-seed rerun has an identical trace hash",
        same as f64,
        Op::Ge,
        rows.len() as f64,
        "runs",
        "bit-for-bit determinism",
    ));
    ExperimentResult {
        experiment: "sim-throughput".into(),
        quick: ctx.quick,
        seed: ctx.seed,
        params: json!({"protocol": "toy: every node broadcasts a vote per round, advances on 2f+1 votes", "network": probe_network().describe()}),
        rows,
        claims,
        notes: vec![
            "Events are messages handed to engines; wall time is the event loop only (best of two same-seed runs), single thread.".into(),
        ],
        plots: vec![Plot {
            stem: "sim-throughput".into(),
            title: "Simulator throughput (toy all-to-all protocol)".into(),
            x_label: "n".into(),
            y_label: "M delivered events/s".into(),
            log: false,
            series: vec![("dwcp-sim".into(), series)],
        }],
    }
}
