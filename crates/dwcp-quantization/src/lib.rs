//! # dwcp-quantization — compressing model updates
//!
//! Compressors for `&[f32]` gradient or model-update vectors, error
//! feedback, and a compact, bounded, fuzzed wire encoding with exact byte
//! accounting. `dwcp-federated` uses it for both directions of a round.
//!
//! ## How to use this crate
//!
//! 1. **Pick a compressor.** A [`Compressor`] is a [`Sparsifier`] (dense,
//!    exact top-k, or shared-seed random-k) followed by a [`Quantizer`]
//!    (`F32`, b-bit `Uniform`, `Qsgd`, `Ternary` = TernGrad, `Sign`):
//!    `Compressor::new(Sparsifier::TopK { k }, Quantizer::Uniform { bits: 4,
//!    stochastic: false })?`. [`Adaptive`] instead picks dense bit width or
//!    `k` each call to meet a bit budget.
//! 2. **Wrap it in [`ErrorFeedback`]** when the compressor is biased (top-k,
//!    sign, nearest rounding): one per client for the uplink, one at the
//!    server for the broadcast aggregate.
//! 3. **Compress** with [`Compress::compress`]`(&mut self, &x, &mut rng)`,
//!    passing a seeded `dwcp_core::rng::Rng` (stochastic rounding draws from
//!    it). For random-k, give every client the same per-round mask seed
//!    ([`round_seed`], [`Compressor::set_mask_seed`]): the index set is then
//!    identical for all clients, which is what secure aggregation needs.
//! 4. **Ship** [`Compressed::encode`] (or [`Compressed::encode_with`] and an
//!    [`Entropy`] stage). [`Compressed::encoded_len`] is the exact size,
//!    computed without encoding.
//! 5. **Receive** with [`Compressed::decode`]`(bytes, &Limits::new(d))`: it
//!    refuses oversized dimensions, counts beyond the dimension, truncated or
//!    padded messages and NaN/infinite floats with an [`Error`], never a
//!    panic. Then [`Compressed::add_scaled_into`] (weighted averaging),
//!    [`Compressed::add_into`] or [`Compressed::decompress_into`].
//! 6. **Fuzz** the decoders through [`fuzzing`].
//!
//! ## Bits per coordinate at d = 10⁵
//!
//! Measured by `tests/accounting.rs` (it asserts these sizes) on a Gaussian
//! vector; ratio = 4·d bytes / encoded bytes (no entropy stage).
//!
//! | scheme | bits / coordinate | ratio vs f32 |
//! |---|---|---|
//! | dense f32 | 32.0 | 1.0× |
//! | dense 8-bit uniform | 8.0 | 4.0× |
//! | dense 4-bit uniform | 4.0 | 8.0× |
//! | QSGD s = 1 (2-bit codes) | 2.0 | 16× |
//! | QSGD s = 127 (8-bit codes) | 8.0 | 4.0× |
//! | TernGrad (base-3 packing) | 1.6 | 20× |
//! | sign + mean-abs scale | 1.0 | 32× |
//! | top-1% f32 (Rice-coded indices) | 0.40 | 80× |
//! | top-1% 4-bit | 0.12 | 260× |
//! | top-0.5% 4-bit | 0.066 | 480× |
//! | random-1% (seed on the wire) 4-bit | 0.040 | 800× |
//!
//! ## Why these dependencies
//!
//! - `dwcp-core`: the seeded ChaCha RNG every stochastic step draws from, and
//!   the fuzz byte cursor.
//! - `rand`: `gen_range` for unbiased, platform-independent integer draws
//!   (random-k masks must agree bit for bit across machines).
//! - `ruzstd`: the optional entropy stage. A maintained, pure-Rust zstd
//!   (Huffman literals, FSE sequences) whose frames any zstd decoder reads;
//!   no C build (the `zstd` crate compiles libzstd, too slow for CI), and its
//!   decoder is fuzzed upstream and here. Bit-packed codes gain little from
//!   it (see docs/BENCHMARKS.md), which is why it is optional.

mod adaptive;
mod bits;
mod compressed;
mod compressor;
mod error;
mod feedback;
pub mod fuzzing;
mod quantize;
mod sparsify;
mod wire;

pub use adaptive::Adaptive;
pub use compressed::{Compressed, MAX_QSGD_LEVELS, Support, Values};
pub use compressor::{Compress, Compressor, Sparsifier};
pub use error::Error;
pub use feedback::ErrorFeedback;
pub use quantize::Quantizer;
pub use sparsify::{k_for_fraction, random_k_indices, round_seed, top_k_indices, top_k_ranked};
pub use wire::{Entropy, FORMAT_VERSION, Limits};
