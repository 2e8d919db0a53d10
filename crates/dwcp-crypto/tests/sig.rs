//! Signature tests: sign/verify, negative cases, batch verification, keyring.

use dwcp_core::codec;
use dwcp_crypto::{Keyring, PublicKey, Signature, verify_batch};

const CTX: &[u8] = b"dwcp-test/sig";

#[test]
#[allow(irrefutable_let_patterns)]
fn sign_verify_roundtrip_and_negatives() {
    let ring = Keyring::sr25519(3, 1);
    let sig = ring.secrets[0].sign(CTX, b"hello");
    assert!(ring.publics[0].verify(CTX, b"hello", &sig));
    assert!(!ring.publics[1].verify(CTX, b"hello", &sig), "wrong key");
    assert!(
        !ring.publics[0].verify(CTX, b"hellO", &sig),
        "wrong message"
    );
    assert!(
        !ring.publics[0].verify(b"other-context", b"hello", &sig),
        "wrong context"
    );
    let Signature::Sr25519(inner) = sig else {
        panic!("expected sr25519")
    };
    let mut bytes = inner.to_bytes();
    bytes[5] ^= 1;
    let tampered = schnorrkel::Signature::from_bytes(&bytes).map(Signature::Sr25519);
    if let Ok(t) = tampered {
        assert!(
            !ring.publics[0].verify(CTX, b"hello", &t),
            "tampered signature"
        );
    }
}

#[test]
fn signing_is_deterministic_and_keyring_reproducible() {
    let a = Keyring::sr25519(4, 9);
    let b = Keyring::sr25519(4, 9);
    let c = Keyring::sr25519(4, 10);
    assert_eq!(a.publics, b.publics);
    assert_ne!(a.publics, c.publics);
    assert_eq!(a.len(), 4);
    assert!(!a.is_empty());
    let distinct: std::collections::BTreeSet<_> = a.publics.iter().collect();
    assert_eq!(distinct.len(), 4);
    assert_eq!(a.secrets[2].sign(CTX, b"m"), b.secrets[2].sign(CTX, b"m"));
    assert_ne!(a.secrets[2].sign(CTX, b"m"), a.secrets[2].sign(CTX, b"n"));
}

#[test]
fn debug_never_prints_secret() {
    let ring = Keyring::sr25519(1, 3);
    let dbg = format!("{:?}", ring.secrets[0]);
    assert!(dbg.contains("hidden"), "{dbg}");
    let schnorrkel_secret = match &ring.secrets[0] {
        dwcp_crypto::SecretKey::Sr25519(kp) => kp.secret.to_bytes(),
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    };
    let hex: String = schnorrkel_secret[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!dbg.contains(&hex));
}

#[test]
fn wire_roundtrip_and_malformed_bytes_rejected() {
    let ring = Keyring::sr25519(1, 4);
    let sig = ring.secrets[0].sign(CTX, b"x");
    let pk = ring.publics[0];
    assert_eq!(codec::decode::<Signature>(&codec::encode(&sig)), Ok(sig));
    assert_eq!(codec::decode::<PublicKey>(&codec::encode(&pk)), Ok(pk));
    // sr25519 signatures are 64 bytes on the wire (plus variant tag and length).
    assert_eq!(codec::encode(&sig).len(), 1 + 1 + 64);
    // A public key whose bytes are not a valid Ristretto point.
    let mut bad = codec::encode(&pk);
    for b in bad.iter_mut().skip(2) {
        *b = 0xff;
    }
    assert!(codec::decode::<PublicKey>(&bad).is_err());
    // Truncated and random garbage never panic.
    let enc = codec::encode(&sig);
    assert!(codec::decode::<Signature>(&enc[..enc.len() - 1]).is_err());
    for seed in 0..64u8 {
        let junk: Vec<u8> = (0..70)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i))
            .collect();
        let _ = codec::decode::<Signature>(&junk);
        let _ = codec::decode::<PublicKey>(&junk);
    }
}

#[test]
fn batch_verify_reports_bad_indices() {
    let ring = Keyring::sr25519(8, 5);
    let msgs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
    let mut sigs: Vec<Signature> = ring
        .secrets
        .iter()
        .zip(&msgs)
        .map(|(sk, m)| sk.sign(CTX, m))
        .collect();
    let items = |sigs: &[Signature]| -> Result<(), Vec<usize>> {
        let v: Vec<(&PublicKey, &[u8], &Signature)> = ring
            .publics
            .iter()
            .zip(&msgs)
            .zip(sigs)
            .map(|((pk, m), s)| (pk, m.as_slice(), s))
            .collect();
        verify_batch(CTX, &v)
    };
    assert_eq!(items(&sigs), Ok(()));
    assert_eq!(verify_batch(CTX, &[]), Ok(()));
    sigs[2] = ring.secrets[3].sign(CTX, &msgs[2]); // wrong signer
    sigs[6] = ring.secrets[6].sign(b"other", &msgs[6]); // wrong context
    assert_eq!(items(&sigs), Err(vec![2, 6]));
    assert_eq!(
        verify_batch(b"other", &[(&ring.publics[6], &msgs[6], &sigs[6])]),
        Ok(())
    );
}

#[cfg(feature = "insecure-mock-crypto")]
mod mock {
    use super::*;

    #[test]
    fn mock_sign_verify_and_kind_mismatch() {
        let mock = Keyring::insecure_mock(3, 1);
        let real = Keyring::sr25519(3, 1);
        let s = mock.secrets[0].sign(CTX, b"m");
        assert!(mock.publics[0].verify(CTX, b"m", &s));
        assert!(!mock.publics[1].verify(CTX, b"m", &s));
        assert!(!mock.publics[0].verify(CTX, b"n", &s));
        assert!(!mock.publics[0].verify(b"c", b"m", &s));
        let r = real.secrets[0].sign(CTX, b"m");
        assert!(
            !mock.publics[0].verify(CTX, b"m", &r),
            "mock key rejects sr25519 sig"
        );
        assert!(
            !real.publics[0].verify(CTX, b"m", &s),
            "sr25519 key rejects mock sig"
        );
        assert_eq!(Keyring::insecure_mock(3, 1).publics, mock.publics);
        assert_eq!(codec::decode::<Signature>(&codec::encode(&s)), Ok(s));
        // Mixed batch: mock, real, and mismatched items.
        let items: Vec<(&PublicKey, &[u8], &Signature)> = vec![
            (&mock.publics[0], b"m", &s),
            (&real.publics[0], b"m", &r),
            (&real.publics[0], b"m", &s),
            (&mock.publics[1], b"m", &s),
        ];
        assert_eq!(verify_batch(CTX, &items), Err(vec![2, 3]));
        assert!(format!("{:?}", mock.secrets[0]).contains("hidden"));
    }
}
