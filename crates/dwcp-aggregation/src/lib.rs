//! # dwcp-aggregation — the message layer
//!
//! Certificate schemes, vote collection, batching and compression (work in progress: linear PBFT and dissemination follow).

pub mod batch;
pub mod collector;
pub mod compress;
pub mod scheme;
