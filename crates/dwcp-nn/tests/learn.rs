//! Small end-to-end learning problems with fixed seeds.

use dwcp_core::rng::{RngCore, seeded};
use dwcp_nn::ndarray::{Array2, Axis, concatenate};
use dwcp_nn::{
    Activation, Adam, Mlp, Optimizer, Sgd, accuracy, clip_grad_norm, mse, soft_update,
    softmax_cross_entropy,
};

fn uniform(rng: &mut impl RngCore) -> f32 {
    2.0 * (rng.next_u32() as f32 / u32::MAX as f32) - 1.0
}

fn points(n: usize, seed: u64) -> Array2<f32> {
    let mut rng = seeded(seed);
    Array2::from_shape_simple_fn((n, 2), || uniform(&mut rng))
}

fn train_classifier(
    net: &mut Mlp,
    opt: &mut impl Optimizer,
    x: &Array2<f32>,
    y: &[usize],
    steps: usize,
) -> (f32, f32) {
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..steps {
        let cache = net.forward_cached(x);
        let (loss, d) = softmax_cross_entropy(cache.output(), y).unwrap();
        first.get_or_insert(loss);
        last = loss;
        let (g, _) = net.backward(&cache, &d);
        opt.step(net, &g).unwrap();
    }
    (first.unwrap_or(0.0), last)
}

#[test]
fn adam_learns_xor_quadrants() {
    // Label = whether x·y > 0: not linearly separable.
    let x = points(256, 1);
    let y: Vec<usize> = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] * r[1] > 0.0))
        .collect();
    let mut net = Mlp::new(
        &[2, 16, 16, 2],
        Activation::Relu,
        Activation::Identity,
        &mut seeded(2),
    )
    .unwrap();
    let before = accuracy(&net.forward(&x), &y);
    let (first, last) = train_classifier(&mut net, &mut Adam::new(1e-2), &x, &y, 600);
    let acc = accuracy(&net.forward(&x), &y);
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(acc >= 0.95, "train accuracy {acc} (before {before})");
}

#[test]
fn sgd_momentum_learns_a_separable_problem() {
    let x = points(200, 3);
    let y: Vec<usize> = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] + 0.5 * r[1] > 0.1))
        .collect();
    let mut net = Mlp::new(
        &[2, 8, 2],
        Activation::Tanh,
        Activation::Identity,
        &mut seeded(4),
    )
    .unwrap();
    train_classifier(&mut net, &mut Sgd::new(0.1, 0.9), &x, &y, 300);
    let acc = accuracy(&net.forward(&x), &y);
    assert!(acc >= 0.95, "train accuracy {acc}");
}

#[test]
fn actor_learns_through_critic_input_gradient() {
    // A one-step actor-critic: reward r(s, a) = -(a - s/2)². The critic learns
    // Q(s, a) ≈ r by MSE; the tanh actor then follows dQ/da (from the critic's
    // input gradient) with gradient clipping, Adam and a soft-updated target.
    let mut rng = seeded(5);
    let mut critic = Mlp::new(
        &[2, 32, 32, 1],
        Activation::Relu,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let mut actor = Mlp::new(&[1, 16, 1], Activation::Relu, Activation::Tanh, &mut rng).unwrap();
    let mut target_actor = actor.clone();
    let (mut copt, mut aopt) = (Adam::new(1e-2), Adam::new(1e-2));
    let batch = 128;
    for _ in 0..400 {
        let sa = Array2::from_shape_simple_fn((batch, 2), || uniform(&mut rng));
        let r = sa
            .map_axis(Axis(1), |row| -(row[1] - 0.5 * row[0]).powi(2))
            .insert_axis(Axis(1));
        let cache = critic.forward_cached(&sa);
        let (_, d) = mse(cache.output(), &r).unwrap();
        let (mut g, _) = critic.backward(&cache, &d);
        clip_grad_norm(&mut g, 0.5);
        copt.step(&mut critic, &g).unwrap();
    }
    let states = points(batch, 6).column(0).insert_axis(Axis(1)).to_owned();
    for _ in 0..300 {
        let acache = actor.forward_cached(&states);
        let input = concatenate(Axis(1), &[states.view(), acache.output().view()]).unwrap();
        let ccache = critic.forward_cached(&input);
        let d_q = Array2::from_elem((batch, 1), -1.0 / batch as f32);
        let d_in = critic.backward_input(&ccache, &d_q);
        let d_a = d_in.column(1).insert_axis(Axis(1)).to_owned();
        let (mut g, _) = actor.backward(&acache, &d_a);
        clip_grad_norm(&mut g, 0.5);
        aopt.step(&mut actor, &g).unwrap();
        soft_update(&mut target_actor, &actor, 0.01).unwrap();
    }
    let a = actor.forward(&states);
    let err = (&a - &states.mapv(|v| 0.5 * v))
        .mapv(f32::abs)
        .mean()
        .unwrap_or(f32::INFINITY);
    assert!(err < 0.1, "mean |a - s/2| = {err}");
    // The target trails the actor but has moved towards it.
    assert_ne!(target_actor, actor);
}
