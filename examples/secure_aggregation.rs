//! Secure aggregation of 20 clients' vectors with 6 dropouts, the privacy
//! spent by 300 rounds of DP-FedAvg, then federated training on digits with
//! secure aggregation and DP switched on in the round engines.
//!
//! `cargo run --release --example secure_aggregation`

use dwcp::federated::bench::{Method, Setup, build_with, drive};
use dwcp::federated::config::{DpParams, Privacy};
use dwcp::federated::data::digits;
use dwcp::privacy::dp::RdpAccountant;
use dwcp::privacy::secagg::harness::{run_session, spread_dropouts};
use dwcp::privacy::secagg::recommended_threshold;
use dwcp::privacy::{ClientInput, SecAggConfig, ServerOutcome};

fn main() {
    let n = 20;
    // Session 1, threshold 14, vectors of 1,000, ring Z_2^32, values clipped
    // to [-1, 1] at 2^16 levels per unit, weights up to 100 (rejected if the
    // worst-case sum could wrap around).
    let cfg = SecAggConfig::new(1, n, recommended_threshold(n), 1000, 32, 1.0, 65536.0, 100)
        .expect("fits the ring");
    let inputs: Vec<ClientInput> = (0..n)
        .map(|i| ClientInput {
            values: (0..1000)
                .map(|j| ((i + j) % 7) as f32 / 7.0 - 0.5)
                .collect(),
            weight: 10 + i as u64,
        })
        .collect();
    let drops = spread_dropouts(n, 30, 7);
    let report = run_session(&cfg, inputs, &drops, 7, &mut || 0);
    match report.outcome {
        Some(ServerOutcome::Sum(sum)) => {
            let mean = sum.weighted_mean(&cfg.fixed);
            println!(
                "{} survivors, {} dropped after sharing keys; weighted mean[0..4] = {:?}",
                sum.survivors.len(),
                sum.dropped.len(),
                &mean[..4]
            );
        }
        other => println!("aborted: {other:?}"),
    }
    let mut acc = RdpAccountant::new();
    acc.compose(0.1, 1.0, 300);
    println!(
        "DP-FedAvg, q = 0.1, sigma = 1, 300 rounds: epsilon = {:.2} at delta = 1e-5",
        acc.epsilon(1e-5)
    );
    // 10 clients train on digits for 30 rounds; the server sees only the
    // masked sum of their clipped, noised updates (3 clients crash after
    // sharing their keys in round 1 and stay away).
    let privacy = Privacy {
        secure_aggregation: true,
        dp: Some(DpParams {
            clip: 1.0,
            noise_multiplier: 1.0,
            sampling_rate: 1.0,
            delta: 1e-5,
        }),
        ..Privacy::default()
    };
    let setup = Setup {
        rounds: 30,
        ..Setup::digits()
    };
    let data = digits();
    let (mut fed, test) = build_with(&data, &setup, &Method::dense(), None, false, privacy, 1)
        .expect("a valid configuration");
    for id in [1, 2, 3] {
        fed.crash_after.insert(dwcp::core::NodeId(id), "share-keys");
    }
    let run = drive(&mut fed, &test, &setup, &Method::dense(), 1);
    let last = fed.outcomes.last().expect("rounds ran");
    println!(
        "secure DP-FedAvg, 30 rounds: test accuracy {:.3}, epsilon {:.1} at delta = 1e-5, {} clients in the last sum, {} KB uploaded",
        run.final_accuracy,
        fed.server.epsilon().unwrap_or(f64::NAN),
        last.contributors,
        fed.traffic.up / 1000
    );
}
