//! `backward_params` and `backward_input_cols` agree with the full backward pass.

use dwcp_core::rng::RngCore;
use dwcp_nn::ndarray::{Array2, Axis, Slice};
use dwcp_nn::{Activation, Mlp};

#[test]
fn partial_backward_passes_match_the_full_one() {
    let mut rng = dwcp_core::rng::seeded(5);
    let net = Mlp::new(
        &[10, 16, 8, 3],
        Activation::Relu,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let mut u = || (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
    let x = Array2::from_shape_simple_fn((7, 10), &mut u);
    let d = Array2::from_shape_simple_fn((7, 3), &mut u);
    let cache = net.forward_cached(&x);
    let (full, d_in) = net.backward(&cache, &d);
    assert_eq!(net.backward_params(&cache, &d), full);
    let cols = net.backward_input_cols(&cache, &d, 4..9);
    let want = d_in.slice_axis(Axis(1), Slice::from(4..9));
    assert_eq!(cols.dim(), (7, 5));
    for (a, b) in cols.iter().zip(want.iter()) {
        assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }
    assert_eq!(net.backward_input_cols(&cache, &d, 0..0).dim(), (7, 0));
}
