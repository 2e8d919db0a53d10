//! Arbitrary bytes as a zstd-coded quantization body: the bounded entropy-stage decoder never panics, and what decodes round-trips through the entropy stage.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_quantization::fuzzing::decode_entropy(data));
