//! MADDPG-sized workloads: forward + backward of a 40→64→64→1 ReLU critic on
//! a batch of 1024, and one Adam step over its parameters.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use dwcp_core::rng::{RngCore, seeded};
use dwcp_nn::ndarray::Array2;
use dwcp_nn::{Activation, Adam, Mlp, Optimizer, clip_grad_norm, mse};

fn bench(c: &mut Criterion) {
    let mut rng = seeded(1);
    let net = Mlp::new(
        &[40, 64, 64, 1],
        Activation::Relu,
        Activation::Identity,
        &mut rng,
    )
    .expect("valid sizes");
    let x = Array2::from_shape_simple_fn((1024, 40), || {
        (rng.next_u32() as f32 / u32::MAX as f32) - 0.5
    });
    let y = Array2::from_shape_simple_fn((1024, 1), || {
        (rng.next_u32() as f32 / u32::MAX as f32) - 0.5
    });
    c.bench_function("mlp_40x64x64x1_forward_backward_batch1024", |b| {
        b.iter(|| {
            let cache = net.forward_cached(black_box(&x));
            let (_, d) = mse(cache.output(), &y).expect("same shape");
            black_box(net.backward(&cache, &d))
        })
    });
    let cache = net.forward_cached(&x);
    let (_, d) = mse(cache.output(), &y).expect("same shape");
    let (mut grads, _) = net.backward(&cache, &d);
    clip_grad_norm(&mut grads, 0.5);
    let mut adam = Adam::new(1e-2);
    let mut trained = net.clone();
    c.bench_function("adam_step_40x64x64x1", |b| {
        b.iter(|| {
            adam.step(&mut trained, black_box(&grads))
                .expect("same shapes")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
