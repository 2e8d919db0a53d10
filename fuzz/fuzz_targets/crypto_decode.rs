//! Arbitrary bytes into every dwcp-crypto wire decoder (curve points are
//! validated on decode): never panics, and what decodes round-trips.
#![no_main]

use dwcp_core::codec;
use dwcp_core::fuzz::decode_roundtrip;
use dwcp_crypto::aggregate::{AggPublicKey, AggregateCert};
use dwcp_crypto::{Certificate, PartialSig, PublicKey, Signature, ThresholdPublic, VrfProof};
use libfuzzer_sys::fuzz_target;

fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let _ = decode_roundtrip::<T>(data);
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 8 {
        0 => roundtrip::<Signature>(rest),
        1 => roundtrip::<PublicKey>(rest),
        2 => roundtrip::<VrfProof>(rest),
        3 => roundtrip::<PartialSig>(rest),
        4 => roundtrip::<Certificate>(rest),
        5 => roundtrip::<AggregateCert>(rest),
        6 => roundtrip::<AggPublicKey>(rest),
        _ => {
            let _ = codec::decode::<ThresholdPublic>(rest);
        }
    }
});
