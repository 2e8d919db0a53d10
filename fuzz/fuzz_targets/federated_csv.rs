//! Arbitrary bytes as a user CSV file (plain or gzip) for `--data`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dwcp_federated::fuzzing::csv_loader(data));
