//! # dwcp-sim — a deterministic discrete-event simulator for dwcp engines
//!
//! Drives any [`dwcp_core::Engine`] through a simulated network with faults
//! and Byzantine nodes, checks protocol-independent invariants, and counts
//! messages and bytes. One seed reproduces a run bit for bit
//! ([`Simulation::trace_hash`]).
//!
//! ## How to drive this simulator
//!
//! 1. **Configure**: [`SimConfig::new`]`(n, seed)`, then set the
//!    [`NetworkConfig`] (latency model, jitter, loss, duplication, uplink
//!    bandwidth, [`Gst`]), the fsync latency, per-node clock offsets and
//!    whether application logs survive crashes ([`AppLog`]).
//! 2. **Build**: [`Simulation::new`]`(config, factory)`. The factory builds
//!    node `id`'s engine, now and again at every restart; derive engine seeds
//!    from `config.seed` with [`dwcp_core::rng::derive`].
//! 3. **Corrupt** nodes if you want: [`Simulation::make_byzantine`] with one
//!    of the strategies in [`adversary`] (or your own [`Adversary`]).
//! 4. **Schedule** inputs and faults: [`Simulation::submit`],
//!    [`Simulation::submit_many`], [`Simulation::load`] (a generator called at
//!    a fixed rate), [`Simulation::schedule`] with a [`FaultEvent`] (crash,
//!    restart, pause, partition, link fault, heal, bandwidth change),
//!    [`Simulation::partition_between`] and
//!    [`Simulation::link_fault_between`].
//! 5. **Run**: [`Simulation::run_until`], [`Simulation::run_for`],
//!    [`Simulation::run_until_quiet`], [`Simulation::run_until_cond`] or
//!    [`Simulation::step`].
//! 6. **Check safety**: [`Simulation::check_safety`] (no duplicate delivery,
//!    total-order prefix consistency), [`Simulation::check_agreement_by`],
//!    [`Simulation::check_validity`]. Then heal, restart, and run the
//!    **liveness phase** with [`Simulation::run_until_delivered`]. A failure
//!    is a [`Violation`] whose `Display` starts with `SEED=…`; print it.
//!    For throughput and latency under an open-loop transaction load, use
//!    [`workload::run_load`] instead (it installs the load and runs).
//! 7. **Read** the results: [`Simulation::stats`] (by message kind and by
//!    node), [`Simulation::decisions`], [`Simulation::messages_per_decision`],
//!    [`Simulation::delivered`], [`Simulation::persisted`],
//!    [`Simulation::evidence`], [`Simulation::trace`].
//!
//! ## Host semantics: exactly the dwcp-core guide
//!
//! - On the first step every engine is drained once (construction may emit
//!   outputs) and its timer armed. Nothing else is fed at start: an engine
//!   that wants to act first returns a deadline (e.g. `Some(Time::ZERO)`).
//! - Every input (message, request, timeout) is followed by draining
//!   `poll_output` to `None`; outputs are applied in order.
//! - `Persist` appends the record to the node's storage; it becomes durable
//!   `fsync` later (all persists of one drain share the fsync). A `Send` that
//!   follows a `Persist` departs when that persist is durable (so sends after
//!   a persist in a drain at `t` depart at `t + fsync`); a send with no
//!   pending persist departs at once. A `Deliver` that follows a pending
//!   persist likewise takes effect when it is durable: a crash before then
//!   discards it with the record, so an engine that persists its delivery
//!   point before delivering gets exactly-once delivery across restarts.
//! - Timers: one live timer event per node at `next_deadline` (converted
//!   from the node's local clock), re-armed after every drain when the
//!   deadline changes; superseded timer events are ignored. A timeout fires
//!   at or after the deadline, never before.
//! - **Crash** drops the engine, the records and deliveries not yet durable,
//!   the copies it had not yet sent, and queued inputs. **Restart** builds a
//!   fresh engine with the factory and calls `restore(now, records)` with the
//!   durable records only, then drains it.
//! - **Pause**: the node neither receives nor fires timers; messages and
//!   requests for it are queued and handled in order when the pause ends,
//!   followed by any deadline that passed.
//! - **Clock offsets**: node `i` sees `now + offset[i]` in every input and its
//!   deadlines are read in that clock.
//! - `from` is always the true sender: the transport is authenticated.
//!
//! ## The network model
//!
//! [`NetworkConfig::describe`] states the configured model in words for
//! reports. In short: every copy (a broadcast to `k` nodes is `k` copies)
//! draws its own one-way delay (fixed, uniform, `min + Exp(mean)`, or a
//! region matrix with jitter) plus optional jitter, so messages reorder; it
//! is lost or duplicated with the configured probabilities; with a finite
//! per-node uplink its `wire_size` serialises on the sender's uplink after
//! the copies queued before it; partitions (symmetric or one-way, scheduled
//! and healed) drop copies emitted while they are in force, and other link
//! faults ([`LinkEffect`]) add delay (clogging) or loss on chosen links;
//! before GST extra
//! loss and delay apply, and from GST on nothing is lost and delay is capped
//! at `delta`.
//!
//! ## The adversary model and its limits
//!
//! See [`adversary`]: Byzantine nodes' outputs are fully controlled by their
//! strategy (silent, crash, equivocate, invalid signature, replay, mutate,
//! flood, or custom); the network may reorder and delay within its model;
//! nobody can forge an honest node's signature or impersonate it, because
//! the simulator stamps every copy with its true sender. Protocol-specific
//! powers come from [`ByzantineMessage`], implemented by the protocol crate.
//! Values delivered by Byzantine nodes are excluded from the invariants.
//!
//! ## Performance
//!
//! A send is one queue entry whatever its fan-out: the arrival times of its
//! copies are computed once, sorted, and walked with a cursor, the heap entry
//! being re-keyed in place after each delivery. Per-node state lives in
//! vectors indexed by `NodeId`; the message is cloned once per delivery and
//! moved to the last recipient. [`throughput_probe`] measures it with the
//! [`toy`] protocol; `cargo bench -p dwcp-sim` runs the same workload under
//! criterion.
//!
//! Measured (release, one core of a shared 2-vCPU Xeon, toy protocol over
//! [`NetworkConfig::wan`]; figures vary by ±20% with machine load):
//!
//! | n | rounds | delivered events | events/s | command |
//! |---|---|---|---|---|
//! | 100 | 20 | 0.2 M | 10.0 M | `cargo bench -p dwcp-sim -- --warm-up-time 1 --measurement-time 3` |
//! | 1000 | 2 | 3.0 M | 5.1 M | same (includes building 1000 engines) |
//! | 100 | 100 | 1.0 M | 8–10 M | `cargo run --release -p dwcp-sim --example probe -- 100 100` |
//! | 1000 | 10 | 11.0 M | 4.3–5.3 M | `cargo run --release -p dwcp-sim --example probe -- 1000 10` |
//!
//! At n = 1000 the loop is memory-bound: each delivery touches a random
//! node's engine state.
//!
//! ## Dependencies
//! - `dwcp-core`: the engine contract, ids, time, the seeded ChaCha20 RNG.
//! - `serde`: derives the toy protocol's wire message.
//! - Dev: `criterion` (the bench), `proptest` (properties over seeds and
//!   sizes). Nothing else: the event loop and samplers are std-only.

pub mod adversary;
pub mod analysis;
mod config;
mod faults;
mod host;
pub mod invariants;
mod network;
mod partition;
mod probe;
mod queue;
mod rand;
mod sim;
mod stats;
pub mod toy;
mod trace;
pub mod workload;

pub use adversary::{Adversary, AdversaryCtx, ByzantineMessage, OutputOf};
pub use config::{AppLog, FaultEvent, SimConfig};
pub use invariants::{Violation, ViolationKind};
pub use network::{Gst, LatencyModel, NetworkConfig, RegionMatrix};
pub use partition::{LinkEffect, Partition};
pub use probe::{ThroughputReport, probe_network, probe_simulation, throughput_probe};
pub use sim::Simulation;
pub use stats::{KindStats, NodeStats, Stats};
pub use trace::TraceEvent;
