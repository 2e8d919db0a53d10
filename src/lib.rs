//! # dwcp — sans-IO protocol libraries for distributed computing
//!
//! This facade re-exports the member crates so that one dependency brings the
//! whole toolkit. Each protocol is a deterministic state machine that you drive
//! from your own network and clock; see [`core`] for the contract every engine
//! follows.
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`core`] | `dwcp-core` | ids, time, quorums, the engine contract, the wire codec |
//! | [`crypto`] | `dwcp-crypto` | sr25519 signatures, VRF sortition, BLS threshold certificates |
//! | [`sim`] | `dwcp-sim` | deterministic discrete-event simulator, adversaries, invariants |
//! | [`pbft`] | `dwcp-pbft` | the PBFT (Castro–Liskov) baseline engine |
//! | [`probft`] | `dwcp-probft` | ProBFT: VRF-sampled probabilistic quorums, O(n√n) messages |
//! | [`nn`] | `dwcp-nn` | small dense neural networks on ndarray (for FL and MARL) |

pub use dwcp_core as core;
pub use dwcp_crypto as crypto;
pub use dwcp_nn as nn;
pub use dwcp_pbft as pbft;
pub use dwcp_probft as probft;
pub use dwcp_sim as sim;
