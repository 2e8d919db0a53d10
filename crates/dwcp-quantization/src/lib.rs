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
//! 5. **Receive** with [`Compressed::decode_for`]`(bytes, d)` (exactly the
//!    model's dimension) or [`Compressed::decode`]`(bytes, &Limits::new(d))`
//!    (at most `d`): they refuse oversized or wrong dimensions, counts
//!    beyond the dimension, truncated or padded messages and NaN/infinite
//!    floats with an [`Error`], never a panic. Then [`Compressed::add_scaled_into`] (weighted averaging),
//!    [`Compressed::add_into`] or [`Compressed::decompress_into`].
//! 6. **Fuzz** the decoders through [`fuzzing`].
//!
//! ## Example: one client, one server, two-way error feedback
//!
//! ```
//! use dwcp_core::rng::seeded;
//! use dwcp_quantization::{
//!     Compress, Compressed, Compressor, ErrorFeedback, Limits, Quantizer, Sparsifier,
//!     k_for_fraction,
//! };
//!
//! let d = 4810;
//! let top4 = |k| Compressor::new(Sparsifier::TopK { k }, Quantizer::Uniform { bits: 4, stochastic: false });
//! let mut client = ErrorFeedback::new(top4(k_for_fraction(0.005, d))?);
//! let mut server = ErrorFeedback::new(top4(k_for_fraction(0.005, d))?);
//! let mut rng = seeded(7);
//!
//! let update: Vec<f32> = (0..d).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
//! let wire = client.compress(&update, &mut rng)?.encode();
//! assert!(wire.len() < 64); // dense f32 would be 19 240 bytes
//!
//! // Server: decode (bounded), average, compress the aggregate for broadcast.
//! let received = Compressed::decode(&wire, &Limits::new(d))?;
//! let mut aggregate = vec![0.0f32; d];
//! received.add_scaled_into(&mut aggregate, 1.0)?;
//! let broadcast = server.compress(&aggregate, &mut rng)?;
//! let mut model_delta = vec![0.0f32; d];
//! broadcast.add_into(&mut model_delta)?;
//! # Ok::<(), dwcp_quantization::Error>(())
//! ```
//!
//! ## Bits per coordinate at d = 10⁵
//!
//! Printed by `cargo test --release -p dwcp-quantization --test accounting --
//! --nocapture` (which asserts each size against its formula) for a
//! Gaussian-like vector; ratio = 4·d bytes / encoded bytes. Sizes include the
//! header (2 bytes + varint dimension + scheme fields).
//!
//! | scheme | bytes | bits / coordinate | ratio vs f32 | bytes with `Entropy::Auto` |
//! |---|---|---|---|---|
//! | dense f32 | 400 006 | 32.0 | 1× | 400 006 |
//! | dense 8-bit uniform | 100 015 | 8.0 | 4× | 100 015 |
//! | dense 4-bit uniform | 50 015 | 4.0 | 8× | 48 704 |
//! | QSGD s = 1 (2-bit codes) | 25 012 | 2.0 | 16× | 1 484 (270×) |
//! | QSGD s = 127 (8-bit codes) | 100 012 | 8.0 | 4× | 42 308 (9.5×) |
//! | TernGrad (5 trits per byte) | 20 010 | 1.6 | 20× | 18 274 |
//! | sign + mean-abs scale | 12 510 | 1.0 | 32× | 12 510 |
//! | top-1% f32 (Rice-coded gaps) | 5 022 | 0.40 | 80× | 5 022 |
//! | top-1% 4-bit | 1 531 | 0.12 | 261× | 1 531 |
//! | top-0.5% 4-bit | 836 | 0.067 | 478× | 836 |
//! | top-0.5% sign (STC-like) | 644 | 0.052 | 621× | 644 |
//! | random-1% 4-bit (seed, no indices) | 525 | 0.042 | 762× | 525 |
//!
//! A top-k index costs about `log2(d/k) + 1.5` bits (Rice code of the gap):
//! 8.1 bits at 1%, 9.1 at 0.5%, against 16 for a fixed 16-bit index. The
//! entropy stage pays off where codes are skewed (QSGD with few levels is
//! mostly zeros, as in the QSGD paper's Elias coding) and not on bit-packed
//! top-k values or Rice-coded indices, which are already near their entropy.
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
