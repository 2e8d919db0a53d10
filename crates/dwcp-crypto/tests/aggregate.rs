//! Aggregate BLS certificate tests (small n: BLS is slow).

use dwcp_core::{NodeId, codec};
use dwcp_crypto::{
    AggKeyring, AggPublicKey, AggSignature, AggregateCert, SignerSet, aggregate,
    aggregate_unchecked, verify_aggregate,
};
use std::collections::BTreeMap;

fn sigs(ring: &AggKeyring, ids: &[u32], msg: &[u8]) -> BTreeMap<NodeId, AggSignature> {
    ids.iter()
        .map(|&i| (NodeId(i), ring.secrets[i as usize].sign(msg)))
        .collect()
}

#[test]
fn single_signatures_and_possession() {
    let ring = AggKeyring::bls(2, 1);
    assert_eq!(AggKeyring::bls(2, 1).publics, ring.publics);
    let s = ring.secrets[0].sign(b"m");
    assert!(ring.publics[0].verify(b"m", &s));
    assert!(!ring.publics[1].verify(b"m", &s));
    assert!(!ring.publics[0].verify(b"n", &s));
    let pop = ring.secrets[0].prove_possession();
    assert!(ring.publics[0].verify_possession(&pop));
    assert!(!ring.publics[1].verify_possession(&pop));
    assert!(
        !ring.publics[0].verify(&codec::encode(&ring.publics[0]), &pop),
        "pop is domain-separated"
    );
    assert!(format!("{:?}", ring.secrets[0]).contains("hidden"));
}

#[test]
fn aggregate_all_good_then_verify() {
    let ring = AggKeyring::bls(6, 2);
    let agg = aggregate(&ring.publics, b"m", &sigs(&ring, &[0, 2, 3, 5], b"m"));
    assert!(agg.bad_signers.is_empty());
    assert_eq!(
        agg.cert.signers.iter().collect::<Vec<_>>(),
        vec![NodeId(0), NodeId(2), NodeId(3), NodeId(5)]
    );
    assert!(verify_aggregate(&ring.publics, b"m", &agg.cert));
    assert!(
        !verify_aggregate(&ring.publics, b"n", &agg.cert),
        "wrong message"
    );
    let mut more = agg.cert.clone();
    more.signers.insert(NodeId(1));
    assert!(
        !verify_aggregate(&ring.publics, b"m", &more),
        "signer who did not sign"
    );
    let fewer = AggregateCert {
        signers: [NodeId(0), NodeId(2), NodeId(3)].into_iter().collect(),
        ..agg.cert.clone()
    };
    assert!(
        !verify_aggregate(&ring.publics, b"m", &fewer),
        "missing signer"
    );
    assert!(
        !verify_aggregate(&ring.publics[..5], b"m", &agg.cert),
        "signer outside the key list"
    );
    let unchecked = aggregate_unchecked(6, &sigs(&ring, &[0, 2, 3, 5], b"m")).unwrap();
    assert_eq!(unchecked, agg.cert);
    assert_eq!(aggregate_unchecked(5, &sigs(&ring, &[5], b"m")), None);
    assert_eq!(aggregate_unchecked(6, &BTreeMap::new()), None);
}

