//! Arbitrary bytes into the bounded codec: never panics, and whatever decodes
//! re-encodes to something that decodes to the same value.
#![no_main]

use dwcp_core::{fuzz, Digest, NodeId, Time};
use libfuzzer_sys::fuzz_target;

type Sample = (NodeId, Time, Digest, Vec<Vec<u8>>, Option<String>);

fuzz_target!(|data: &[u8]| {
    let _ = fuzz::decode_roundtrip::<Sample>(data);
});
