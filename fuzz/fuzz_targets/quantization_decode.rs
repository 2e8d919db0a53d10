//! Arbitrary bytes into the quantization wire decoder (raw or zstd-flagged): never panics; whatever decodes re-encodes to the same update with an exact predicted length.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_quantization::fuzzing::decode(data));
