//! Arbitrary input scripts into one T-PBFT replica (PBFT under a trust policy).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_tpbft::fuzzing::engine(data));
