//! Arbitrary input scripts (prepares, accepts, promises, commits, catch-up, transactions,
//! clock advances, crash-restarts) into one Multi-Paxos replica.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_paxos::fuzzing::fuzz_engine(data));
