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

#[test]
fn workspace_passes_equal_the_allocating_ones_bit_for_bit() {
    use dwcp_nn::{InputGrad, Workspace};
    let mut rng = dwcp_core::rng::seeded(9);
    let net = Mlp::new(
        &[12, 32, 16, 4],
        Activation::Relu,
        Activation::Tanh,
        &mut rng,
    )
    .unwrap();
    let mut u = || (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
    let mut ws: Workspace = net.workspace();
    let mut grads = net.zero_grads();
    // Two batch sizes: the workspace resizes itself.
    for rows in [9usize, 33] {
        let x = Array2::from_shape_simple_fn((rows, 12), &mut u);
        let d = Array2::from_shape_simple_fn((rows, 4), &mut u);
        let cache = net.forward_cached(&x);
        net.forward_ws(&x, &mut ws);
        assert_eq!(ws.output(), cache.output());
        assert_eq!(ws.output(), &net.forward(&x));
        let (full, d_in) = net.backward(&cache, &d);
        ws.d_output_mut().assign(&d);
        net.backward_ws(&x, &mut ws, Some(&mut grads), InputGrad::All);
        assert_eq!(grads, full);
        assert_eq!(ws.d_input(), &d_in);
        net.forward_ws(&x, &mut ws);
        ws.d_output_mut().assign(&d);
        net.backward_ws(&x, &mut ws, None, InputGrad::Cols(3..7));
        assert_eq!(ws.d_input(), &net.backward_input_cols(&cache, &d, 3..7));
    }
}

#[test]
fn strided_and_transposed_inputs_give_the_same_products() {
    // A column slice (not contiguous) takes the fallback product, a
    // transposed copy the fast one: both must agree with a plain copy.
    let mut rng = dwcp_core::rng::seeded(11);
    let net = Mlp::new(
        &[5, 7, 3],
        Activation::Sigmoid,
        Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let mut u = || (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
    let wide = Array2::from_shape_simple_fn((6, 9), &mut u);
    let slice = wide.slice_axis(Axis(1), Slice::from(2..7));
    let owned = slice.to_owned();
    let transposed = owned.t().to_owned();
    let via_t = transposed.t();
    let want = net.forward(&owned);
    for got in [net.forward(&slice), net.forward(&via_t)] {
        for (a, b) in got.iter().zip(want.iter()) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}
