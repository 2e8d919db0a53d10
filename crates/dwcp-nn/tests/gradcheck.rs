//! Finite-difference gradient checks: analytic `f32` backprop against central
//! differences of an independent `f64` reference forward pass.

use dwcp_core::rng::{RngCore, seeded};
use dwcp_nn::ndarray::Array2;
use dwcp_nn::{Activation, Mlp, mse, softmax, softmax_cross_entropy};

const ACTS: [Activation; 4] = [
    Activation::Identity,
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
];
const H: f64 = 1e-6;

fn uniform(rng: &mut impl RngCore, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * (rng.next_u32() as f32 / u32::MAX as f32)
}

fn random(rows: usize, cols: usize, rng: &mut impl RngCore) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || uniform(rng, -1.0, 1.0))
}

fn act64(a: Activation, z: f64) -> f64 {
    match a {
        Activation::Identity => z,
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
    }
}

/// Reference forward in f64 with plain loops; `params` in canonical flat order.
fn ref_forward(net: &Mlp, params: &[f64], x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut a: Vec<Vec<f64>> = x.to_vec();
    let mut off = 0;
    for (l, &act) in net.layers().iter().zip(net.activations()) {
        let (ni, no) = (l.inputs(), l.outputs());
        let w = &params[off..off + ni * no];
        let b = &params[off + ni * no..off + ni * no + no];
        off += ni * no + no;
        a = a
            .iter()
            .map(|row| {
                (0..no)
                    .map(|j| {
                        act64(
                            act,
                            b[j] + (0..ni).map(|i| row[i] * w[i * no + j]).sum::<f64>(),
                        )
                    })
                    .collect()
            })
            .collect();
    }
    a
}

fn to_rows(x: &Array2<f32>) -> Vec<Vec<f64>> {
    x.rows()
        .into_iter()
        .map(|r| r.iter().map(|&v| f64::from(v)).collect())
        .collect()
}

/// Weighted-sum loss `L = Σ out ⊙ r`, so `dL/dout = r`.
fn weighted(out: &[Vec<f64>], r: &Array2<f32>) -> f64 {
    out.iter()
        .zip(r.rows())
        .map(|(o, rr)| {
            o.iter()
                .zip(rr)
                .map(|(a, &b)| a * f64::from(b))
                .sum::<f64>()
        })
        .sum()
}

fn assert_close(analytic: f32, numeric: f64, what: &str) {
    let err = (f64::from(analytic) - numeric).abs();
    let scale = numeric.abs().max(f64::from(analytic).abs()).max(1e-2);
    assert!(
        err / scale < 2e-3,
        "{what}: analytic {analytic} vs numeric {numeric}"
    );
}

fn check_net(net: &Mlp, x: &Array2<f32>, r: &Array2<f32>, label: &str) {
    let p64: Vec<f64> = net.params_flat().iter().map(|&v| f64::from(v)).collect();
    let xr = to_rows(x);
    // The f32 forward agrees with the f64 reference.
    let out = net.forward(x);
    for (o, ro) in out.rows().into_iter().zip(ref_forward(net, &p64, &xr)) {
        for (&a, b) in o.iter().zip(ro) {
            assert!(
                (f64::from(a) - b).abs() < 1e-5,
                "{label}: forward {a} vs {b}"
            );
        }
    }
    let cache = net.forward_cached(x);
    assert_eq!(cache.output(), &out);
    let (grads, d_in) = net.backward(&cache, r);
    let flat = grads.to_flat();
    assert_eq!(flat.len(), net.num_params());
    for (i, &g) in flat.iter().enumerate() {
        let mut p = p64.clone();
        p[i] += H;
        let plus = weighted(&ref_forward(net, &p, &xr), r);
        p[i] -= 2.0 * H;
        let minus = weighted(&ref_forward(net, &p, &xr), r);
        assert_close(
            g,
            (plus - minus) / (2.0 * H),
            &format!("{label}: param {i}"),
        );
    }
    assert_eq!(d_in.dim(), x.dim());
    for ((row, col), &g) in d_in.indexed_iter() {
        let mut xp = xr.clone();
        xp[row][col] += H;
        let plus = weighted(&ref_forward(net, &p64, &xp), r);
        xp[row][col] -= 2.0 * H;
        let minus = weighted(&ref_forward(net, &p64, &xp), r);
        assert_close(
            g,
            (plus - minus) / (2.0 * H),
            &format!("{label}: input ({row},{col})"),
        );
    }
    assert_eq!(net.backward_input(&cache, r), d_in);
}

#[test]
fn every_activation_as_hidden_and_output_layer() {
    let mut rng = seeded(11);
    for hidden in ACTS {
        for output in ACTS {
            let net = Mlp::new(&[3, 5, 4, 2], hidden, output, &mut rng).unwrap();
            // Non-zero biases so that the bias path is exercised too.
            let mut p = net.params_flat();
            p.iter_mut()
                .for_each(|v| *v += uniform(&mut rng, -0.2, 0.2));
            let mut net = net;
            net.set_params_flat(&p).unwrap();
            let x = random(6, 3, &mut rng);
            let r = random(6, 2, &mut rng);
            check_net(&net, &x, &r, &format!("{hidden:?}/{output:?}"));
        }
    }
}