#[test]
fn bisection_names_every_bad_signer() {
    let ring = AggKeyring::bls(7, 3);
    let all: Vec<u32> = (0..7).collect();
    for bad_set in [
        vec![0u32],
        vec![6],
        vec![1, 4],
        vec![0, 1, 2, 3, 4, 5, 6],
        vec![2, 3, 5],
    ] {
        let mut s = sigs(&ring, &all, b"m");
        for &b in &bad_set {
            s.insert(NodeId(b), ring.secrets[b as usize].sign(b"forged"));
        }
        let agg = aggregate(&ring.publics, b"m", &s);
        let expected: Vec<NodeId> = bad_set.iter().map(|&b| NodeId(b)).collect();
        assert_eq!(agg.bad_signers, expected);
        assert_eq!(
            agg.evidence().iter().map(|e| e.culprit).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(agg.cert.signers.len(), 7 - bad_set.len());
        assert!(agg.cert.signers.iter().all(|id| !expected.contains(&id)));
        assert_eq!(
            verify_aggregate(&ring.publics, b"m", &agg.cert),
            bad_set.len() < 7,
            "{bad_set:?}"
        );
    }
    // Out-of-range signer ids are bad too.
    let mut s = sigs(&ring, &[0, 1], b"m");
    s.insert(NodeId(40), ring.secrets[2].sign(b"m"));
    let agg = aggregate(&ring.publics, b"m", &s);
    assert_eq!(agg.bad_signers, vec![NodeId(40)]);
    assert!(verify_aggregate(&ring.publics, b"m", &agg.cert));
}

#[test]
fn empty_certificate_never_verifies() {
    let ring = AggKeyring::bls(3, 4);
    let agg = aggregate(&ring.publics, b"m", &BTreeMap::new());
    assert!(agg.cert.signers.is_empty());
    assert!(!verify_aggregate(&ring.publics, b"m", &agg.cert));
}

#[test]
fn wire_roundtrip_and_malformed_inputs() {
    let ring = AggKeyring::bls(3, 5);
    let agg = aggregate(&ring.publics, b"m", &sigs(&ring, &[0, 2], b"m"));
    let enc = codec::encode(&agg.cert);
    assert_eq!(codec::decode::<AggregateCert>(&enc).as_ref(), Ok(&agg.cert));
    assert_eq!(
        enc.len(),
        1 + 1 + 1 + 96,
        "bitmap length, bitmap, variant tag, G2 point"
    );
    let pk = ring.publics[1];
    assert_eq!(codec::decode::<AggPublicKey>(&codec::encode(&pk)), Ok(pk));
    let mut bad = codec::encode(&pk);
    bad[1..].fill(0xff);
    assert!(
        codec::decode::<AggPublicKey>(&bad).is_err(),
        "invalid G1 point"
    );
    let mut bad = enc.clone();
    bad[3..].fill(0xff);
    assert!(
        codec::decode::<AggregateCert>(&bad).is_err(),
        "invalid G2 point"
    );
    let mut noncanonical = enc.clone();
    noncanonical[1] = 0;
    assert!(
        codec::decode::<AggregateCert>(&noncanonical).is_err(),
        "trailing zero bitmap byte"
    );
    for cut in 0..enc.len() {
        assert!(codec::decode::<AggregateCert>(&enc[..cut]).is_err());
    }
    for i in 0..enc.len() {
        let mut t = enc.clone();
        t[i] ^= 0x10;
        if let Ok(c) = codec::decode::<AggregateCert>(&t) {
            assert!(!verify_aggregate(&ring.publics, b"m", &c), "byte {i}");
        }
    }
}

#[test]
fn signer_set_basics() {
    let s: SignerSet = [NodeId(9), NodeId(0), NodeId(9), NodeId(17)]
        .into_iter()
        .collect();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![NodeId(0), NodeId(9), NodeId(17)]
    );
    assert_eq!((s.len(), s.upper_bound(), s.is_empty()), (3, 18, false));
    assert!(s.contains(NodeId(17)) && !s.contains(NodeId(1)) && !s.contains(NodeId(4000)));
    assert_eq!(SignerSet::new().upper_bound(), 0);
    assert_eq!(format!("{s:?}"), "{0, 9, 17}");
    assert_eq!(codec::decode::<SignerSet>(&codec::encode(&s)), Ok(s));
}

#[cfg(feature = "insecure-mock-crypto")]
#[test]
fn mock_aggregate_behaves_like_the_real_one() {
    let ring = AggKeyring::insecure_mock(6, 1);
    let real = AggKeyring::bls(6, 1);
    let mut s = sigs(&ring, &[0, 1, 2, 3, 4, 5], b"m");
    s.insert(NodeId(3), ring.secrets[3].sign(b"x"));
    s.insert(NodeId(4), real.secrets[4].sign(b"m")); // wrong kind
    let agg = aggregate(&ring.publics, b"m", &s);
    assert_eq!(agg.bad_signers, vec![NodeId(3), NodeId(4)]);
    assert!(verify_aggregate(&ring.publics, b"m", &agg.cert));
    assert!(!verify_aggregate(&ring.publics, b"n", &agg.cert));
    assert!(!verify_aggregate(&real.publics, b"m", &agg.cert));
    assert!(ring.publics[0].verify_possession(&ring.secrets[0].prove_possession()));
    assert!(!verify_aggregate(
        &ring.publics,
        b"m",
        &aggregate(&ring.publics, b"m", &BTreeMap::new()).cert
    ));
}
