//! Optimisers, clipping, soft updates, flat parameters, determinism and
//! weight (de)serialisation.

use dwcp_core::rng::seeded;
use dwcp_nn::ndarray::{Array1, Array2, array};
use dwcp_nn::{
    Activation, Adam, Dense, Gradients, Mlp, NnError, Optimizer, Sgd, clip_grad_norm, soft_update,
};

fn critic(seed: u64) -> Mlp {
    Mlp::new(
        &[40, 64, 64, 1],
        Activation::Relu,
        Activation::Identity,
        &mut seeded(seed),
    )
    .unwrap()
}

fn close(a: f32, b: f64) -> bool {
    (f64::from(a) - b).abs() < 1e-6
}

#[test]
fn adam_matches_hand_computed_steps() {
    // Two steps with lr 0.1, betas (0.9, 0.999), eps 1e-8. After step 1
    // m̂ = g and v̂ = g², so each parameter moves by lr·sign(g). Step 2 by hand:
    //   p0: m = 0.9·0.05 + 0.1·(−0.5) = −0.005, m̂ = −0.005/0.19;
    //       v = 0.999·2.5e-4 + 0.001·0.25 = 4.9975e-4, v̂ = 4.9975e-4/1.999e-3 = 0.25
    //       p = 0.9 − 0.1·(−0.0263158)/0.5 = 0.9052632
    //   p1: m = 0.021, m̂ = 0.1105263; v = 9.999e-5, v̂ = 0.0500200; p = −1.9494190
    let mut adam = Adam::with_params(0.1, 0.9, 0.999, 1e-8);
    let mut p = [1.0f32, -2.0];
    adam.step_flat(&mut p, &[0.5, -0.1]).unwrap();
    assert!(close(p[0], 0.9) && close(p[1], -1.9), "{p:?}");
    adam.step_flat(&mut p, &[-0.5, 0.3]).unwrap();
    assert!(
        close(p[0], 0.905_263_16) && close(p[1], -1.949_419),
        "{p:?}"
    );
    assert_eq!(adam.steps(), 2);
    // The state size is fixed by the first step.
    assert!(matches!(
        adam.step_flat(&mut [0.0; 3], &[0.0; 3]),
        Err(NnError::LengthMismatch { .. })
    ));
    assert!(adam.step_flat(&mut p, &[1.0]).is_err());
    assert!(
        close(p[0], 0.905_263_16),
        "failed step must not move parameters"
    );
}

#[test]
fn sgd_plain_and_momentum_match_hand_computed_steps() {
    let mut sgd = Sgd::new(0.1, 0.0);
    let mut p = [1.0f32, 2.0];
    sgd.step_flat(&mut p, &[1.0, -2.0]).unwrap();
    assert!(close(p[0], 0.9) && close(p[1], 2.2), "{p:?}");
    // Momentum 0.9: v = 1 → p = 0.9; v = 0.9·1 + 0.5 = 1.4 → p = 0.9 − 0.14 = 0.76.
    let mut sgd = Sgd::new(0.1, 0.9);
    let mut p = [1.0f32];
    sgd.step_flat(&mut p, &[1.0]).unwrap();
    assert!(close(p[0], 0.9));
    sgd.step_flat(&mut p, &[0.5]).unwrap();
    assert!(close(p[0], 0.76), "{p:?}");
}

#[test]
fn optimizer_step_on_a_network_equals_flat_step() {
    let mut net = critic(1);
    let mut grads = net.zero_grads();
    let g: Vec<f32> = (0..grads.len())
        .map(|i| ((i % 7) as f32 - 3.0) * 0.01)
        .collect();
    grads.set_flat(&g).unwrap();
    let mut flat = net.params_flat();
    Adam::new(1e-2).step_flat(&mut flat, &g).unwrap();
    Adam::new(1e-2).step(&mut net, &grads).unwrap();
    assert_eq!(net.params_flat(), flat);
    // Gradients of another network are refused.
    let other = Mlp::new(
        &[3, 2],
        Activation::Relu,
        Activation::Identity,
        &mut seeded(1),
    )
    .unwrap();
    assert!(
        Sgd::new(0.1, 0.0)
            .step(&mut net, &other.zero_grads())
            .is_err()
    );
}

