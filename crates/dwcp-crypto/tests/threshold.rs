//! Threshold certificate tests (small n: BLS is slow).

use dwcp_core::{NodeId, codec};
use dwcp_crypto::{Certificate, ParamError, PartialSig, ThresholdPublic, ThresholdSetup};
use std::collections::BTreeMap;

fn shares(setup: &ThresholdSetup, ids: &[u32], msg: &[u8]) -> BTreeMap<NodeId, PartialSig> {
    ids.iter()
        .map(|&i| (NodeId(i), setup.shares[i as usize].sign(msg)))
        .collect()
}

#[test]
fn generate_is_deterministic_and_checks_params() {
    let a = ThresholdSetup::generate(4, 3, 1);
    assert_eq!(a.public, ThresholdSetup::generate(4, 3, 1).public);
    assert_ne!(a.public, ThresholdSetup::generate(4, 3, 2).public);
    assert_eq!(
        (a.public.n(), a.public.threshold(), a.shares.len()),
        (4, 3, 4)
    );
    assert_eq!(a.shares[2].node(), NodeId(2));
    assert_eq!(
        ThresholdSetup::try_generate(4, 5, 1).err(),
        Some(ParamError { n: 4, threshold: 5 })
    );
    assert!(ThresholdSetup::try_generate(4, 0, 1).is_err());
    assert!(ThresholdSetup::try_generate(1, 1, 1).is_ok());
    assert!(std::panic::catch_unwind(|| ThresholdSetup::generate(3, 4, 1)).is_err());
    assert!(format!("{:?}", a.shares[0]).contains("hidden"));
}

#[test]
fn shares_verify_only_for_their_signer_and_message() {
    let s = ThresholdSetup::generate(4, 3, 3);
    let share = s.shares[1].sign(b"m");
    assert!(s.public.verify_share(NodeId(1), b"m", &share));
    assert!(
        !s.public.verify_share(NodeId(2), b"m", &share),
        "wrong signer"
    );
    assert!(
        !s.public.verify_share(NodeId(1), b"n", &share),
        "wrong message"
    );
    assert!(
        !s.public.verify_share(NodeId(9), b"m", &share),
        "out of range"
    );
    let other = ThresholdSetup::generate(4, 3, 4);
    assert!(
        !other.public.verify_share(NodeId(1), b"m", &share),
        "wrong group"
    );
}

#[test]
fn combine_optimistic_any_subset_gives_the_same_certificate() {
    let s = ThresholdSetup::generate(5, 3, 5);
    let c1 = s
        .public
        .combine_with_evidence(b"m", &shares(&s, &[0, 1, 2], b"m"))
        .unwrap();
    assert!(c1.bad_signers.is_empty());
    assert!(s.public.verify(b"m", &c1.cert));
    assert!(!s.public.verify(b"n", &c1.cert), "wrong message");
    let c2 = s
        .public
        .combine(b"m", &shares(&s, &[1, 3, 4], b"m"))
        .unwrap();
    assert_eq!(c1.cert, c2, "threshold BLS signatures are unique");
    let all = s
        .public
        .combine(b"m", &shares(&s, &[0, 1, 2, 3, 4], b"m"))
        .unwrap();
    assert_eq!(all, c2);
    let other = ThresholdSetup::generate(5, 3, 6);
    assert!(!other.public.verify(b"m", &c2), "wrong group key");
}

#[test]
fn combine_reports_bad_signers_and_recovers() {
    let s = ThresholdSetup::generate(5, 3, 7);
    let mut sh = shares(&s, &[0, 1, 2, 3, 4], b"m");
    sh.insert(NodeId(1), s.shares[1].sign(b"other message"));
    sh.insert(NodeId(2), s.shares[3].sign(b"m")); // node 3's share claimed by 2
    sh.insert(NodeId(17), s.shares[0].sign(b"m")); // id out of range
    let c = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert_eq!(c.bad_signers, vec![NodeId(1), NodeId(2), NodeId(17)]);
    assert!(s.public.verify(b"m", &c.cert));
    let ev = c.evidence();
    assert_eq!(
        ev.iter().map(|e| e.culprit).collect::<Vec<_>>(),
        c.bad_signers
    );
    assert!(
        ev.iter()
            .all(|e| e.fault == dwcp_core::Fault::InvalidSignature)
    );
}

#[test]
fn shares_beyond_the_first_threshold_are_not_examined_when_optimistic_succeeds() {
    let s = ThresholdSetup::generate(5, 3, 11);
    let mut sh = shares(&s, &[0, 1, 2, 3, 4], b"m");
    sh.insert(NodeId(4), s.shares[4].sign(b"x"));
    let c = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert!(c.bad_signers.is_empty());
    // With a bad share among the first three, it is found and replaced.
    sh.insert(NodeId(0), s.shares[0].sign(b"x"));
    let c = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert_eq!(c.bad_signers, vec![NodeId(0)]);
    assert!(s.public.verify(b"m", &c.cert));
}

