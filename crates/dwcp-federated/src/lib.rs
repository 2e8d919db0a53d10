//! # dwcp-federated — sans-IO federated learning
//!
//! (Guide written below once the engines land.)

pub mod aggregate;
mod bits;
pub mod compress;
pub mod data;
pub mod model;
pub mod rand_util;
pub mod wire;