#[test]
fn clip_grad_norm_scales_to_the_global_norm() {
    let mut g = Gradients {
        layers: vec![
            Dense {
                w: array![[3.0f32]],
                b: array![0.0f32],
            },
            Dense::zeros(1, 1),
        ],
    };
    g.layers[1].b[0] = 4.0;
    let before = clip_grad_norm(&mut g, 0.5);
    assert!((before - 5.0).abs() < 1e-6);
    assert!((g.norm() - 0.5).abs() < 1e-5);
    assert!((g.layers[0].w[[0, 0]] - 0.3).abs() < 1e-5 && (g.layers[1].b[0] - 0.4).abs() < 1e-5);
    // Already small: untouched.
    let snapshot = g.clone();
    let n = clip_grad_norm(&mut g, 1.0);
    assert!((n - 0.5).abs() < 1e-5);
    assert_eq!(g, snapshot);
    // Non-finite norms are reported and leave the gradients alone.
    g.layers[0].b[0] = f32::NAN;
    let snapshot = g.clone().to_flat();
    assert!(clip_grad_norm(&mut g, 0.5).is_nan());
    assert_eq!(format!("{:?}", g.to_flat()), format!("{snapshot:?}"));
}

#[test]
fn soft_update_is_polyak_averaging() {
    let source = critic(2);
    let mut target = critic(3);
    let (s, t0) = (source.params_flat(), target.params_flat());
    soft_update(&mut target, &source, 0.01).unwrap();
    for ((&t, &t0), &s) in target.params_flat().iter().zip(&t0).zip(&s) {
        assert!((t - (0.01 * s + 0.99 * t0)).abs() < 1e-6);
    }
    // tau = 1 copies; converges towards the source.
    soft_update(&mut target, &source, 1.0).unwrap();
    assert_eq!(target, source);
    let small = Mlp::new(
        &[40, 64, 1],
        Activation::Relu,
        Activation::Identity,
        &mut seeded(2),
    )
    .unwrap();
    assert!(matches!(
        soft_update(&mut target, &small, 0.5),
        Err(NnError::ShapeMismatch(_))
    ));
}

#[test]
fn flat_params_round_trip_and_order() {
    let mut net = Mlp::new(
        &[3, 4, 2],
        Activation::Tanh,
        Activation::Identity,
        &mut seeded(4),
    )
    .unwrap();
    assert_eq!(net.num_params(), 3 * 4 + 4 + 4 * 2 + 2);
    let flat = net.params_flat();
    net.set_params_flat(&flat).unwrap();
    assert_eq!(net.params_flat(), flat);
    let ramp: Vec<f32> = (0..net.num_params()).map(|i| i as f32).collect();
    net.set_params_flat(&ramp).unwrap();
    assert_eq!(net.params_flat(), ramp);
    // Canonical order: layer 0 w row-major, layer 0 b, layer 1 w, layer 1 b.
    assert_eq!(net.layers()[0].w[[1, 2]], 6.0);
    assert_eq!(net.layers()[0].b[0], 12.0);
    assert_eq!(net.layers()[1].w[[0, 1]], 17.0);
    assert_eq!(net.layers()[1].b[1], 25.0);
    // Gradients use the same order and length.
    let (g, _) = net.backward(
        &net.forward_cached(&Array2::ones((2, 3))),
        &Array2::ones((2, 2)),
    );
    assert_eq!(g.to_flat().len(), net.num_params());
    assert!(matches!(
        net.set_params_flat(&ramp[1..]),
        Err(NnError::LengthMismatch {
            expected: 26,
            got: 25
        })
    ));
    assert_eq!(net.params_flat(), ramp);
    // An Array1 view works too.
    let arr = Array1::from(net.params_flat());
    net.set_params_flat(arr.as_slice().unwrap()).unwrap();
}

#[test]
fn same_seed_same_weights() {
    assert_eq!(critic(7), critic(7));
    assert_ne!(critic(7).params_flat(), critic(8).params_flat());
    // He-uniform bounds for ReLU layers, Glorot for the linear output; zero biases.
    let net = critic(7);
    let he = (6.0f32 / 40.0).sqrt();
    assert!(net.layers()[0].w.iter().all(|w| w.abs() <= he));
    assert!(net.layers()[0].w.iter().any(|w| w.abs() > 0.9 * he));
    let glorot = (6.0f32 / 65.0).sqrt();
    assert!(net.layers()[2].w.iter().all(|w| w.abs() <= glorot));
    assert!(net.layers().iter().all(|l| l.b.iter().all(|&b| b == 0.0)));
}

