use crate::harness;
use crate::model::{Attack, Model};
use dwcp_core::{Duration, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness::{check, submit_requests};
use dwcp_sim::NetworkConfig;

#[test]
fn smoke_n16() {
    let mut sim = harness::cluster(16, 7, harness::real_keys, NetworkConfig::default());
    submit_requests(&mut sim, 10, Time::ZERO, Duration::from_millis(1));
    sim.run_until_delivered(10, Time::from_secs(10)).unwrap_or_else(|v| panic!("{v}"));
    check(&sim).unwrap();
}

#[test]
fn smoke_model() {
    for (n, l) in [(100usize, 1.0), (100, 1.2), (256, 1.0), (64, 1.0), (31, 1.0)] {
        let f = (n - 1) / 3;
        let keys = Keyring::insecure_mock(n, 3);
        let m = Model::new(&keys, f, 2.0, l);
        let a = crate::bound::safety_analysis(n, f, 2.0, l);
        for attack in [Attack::Balanced, Attack::Split(a.worst_split.0, a.worst_split.1)] {
            let t = std::time::Instant::now();
            let runs = 1000;
            let (mut v, mut vin, mut und, mut det, mut dx) = (0, 0, 0, 0, 0);
            for i in 0..runs {
                let o = m.run(attack, i, 11);
                v += o.violation as u32;
                vin += o.violation_in_view as u32;
                und += (o.undecided > 0) as u32;
                det += o.detected;
                dx += (o.decided_x > 0 || o.decided_y > 0) as u32;
            }
            println!("n={n} l={l} {attack:?}: viol {v} in-view {vin} undecided-instances {und} avg-detected {:.1} some-decided-v0 {dx} bound {:.4} time {:?}", det as f64 / runs as f64, a.bound, t.elapsed());
        }
    }
}
