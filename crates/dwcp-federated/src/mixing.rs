//! Doubly-stochastic mixing weights for decentralised training ([`crate::snap`]).
//!
//! A weight matrix `W` for an undirected graph is kept sparse: row `i` lists
//! `(j, W_ij)` for `j = i` and every neighbour. Every constructor here
//! returns a **symmetric, non-negative, doubly-stochastic** `W` supported on
//! the graph's edges (and the diagonal). Consensus by `x ← W x` contracts
//! the disagreement by the second-largest eigenvalue modulus
//! [`slem`]`(W) = max(λ₂, −λₙ)` per step, so a larger
//! [`spectral_gap`] `1 − slem` mixes faster.
//!
//! - [`metropolis`]: Metropolis–Hastings, `W_ij = 1 / (1 + max(deg_i,
//!   deg_j))`. Local (each node needs its neighbours' degrees), not
//!   optimised.
//! - [`best_constant`]: `W = I − αL` with the best constant edge weight
//!   `α* = 2 / (λ₁(L) + λ_{n−1}(L))` of the Laplacian `L` (Xiao & Boyd,
//!   "Fast linear iterations for distributed averaging", 2004), capped at
//!   `1 / max deg` so that the diagonal stays non-negative.
//! - [`fastest_mixing`]: the fastest-mixing Markov chain (Boyd, Diaconis &
//!   Xiao, SIAM Review 46(4), 2004, §5): minimise `slem(W)` over edge
//!   weights `w ≥ 0` with `Σ_{j∼i} w_ij ≤ 1` by projected subgradient
//!   (`g_l = −(u_i − u_j)²` for the eigenvector `u` of `λ₂` when it is the
//!   modulus, `+(v_i − v_j)²` for that of `λₙ`; step `1/√k` normalised),
//!   starting from the better of Metropolis–Hastings and the best constant
//!   weight and keeping the best iterate, so it is never worse than either.
//!
//! Eigenvalues come from a cyclic Jacobi solver ([`symmetric_eigen`]):
//! exact to rounding for the small dense matrices (tens of nodes) these
//! topologies have, and free of a linear-algebra dependency. Cost: two
//! `O(n³)` eigendecompositions per subgradient step.
//!
//! ```
//! use dwcp_federated::mixing::{fastest_mixing, metropolis, spectral_gap};
//! use dwcp_federated::snap::ring;
//!
//! let adj = ring(10, 2); // any undirected graph as adjacency lists
//! let (mh, fm) = (metropolis(&adj), fastest_mixing(&adj, 300));
//! assert!(spectral_gap(&fm) > spectral_gap(&mh) + 0.1); // 0.489 vs 0.353
//! // Row i lists (j, W_ij) for i itself and each neighbour; rows sum to 1.
//! assert!(fm.iter().all(|row| (row.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-9));
//! // Hand `&fm` to `snap::run_snap_with` instead of the Metropolis–Hastings default.
//! ```

/// Sparse rows of a mixing matrix: row `i` lists `(j, W_ij)`.
pub type Weights = Vec<Vec<(usize, f64)>>;

/// Metropolis–Hastings weights for an undirected graph given as adjacency
/// lists: row `i` lists `(j, W_ij)` for `j = i` and every neighbour.
pub fn metropolis(adj: &[Vec<usize>]) -> Weights {
    (0..adj.len())
        .map(|i| {
            let mut row: Vec<(usize, f64)> = adj[i]
                .iter()
                .filter(|&&j| j != i && j < adj.len())
                .map(|&j| (j, 1.0 / (1.0 + adj[i].len().max(adj[j].len()) as f64)))
                .collect();
            let off: f64 = row.iter().map(|x| x.1).sum();
            row.push((i, 1.0 - off));
            row
        })
        .collect()
}

/// The undirected edges `(i, j)`, `i < j`, of adjacency lists (each once).
pub fn edges(adj: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let mut e: Vec<(usize, usize)> = adj
        .iter()
        .enumerate()
        .flat_map(|(i, nb)| nb.iter().map(move |&j| (i.min(j), i.max(j))))
        .filter(|&(i, j)| i != j && j < adj.len())
        .collect();
    e.sort_unstable();
    e.dedup();
    e
}

/// `W = I − Σ_l w_l (e_i − e_j)(e_i − e_j)ᵀ` as sparse rows.
pub fn from_edge_weights(n: usize, edges: &[(usize, usize)], w: &[f64]) -> Weights {
    let mut rows: Weights = vec![vec![]; n];
    for (&(i, j), &x) in edges.iter().zip(w) {
        rows[i].push((j, x));
        rows[j].push((i, x));
    }
    for (i, row) in rows.iter_mut().enumerate() {
        let off: f64 = row.iter().map(|x| x.1).sum();
        row.push((i, 1.0 - off));
    }
    rows
}

/// The dense `n × n` matrix of sparse rows.
pub fn to_dense(w: &[Vec<(usize, f64)>]) -> Vec<Vec<f64>> {
    let n = w.len();
    let mut m = vec![vec![0.0; n]; n];
    for (i, row) in w.iter().enumerate() {
        for &(j, x) in row {
            if j < n {
                m[i][j] += x;
            }
        }
    }
    m
}

/// Eigenvalues (descending) and matching unit eigenvectors (`vecs[k]` for
/// `vals[k]`) of a symmetric matrix, by cyclic Jacobi rotations.
pub fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (head, tail) = a.split_at_mut(q);
                for (x, y) in head[p].iter_mut().zip(tail[0].iter_mut()) {
                    let (apk, aqk) = (*x, *y);
                    *x = c * apk - s * aqk;
                    *y = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| a[y][y].total_cmp(&a[x][x]));
    let vals = order.iter().map(|&k| a[k][k]).collect();
    let vecs = order
        .iter()
        .map(|&k| v.iter().map(|row| row[k]).collect())
        .collect();
    (vals, vecs)
}

