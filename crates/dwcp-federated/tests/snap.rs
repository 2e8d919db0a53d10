//! SNAP-style mixing weights and short SNAP / TernGrad runs.

use dwcp_federated::data::{digits, dirichlet_partition, stratified_split};
use dwcp_federated::model::{LocalTraining, ModelSpec};
use dwcp_federated::snap::{metropolis, ring, run_snap, run_terngrad};

#[test]
fn metropolis_weights_are_doubly_stochastic_on_the_graph() {
    for (n, k) in [(10, 2), (7, 1), (5, 3)] {
        let adj = ring(n, k);
        let w = metropolis(&adj);
        let mut cols = vec![0f64; n];
        for (i, row) in w.iter().enumerate() {
            assert!((row.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
            for &(j, wij) in row {
                assert!(wij > 0.0);
                assert!(j == i || adj[i].contains(&j), "weight off the graph");
                let wji = w[j].iter().find(|x| x.0 == i).map(|x| x.1);
                assert_eq!(wji, Some(wij), "symmetric");
                cols[j] += wij;
            }
        }
        assert!(cols.iter().all(|c| (c - 1.0).abs() < 1e-12));
    }
    assert!(ring(10, 2).iter().all(|a| a.len() == 4));
}

#[test]
fn snap_and_terngrad_learn_and_snap_sends_less_with_a_higher_threshold() {
    let d = digits();
    let (tr, te) = stratified_split(&d, 0.2, 1);
    let parts = dirichlet_partition(&d, &tr, 6, 0.5, 20, 1);
    let shards: Vec<_> = parts.iter().map(|p| d.subset(p)).collect();
    let test = d.subset(&te);
    let spec = ModelSpec {
        sizes: vec![64, 16, 10],
        seed: 1,
    };
    let adj = ring(6, 1);
    let local = LocalTraining::default();
    let lo = run_snap(&spec, &shards, &test, &adj, 0.001, &local, 10, 0.99, 1);
    let hi = run_snap(&spec, &shards, &test, &adj, 0.05, &local, 10, 0.99, 1);
    let last = |r: &dwcp_federated::snap::SnapRun| *r.curve.last().unwrap();
    assert!(last(&lo).2 > 0.5, "{:?}", last(&lo));
    assert!(last(&hi).1 < last(&lo).1);
    let tg = run_terngrad(&spec, &shards, &test, 32, 0.1, 200, 50, 0.99, 1);
    assert_eq!(tg.curve.len(), 4);
    assert!(last(&tg).2 > 0.5, "{:?}", last(&tg));
}

#[test]
fn message_bytes_grow_with_the_changed_coordinates() {
    use dwcp_federated::snap::message_bytes;
    let (empty, one, all) = (
        message_bytes(4810, 0),
        message_bytes(4810, 1),
        message_bytes(4810, 4810),
    );
    assert!(empty > 0 && one >= empty + 4, "{empty} {one}");
    // Every coordinate: 4 bytes each plus a short header and index code.
    assert!((19_240..19_240 + 1_000).contains(&all), "{all}");
    assert_eq!(message_bytes(4810, 99_999), all);
}

#[test]
fn a_negative_threshold_is_plain_d_psgd_sending_every_parameter() {
    use dwcp_federated::mixing::fastest_mixing;
    use dwcp_federated::snap::{message_bytes, run_snap_with};
    let d = digits();
    let (tr, te) = stratified_split(&d, 0.2, 2);
    let parts = dirichlet_partition(&d, &tr, 5, 0.5, 20, 2);
    let shards: Vec<_> = parts.iter().map(|p| d.subset(p)).collect();
    let test = d.subset(&te);
    let spec = ModelSpec {
        sizes: vec![64, 8, 10],
        seed: 2,
    };
    let adj = ring(5, 1);
    let local = LocalTraining::default();
    let w = fastest_mixing(&adj, 50);
    let r = run_snap_with(&spec, &shards, &test, &adj, &w, -1.0, &local, 3, 0.99, 2);
    let dim = spec.num_params();
    let per_round = (5 * 2 * message_bytes(dim, dim)) as u64;
    let bytes: Vec<u64> = r.curve.iter().map(|c| c.1).collect();
    assert_eq!(bytes, vec![per_round, 2 * per_round, 3 * per_round]);
    assert!(r.curve.last().unwrap().2 > 0.3);
}
