//! Arbitrary input scripts (raw messages, validly signed headers, votes,
//! certificates and batches with chosen rounds and parents, fetch requests,
//! transactions, clock advances, crash-restarts) into one Bullshark node.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_bullshark::fuzzing::fuzz_engine(data));
