//! Scripted secure-aggregation sessions: the server state machine (and the
//! clients) under dropped, corrupted, injected and replayed messages and
//! timeouts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dwcp_privacy::fuzzing::fuzz_session(data);
});
