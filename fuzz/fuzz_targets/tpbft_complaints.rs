//! Arbitrary committed requests into the late-proposal complaint tally: no
//! panic, no charge without f + 1 distinct signed complainants, bounded
//! memory.
#![no_main]

use dwcp_crypto::Keyring;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| Keyring::sr25519(4, 1))
}

fuzz_target!(|data: &[u8]| {
    let _ = dwcp_tpbft::fuzzing::complaints(keys(), data);
});
