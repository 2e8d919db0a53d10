//! # dwcp-aggregation — the message layer
//!
//! Certificate schemes, vote collection, batching and compression (work in progress: dissemination follows).

pub mod batch;
pub mod collector;
pub mod compress;
pub mod dissemination;
pub mod fuzzing;
pub mod linear;
pub mod scheme;