#[test]
fn invalid_architectures_are_errors() {
    let mut rng = seeded(1);
    assert!(Mlp::new(&[3], Activation::Relu, Activation::Identity, &mut rng).is_err());
    assert!(Mlp::new(&[3, 0, 1], Activation::Relu, Activation::Identity, &mut rng).is_err());
    let l = vec![Dense::zeros(3, 4), Dense::zeros(5, 1)];
    assert!(Mlp::from_layers(l, vec![Activation::Relu, Activation::Identity]).is_err());
    let bad_bias = Dense {
        w: Array2::zeros((3, 4)),
        b: Array1::zeros(3),
    };
    assert!(Mlp::from_layers(vec![bad_bias], vec![Activation::Relu]).is_err());
    assert!(Mlp::from_layers(vec![Dense::zeros(3, 4)], vec![]).is_err());
}

#[test]
fn weights_round_trip_through_json_and_bytes() {
    let net = Mlp::new(
        &[5, 8, 3],
        Activation::Relu,
        Activation::Tanh,
        &mut seeded(9),
    )
    .unwrap();
    let json = serde_json::to_string(&net).unwrap();
    assert_eq!(serde_json::from_str::<Mlp>(&json).unwrap(), net);
    let bytes = net.to_bytes().unwrap();
    let back = Mlp::from_bytes(&bytes).unwrap();
    assert_eq!(back, net);
    let x = Array2::from_elem((2, 5), 0.3f32);
    assert_eq!(back.forward(&x), net.forward(&x));
}

#[test]
fn bad_weight_bytes_are_errors_not_panics() {
    let net = Mlp::new(
        &[5, 8, 3],
        Activation::Relu,
        Activation::Tanh,
        &mut seeded(9),
    )
    .unwrap();
    let bytes = net.to_bytes().unwrap();
    for cut in [0, 1, 7, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            Mlp::from_bytes(&bytes[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Mlp::from_bytes(&trailing).is_err());
    // Flipping bytes one at a time never panics (it may or may not decode).
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        let _ = Mlp::from_bytes(&b);
    }
    // Shape-inconsistent weights decode as errors (serde validation).
    let mut v: serde_json::Value = serde_json::to_value(&net).unwrap();
    v["layers"][1]["w"]["dim"] = serde_json::json!([4, 6]);
    v["layers"][1]["w"]["data"] = serde_json::json!(vec![0.0; 24]);
    assert!(serde_json::from_value::<Mlp>(v).is_err());
    let mut v: serde_json::Value = serde_json::to_value(&net).unwrap();
    v["activations"] = serde_json::json!(["Relu"]);
    assert!(serde_json::from_value::<Mlp>(v).is_err());
    let mut v: serde_json::Value = serde_json::to_value(&net).unwrap();
    v["layers"][0]["w"]["dim"] = serde_json::json!([1_000_000, 1_000_000]);
    assert!(serde_json::from_value::<Mlp>(v).is_err());
}

#[test]
fn transposed_layer_arrays_are_normalised_and_trainable() {
    // w given as the transpose of a 2×3 array: not row-major in memory.
    let w = Array2::from_shape_vec((2, 3), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap()
        .reversed_axes();
    let mut net = Mlp::from_layers(
        vec![Dense {
            w,
            b: Array1::zeros(2),
        }],
        vec![Activation::Identity],
    )
    .unwrap();
    assert_eq!(
        net.params_flat(),
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0, 0.0, 0.0]
    );
    let mut grads = net.zero_grads();
    grads.set_flat(&[1.0; 8]).unwrap();
    grads.layers[0].w = grads.layers[0].w.t().to_owned().reversed_axes();
    Sgd::new(0.5, 0.0).step(&mut net, &grads).unwrap();
    assert_eq!(
        net.params_flat(),
        vec![0.5, 3.5, 1.5, 4.5, 2.5, 5.5, -0.5, -0.5]
    );
}
