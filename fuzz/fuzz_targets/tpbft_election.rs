//! Arbitrary trust vectors into group election; the quorum-intersection
//! invariant is checked inside.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dwcp_tpbft::fuzzing::election(data);
});
