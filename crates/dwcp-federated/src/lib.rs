//! # dwcp-federated — sans-IO federated learning
//!
//! Round engines for federated training (a server, clients, and clients
//! acting as device-to-device relays), FedAvg and Byzantine-robust
//! aggregation, compression in both directions with error feedback, a
//! TCS-FEEL-style topology-aware client selector, a SNAP-style decentralised
//! mode with its TernGrad baseline ([`snap`], synchronous simulations) and
//! doubly-stochastic mixing weights optimised from the topology
//! ([`mixing`]: Metropolis–Hastings, best constant, fastest mixing), the
//! vendored sklearn digits data and the pre-registered benchmarks behind the
//! lab's `fl-*` reports.
//!
//! ## How to drive these machines
//!
//! 1. **Configure.** Start from [`config::FlConfig::new`]`(n)` (server
//!    `NodeId(0)`, clients `1..=n`, MLP 64-64-10, E = 2, batch 32, SGD lr
//!    0.1, dense both ways, FedAvg) and set `uplink` / `downlink`
//!    ([`compress::Compression`]: dense, top-k, shared-seed random-k, with
//!    1/2..16/32-bit values), `rule` ([`aggregate::Rule`]: FedAvg, Krum,
//!    Multi-Krum, median, trimmed mean, FLTrust), `round_timeout`, `relays`.
//!    `privacy` ([`config::Privacy`]: secure aggregation, DP-FedAvg).
//!    [`config::FlConfig::validate`] rejects incompatible combinations with
//!    an explanation: per-client top-k, a robust rule or relays with secure
//!    aggregation, a robust rule or relays with DP, Krum with `n ≤ 2f + 2`,
//!    a ring wider than 64 bits.
//! 2. **Construct** one [`server::Server`] (`Server::new(cfg, seed)`, or
//!    `Server::with_selector(cfg, Box::new(selector), seed)` with
//!    [`select::Uniform`] or [`tcs::TcsSelector`]; FLTrust also needs
//!    `set_root_data`) and one [`client::Client`] per client
//!    (`Client::new(cfg, id, shard, seed)`). Everyone derives the same
//!    initial model from `cfg.model.seed`, so round 1 needs no download.
//!    With secure aggregation, give every engine its signing identity:
//!    `Client::set_secagg_identity(secret, publics)` and
//!    `Server::set_secagg_publics(publics)` (key `i` belongs to
//!    `cfg.clients[i]`; [`sim::Federation::install_secagg_keys`] does it).
//!    With DP, pick a selector whose sampling rate is `dp.sampling_rate`
//!    ([`select::Poisson`], or every client for `q = 1`).
//! 3. **Start** with `server.handle_request(now, ServerRequest::Start)`.
//! 4. **Feed** every received [`message::FlMessage`] to the addressed engine
//!    with [`dwcp_core::Engine::handle_message`] (decode bytes with
//!    `dwcp_core::codec::decode`), and call `handle_timeout` at
//!    `next_deadline()`. A client trains synchronously inside
//!    `handle_message` when a round starts. Drain `poll_output` after every
//!    input: `Send` (round starts, updates, resync requests, full models),
//!    `Persist` (the server's per-round [`server::Checkpoint`]), `Deliver`
//!    (the server's [`server::RoundOutcome`] for each closed round) and
//!    `Evidence` (a duplicate, stale, non-finite, malformed, oversized or
//!    mis-weighted update, or a message from the wrong node; the input was
//!    dropped and the round goes on).
//! 5. **Read the model** with `server.model()` (flat parameters in
//!    `dwcp_nn::Mlp::params_flat` order); [`model::accuracy_of`] evaluates it.
//!    With DP, `server.epsilon()` is the privacy spent so far.
//! 6. **Restart** a server with `restore(records)` then `Start`: it resumes
//!    from the last valid checkpoint; clients resynchronise the full model.
//!
//! [`sim::Federation`] is a complete host doing steps 3–5 in process (with
//! offline clients, stragglers and Byzantine attacks), and [`bench`](mod@bench) /
//! [`experiments`] build the pre-registered runs on it. The engines also run
//! in the workspace's discrete-event simulator `dwcp-sim` (one enum over
//! `Server` and `Client` implementing `Engine`; see `tests/in_dwcp_sim.rs`),
//! with network loss and duplicates, crashes, pauses and Byzantine nodes.
//!
//! **Your own data.** [`data::load_csv`] reads a CSV file (plain or gzip,
//! one sample per line, the integer label in the last column, features used
//! as given); the lab's `--data FILE` runs the `fl-*` experiments on it.
//!
//! ## Round protocol
//! The server opens round `r` by sending [`message::RoundStart`] — the full
//! model (dense downlink) or the compressed delta since the previous version
//! (compressed downlink, with a server-side residual) — to the round's direct
//! uploaders; the plan's relay edges travel with it and relays forward it to
//! their children. Each client applies the model, trains E epochs on its
//! shard, and uploads the compressed delta (with its own residual) to its
//! parent. A relay waits for its children until they all answered or its
//! `relay_timeout` passed and uploads the sample-weighted mean of its
//! subtree as one update. The server closes the round when every direct
//! uploader answered or at `round_timeout`, with whoever arrived. A client
//! whose model version does not match a delta asks for the full model
//! (`Resync`). The relay role is a [`client::Client`] whose plan lists
//! children; there is no separate relay type.
//!
//! ## Secure aggregation and differential privacy
//! With `privacy.secure_aggregation`, a round's updates never travel in the
//! clear: after training, each participant runs `dwcp-privacy`'s
//! Bonawitz-style client engine (pairwise X25519 masks, Shamir shares of
//! its secrets, signed survivor set) inside its [`client::Client`], and the
//! [`server::Server`] runs the matching server engine; their messages
//! travel as [`message::FlMessage::SecAgg`] envelopes and [`secure`]
//! translates ids. The server learns only the sample-weighted sum of the
//! survivors' updates (exact up to the fixed-point code's half step) and
//! survives dropouts down to the threshold `⌊2k/3⌋ + 1`; below it the
//! round is skipped. Compression under secure aggregation is the shared
//! random-k mask: every client submits the same coordinates.
//!
//! With `privacy.dp` (DP-FedAvg), every update is clipped to L2 norm `S`
//! and the sum gets `N(0, (σS)²)` noise and the fixed denominator `qN`:
//! on the server in plaintext mode, on the clients (each its share
//! `(σS)²/t`) under secure aggregation. `dwcp-privacy`'s Rényi accountant
//! charges one sampled Gaussian step per aggregated round.
//!
//! ## Compression and wire format
//! [`compress::Compression`] (dense, top-k, shared-seed random-k; 1-bit
//! sign, 2..16-bit uniform or 32-bit values) is carried out by
//! `dwcp-quantization`, with one error-feedback residual per sender and
//! direction; update payloads use its compact encoding (Rice-coded index
//! gaps, bit-packed values) and [`wire::decode`] adds this crate's checks
//! (byte limit, the model's exact dimension). Every byte the benchmarks report
//! is the exact bincode size of the message carrying the payload.
//!
//! ## Dependencies and why
//! - `dwcp-core`: the engine contract, `NodeId`/`Time`, the bounded bincode
//!   codec and the seeded ChaCha20 RNG.
//! - `dwcp-nn`: the shared MLP, backprop and optimisers (ndarray, no BLAS).
//! - `dwcp-quantization`: the workspace's compressors, error feedback and
//!   bounded, fuzzed update encoding (one implementation for every crate).
//! - `dwcp-privacy`: the secure-aggregation engines, the fixed-point code,
//!   clipping, noise and the Rényi accountant (one implementation, shared
//!   with the lab's `fl-secagg`); `dwcp-crypto`: the signing keys those
//!   engines verify.
//! - `serde`: message and configuration (de)serialisation.
//! - `flate2` (pure-Rust `miniz_oxide` backend): reading gzip CSV files,
//!   including the vendored `data/digits.csv.gz`, without a C library.

pub mod aggregate;
pub mod bench;
pub mod client;
pub mod compress;
pub mod config;
pub mod data;
pub mod experiments;
pub mod fuzzing;
pub mod message;
pub mod mixing;
pub mod model;
pub mod private_runs;
pub mod rand_util;
pub mod secure;
pub mod select;
pub mod server;
pub mod sim;
pub mod snap;
pub mod tcs;
pub mod wire;
