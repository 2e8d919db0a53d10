//! The forward and backward computations of a layer stack, written once
//! over caller-provided buffers: [`crate::Mlp`]'s allocating passes and the
//! allocation-free [`crate::Workspace`] passes both run these.

use crate::activation::Activation;
use crate::dense::Dense;
use crate::linalg::{gemm, gemm_bias};
use ndarray::{Array2, ArrayBase, ArrayViewMut2, Axis, Data, Ix2, Slice};

/// Which part of `dL/dinput` a backward pass computes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputGrad {
    /// Every input column (`batch × input_dim`).
    All,
    /// None: skips the first layer's input product (parameter gradients only).
    None,
    /// Only these input columns (`batch × cols.len()`), e.g. the action
    /// columns of a centralised critic's input.
    Cols(std::ops::Range<usize>),
}

impl InputGrad {
    /// Width of the `dL/dinput` this selects for a network with `input_dim` inputs.
    pub fn width(&self, input_dim: usize) -> usize {
        match self {
            InputGrad::All => input_dim,
            InputGrad::None => 0,
            InputGrad::Cols(c) => c.len(),
        }
    }
}

/// `out ← act(x · w + b)`, one fused pass for bias and activation.
pub(crate) fn layer_forward_into(
    layer: &Dense,
    act: Activation,
    x: &ArrayBase<impl Data<Elem = f32>, Ix2>,
    out: &mut ArrayViewMut2<'_, f32>,
) {
    if matches!(act, Activation::Identity | Activation::Relu)
        && let Some(b) = layer.b.as_slice()
        && gemm_bias(x, &layer.w, b, act == Activation::Relu, out).is_some()
    {
        return;
    }
    gemm(1.0, x, &layer.w, 0.0, out);
    let n = layer.outputs();
    let b = layer.b.as_slice();
    match (out.as_slice_mut(), b) {
        (Some(o), Some(b)) if n > 0 => match act {
            // Branch-free loops per activation so the compiler vectorises them.
            Activation::Identity => o.chunks_exact_mut(n).for_each(|row| {
                row.iter_mut().zip(b).for_each(|(v, &c)| *v += c);
            }),
            Activation::Relu => o.chunks_exact_mut(n).for_each(|row| {
                row.iter_mut()
                    .zip(b)
                    .for_each(|(v, &c)| *v = (*v + c).max(0.0));
            }),
            _ => o.chunks_exact_mut(n).for_each(|row| {
                row.iter_mut()
                    .zip(b)
                    .for_each(|(v, &c)| *v = act.apply_scalar(*v + c));
            }),
        },
        _ => {
            *out += &layer.b;
            out.mapv_inplace(|v| act.apply_scalar(v));
        }
    }
}

/// Column sums of `delta` into `out` (the bias gradient).
fn column_sums(delta: &Array2<f32>, out: &mut ndarray::Array1<f32>) {
    let n = delta.ncols();
    match (delta.as_slice(), out.as_slice_mut()) {
        (Some(d), Some(o)) if n > 0 => {
            o.iter_mut().for_each(|v| *v = 0.0);
            for row in d.chunks_exact(n) {
                for (v, &g) in o.iter_mut().zip(row) {
                    *v += g;
                }
            }
        }
        _ => out.assign(&delta.sum_axis(Axis(0))),
    }
}

/// `delta ← delta ⊙ [y > 0]` and `out ← column sums of the masked delta`
/// in one pass; `false` (nothing written) unless all three are contiguous
/// and shaped alike.
fn relu_mask_column_sums(
    delta: &mut Array2<f32>,
    y: &Array2<f32>,
    out: &mut ndarray::Array1<f32>,
) -> bool {
    let n = delta.ncols();
    let same = delta.dim() == y.dim() && out.len() == n && n > 0;
    match (delta.as_slice_mut(), y.as_slice(), out.as_slice_mut()) {
        (Some(d), Some(y), Some(o)) if same => {
            crate::simd::run(crate::simd::ReluMaskSums { d, y, o });
            true
        }
        _ => false,
    }
}

/// Backpropagation through `layers`. `outs[i]` is layer `i`'s output
/// (after its activation) on input `x`; `deltas[i]` has `outs[i]`'s shape and
/// its last entry holds `dL/doutput` on entry (all of them are overwritten).
/// Writes parameter gradients into `grads` (if given, one per layer, same
/// shapes) and the selected part of `dL/dx` into `d_in`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backprop_into<S: Data<Elem = f32>>(
    layers: &[Dense],
    acts: &[Activation],
    x: &ArrayBase<S, Ix2>,
    outs: &[Array2<f32>],
    deltas: &mut [Array2<f32>],
    mut grads: Option<&mut [Dense]>,
    input_grad: &InputGrad,
    d_in: &mut Array2<f32>,
) {
    for i in (0..layers.len()).rev() {
        let (before, rest) = deltas.split_at_mut(i);
        let delta = &mut rest[0];
        let mut g = grads.as_deref_mut().and_then(|g| g.get_mut(i));
        // ReLU mask and bias gradient in one pass when both apply.
        let fused = match g.as_deref_mut() {
            Some(g) if acts[i] == Activation::Relu => {
                relu_mask_column_sums(delta, &outs[i], &mut g.b)
            }
            _ => false,
        };
        if !fused {
            acts[i].backprop_inplace(delta, &outs[i]);
        }
        if let Some(g) = g {
            if i == 0 {
                gemm(1.0, &x.t(), delta, 0.0, &mut g.w.view_mut());
            } else {
                gemm(1.0, &outs[i - 1].t(), delta, 0.0, &mut g.w.view_mut());
            }
            if !fused {
                column_sums(delta, &mut g.b);
            }
        }
        let w = &layers[i].w;
        match (before.last_mut(), input_grad) {
            (Some(prev), _) => gemm(1.0, delta, &w.t(), 0.0, &mut prev.view_mut()),
            (None, InputGrad::None) => {}
            (None, InputGrad::All) => gemm(1.0, delta, &w.t(), 0.0, &mut d_in.view_mut()),
            (None, InputGrad::Cols(c)) => {
                let wc = w.slice_axis(Axis(0), Slice::from(c.clone()));
                gemm(1.0, delta, &wc.t(), 0.0, &mut d_in.view_mut());
            }
        }
    }
}
