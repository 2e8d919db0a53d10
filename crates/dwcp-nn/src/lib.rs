//! A small dense neural-network library on [`ndarray`] (`f32`, batches as
//! rows), shared by dwcp's federated-learning (FedAvg / TCS-FEEL on the
//! digits data) and MADDPG (multi-agent actor-critic) crates.
//!
//! # How to use this crate
//!
//! 1. **Build a network.** `Mlp::new(&[input, hidden…, output], hidden_act,
//!    output_act, &mut dwcp_core::rng::seeded(seed))` — e.g. a MADDPG critic
//!    `&[obs + act, 64, 64, 1]` with [`Activation::Relu`] /
//!    [`Activation::Identity`], an actor with a [`Activation::Tanh`] output, a
//!    digits classifier `&[64, h, 10]` with identity logits. ReLU layers use
//!    He-uniform weights, the rest Glorot-uniform, biases 0; the same seed
//!    always gives the same weights.
//! 2. **Infer.** [`Mlp::forward`] maps a `batch × input_dim` array to
//!    `batch × output_dim`.
//! 3. **Train.** `let cache = net.forward_cached(&x);` compute a loss and its
//!    gradient from `cache.output()` with [`softmax_cross_entropy`] or [`mse`]
//!    (both are batch means; the gradient already has the `1 / n`), then
//!    `let (grads, d_input) = net.backward(&cache, &d_out);`. Optionally
//!    [`clip_grad_norm`]`(&mut grads, 0.5)`, then
//!    [`Optimizer::step`]`(&mut adam, &mut net, &grads)` with [`Adam`] or [`Sgd`].
//! 4. **Input gradients (MADDPG actor update).** Run the critic on
//!    `[obs, actor(obs)]`, call [`Mlp::backward_input`] with `d_out = −1 / batch`
//!    (loss `−mean Q`), take the action columns of the result as `dL/da`, and
//!    feed them to the actor's `backward` as its `d_out`.
//! 5. **Target networks.** [`soft_update`]`(&mut target, &online, 0.01)` after
//!    each step (Polyak averaging).
//! 6. **Federated learning.** [`Mlp::params_flat`] / [`Mlp::set_params_flat`]
//!    expose all [`Mlp::num_params`] parameters as one vector (layer by layer,
//!    weights row-major, then biases) for FedAvg, quantisation and secure
//!    aggregation; [`Gradients::to_flat`] uses the same order and
//!    [`Optimizer::step_flat`] steps a bare vector (server optimisers).
//! 7. **Allocation-free training loops.** `let mut ws = net.workspace();`
//!    then per step [`Mlp::forward_ws`]`(&x, &mut ws)`, write `dL/doutput`
//!    into [`Workspace::d_output_mut`], and [`Mlp::backward_ws`]`(&x, &mut ws,
//!    Some(&mut grads), InputGrad::None)` with `grads = net.zero_grads()`
//!    allocated once ([`InputGrad::Cols`] gives `dQ/da` for an actor
//!    update). Bit-identical to the allocating passes of steps 3–4.
//! 8. **Save / load.** `Mlp` is serde `Serialize`/`Deserialize` (JSON works);
//!    [`Mlp::to_bytes`] / [`Mlp::from_bytes`] use dwcp's bounded bincode codec.
//!    Deserialisation re-validates the layer shapes, so bad bytes are an
//!    error, never a panic.
//!
//! ```
//! use dwcp_nn::ndarray::Array2;
//! use dwcp_nn::{Activation, Adam, Mlp, Optimizer, clip_grad_norm, mse, soft_update};
//!
//! let mut rng = dwcp_core::rng::seeded(42);
//! let mut critic = Mlp::new(&[6, 64, 64, 1], Activation::Relu, Activation::Identity, &mut rng)?;
//! let mut target = critic.clone();
//! let mut adam = Adam::new(1e-2);
//! let x = Array2::from_elem((32, 6), 0.1f32);
//! let y = Array2::from_elem((32, 1), 1.0f32);
//! let cache = critic.forward_cached(&x);
//! let (loss, d_out) = mse(cache.output(), &y)?;
//! let (mut grads, d_input) = critic.backward(&cache, &d_out);
//! clip_grad_norm(&mut grads, 0.5);
//! adam.step(&mut critic, &grads)?;
//! soft_update(&mut target, &critic, 0.01)?;
//! assert_eq!(d_input.dim(), (32, 6));
//! assert!(mse(&critic.forward(&x), &y)?.0 < loss);
//! # Ok::<(), dwcp_nn::NnError>(())
//! ```
//!
//! ndarray's `s!` slicing macro expands to `#[allow(unsafe_code)]`, which the
//! workspace's `forbid(unsafe_code)` rejects; slice columns with
//! `column(j)`, `slice_axis` or `select` instead.
//!
//! # Dependencies and why
//!
//! - `ndarray` 0.16 (default features off, `std` + `serde`): 2-D arrays, and
//!   the fallback matrix product (`matrixmultiply`) for strided views. 0.16
//!   builds cleanly with its `serde` feature against the workspace's serde
//!   and its MSRV is far below ours; nothing here needs 0.17's additions.
//! - `gemmkit` 0.1 (default features off, so no rayon; `epilogue` for the
//!   fused bias + ReLU store of a layer's forward product): the products of
//!   every layer on contiguous arrays. Pure Rust with safe slice entry points
//!   and runtime dispatch to AVX-512 / AVX2+FMA / NEON kernels; on the
//!   AVX-512 machines we run on it is about 2.5× faster than
//!   `matrixmultiply` (AVX2 only) on the 1024 × 156 × 64 products of a MADDPG
//!   critic. Single-threaded and deterministic for a given machine; no BLAS
//!   or system library. Chosen over `faer`/`gemm` because their AVX-512
//!   kernels need a nightly feature and `gemm`'s entry point is `unsafe`
//!   (the workspace forbids unsafe code). It needs Rust 1.89, which is why
//!   the workspace's `rust-version` is 1.89. Results can differ in the last bits between CPUs with
//!   different vector units (so can any SIMD product).
//! - `pulp` 0.22 (`x86-v4`): safe runtime dispatch to AVX2 / AVX-512 for the
//!   element-wise passes of training (ReLU masks with bias gradients, Adam,
//!   soft updates): plain Rust loops compiled inside its target-feature
//!   context vectorise at the full register width, where the baseline
//!   x86-64 build would use 4-wide SSE2 (and the workspace forbids the
//!   `unsafe` that `#[target_feature]` calls need). No fused multiply-adds
//!   are introduced, so results are the same bits on every CPU.
//! - `serde`: weight (de)serialisation, with validation through
//!   `#[serde(try_from)]`.
//! - `dwcp-core`: the seeded ChaCha20 RNG (`dwcp_core::rng`) and the bounded
//!   bincode codec. Uniform samples are derived directly from `next_u32`, so
//!   initial weights do not depend on a sampling library's version.
//!
//! Hand-written backprop keeps the dependency set small, offline-friendly and
//! deterministic; the networks involved (two 64-unit hidden layers, digits
//! classifiers) are far too small to need an autograd framework.

mod activation;
mod dense;
mod error;
mod grads;
mod kernels;
mod linalg;
mod loss;
mod mlp;
mod optim;
mod simd;
mod workspace;

pub use activation::Activation;
pub use dense::{Dense, Init};
pub use error::NnError;
pub use grads::{Gradients, clip_grad_norm};
pub use kernels::InputGrad;
pub use loss::{accuracy, argmax_rows, column_means, mse, softmax, softmax_cross_entropy};
pub use mlp::{ForwardCache, Mlp, soft_update};
pub use ndarray;
pub use optim::{Adam, Optimizer, Sgd};
pub use workspace::Workspace;
