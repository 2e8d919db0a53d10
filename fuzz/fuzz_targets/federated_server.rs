//! Arbitrary input scripts into one federated-learning server engine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_federated::fuzzing::server_engine(data));
