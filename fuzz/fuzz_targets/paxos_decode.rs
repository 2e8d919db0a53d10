//! Arbitrary bytes into the Multi-Paxos message and record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_paxos::fuzzing::fuzz_decode(data));
