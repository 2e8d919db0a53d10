//! VRF tests: prove/verify, determinism, negative cases, wire format.

use dwcp_core::codec;
use dwcp_crypto::{Keyring, VrfOutput, VrfProof};

const CTX: &[u8] = b"dwcp-test/vrf";

#[test]
fn prove_verify_roundtrip_and_determinism() {
    let ring = Keyring::sr25519(2, 11);
    let (out, proof) = ring.secrets[0].vrf_prove(CTX, b"round 7");
    assert_eq!(
        ring.publics[0].vrf_verify(CTX, b"round 7", &proof),
        Some(out)
    );
    let (out2, proof2) = ring.secrets[0].vrf_prove(CTX, b"round 7");
    assert_eq!((out, &proof), (out2, &proof2));
    let (out3, _) = ring.secrets[0].vrf_prove(CTX, b"round 8");
    assert_ne!(out, out3);
    let (out4, _) = ring.secrets[1].vrf_prove(CTX, b"round 7");
    assert_ne!(out, out4);
}

#[test]
fn rejects_wrong_key_input_context() {
    let ring = Keyring::sr25519(2, 12);
    let (_, proof) = ring.secrets[0].vrf_prove(CTX, b"x");
    assert_eq!(ring.publics[1].vrf_verify(CTX, b"x", &proof), None);
    assert_eq!(ring.publics[0].vrf_verify(CTX, b"y", &proof), None);
    assert_eq!(ring.publics[0].vrf_verify(b"other", b"x", &proof), None);
}

#[test]
fn rejects_tampered_proofs() {
    let ring = Keyring::sr25519(1, 13);
    let (_, proof) = ring.secrets[0].vrf_prove(CTX, b"x");
    let bytes = codec::encode(&proof);
    let mut tampered_count = 0;
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x04;
        // Either the bytes no longer decode, or the proof no longer verifies.
        if let Ok(p) = codec::decode::<VrfProof>(&t) {
            assert_eq!(ring.publics[0].vrf_verify(CTX, b"x", &p), None, "byte {i}");
            tampered_count += 1;
        }
    }
    assert!(
        tampered_count > 60,
        "most tamperings decode and must be caught: {tampered_count}"
    );
}

#[test]
fn wire_roundtrip_and_garbage() {
    let ring = Keyring::sr25519(1, 14);
    let (out, proof) = ring.secrets[0].vrf_prove(CTX, b"x");
    assert_eq!(
        codec::decode::<VrfProof>(&codec::encode(&proof)).as_ref(),
        Ok(&proof)
    );
    assert_eq!(codec::decode::<VrfOutput>(&codec::encode(&out)), Ok(out));
    let enc = codec::encode(&proof);
    assert!(codec::decode::<VrfProof>(&enc[..enc.len() - 1]).is_err());
    for seed in 0..64u8 {
        let junk: Vec<u8> = (0..100).map(|i| seed.wrapping_mul(37) ^ i).collect();
        if let Ok(p) = codec::decode::<VrfProof>(&junk[..enc.len()]) {
            assert_eq!(ring.publics[0].vrf_verify(CTX, b"x", &p), None);
        }
    }
}

#[cfg(feature = "insecure-mock-crypto")]
#[test]
fn mock_vrf_and_kind_mismatch() {
    let mock = Keyring::insecure_mock(2, 1);
    let real = Keyring::sr25519(1, 1);
    let (out, proof) = mock.secrets[0].vrf_prove(CTX, b"x");
    assert_eq!(mock.publics[0].vrf_verify(CTX, b"x", &proof), Some(out));
    assert_eq!(mock.publics[1].vrf_verify(CTX, b"x", &proof), None);
    assert_eq!(mock.publics[0].vrf_verify(CTX, b"y", &proof), None);
    assert_eq!(real.publics[0].vrf_verify(CTX, b"x", &proof), None);
    let (_, real_proof) = real.secrets[0].vrf_prove(CTX, b"x");
    assert_eq!(mock.publics[0].vrf_verify(CTX, b"x", &real_proof), None);
}
