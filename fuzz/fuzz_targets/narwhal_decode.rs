//! Arbitrary bytes into the Narwhal message and record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_narwhal::fuzzing::fuzz_decode(data));
