//! Arbitrary bytes into every secure-aggregation decoder (messages, share
//! plaintexts, signed advertisements, ring unpacking, Shamir recovery).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_privacy::fuzzing::fuzz_decode(data));
