//! Mixing matrices for decentralised training: the Jacobi eigensolver
//! against closed forms, and the doubly-stochastic properties and spectral
//! gaps of Metropolis–Hastings, best-constant and fastest-mixing weights.

use dwcp_federated::mixing::{
    Weights, best_constant, fastest_mixing, laplacian, metropolis, slem, spectral_gap,
    symmetric_eigen, to_dense,
};
use dwcp_federated::snap::ring;

/// An Erdős–Rényi graph G(n, p) from a fixed LCG, plus a path through all
/// nodes so it is connected; degrees are heterogeneous.
fn random_graph(n: usize, p: f64, seed: u64) -> Vec<Vec<usize>> {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut adj = vec![vec![]; n];
    for i in 0..n {
        for j in i + 1..n {
            if j == i + 1 || next() < p {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
    }
    adj
}

fn path(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            [i.checked_sub(1), (i + 1 < n).then_some(i + 1)]
                .into_iter()
                .flatten()
                .collect()
        })
        .collect()
}

fn check_doubly_stochastic(adj: &[Vec<usize>], w: &Weights, name: &str) {
    let m = to_dense(w);
    let n = adj.len();
    for i in 0..n {
        let row: f64 = m[i].iter().sum();
        let col: f64 = (0..n).map(|j| m[j][i]).sum();
        assert!((row - 1.0).abs() < 1e-9, "{name}: row {i} sums to {row}");
        assert!((col - 1.0).abs() < 1e-9, "{name}: column {i} sums to {col}");
        for (j, &mij) in m[i].iter().enumerate() {
            assert!(mij >= -1e-12, "{name}: W[{i}][{j}] = {mij} < 0");
            assert!((mij - m[j][i]).abs() < 1e-12, "{name}: not symmetric");
            if i != j && !adj[i].contains(&j) {
                assert_eq!(mij, 0.0, "{name}: weight off the graph at ({i}, {j})");
            }
        }
    }
}

#[test]
fn jacobi_matches_the_ring_laplacian_closed_form() {
    // ring(n, 2) is circulant: λ_k = 4 − 2cos(2πk/n) − 2cos(4πk/n).
    let n = 10;
    let l = laplacian(&ring(n, 2));
    let (vals, vecs) = symmetric_eigen(l.clone());
    let mut want: Vec<f64> = (0..n)
        .map(|k| {
            let t = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            4.0 - 2.0 * t.cos() - 2.0 * (2.0 * t).cos()
        })
        .collect();
    want.sort_by(|a, b| b.total_cmp(a));
    for (got, want) in vals.iter().zip(&want) {
        assert!((got - want).abs() < 1e-10, "{got} vs {want}");
    }
    for (lam, v) in vals.iter().zip(&vecs) {
        let norm: f64 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-10);
        for i in 0..n {
            let lv: f64 = (0..n).map(|j| l[i][j] * v[j]).sum();
            assert!((lv - lam * v[i]).abs() < 1e-9, "L v ≠ λ v");
        }
    }
}

#[test]
fn every_mixing_rule_is_doubly_stochastic_and_the_optimised_one_mixes_fastest() {
    for (name, adj) in [
        ("ring(10,2)", ring(10, 2)),
        ("ring(12,1)", ring(12, 1)),
        ("G(16,0.25)", random_graph(16, 0.25, 7)),
        ("G(24,0.15)", random_graph(24, 0.15, 3)),
    ] {
        let (mh, bc, fm) = (
            metropolis(&adj),
            best_constant(&adj),
            fastest_mixing(&adj, 300),
        );
        check_doubly_stochastic(&adj, &mh, "metropolis");
        check_doubly_stochastic(&adj, &bc, "best constant");
        check_doubly_stochastic(&adj, &fm, "fastest mixing");
        let (g_mh, g_bc, g_fm) = (spectral_gap(&mh), spectral_gap(&bc), spectral_gap(&fm));
        println!("{name}: gap MH {g_mh:.4}, best constant {g_bc:.4}, fastest mixing {g_fm:.4}");
        assert!(g_fm >= g_bc - 1e-12 && g_fm >= g_mh - 1e-12, "{name}");
        // Strictly faster than Metropolis–Hastings on every one of these graphs.
        assert!(g_fm > g_mh + 1e-3, "{name}: {g_fm} vs MH {g_mh}");
        // The subgradient steps improve on their start except on the plain
        // cycle, where the best constant weight is already optimal (edge
        // transitive: the optimum has one weight on every edge).
        if name != "ring(12,1)" {
            assert!(
                g_fm > g_bc.max(g_mh) + 1e-3,
                "{name}: subgradient made no progress"
            );
        }
    }
}

#[test]
fn fastest_mixing_reaches_known_optima() {
    // Path on n nodes: the optimum is 1/2 on every edge, slem = cos(π/n)
    // (Boyd, Diaconis & Xiao 2004, §4.1); Metropolis–Hastings gives 1/3.
    let n = 6;
    let fm = fastest_mixing(&path(n), 100);
    let opt = (std::f64::consts::PI / n as f64).cos();
    assert!((slem(&fm) - opt).abs() < 1e-9, "{} vs {opt}", slem(&fm));
    assert!(slem(&metropolis(&path(n))) > opt + 0.01);
    // Star with m leaves: centre weight budget 1 ⇒ w = 1/m, slem = 1 − 1/m;
    // Metropolis–Hastings (1/(m+1)) gives 1 − 1/(m+1); the best constant
    // weight capped at 1/m is the optimum, and the subgradient keeps it.
    let m = 5;
    let star: Vec<Vec<usize>> = std::iter::once((1..=m).collect())
        .chain((1..=m).map(|_| vec![0]))
        .collect();
    let fm = fastest_mixing(&star, 100);
    assert!(
        (slem(&fm) - (1.0 - 1.0 / m as f64)).abs() < 1e-6,
        "{}",
        slem(&fm)
    );
    check_doubly_stochastic(&star, &fm, "star");
}
