//! Unit and simulation tests.

#[cfg(feature = "sim")]
mod cluster;
mod golden;
#[cfg(feature = "sim")]
mod model;
mod normal;
