//! Arbitrary input scripts (messages, validly signed proposals with real QCs and TCs,
//! votes, timeouts, fetches, transactions, clock advances, crash-restarts) into one HotStuff replica.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_hotstuff::fuzzing::fuzz_engine(data));
