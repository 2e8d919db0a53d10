//! Arbitrary input scripts into one federated-learning client (relay role on).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_federated::fuzzing::client_engine(data));
