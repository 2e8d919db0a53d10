//! # dwcp-federated — sans-IO federated learning
//!
//! (Guide written below once the engines land.)

pub mod aggregate;
pub mod bench;
mod bits;
pub mod client;
pub mod compress;
pub mod config;
pub mod data;
pub mod experiments;
pub mod fuzzing;
pub mod message;
pub mod model;
pub mod rand_util;
pub mod select;
pub mod server;
pub mod sim;
pub mod tcs;
pub mod wire;
