//! Arbitrary bytes into the federated compact update decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_federated::fuzzing::update_decoder(data));
