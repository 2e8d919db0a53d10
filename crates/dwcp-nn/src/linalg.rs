//! The matrix products behind every layer: `C ← α·A·B + β·C` on ndarray
//! views, computed by gemmkit's single-threaded kernels (runtime-dispatched
//! AVX-512 / AVX2+FMA / NEON) when all three views sit in contiguous
//! memory, and by ndarray's `general_mat_mul` otherwise (strided column
//! slices). Both are deterministic for a given machine and shape.

use gemmkit::{MatMut, MatRef, Parallelism};
use ndarray::{ArrayBase, ArrayViewMut2, Data, Ix2, linalg::general_mat_mul};

/// A contiguous view as gemmkit's (slice, row stride, column stride), or
/// `None` if it is not contiguous or has a negative stride.
fn as_mat<S: Data<Elem = f32>>(a: &ArrayBase<S, Ix2>) -> Option<MatRef<'_, f32>> {
    let (rows, cols) = a.dim();
    let s = a.strides();
    let (rs, cs) = (s[0], s[1]);
    if rs < 0 || cs < 0 {
        return None;
    }
    let data = a.as_slice_memory_order()?;
    Some(MatRef::new(data, rows, cols, rs, cs))
}

/// `c ← alpha · a · b + beta · c`. With `beta == 0`, `c`'s previous contents
/// are never read (NaN in `c` does not leak into the result).
///
/// # Panics
/// If the shapes do not chain (`a` is m×k, `b` k×n, `c` m×n).
pub(crate) fn gemm<S1, S2>(
    alpha: f32,
    a: &ArrayBase<S1, Ix2>,
    b: &ArrayBase<S2, Ix2>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) where
    S1: Data<Elem = f32>,
    S2: Data<Elem = f32>,
{
    assert!(
        a.ncols() == b.nrows() && c.dim() == (a.nrows(), b.ncols()),
        "matrix product shapes {:?} · {:?} → {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    let (m, n) = c.dim();
    let empty = m == 0 || n == 0 || a.ncols() == 0;
    let fast = (!empty && c.is_standard_layout())
        .then(|| as_mat(a).zip(as_mat(b)))
        .flatten();
    match (fast, c.as_slice_mut()) {
        (Some((am, bm)), Some(cs)) => gemmkit::gemm(
            alpha,
            am,
            bm,
            beta,
            MatMut::from_row_major(cs, m, n),
            Parallelism::Serial,
        ),
        _ => general_mat_mul(alpha, a, b, beta, c),
    }
}

/// `c ← relu?(a · b + bias)` in one pass (bias per column of `c`) when all
/// views are contiguous; `None` (nothing written) otherwise.
pub(crate) fn gemm_bias<S1, S2>(
    a: &ArrayBase<S1, Ix2>,
    b: &ArrayBase<S2, Ix2>,
    bias: &[f32],
    relu: bool,
    c: &mut ArrayViewMut2<'_, f32>,
) -> Option<()>
where
    S1: Data<Elem = f32>,
    S2: Data<Elem = f32>,
{
    let (m, n) = c.dim();
    let shapes_ok = a.ncols() == b.nrows() && (a.nrows(), b.ncols()) == (m, n) && bias.len() == n;
    if m == 0 || n == 0 || a.ncols() == 0 || !shapes_ok || !c.is_standard_layout() {
        return None;
    }
    let (am, bm) = (as_mat(a)?, as_mat(b)?);
    let cs = c.as_slice_mut()?;
    gemmkit::gemm_fused(
        1.0,
        am,
        bm,
        0.0,
        MatMut::from_row_major(cs, m, n),
        Some(gemmkit::Bias::PerCol(bias)),
        relu.then_some(gemmkit::Activation::Relu),
        Parallelism::Serial,
    );
    Some(())
}
