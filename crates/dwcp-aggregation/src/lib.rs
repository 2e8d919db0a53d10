//! # dwcp-aggregation — the message layer
//!
//! Cuts what consensus puts on the wire: certificates that stand for a
//! quorum of votes, a vote collector that builds them, request batching
//! with deduplication, payload compression, tree and gossip dissemination,
//! and a collector-based linear PBFT mode built from these parts on top of
//! `dwcp-pbft`. (In the project brief this layer is called "SNAP"; the SNAP
//! paper itself is about decentralised learning and belongs elsewhere.)
//!
//! ## How to use this crate
//!
//! 1. **Pick a certificate scheme** ([`scheme`]): [`scheme::MultiSig`]
//!    (sr25519 lists, attributable, cheapest to sign), [`scheme::BlsAggregate`]
//!    (attributable, 96 bytes plus a signer bitmap) or
//!    [`scheme::BlsThreshold`] (96 bytes, not attributable). Replicas
//!    `sign`; anyone `verify_certificate`s, and [`scheme::verify_quorum`]
//!    checks validity plus quorum weight.
//! 2. **Collect votes** with [`collector::VoteCollector`]: `add(sender,
//!    round, phase, digest, share)` rejects duplicates, conflicting votes,
//!    replays of closed rounds, far-future rounds and senders over their
//!    memory bound; weighted quorums come from a
//!    `dwcp_core::WeightedCommittee`. On quorum, `certify(scheme, …)`
//!    assembles optimistically (combine, verify once) and names and bans
//!    bad signers if that fails. `advance(floor)` frees closed rounds.
//! 3. **Batch requests** with [`batch::Batcher`] (size, byte and time
//!    limits, deduplication by digest) and ship them as a
//!    [`batch::BatchWire`], compressed with a [`compress::Codec`]; decoding
//!    is bounded and never panics.
//! 4. **Disseminate** with [`dissemination::TreeBroadcast`] (fan-out `k`,
//!    acknowledgements, re-routing around failed inner nodes) or
//!    [`dissemination::Gossip`] (bounded fan-out); both are sans-IO engines.
//! 5. **Run linear PBFT**: [`linear::LinearPbft::new`]`(LinearConfig, id,
//!    key, publics, rng)` is a `dwcp_core::Engine` (drive it like any
//!    other: feed, drain, persist before sending); [`linear::harness`]
//!    builds simulated clusters and Byzantine collectors. SBFT's fast path
//!    (three hops, `3(n − 1)` messages when all prepares arrive in time) is
//!    on by default ([`linear::LinearConfig::fast_path`]); BLS aggregate
//!    decision certificates on the wire with
//!    [`linear::LinearPbft::with_bls`]. Read the module
//!    docs of [`linear`] for the protocol, its costs and its limits.
//! 6. **Fuzz** the decoders through [`fuzzing`].
//!
//! ## Measured
//!
//! Certificates (quorum `2f + 1` signers, real crypto, one core of a shared
//! 2-vCPU machine; `cargo bench -p dwcp-aggregation --bench certificates --
//! --quick`). Assembly is the optimistic path with all shares valid;
//! verification includes the quorum check.
//!
//! | scheme | n | bytes | assemble | verify |
//! |---|---|---|---|---|
//! | sr25519 list | 4 / 64 / 256 / 1000 | 201 / 2 846 / 11 310 / 44 110 | 0.07 / 0.68 / 2.4 / 8.1 ms | 0.07 / 0.69 / 2.4 / 16 ms |
//! | BLS aggregate | 4 / 64 / 256 / 1000 | 99 / 104 / 120 / 182 | 0.82 / 0.94 / 1.3 / 5.4 ms | 0.83 / 0.83 / 0.88 / 2.2 ms |
//! | BLS threshold | 4 / 64 / 256 / 1000 | 97 | 1.3 / 6.8 / 25 / 103 ms | 0.83 ms |
//!
//! Compression of request batches (`cargo bench -p dwcp-aggregation --bench
//! compression -- --warm-up-time 1 --measurement-time 2`): 1024 JSON
//! payment transactions (300 KB, random addresses and signatures) compress
//! 1.36× with Snappy and 1.33× with LZ4; LZ4 compresses at ~500 MiB/s
//! against ~310 MiB/s and decompresses at ~2.2 GiB/s against ~0.9 GiB/s.
//! Incompressible payloads cost 12–17 µs per 136 KB either way. **LZ4 is
//! the default** (within 3% of Snappy's ratio, 1.6× faster to compress,
//! 2.4× faster to decompress); zstd was not included because it builds C
//! code, which the CI time budget does not afford.
//!
//! The linear mode's messages, bytes and latency against all-to-all PBFT
//! are measured by the lab (`cargo run --release -p dwcp-lab -- run
//! aggregation-messages`); see [`linear`] for the arithmetic.
//!
//! ## Why these dependencies
//!
//! - `dwcp-core`: the engine contract, codec, digests, weighted committees.
//! - `dwcp-crypto`: sr25519 batch verification, BLS aggregate and threshold
//!   signatures with bisection fallbacks (the insecure mock behind the
//!   `insecure-mock-crypto` feature, for large simulations only).
//! - `dwcp-pbft`: the PBFT replica the linear mode wraps (through its
//!   `Policy` extension point) instead of copying it.
//! - `dwcp-sim`: Byzantine-message powers for the linear mode's messages,
//!   the harness and the dissemination measurements.
//! - `serde`: wire derives (bincode via `dwcp-core`).
//! - `snap` and `lz4_flex`: maintained, pure-Rust (no C build) Snappy and
//!   LZ4, both with safe decoders; compared above.

pub mod batch;
pub mod collector;
pub mod compress;
pub mod dissemination;
pub mod fuzzing;
pub mod linear;
pub mod scheme;
