//! Arbitrary bytes into the HotStuff message and record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_hotstuff::fuzzing::fuzz_decode(data));
