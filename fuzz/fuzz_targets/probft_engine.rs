//! Arbitrary input scripts into one ProBFT replica.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_probft::fuzzing::engine(data));
