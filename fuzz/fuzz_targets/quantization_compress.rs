//! Arbitrary bytes as an input vector and compressor configuration: every compressor's output encodes, decodes and applies without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_quantization::fuzzing::compress(data));
