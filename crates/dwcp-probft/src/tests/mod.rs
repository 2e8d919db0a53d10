//! Unit and simulation tests.

mod smoke;
