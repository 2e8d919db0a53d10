//! Secure aggregation in the style of Bonawitz et al. (CCS 2017).
//!
//! See the crate docs for the protocol, the rounds and how to drive the
//! [`SecAggClient`] and [`SecAggServer`] engines; [`harness`] runs a whole
//! session in memory with dropouts.

pub mod client;
pub mod config;
pub mod harness;
pub mod keys;
pub mod messages;
pub mod server;

pub use client::{ClientEvent, ClientInput, SecAggClient};
pub use config::{ConfigError, SecAggConfig, recommended_threshold};
pub use messages::{EncryptedShare, KeyAdvert, SecAggMessage, SharePlain, SurvivorStatement};
pub use server::{AggregateSum, Round, SecAggServer, ServerOutcome, ServerRequest};
