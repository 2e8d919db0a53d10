//! Privacy for federated learning: secure aggregation in the style of
//! Bonawitz et al. (CCS 2017) and differential privacy (clipping, Gaussian
//! noise, a Rényi accountant).
//!
//! # How to use this crate
//!
//! **Secure aggregation** (the server learns only the weighted sum of the
//! clients' vectors, even if up to `n − t` clients drop out midway):
//!
//! 1. Build one [`SecAggConfig`] with [`SecAggConfig::new`]`(session,
//!    clients, threshold, dim, bits, clip, scale, max_weight)`. It is
//!    rejected with a [`ConfigError`] if `clients × max_weight × max_level`
//!    (`max_level = round(2 · clip · scale)`) does not fit the ring
//!    Z_{2^bits}, i.e. if the sum could wrap around. Use
//!    [`secagg::recommended_threshold`] for `t`.
//! 2. Give every client a long-term dwcp-crypto signing key (e.g.
//!    `Keyring::sr25519(n, seed)`); everyone knows all public keys. Client
//!    `i` is `NodeId(i)`, the server is `NodeId(n)`.
//! 3. Construct [`SecAggServer::new`]`(cfg, publics)` and, per client,
//!    [`SecAggClient::new`]`(cfg, id, secret, publics, seed)`. Both are
//!    [`dwcp_core::Engine`]s: feed network messages to `handle_message`,
//!    drain `poll_output` after every input, call `handle_timeout` at
//!    `next_deadline`. Encode messages with `dwcp_core::codec`.
//! 4. Send the server `ServerRequest::Start` (starts the first round's
//!    timer) and each client `handle_request(ClientInput { values, weight })`.
//! 5. The server proceeds to the next round as soon as every expected client
//!    answered, or at the round timeout with whoever answered (aborting if
//!    fewer than `t` did). It finally emits `Output::Deliver(ServerOutcome::Sum(s))`;
//!    `s.weighted_mean(&cfg.fixed)` is the weighted mean of the clipped
//!    inputs within `cfg.fixed.max_error()` per coordinate. Clients emit
//!    `ClientEvent::Unmasked` when done, or `Aborted` with evidence against
//!    a misbehaving server.
//! 6. [`secagg::harness::run_session`] runs a whole session in memory with
//!    dropouts, for tests and the lab.
//!
//! **Differential privacy** (see [`dp`]):
//!
//! 1. Clip each client's update with [`dp::clip_l2`]`(&mut v, bound)`.
//! 2. Add noise `N(0, (σ·bound)²)` to the sum (central DP) with
//!    [`dp::add_gaussian_noise`]`(&mut v, σ·bound, &mut rng)` using a seeded
//!    `dwcp_core::rng::Rng`.
//! 3. Track the privacy spent with [`dp::RdpAccountant`]: `compose(q, σ,
//!    steps)` per training phase, then `epsilon(δ)`.
//! 4. Or let [`dp::DpFedAvg`] do all three per round: `sample(&mut rng)`
//!    picks the round's clients (Poisson, rate `q`), `aggregate(&mut
//!    updates, dim, &mut rng)` clips, sums, noises and averages them with
//!    the fixed denominator `q·N`, and `epsilon(δ)` reports the spend.
//!
//! The accountant matches Google's `dp-accounting` 0.6.0 to 1e-6 relative
//! on the same RDP orders (`reference/rdp_reference.py` regenerates the
//! vectors in `reference/rdp_vectors.csv`; `tests/accountant_vectors.rs`
//! checks them).
//!
//! **Combining the two.** Under secure aggregation the server never sees an
//! individual update, so clipping happens on the client and noise must be
//! distributed (each client adds `N(0, σ²S²/n)`; the sum then carries
//! `N(0, σ²S²)` when all `n` contribute honestly) — the caller's choice.
//! `dwcp-federated` wires both into its round engines (`Privacy` in its
//! configuration): its clients run [`SecAggClient`] and its server
//! [`SecAggServer`] for every round, with ids translated per round, and
//! under secure aggregation each client adds `N(0, σ²S²/t)` (`t` the
//! threshold) so the recovered sum always carries the full noise.
//!
//! # The protocol
//!
//! Five message exchanges (Bonawitz et al.'s four rounds plus their
//! consistency check, which the actively secure variant needs):
//!
//! | round | client → server | server → clients |
//! |---|---|---|
//! | 0 advertise keys | two X25519 public keys, sr25519-signed | all advertisements (U1) |
//! | 1 share keys | Shamir shares of `s_u^SK` and `b_u`, encrypted to each peer | each client's ciphertexts (U2) |
//! | 2 masked input | `w·q(x) + PRG(b_u) + Σ± PRG(s_uv)` mod 2^k | survivor set U3 |
//! | 2′ consistency | signature on U3 | U3 and ≥ t signatures |
//! | 3 unmasking | shares of `b_u` for u ∈ U3, of `s_v^SK` for v ∈ U2∖U3 | (sum delivered) |
//!
//! An honest client never releases both kinds of share for the same
//! client: it computes `U2 ∖ U3` itself, answers only the survivor set it
//! signed, only against `t` valid signatures on that set, and only once.
//! Recovered mask keys are checked against their signed advertisement.
//! Messages that break a rule become [`dwcp_core::Output::Evidence`];
//! identical duplicates are ignored, conflicting ones are evidence.
//!
//! **Why `dwcp_core::Engine`.** The protocol is a round state machine that
//! reacts to messages and to round timeouts, exactly the Engine contract;
//! implementing it lets hosts and the dwcp simulator drive it like every
//! other dwcp protocol. Persistence is unused (`Record = ()`): a crashed
//! client simply counts as dropped, which the protocol tolerates, and its
//! secrets are never written to disk.
//!
//! **Security scope.** Semi-honest clients and an actively malicious server
//! up to the threshold bound `t > 2n/3` of Bonawitz et al.; malicious
//! clients can corrupt the sum (there is no zero-knowledge range proof)
//! but cannot learn others' inputs. Central DP under secure aggregation
//! needs distributed noise (each client adds its share of the noise), which
//! is the caller's choice.
//!
//! # Why these dependencies
//!
//! * **x25519-dalek** (2.0): the Diffie–Hellman function of RFC 7748 from
//!   the dalek-cryptography project, maintained, constant-time, built on
//!   the same `curve25519-dalek` already in the tree under schnorrkel; it
//!   reports non-contributory (small-order) results, which we reject.
//! * **chacha20poly1305** (0.10, RustCrypto): the RFC 8439 AEAD for the
//!   share ciphertexts relayed by the untrusted server.
//! * **rand_chacha**: the ChaCha20 stream is both the project's seeded RNG
//!   and the mask PRG, so masks are reproducible from 32-byte seeds.
//! * **sha2**: domain-separated key derivation from X25519 secrets.
//! * **dwcp-crypto**: sr25519 signatures on key advertisements and on the
//!   survivor set; **dwcp-core**: the engine contract and bounded codec.
//! * Shamir sharing (over GF(2^61 − 1)) and the RDP accountant are small
//!   and written here, with tests against the published accountant.

pub mod bench;
pub mod dp;
pub mod fixed;
pub mod fuzzing;
pub mod secagg;
pub mod shamir;

pub use fixed::FixedPoint;
pub use secagg::{
    AggregateSum, ClientEvent, ClientInput, ConfigError, SecAggClient, SecAggConfig, SecAggMessage,
    SecAggServer, ServerOutcome, ServerRequest,
};
