//! Allocation-free training passes: a [`Workspace`] holds every per-layer
//! buffer of one network at one batch size, so a training loop that calls
//! [`Mlp::forward_ws`] and [`Mlp::backward_ws`] repeatedly allocates nothing
//! after the first call. The results are bit-identical to
//! [`Mlp::forward_cached`] and [`Mlp::backward`] (the same kernels run).

use crate::grads::Gradients;
use crate::kernels::{self, InputGrad};
use crate::mlp::Mlp;
use ndarray::{Array2, ArrayBase, Data, Ix2};

/// Buffers for one network's forward and backward passes (layer outputs,
/// per-layer `dL/dz`, `dL/dinput`). Create with [`Mlp::workspace`]; it
/// resizes itself when the batch size or the network changes.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    outs: Vec<Array2<f32>>,
    deltas: Vec<Array2<f32>>,
    d_in: Array2<f32>,
}

impl Workspace {
    /// The network output of the last [`Mlp::forward_ws`] (`batch × output_dim`).
    ///
    /// # Panics
    /// If no forward pass ran yet.
    pub fn output(&self) -> &Array2<f32> {
        self.outs.last().expect("forward_ws has not run")
    }

    /// The buffer for `dL/doutput` (same shape as [`Self::output`]): write the
    /// loss gradient here, then call [`Mlp::backward_ws`] (which overwrites it).
    ///
    /// # Panics
    /// If no forward pass ran yet.
    pub fn d_output_mut(&mut self) -> &mut Array2<f32> {
        self.deltas.last_mut().expect("forward_ws has not run")
    }

    /// [`Self::output`] and [`Self::d_output_mut`] at once (to compute a
    /// loss gradient from the output in place).
    ///
    /// # Panics
    /// If no forward pass ran yet.
    pub fn output_and_d_output_mut(&mut self) -> (&Array2<f32>, &mut Array2<f32>) {
        match (self.outs.last(), self.deltas.last_mut()) {
            (Some(o), Some(d)) => (o, d),
            _ => panic!("forward_ws has not run"),
        }
    }

    /// `dL/dinput` from the last [`Mlp::backward_ws`], restricted to the
    /// columns its [`InputGrad`] selected.
    pub fn d_input(&self) -> &Array2<f32> {
        &self.d_in
    }

    fn fits(&self, net: &Mlp, rows: usize) -> bool {
        self.outs.len() == net.layers().len()
            && self
                .outs
                .iter()
                .zip(net.layers())
                .all(|(o, l)| o.dim() == (rows, l.outputs()))
    }
}

impl Mlp {
    /// An empty workspace for this network (sized on the first pass).
    pub fn workspace(&self) -> Workspace {
        Workspace::default()
    }

    /// The forward pass into `ws`, keeping every layer's output for
    /// [`Self::backward_ws`]; read the result with [`Workspace::output`].
    ///
    /// # Panics
    /// If `x.ncols() != self.input_dim()`.
    pub fn forward_ws<S: Data<Elem = f32>>(&self, x: &ArrayBase<S, Ix2>, ws: &mut Workspace) {
        let rows = x.nrows();
        if !ws.fits(self, rows) {
            ws.outs = self
                .layers()
                .iter()
                .map(|l| Array2::zeros((rows, l.outputs())))
                .collect();
            ws.deltas = ws.outs.clone();
        }
        for (i, (l, act)) in self.layers().iter().zip(self.activations()).enumerate() {
            let (done, rest) = ws.outs.split_at_mut(i);
            let out = &mut rest[0];
            match done.last() {
                None => kernels::layer_forward_into(l, *act, x, &mut out.view_mut()),
                Some(prev) => kernels::layer_forward_into(l, *act, prev, &mut out.view_mut()),
            }
        }
    }

    /// Backpropagates the gradient in [`Workspace::d_output_mut`] through the
    /// pass [`Self::forward_ws`] left in `ws` (on the same input `x`). Writes
    /// the parameter gradients into `grads` if given (shaped like
    /// [`Self::zero_grads`]) and the part of `dL/dx` chosen by `input` into
    /// [`Workspace::d_input`]. The loss's averaging must already be in the
    /// output gradient.
    ///
    /// # Panics
    /// If `ws` did not come from a forward pass of this network on `x`'s batch
    /// size, `grads` has other shapes, or `input` reaches past the input width.
    pub fn backward_ws<S: Data<Elem = f32>>(
        &self,
        x: &ArrayBase<S, Ix2>,
        ws: &mut Workspace,
        grads: Option<&mut Gradients>,
        input: InputGrad,
    ) {
        assert!(ws.fits(self, x.nrows()), "workspace from another pass");
        if let InputGrad::Cols(c) = &input {
            assert!(c.end <= self.input_dim(), "columns past the input");
        }
        let width = input.width(self.input_dim());
        if ws.d_in.dim() != (x.nrows(), width) {
            ws.d_in = Array2::zeros((x.nrows(), width));
        }
        let grads = grads.map(|g| {
            assert!(
                g.layers.len() == self.layers().len()
                    && g.layers
                        .iter()
                        .zip(self.layers())
                        .all(|(a, b)| a.same_shape(b)),
                "gradients shaped for another network"
            );
            g.layers
                .iter_mut()
                .for_each(crate::Dense::make_standard_layout);
            g.layers.as_mut_slice()
        });
        kernels::backprop_into(
            self.layers(),
            self.activations(),
            x,
            &ws.outs,
            &mut ws.deltas,
            grads,
            &input,
            &mut ws.d_in,
        );
    }
}
