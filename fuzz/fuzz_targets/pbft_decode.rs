//! Arbitrary bytes into the PBFT message and record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_pbft::fuzzing::fuzz_decode(data));
