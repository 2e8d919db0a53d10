//! Secure aggregation and differential privacy inside the round engines:
//! a secure round with 30% dropouts gives plaintext FedAvg's model, shared
//! random-k compression works under secure aggregation, and DP clips, adds
//! the configured noise and reports ε.

use dwcp_core::NodeId;
use dwcp_federated::bench::{Method, Setup, build_with};
use dwcp_federated::compress::Compression;
use dwcp_federated::config::{DpParams, Privacy};
use dwcp_federated::data::digits;
use dwcp_federated::message::{FlMessage, Update};
use dwcp_federated::sim::Federation;
use dwcp_privacy::dp::RdpAccountant;

fn setup(clients: usize, rounds: u64) -> Setup {
    Setup {
        clients,
        alpha: 0.5,
        min_per_client: 20,
        test_fraction: 0.2,
        hidden: vec![32],
        rounds,
        target: 0.8,
    }
}

fn secure() -> Privacy {
    Privacy {
        secure_aggregation: true,
        ..Privacy::default()
    }
}

fn fed(s: &Setup, m: &Method, p: Privacy, seed: u64) -> Federation {
    build_with(&digits(), s, m, None, false, p, seed).unwrap().0
}

fn max_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x - y).abs())
        .fold(0.0, f64::max)
}

/// Half a fixed-point step per round, plus f32 rounding of the model.
fn tolerance(rounds: u64) -> f64 {
    rounds as f64 * (0.5 / Privacy::default().secagg.scale + 2e-6)
}

#[test]
fn secure_round_with_30_percent_dropouts_equals_plaintext_fedavg() {
    let s = setup(10, 2);
    let mut sec = fed(&s, &Method::dense(), secure(), 7);
    // Three of ten drop: one after advertising its keys (never in U2), two
    // after sharing them (their pairwise masks are removed from the
    // survivors' inputs with their reconstructed keys).
    sec.crash_after.insert(NodeId(2), "advertise-keys");
    sec.crash_after.insert(NodeId(5), "share-keys");
    sec.crash_after.insert(NodeId(9), "share-keys");
    // A plaintext update under secure aggregation is refused with evidence.
    sec.inject(
        NodeId(3),
        NodeId(0),
        FlMessage::Update(Update {
            round: 1,
            weight: 10,
            contributors: 1,
            payload: vec![],
        }),
    );
    let mut plain = fed(&s, &Method::dense(), Privacy::default(), 7);
    plain.offline.extend([NodeId(2), NodeId(5), NodeId(9)]);
    sec.run(1, |_, _, _| {});
    plain.run(1, |_, _, _| {});
    // After one round the models agree to the fixed-point code's half step.
    let d = max_diff(sec.server.model(), plain.server.model());
    assert!(d <= tolerance(1), "secure vs plaintext: {d}");
    // The next round (the crashed clients stay away) still recovers the
    // sum; training from slightly different models lets the gap grow a
    // little, but it stays at the quantisation scale.
    sec.run(1, |_, _, _| {});
    plain.run(1, |_, _, _| {});
    assert_eq!(sec.outcomes.len(), 2);
    for o in &sec.outcomes {
        assert!(!o.skipped, "{o:?}");
        assert_eq!((o.contributors, o.missing), (7, 3), "{o:?}");
    }
    assert!(
        sec.evidence
            .iter()
            .any(|(_, e)| e.culprit == NodeId(3) && format!("{:?}", e.fault).contains("plaintext"))
    );
    let d = max_diff(sec.server.model(), plain.server.model());
    assert!(
        d <= 10.0 * tolerance(2),
        "secure vs plaintext after 2 rounds: {d}"
    );
    // ...and the dropouts did change the model (the comparison is not vacuous).
    let mut all = fed(&s, &Method::dense(), Privacy::default(), 7);
    all.run(2, |_, _, _| {});
    assert!(max_diff(all.server.model(), plain.server.model()) > 100.0 * tolerance(2));
    // The masked upload costs more than f32 plaintext, but within 2x.
    assert!(sec.traffic.up > plain.traffic.up);
}

#[test]
fn too_many_dropouts_skip_the_round_and_the_federation_goes_on() {
    let s = setup(6, 2);
    let mut sec = fed(&s, &Method::dense(), secure(), 3);
    // Threshold for 6 is 5: two crashes leave too few in round 1.
    sec.crash_after.insert(NodeId(1), "share-keys");
    sec.crash_after.insert(NodeId(2), "share-keys");
    let before = sec.server.model().to_vec();
    sec.run(2, |_, _, _| {});
    assert_eq!(sec.outcomes.len(), 2);
    assert!(sec.outcomes.iter().all(|o| o.skipped));
    assert_eq!(sec.server.model(), &before[..]);
}