/// Second-largest eigenvalue modulus `max(λ₂, −λₙ)` of a symmetric
/// stochastic `W` (0 for a single node).
pub fn slem(w: &[Vec<(usize, f64)>]) -> f64 {
    let (vals, _) = symmetric_eigen(to_dense(w));
    match vals.as_slice() {
        [_, second, .., last] => second.max(-last),
        [_, only] => only.abs(),
        _ => 0.0,
    }
}

/// `1 − slem(W)`: the per-step contraction margin of consensus.
pub fn spectral_gap(w: &[Vec<(usize, f64)>]) -> f64 {
    1.0 - slem(w)
}

/// The graph Laplacian `L = D − A` as a dense matrix.
pub fn laplacian(adj: &[Vec<usize>]) -> Vec<Vec<f64>> {
    let n = adj.len();
    let e = edges(adj);
    to_dense(&from_edge_weights(n, &e, &vec![1.0; e.len()]))
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            row.into_iter()
                .enumerate()
                .map(|(j, x)| if i == j { 1.0 - x } else { -x })
                .collect()
        })
        .collect()
}

/// `W = I − αL` with `α = min(2 / (λ₁(L) + λ_{n−1}(L)), 1 / max deg)`: the
/// best constant edge weight, capped so that `W` stays non-negative.
pub fn best_constant(adj: &[Vec<usize>]) -> Weights {
    let n = adj.len();
    let e = edges(adj);
    let (vals, _) = symmetric_eigen(laplacian(adj));
    let alpha = match vals.as_slice() {
        [largest, .., fiedler, _zero] if largest + fiedler > 0.0 => 2.0 / (largest + fiedler),
        _ => 0.0,
    };
    let max_deg = (0..n)
        .map(|i| e.iter().filter(|&&(a, b)| a == i || b == i).count())
        .max()
        .unwrap_or(0);
    let alpha = if max_deg == 0 {
        0.0
    } else {
        alpha.min(1.0 / max_deg as f64)
    };
    from_edge_weights(n, &e, &vec![alpha; e.len()])
}

/// Projects edge weights onto `{w ≥ 0, Σ_{l∋i} w_l ≤ 1 ∀i}` (alternating
/// half-space projections, then a final scaling that guarantees
/// feasibility).
fn project(n: usize, edges: &[(usize, usize)], w: &mut [f64]) {
    for _ in 0..50 {
        w.iter_mut().for_each(|x| *x = x.max(0.0));
        let mut done = true;
        for i in 0..n {
            let inc: Vec<usize> = (0..edges.len())
                .filter(|&l| edges[l].0 == i || edges[l].1 == i)
                .collect();
            let s: f64 = inc.iter().map(|&l| w[l]).sum();
            if s > 1.0 + 1e-12 && !inc.is_empty() {
                done = false;
                let cut = (s - 1.0) / inc.len() as f64;
                inc.iter().for_each(|&l| w[l] -= cut);
            }
        }
        if done {
            break;
        }
    }
    w.iter_mut().for_each(|x| *x = x.max(0.0));
    for i in 0..n {
        let inc: Vec<usize> = (0..edges.len())
            .filter(|&l| edges[l].0 == i || edges[l].1 == i)
            .collect();
        let s: f64 = inc.iter().map(|&l| w[l]).sum();
        if s > 1.0 {
            inc.iter().for_each(|&l| w[l] /= s);
        }
    }
}

/// The fastest-mixing doubly-stochastic weights on the graph, by
/// `iterations` projected-subgradient steps on `slem(W)` (see the module
/// docs). Never worse (smaller gap) than [`metropolis`] or
/// [`best_constant`]: it starts from the better of them and keeps the best
/// iterate.
pub fn fastest_mixing(adj: &[Vec<usize>], iterations: usize) -> Weights {
    let n = adj.len();
    let e = edges(adj);
    let weights_of = |w: &Weights| -> Vec<f64> {
        e.iter()
            .map(|&(i, j)| w[i].iter().find(|x| x.0 == j).map_or(0.0, |x| x.1))
            .collect()
    };
    let (mh, bc) = (metropolis(adj), best_constant(adj));
    let mut w = if slem(&bc) < slem(&mh) {
        weights_of(&bc)
    } else {
        weights_of(&mh)
    };
    let mut best = (slem(&from_edge_weights(n, &e, &w)), w.clone());
    for k in 1..=iterations {
        let (vals, vecs) = symmetric_eigen(to_dense(&from_edge_weights(n, &e, &w)));
        if vals.len() < 2 {
            break;
        }
        let (l2, ln) = (vals[1], vals[vals.len() - 1]);
        let g: Vec<f64> = if l2 >= -ln {
            let u = &vecs[1];
            e.iter().map(|&(i, j)| -(u[i] - u[j]).powi(2)).collect()
        } else {
            let v = &vecs[vals.len() - 1];
            e.iter().map(|&(i, j)| (v[i] - v[j]).powi(2)).collect()
        };
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm < 1e-15 {
            break;
        }
        let step = 1.0 / (k as f64).sqrt() / norm;
        w.iter_mut().zip(&g).for_each(|(x, gi)| *x -= step * gi);
        project(n, &e, &mut w);
        let s = slem(&from_edge_weights(n, &e, &w));
        if s < best.0 {
            best = (s, w.clone());
        }
    }
    from_edge_weights(n, &e, &best.1)
}