/// Two colluders shift their shares by +D and -D: every sum containing both
/// verifies, but the interpolation does not. Only they must be blamed.
#[test]
#[allow(irrefutable_let_patterns)]
fn cancelling_shares_are_caught_without_blaming_honest_nodes() {
    use blsttc::group::Curve;
    let s = ThresholdSetup::generate(7, 3, 12);
    let mut sh = shares(&s, &[0, 1, 2, 3, 4, 5, 6], b"m");
    let noise = blsttc::G2Projective::from(blsttc::hash_g2(b"noise"));
    let shift = |id: u32, sign_plus: bool| {
        let PartialSig::Bls(share) = &sh[&NodeId(id)] else {
            unreachable!()
        };
        let p = blsttc::G2Affine::from_compressed(&share.to_bytes()).unwrap();
        let q = if sign_plus { p + noise } else { p - noise };
        PartialSig::Bls(blsttc::SignatureShare::from_bytes(q.to_affine().to_compressed()).unwrap())
    };
    let (a, b) = (shift(0, true), shift(2, false));
    sh.insert(NodeId(0), a);
    sh.insert(NodeId(2), b);
    assert!(!s.public.verify_share(NodeId(0), b"m", &sh[&NodeId(0)]));
    let c = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert_eq!(c.bad_signers, vec![NodeId(0), NodeId(2)]);
    assert!(s.public.verify(b"m", &c.cert));
}

#[test]
fn not_enough_shares() {
    let s = ThresholdSetup::generate(4, 3, 8);
    let e = s
        .public
        .combine(b"m", &shares(&s, &[0, 3], b"m"))
        .unwrap_err();
    assert!(e.not_enough && e.bad_signers.is_empty());
    assert_eq!((e.valid, e.needed), (2, 3));
    let mut sh = shares(&s, &[0, 1, 3], b"m");
    sh.insert(NodeId(1), s.shares[1].sign(b"x"));
    let e = s.public.combine(b"m", &sh).unwrap_err();
    assert_eq!(e.bad_signers, vec![NodeId(1)]);
    assert_eq!(e.evidence().len(), 1);
    assert!(e.not_enough);
    assert_eq!(e.valid, 2);
    assert!(e.to_string().contains("2 valid shares of 3"));
    assert!(s.public.combine(b"m", &BTreeMap::new()).is_err());
}

#[test]
fn wire_roundtrip_and_malformed_inputs() {
    let s = ThresholdSetup::generate(4, 2, 9);
    let share = s.shares[0].sign(b"m");
    let cert = s.public.combine(b"m", &shares(&s, &[0, 1], b"m")).unwrap();
    let public: ThresholdPublic = codec::decode(&codec::encode(&s.public)).unwrap();
    assert_eq!(public, s.public);
    assert!(
        public.verify(b"m", &cert),
        "decoded key (fresh cache) verifies"
    );
    assert!(public.verify_share(NodeId(0), b"m", &share));
    assert_eq!(
        codec::decode::<PartialSig>(&codec::encode(&share)).as_ref(),
        Ok(&share)
    );
    assert_eq!(
        codec::decode::<Certificate>(&codec::encode(&cert)).as_ref(),
        Ok(&cert)
    );
    // 1 tag byte + 96 point bytes; 0xff.. is not a valid compressed point.
    let mut bad = codec::encode(&cert);
    assert_eq!(bad.len(), 97);
    bad[1..].fill(0xff);
    assert!(codec::decode::<Certificate>(&bad).is_err());
    assert!(codec::decode::<PartialSig>(&bad).is_err());
    // Truncations and bit flips never panic.
    let enc = codec::encode(&s.public);
    for cut in 0..enc.len() {
        assert!(codec::decode::<ThresholdPublic>(&enc[..cut]).is_err());
    }
    for i in 0..enc.len() {
        let mut t = enc.clone();
        t[i] ^= 0x21;
        let _ = codec::decode::<ThresholdPublic>(&t);
    }
}

#[test]
fn decoding_rejects_inconsistent_parameters() {
    let s = ThresholdSetup::generate(4, 2, 10);
    let enc = codec::encode(&s.public);
    // Wire layout: n (varint), threshold (varint), key tag, length, bytes.
    assert_eq!((enc[0], enc[1]), (4, 2));
    let mut t = enc.clone();
    t[1] = 3; // threshold no longer matches the commitment length
    assert!(codec::decode::<ThresholdPublic>(&t).is_err());
    let mut t = enc.clone();
    t[0] = 1; // threshold > n
    assert!(codec::decode::<ThresholdPublic>(&t).is_err());
    let mut t = enc;
    t[1] = 0; // threshold 0
    assert!(codec::decode::<ThresholdPublic>(&t).is_err());
}

#[cfg(feature = "insecure-mock-crypto")]
#[test]
fn mock_threshold_behaves_like_the_real_one() {
    let s = ThresholdSetup::insecure_mock(7, 5, 1);
    let real = ThresholdSetup::generate(2, 1, 1);
    let mut sh = shares(&s, &[0, 1, 2, 3, 4, 5], b"m");
    let c = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert!(c.bad_signers.is_empty() && s.public.verify(b"m", &c.cert));
    assert!(!s.public.verify(b"n", &c.cert));
    sh.insert(NodeId(2), s.shares[2].sign(b"x"));
    let c2 = s.public.combine_with_evidence(b"m", &sh).unwrap();
    assert_eq!((c2.bad_signers, c2.cert), (vec![NodeId(2)], c.cert.clone()));
    sh.insert(NodeId(3), s.shares[3].sign(b"x"));
    assert!(s.public.combine(b"m", &sh).unwrap_err().not_enough);
    assert!(!real.public.verify(b"m", &c.cert), "kind mismatch");
    assert!(
        !s.public
            .verify_share(NodeId(0), b"m", &real.shares[0].sign(b"m"))
    );
    let decoded: ThresholdPublic = codec::decode(&codec::encode(&s.public)).unwrap();
    assert!(decoded.verify(b"m", &c.cert));
}