#[test]
fn shared_random_k_compression_works_with_secure_aggregation() {
    let s = setup(8, 3);
    let rk = Compression::RandomK {
        fraction: 0.1,
        bits: 32,
    };
    let m = Method {
        name: "randk".into(),
        uplink: rk,
        ..Method::dense()
    };
    let mut sec = fed(&s, &m, secure(), 11);
    sec.crash_after.insert(NodeId(4), "share-keys");
    sec.run(3, |_, _, _| {});
    let mut plain = fed(&s, &m, Privacy::default(), 11);
    plain.offline.insert(NodeId(4));
    plain.run(3, |_, _, _| {});
    assert!(
        sec.outcomes
            .iter()
            .all(|o| !o.skipped && o.contributors == 7)
    );
    let d = max_diff(sec.server.model(), plain.server.model());
    assert!(
        d <= tolerance(3),
        "secure random-k vs plaintext random-k: {d}"
    );
    // A tenth of the coordinates: far fewer uplink bytes than dense secure
    // aggregation.
    let mut dense = fed(&s, &Method::dense(), secure(), 11);
    dense.crash_after.insert(NodeId(4), "share-keys");
    dense.run(3, |_, _, _| {});
    assert!(
        (sec.traffic.up as f64) < 0.3 * dense.traffic.up as f64,
        "{} vs {}",
        sec.traffic.up,
        dense.traffic.up
    );
}

fn std_of_difference(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| f64::from(x - y)).collect();
    let mean = d.iter().sum::<f64>() / n;
    (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn dp_clips_adds_the_configured_noise_and_reports_epsilon() {
    let s = setup(10, 1);
    let dp = |sigma: f64| DpParams {
        clip: 0.5,
        noise_multiplier: sigma,
        sampling_rate: 1.0,
        delta: 1e-5,
    };
    let with = |secagg: bool, sigma: f64| Privacy {
        secure_aggregation: secagg,
        dp: Some(dp(sigma)),
        ..Privacy::default()
    };
    let m = Method::dense();
    let run = |p: Privacy| {
        let mut f = fed(&s, &m, p, 5);
        f.run(1, |_, _, _| {});
        f
    };
    // Without noise, server-side (plaintext) and client-side (secure)
    // clipping give the same model: sum of clipped updates / (q N).
    let clean_plain = run(with(false, 0.0));
    let clean_sec = run(with(true, 0.0));
    let d = max_diff(clean_plain.server.model(), clean_sec.server.model());
    assert!(d <= tolerance(1), "{d}");
    assert_eq!(clean_plain.server.epsilon(), Some(f64::INFINITY));
    // Clipping bites: without DP the model moves further.
    let raw = run(Privacy::default());
    assert!(max_diff(raw.server.model(), clean_plain.server.model()) > 1e-3);
    // Central noise: std σS/(qN) per coordinate.
    let noisy = run(with(false, 1.0));
    let sd = std_of_difference(noisy.server.model(), clean_plain.server.model());
    assert!((sd / 0.05 - 1.0).abs() < 0.1, "central noise std {sd}");
    // Distributed noise under secure aggregation: each of the 10 clients
    // adds N(0, (σS)²/t) with t = 7, so the mean carries σS·sqrt(10/7)/10.
    let noisy_sec = run(with(true, 1.0));
    let sd = std_of_difference(noisy_sec.server.model(), clean_sec.server.model());
    let want = 0.05 * (10.0f64 / 7.0).sqrt();
    assert!((sd / want - 1.0).abs() < 0.1, "distributed noise std {sd}");
    // One sampled Gaussian step at q = 1, σ = 1.
    let mut acc = RdpAccountant::new();
    acc.compose(1.0, 1.0, 1);
    assert_eq!(noisy.server.epsilon(), Some(acc.epsilon(1e-5)));
    assert_eq!(noisy_sec.server.epsilon(), Some(acc.epsilon(1e-5)));
    assert!(raw.server.epsilon().is_none());
}

#[test]
fn a_straggler_past_the_phase_deadline_counts_as_dropped() {
    let s = setup(10, 2);
    let mut sec = fed(&s, &Method::dense(), secure(), 13);
    // Everything client 6 sends arrives 15 s late; each secure-aggregation
    // phase waits 10 s, so it misses the key advertisement every round.
    sec.slow
        .insert(NodeId(6), dwcp_core::Duration::from_secs(15));
    sec.run(2, |_, _, _| {});
    assert_eq!(sec.outcomes.len(), 2);
    for o in &sec.outcomes {
        assert!(!o.skipped && o.contributors == 9 && o.missing == 1, "{o:?}");
    }
    let mut plain = fed(&s, &Method::dense(), Privacy::default(), 13);
    plain.offline.insert(NodeId(6));
    plain.run(1, |_, _, _| {});
    let mut sec1 = fed(&s, &Method::dense(), secure(), 13);
    sec1.slow
        .insert(NodeId(6), dwcp_core::Duration::from_secs(15));
    sec1.run(1, |_, _, _| {});
    assert!(max_diff(sec1.server.model(), plain.server.model()) <= tolerance(1));
}

#[test]
fn poisson_selection_under_dp_accounts_every_round() {
    use dwcp_federated::private_runs::{DpSetup, dp_fedavg};
    let mut s = DpSetup::digits(20);
    s.setup.clients = 30;
    let r = dp_fedavg(&digits(), &s, 1.0, 1.0, true, 2).unwrap();
    // Every applied round is charged once (a skipped round releases nothing).
    let mut acc = RdpAccountant::new();
    acc.compose(0.1, 1.0, r.applied_rounds);
    assert!(r.applied_rounds >= 15, "{r:?}");
    assert_eq!(r.epsilon, Some(acc.epsilon(1e-5)));
}
