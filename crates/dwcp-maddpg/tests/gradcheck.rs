//! Finite-difference checks of every gradient the MADDPG update uses beyond
//! dwcp-nn's own layer checks: the Gumbel-softmax and Gaussian sampling
//! backward passes with the actor regulariser, the whole critic → action →
//! actor chain of the policy objective, and the critic's TD loss.

use dwcp_core::rng::{RngCore, seeded};
use dwcp_maddpg::actor_loss_grad;
use dwcp_maddpg::space::{self, ActionSpace};
use dwcp_nn::ndarray::{Array2, Zip};
use dwcp_nn::{Activation, Mlp, mse};

fn random(rows: usize, cols: usize, scale: f32, rng: &mut impl RngCore) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || {
        scale * (2.0 * ((rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32) - 1.0)
    })
}

/// `L(p) = Σ w ⊙ action(p, noise) + reg · mean(p²)` in f64 by central differences.
fn sampled_objective(
    space: ActionSpace,
    p: &Array2<f32>,
    noise: &Array2<f32>,
    w: &Array2<f32>,
    reg: f32,
) -> f64 {
    let mut a = Array2::zeros(w.raw_dim());
    space::apply_noise(space, p.view(), a.view_mut(), noise.view());
    let lin: f64 = a
        .iter()
        .zip(w.iter())
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let sq: f64 = p.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / p.len() as f64;
    lin + f64::from(reg) * sq
}

fn check_space(space: ActionSpace, seed: u64) {
    let mut rng = seeded(seed);
    let rows = 5;
    let p = random(rows, space.param_dim(), 1.5, &mut rng);
    let mut noise = Array2::zeros((rows, space.action_dim()));
    space::draw_noise(space, noise.view_mut(), &mut rng);
    let w = random(rows, space.action_dim(), 1.0, &mut rng);
    let reg = 0.3;
    let mut a = Array2::zeros(w.raw_dim());
    space::apply_noise(space, p.view(), a.view_mut(), noise.view());
    let g = space::backward(space, p.view(), a.view(), noise.view(), w.view(), reg);
    let eps = 1e-3f32;
    for idx in 0..p.len() {
        let (r, c) = (idx / p.ncols(), idx % p.ncols());
        let mut plus = p.clone();
        plus[[r, c]] += eps;
        let mut minus = p.clone();
        minus[[r, c]] -= eps;
        let num = (sampled_objective(space, &plus, &noise, &w, reg)
            - sampled_objective(space, &minus, &noise, &w, reg))
            / (2.0 * f64::from(eps));
        let ana = f64::from(g[[r, c]]);
        assert!(
            (num - ana).abs() <= 2e-3 + 2e-2 * num.abs(),
            "{space:?} entry ({r},{c}): analytic {ana} numeric {num}"
        );
    }
}

#[test]
fn gumbel_softmax_backward_matches_finite_differences() {
    check_space(ActionSpace::Categorical { groups: 1, size: 5 }, 1);
    check_space(ActionSpace::Categorical { groups: 3, size: 4 }, 2);
}

#[test]
fn gaussian_backward_matches_finite_differences() {
    check_space(ActionSpace::Continuous { dim: 3 }, 3);
}

/// The policy objective through real networks, perturbing every actor parameter.
fn check_actor_chain(space: ActionSpace, seed: u64) {
    let mut rng = seeded(seed);
    let (rows, obs_dim, other) = (6, 4, 5);
    let actor = Mlp::new(
        &[obs_dim, 8, 8, space.param_dim()],
        Activation::Relu,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let critic_in = other + space.action_dim();
    let critic = Mlp::new(
        &[critic_in, 8, 8, 1],
        Activation::Tanh,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let obs = random(rows, obs_dim, 1.0, &mut rng);
    let x = random(rows, critic_in, 1.0, &mut rng);
    let mut noise = Array2::zeros((rows, space.action_dim()));
    space::draw_noise(space, noise.view_mut(), &mut rng);
    let reg = 1e-3;
    let (_, grads) = actor_loss_grad(
        &actor,
        &critic,
        space,
        obs.view(),
        x.view(),
        other,
        noise.view(),
        reg,
    );
    let flat = actor.params_flat();
    let analytic = grads.to_flat();
    let eps = 1e-2f32;
    let loss_at = |params: &[f32]| {
        let mut a = actor.clone();
        a.set_params_flat(params).unwrap();
        f64::from(
            actor_loss_grad(
                &a,
                &critic,
                space,
                obs.view(),
                x.view(),
                other,
                noise.view(),
                reg,
            )
            .0,
        )
    };
    let mut checked = 0;
    for k in 0..flat.len() {
        let mut plus = flat.clone();
        plus[k] += eps;
        let mut minus = flat.clone();
        minus[k] -= eps;
        let num = (loss_at(&plus) - loss_at(&minus)) / (2.0 * f64::from(eps));
        let ana = f64::from(analytic[k]);
        // ReLU kinks inside ±eps make single entries unreliable; they are rare.
        if (num - ana).abs() > 1e-3 + 5e-2 * num.abs() {
            let kink = {
                let half = |d: f32| {
                    let mut p = flat.clone();
                    p[k] += d;
                    loss_at(&p)
                };
                let (l0, lp, lm) = (loss_at(&flat), half(eps), half(-eps));
                ((lp - l0) / f64::from(eps) - (l0 - lm) / f64::from(eps)).abs() > 1e-3
            };
            assert!(
                kink,
                "{space:?} actor param {k}: analytic {ana} numeric {num}"
            );
        } else {
            checked += 1;
        }
    }
    assert!(
        checked * 10 >= flat.len() * 9,
        "too few clean entries: {checked}/{}",
        flat.len()
    );
}

#[test]
fn actor_objective_chain_matches_finite_differences() {
    check_actor_chain(ActionSpace::Categorical { groups: 2, size: 3 }, 11);
    check_actor_chain(ActionSpace::Continuous { dim: 2 }, 12);
}

#[test]
fn critic_td_loss_gradient_matches_finite_differences() {
    let mut rng = seeded(21);
    let critic = Mlp::new(
        &[7, 8, 8, 1],
        Activation::Tanh,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let x = random(9, 7, 1.0, &mut rng);
    let y = random(9, 1, 2.0, &mut rng);
    let cache = critic.forward_cached(&x);
    let (_, d) = mse(cache.output(), &y).unwrap();
    let (g, _) = critic.backward(&cache, &d);
    let analytic = g.to_flat();
    let flat = critic.params_flat();
    let eps = 1e-2f32;
    let loss = |p: &[f32]| {
        let mut c = critic.clone();
        c.set_params_flat(p).unwrap();
        let out = c.forward(&x);
        let mut s = 0.0f64;
        Zip::from(&out)
            .and(&y)
            .for_each(|&q, &t| s += f64::from(q - t).powi(2));
        s / 9.0
    };
    for k in 0..flat.len() {
        let mut plus = flat.clone();
        plus[k] += eps;
        let mut minus = flat.clone();
        minus[k] -= eps;
        let num = (loss(&plus) - loss(&minus)) / (2.0 * f64::from(eps));
        assert!(
            (num - f64::from(analytic[k])).abs() <= 1e-3 + 2e-2 * num.abs(),
            "critic param {k}: analytic {} numeric {num}",
            analytic[k]
        );
    }
}
