//! Unit and simulation tests.

mod cluster;
