//! Arbitrary bytes into the bounded codec: never panics, and whatever decodes
//! re-encodes to something that decodes to the same value.
#![no_main]

use dwcp_core::{codec, Digest, NodeId, Time};
use libfuzzer_sys::fuzz_target;

type Sample = (NodeId, Time, Digest, Vec<Vec<u8>>, Option<String>);

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = codec::decode::<Sample>(data) {
        let again = codec::encode(&v);
        assert_eq!(codec::decode::<Sample>(&again).ok(), Some(v));
    }
});
