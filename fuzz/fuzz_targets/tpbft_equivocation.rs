//! Arbitrary byte pairs checked as transferable equivocation evidence:
//! random bytes must never convict.
#![no_main]

use dwcp_crypto::Keyring;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| Keyring::sr25519(4, 1))
}

fuzz_target!(|data: &[u8]| {
    assert!(!dwcp_tpbft::fuzzing::equivocation(&keys().publics, data));
});
