//! Unit and simulation tests.

mod cluster;
mod golden;
mod model;
mod normal;
