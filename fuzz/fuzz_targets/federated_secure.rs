//! Forged secure-aggregation messages, crashes and rounds in one federation
//! with secure aggregation on.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_federated::fuzzing::secure_federation(data));