#[test]
fn single_dense_layer() {
    let mut rng = seeded(12);
    let net = Mlp::new(&[4, 3], Activation::Relu, Activation::Identity, &mut rng).unwrap();
    check_net(
        &net,
        &random(5, 4, &mut rng),
        &random(5, 3, &mut rng),
        "single layer",
    );
}

#[test]
fn critic_action_gradient_matches_finite_differences() {
    // A MADDPG-style critic on [obs(4), act(2)] with loss -mean Q:
    // dL/da from backward_input equals central differences of -mean Q.
    let mut rng = seeded(13);
    let critic = Mlp::new(
        &[6, 8, 8, 1],
        Activation::Relu,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let x = random(5, 6, &mut rng);
    let cache = critic.forward_cached(&x);
    let d_out = Array2::from_elem((5, 1), -1.0 / 5.0);
    let d_in = critic.backward_input(&cache, &d_out);
    let p64: Vec<f64> = critic.params_flat().iter().map(|&v| f64::from(v)).collect();
    let loss = |xs: &[Vec<f64>]| {
        -ref_forward(&critic, &p64, xs)
            .iter()
            .map(|o| o[0])
            .sum::<f64>()
            / 5.0
    };
    let xr = to_rows(&x);
    for row in 0..5 {
        for col in 4..6 {
            let mut xp = xr.clone();
            xp[row][col] += H;
            let plus = loss(&xp);
            xp[row][col] -= 2.0 * H;
            let minus = loss(&xp);
            assert_close(
                d_in[[row, col]],
                (plus - minus) / (2.0 * H),
                &format!("dQ/da ({row},{col})"),
            );
        }
    }
}

fn ref_softmax_ce(logits: &[Vec<f64>], labels: &[usize]) -> f64 {
    let n = logits.len() as f64;
    logits
        .iter()
        .zip(labels)
        .map(|(row, &l)| {
            let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
            lse - row[l]
        })
        .sum::<f64>()
        / n
}

#[test]
fn softmax_cross_entropy_gradient_and_value() {
    let mut rng = seeded(14);
    let logits = random(7, 5, &mut rng).mapv(|v| 3.0 * v);
    let labels: Vec<usize> = (0..7).map(|i| (i * 3) % 5).collect();
    let (loss, grad) = softmax_cross_entropy(&logits, &labels).unwrap();
    let lr = to_rows(&logits);
    let want = ref_softmax_ce(&lr, &labels);
    assert!((f64::from(loss) - want).abs() < 1e-5, "{loss} vs {want}");
    for ((row, col), &g) in grad.indexed_iter() {
        let mut p = lr.clone();
        p[row][col] += H;
        let plus = ref_softmax_ce(&p, &labels);
        p[row][col] -= 2.0 * H;
        let minus = ref_softmax_ce(&p, &labels);
        assert_close(
            g,
            (plus - minus) / (2.0 * H),
            &format!("dlogits ({row},{col})"),
        );
    }
    // Softmax rows are distributions, and huge logits stay finite.
    let big = logits.mapv(|v| v * 1000.0);
    let p = softmax(&big);
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5 && row.iter().all(|v| v.is_finite()));
    }
    let (l, g) = softmax_cross_entropy(&big, &labels).unwrap();
    assert!(l.is_finite() && g.iter().all(|v| v.is_finite()));
}

#[test]
fn mse_gradient_and_value() {
    let mut rng = seeded(15);
    let pred = random(6, 3, &mut rng);
    let target = random(6, 3, &mut rng);
    let (loss, grad) = mse(&pred, &target).unwrap();
    let (pr, tr) = (to_rows(&pred), to_rows(&target));
    let f = |p: &[Vec<f64>]| {
        p.iter()
            .zip(&tr)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)))
            .sum::<f64>()
            / 18.0
    };
    assert!((f64::from(loss) - f(&pr)).abs() < 1e-6);
    for ((row, col), &g) in grad.indexed_iter() {
        let mut p = pr.clone();
        p[row][col] += H;
        let plus = f(&p);
        p[row][col] -= 2.0 * H;
        let minus = f(&p);
        assert_close(
            g,
            (plus - minus) / (2.0 * H),
            &format!("dpred ({row},{col})"),
        );
    }
}

#[test]
fn chained_loss_through_network() {
    // Classifier: cross-entropy gradient fed through backward matches
    // finite differences of the f64 end-to-end loss.
    let mut rng = seeded(16);
    let net = Mlp::new(&[4, 6, 3], Activation::Relu, Activation::Identity, &mut rng).unwrap();
    let x = random(5, 4, &mut rng);
    let labels = [0, 2, 1, 1, 0];
    let cache = net.forward_cached(&x);
    let (_, d) = softmax_cross_entropy(cache.output(), &labels).unwrap();
    let (grads, _) = net.backward(&cache, &d);
    let p64: Vec<f64> = net.params_flat().iter().map(|&v| f64::from(v)).collect();
    let xr = to_rows(&x);
    for (i, &g) in grads.to_flat().iter().enumerate() {
        let mut p = p64.clone();
        p[i] += H;
        let plus = ref_softmax_ce(&ref_forward(&net, &p, &xr), &labels);
        p[i] -= 2.0 * H;
        let minus = ref_softmax_ce(&ref_forward(&net, &p, &xr), &labels);
        assert_close(g, (plus - minus) / (2.0 * H), &format!("param {i}"));
    }
}
