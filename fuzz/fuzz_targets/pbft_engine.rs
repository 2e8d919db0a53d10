//! Arbitrary input scripts (messages, validly signed messages with chosen
//! fields, requests, clock advances, crash-restarts) into one PBFT replica.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_pbft::fuzzing::fuzz_engine(data));
