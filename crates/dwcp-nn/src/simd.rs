//! Element-wise training passes run under `pulp`'s best instruction set for
//! the CPU (see the crate docs): every op's `with_simd` and the functions it
//! calls are `#[inline(always)]`, so their loops are compiled inside the
//! target-feature context and vectorise at the full register width.

use pulp::{Arch, Simd, WithSimd};

/// Runs `op` under the best available instruction set.
pub(crate) fn run<Op: WithSimd>(op: Op) -> Op::Output {
    Arch::new().dispatch(op)
}

/// `d ← d ⊙ [y > 0]` row by row over rows of width `n`, and `o ← column sums`
/// of the masked `d` (the ReLU backward step and its bias gradient).
pub(crate) struct ReluMaskSums<'a> {
    pub d: &'a mut [f32],
    pub y: &'a [f32],
    pub o: &'a mut [f32],
}

impl WithSimd for ReluMaskSums<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let n = self.o.len();
        self.o.iter_mut().for_each(|v| *v = 0.0);
        if n == 0 {
            return;
        }
        for (drow, yrow) in self.d.chunks_exact_mut(n).zip(self.y.chunks_exact(n)) {
            for ((g, &y), s) in drow.iter_mut().zip(yrow).zip(self.o.iter_mut()) {
                *g = if y > 0.0 { *g } else { 0.0 };
                *s += *g;
            }
        }
    }
}

/// `g ← g ⊙ [y > 0]` (the ReLU backward step alone).
pub(crate) struct ReluMask<'a> {
    pub g: &'a mut [f32],
    pub y: &'a [f32],
}

impl WithSimd for ReluMask<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        self.g
            .iter_mut()
            .zip(self.y)
            .for_each(|(g, &y)| *g = if y > 0.0 { *g } else { 0.0 });
    }
}

/// `t ← tau·s + (1 − tau)·t` (Polyak averaging of target parameters).
pub(crate) struct Polyak<'a> {
    pub t: &'a mut [f32],
    pub s: &'a [f32],
    pub tau: f32,
}

impl WithSimd for Polyak<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let tau = self.tau;
        self.t
            .iter_mut()
            .zip(self.s)
            .for_each(|(t, &s)| *t = tau * s + (1.0 - tau) * *t);
    }
}

/// One Adam step over a contiguous run of parameters (see [`crate::Adam`]).
pub(crate) struct AdamStep<'a> {
    pub p: &'a mut [f32],
    pub g: &'a [f32],
    pub m: &'a mut [f32],
    pub v: &'a mut [f32],
    /// `beta1, beta2, lr, eps, 1 / bias correction 1, 1 / bias correction 2, flush`.
    pub k: [f32; 7],
}

impl WithSimd for AdamStep<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let [b1, b2, lr, eps, inv_bc1, inv_bc2, flush] = self.k;
        for (((p, &g), m), v) in self.p.iter_mut().zip(self.g).zip(self.m).zip(self.v) {
            let m1 = b1 * *m + (1.0 - b1) * g;
            let v1 = b2 * *v + (1.0 - b2) * g * g;
            // Flush decaying moments before they turn subnormal (see `Adam`).
            *m = if m1.abs() < flush { 0.0 } else { m1 };
            *v = if v1 < flush { 0.0 } else { v1 };
            *p -= lr * (*m * inv_bc1) / ((*v * inv_bc2).sqrt() + eps);
        }
    }
}
