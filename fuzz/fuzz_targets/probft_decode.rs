//! Arbitrary bytes into the ProBFT message and record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_probft::fuzzing::decode(data));
