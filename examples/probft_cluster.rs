//! Runs a simulated 16-replica ProBFT cluster (real sr25519 signatures and
//! VRFs) twice — fault-free, then with an equivocating first leader and four
//! silent replicas on a partially synchronous network — and prints the
//! decisions and the message counts.
//!
//! `cargo run --release -p dwcp-probft --example probft_cluster`

use dwcp_core::{Duration, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness::{check, request};
use dwcp_probft::adversary::Equivocator;
use dwcp_probft::{Probft, ProbftConfig, harness, safety_bound};
use dwcp_sim::adversary::Silent;
use dwcp_sim::{Gst, NetworkConfig, SimConfig, Simulation};

const N: usize = 16;
const REQUESTS: u64 = 24;

fn run(title: &str, net: NetworkConfig, faulty: bool) {
    let keys = Keyring::sr25519(N, 42);
    let config = ProbftConfig::new(N).expect("16 replicas tolerate 5 faults");
    let (s, q) = (config.sample_size(), config.quorum());
    let mut sim: Simulation<Probft> = harness::cluster_with(
        config,
        SimConfig::new(N, 42).with_network(net),
        keys.clone(),
    );
    if faulty {
        sim.make_byzantine(
            NodeId(0),
            Equivocator::new(keys.secrets[0].clone(), Time::ZERO),
        );
        for id in [3, 6, 9, 12] {
            sim.make_byzantine(NodeId(id), Silent { after: Time::ZERO });
        }
    }
    let honest = sim.honest();
    for i in 0..REQUESTS {
        sim.submit(
            Time::from_millis(i * 5),
            honest[i as usize % honest.len()],
            request(i),
        );
    }
    sim.run_until_delivered(REQUESTS as usize, Time::from_secs(120))
        .expect("every honest replica delivers");
    check(&sim).expect("agreement and validity");

    println!("== {title} ==");
    println!(
        "n = {N}, f = {}, sample s = {s}, quorum q = {q}, finished at {}",
        (N - 1) / 3,
        sim.now()
    );
    for id in &honest {
        let e = sim.engine(*id).expect("up");
        let st = e.stats();
        println!(
            "  {id}: view {} slots {} (decided {} + adopted {}), delivered {} requests, {} evidence",
            e.view(),
            e.next_slot(),
            st.decided_slots,
            st.adopted_slots,
            sim.delivered(*id).len(),
            st.evidence
        );
    }
    let decisions = sim.decisions();
    println!("  {decisions} requests decided; messages by kind (copies, per decision):");
    for k in &sim.stats().kinds {
        println!(
            "    {:<12} {:>7} {:>9.1}",
            k.kind,
            k.sent,
            k.sent as f64 / decisions as f64
        );
    }
    let culprits: std::collections::BTreeSet<String> = sim
        .evidence()
        .iter()
        .map(|(_, _, e)| format!("{} ({:?})", e.culprit, short(&e.fault)))
        .collect();
    if !culprits.is_empty() {
        println!(
            "  evidence against: {}",
            culprits.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    println!();
}

fn short(f: &dwcp_core::Fault) -> &'static str {
    match f {
        dwcp_core::Fault::Equivocation { .. } => "equivocation",
        dwcp_core::Fault::InvalidSignature => "bad signature",
        dwcp_core::Fault::InvalidProof => "bad VRF proof",
        dwcp_core::Fault::Protocol(r) => r,
        dwcp_core::Fault::Spam => "spam",
    }
}

fn main() {
    run(
        "fault-free, fixed 10 ms latency",
        NetworkConfig::fixed(Duration::from_millis(10)),
        false,
    );
    let gst = NetworkConfig {
        gst: Some(Gst {
            at: Time::from_secs(1),
            loss_before: 0.1,
            extra_delay_before: Duration::from_millis(50),
            delta: Duration::from_millis(30),
        }),
        ..NetworkConfig::default()
    };
    run(
        "equivocating leader + 4 silent replicas, GST at 1 s",
        gst,
        true,
    );
    println!(
        "per-view safety bound for an equivocating leader at n = 16, f = 5, o = 2, l = 1: {:.3} (see dwcp_probft::bound)",
        safety_bound(N, 5, 2.0, 1.0)
    );
}
