//! Federated training on the vendored digits set: 10 clients with
//! Dirichlet(0.5) label skew, dense FedAvg against top-0.5% + 4-bit values +
//! error feedback in both directions, then the same compressed run with two
//! offline clients and one straggler (rounds close at the deadline).
//! Run with `cargo run --release --example federated_digits [rounds]`.
use dwcp::core::{Duration, NodeId};
use dwcp::federated::bench::{Method, Setup, build, drive};
use dwcp::federated::data::digits;

fn main() -> Result<(), String> {
    let data = digits();
    let mut setup = Setup::digits();
    setup.rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let seed = 1;
    for method in [Method::dense(), Method::compressed()] {
        let (mut fed, test) = build(&data, &setup, &method, None, false, seed)?;
        let r = drive(&mut fed, &test, &setup, &method, seed);
        println!(
            "{:<18} final accuracy {:.2}%  bytes up {:>10}  down {:>10}  first 96% at {:?}",
            r.method,
            100.0 * r.final_accuracy,
            r.traffic.up,
            r.traffic.down,
            r.reached
                .map(|(round, bytes)| format!("round {round}, {bytes} bytes")),
        );
    }
    let method = Method::compressed();
    let (mut fed, test) = build(&data, &setup, &method, None, false, seed)?;
    fed.offline.insert(NodeId(3));
    fed.offline.insert(NodeId(7));
    fed.slow.insert(NodeId(5), Duration::from_secs(30));
    let r = drive(&mut fed, &test, &setup, &method, seed);
    let last = fed.outcomes.last().ok_or("no rounds")?;
    println!(
        "with 2 offline + 1 straggler: final accuracy {:.2}%, last round accepted {} missing {}, {} updates rejected with evidence (the straggler's stale ones)",
        100.0 * r.final_accuracy,
        last.accepted,
        last.missing,
        fed.evidence.len()
    );
    Ok(())
}
