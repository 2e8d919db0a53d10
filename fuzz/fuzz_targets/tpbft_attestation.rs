//! Arbitrary committed requests into T-PBFT's attestation reader and the
//! ledger feed: no panic, at most one counted attestation per replica.
#![no_main]

use dwcp_crypto::Keyring;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| Keyring::sr25519(4, 1))
}

fuzz_target!(|data: &[u8]| {
    let _ = dwcp_tpbft::fuzzing::attestations(keys(), data);
});
