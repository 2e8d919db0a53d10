//! Arbitrary bytes into every certificate decoder of dwcp-aggregation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_aggregation::fuzzing::certificate_decode(data));
