//! Arbitrary bytes into the batch decoder (compressed and plain).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_aggregation::fuzzing::batch_decode(data));
