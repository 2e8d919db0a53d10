//! Unit and simulation tests.

mod cluster;
mod model;
mod normal;
