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
//! | [`aggregation`] | `dwcp-aggregation` | certificate schemes, vote collector, batching, compression, tree/gossip dissemination, linear PBFT |
//! | [`reputation`] | `dwcp-reputation` | EigenTrust over committed observations, permanent marks from transferable evidence |
//! | [`tpbft`] | `dwcp-tpbft` | T-PBFT: trust-weighted adaptive quorums and primary groups on dwcp-pbft |
//! | [`narwhal`] | `dwcp-narwhal` | Narwhal certified DAG mempool with a pluggable orderer |
//! | [`bullshark`] | `dwcp-bullshark` | partially synchronous Bullshark ordering on Narwhal |
//! | [`tusk`] | `dwcp-tusk` | Tusk: threshold-coin ordering on Narwhal |
//! | [`hotstuff`] | `dwcp-hotstuff` | chained HotStuff baseline: threshold-signature QCs, three-chain commit, pacemaker with timeout certificates |
//! | [`paxos`] | `dwcp-paxos` | Multi-Paxos baseline: crash faults, stable leader, pipelined batched slots, catch-up |
//! | [`quantization`] | `dwcp-quantization` | update compression: top-k, shared-seed random-k, QSGD, TernGrad, sign, b-bit, adaptive budget, error feedback, bounded wire encoding |
//! | [`privacy`] | `dwcp-privacy` | secure aggregation (X25519, Shamir, dropouts) and differential privacy (clipping, Gaussian noise, RDP accountant) |
//! | [`federated`] | `dwcp-federated` | federated learning: server/client/relay round engines, FedAvg, compression both ways, Krum/Multi-Krum/median/trimmed mean/FLTrust, TCS-FEEL selection, SNAP-style decentralised training with optimised mixing weights, digits benchmark |
//! | [`nn`] | `dwcp-nn` | small dense neural networks on ndarray (for FL and MARL) |
//! | [`maddpg`] | `dwcp-maddpg` | MADDPG / independent DDPG, multi-agent env trait, simple_spread port, NodeAlloc resource allocation with heuristic baselines |

pub use dwcp_aggregation as aggregation;
pub use dwcp_bullshark as bullshark;
pub use dwcp_core as core;
pub use dwcp_crypto as crypto;
pub use dwcp_federated as federated;
pub use dwcp_hotstuff as hotstuff;
pub use dwcp_maddpg as maddpg;
pub use dwcp_narwhal as narwhal;
pub use dwcp_nn as nn;
pub use dwcp_paxos as paxos;
pub use dwcp_pbft as pbft;
pub use dwcp_privacy as privacy;
pub use dwcp_probft as probft;
pub use dwcp_quantization as quantization;
pub use dwcp_reputation as reputation;
pub use dwcp_sim as sim;
pub use dwcp_tpbft as tpbft;
pub use dwcp_tusk as tusk;
