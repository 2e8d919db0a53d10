use super::*;
use dwcp_crypto::{AggKeyring, Keyring, ThresholdSetup};

/// The three schemes over `n` real keys, with the signers' secrets.
fn multisig(n: usize) -> (MultiSig, Vec<dwcp_crypto::SecretKey>) {
    let k = Keyring::sr25519(n, 5);
    (MultiSig::new(k.publics, b"test"), k.secrets)
}

fn aggregate(n: usize) -> (BlsAggregate, Vec<dwcp_crypto::AggSecretKey>) {
    let k = AggKeyring::bls(n, 5);
    (BlsAggregate::new(k.publics, b"test"), k.secrets)
}

fn threshold(n: usize, t: usize) -> (BlsThreshold, Vec<dwcp_crypto::ThresholdShare>) {
    let s = ThresholdSetup::generate(n, t, 5);
    (BlsThreshold::new(s.public, b"test"), s.shares)
}

/// Shares of `signers` on `msg`, with the shares of `bad` signed on another
/// message (valid encodings, invalid signatures).
fn shares<S: Scheme>(
    s: &S,
    secrets: &[S::Signer],
    signers: impl IntoIterator<Item = usize>,
    bad: &[usize],
    msg: &[u8],
) -> BTreeMap<NodeId, S::Share> {
    signers
        .into_iter()
        .map(|i| {
            let m: &[u8] = if bad.contains(&i) {
                b"another message"
            } else {
                msg
            };
            (NodeId(i as u32), s.sign(&secrets[i], m))
        })
        .collect()
}

fn roundtrip<S: Scheme>(s: &S, secrets: &[S::Signer], quorum: usize) {
    let n = s.n();
    let msg = b"block 7";
    let all = shares(s, secrets, 0..n, &[], msg);
    for (id, sh) in &all {
        assert!(s.verify_share(*id, msg, sh), "{}", s.name());
        assert!(!s.verify_share(*id, b"other", sh), "{}", s.name());
    }
    let refs: Vec<(NodeId, &S::Share)> = all.iter().map(|(i, s)| (*i, s)).collect();
    assert_eq!(s.verify_shares(msg, &refs), Ok(()));

    // Optimistic path: no bad signers, certificate verifies, quorum holds.
    let q = shares(s, secrets, 0..quorum, &[], msg);
    let a = s.assemble(msg, &q).unwrap();
    assert!(a.bad_signers.is_empty());
    assert!(s.verify_certificate(msg, &a.cert), "{}", s.name());
    assert!(!s.verify_certificate(b"other", &a.cert), "{}", s.name());
    assert_eq!(a.signers.is_some(), s.is_attributable());
    let committee = WeightedCommittee::new(vec![1; n], ((n - 1) / 3) as u64).unwrap();
    assert!(verify_quorum(s, &committee, msg, &a.cert), "{}", s.name());
    // Round trip through the wire codec.
    let bytes = dwcp_core::codec::encode(&a.cert);
    let back: S::Certificate = dwcp_core::codec::decode(&bytes).unwrap();
    assert!(s.verify_certificate(msg, &back));

    // Fallback path: bad shares are named, the rest still certify.
    let bad = [1usize, n - 1];
    let mixed = shares(s, secrets, 0..n, &bad, msg);
    let refs: Vec<(NodeId, &S::Share)> = mixed.iter().map(|(i, s)| (*i, s)).collect();
    let named: Vec<NodeId> = bad.iter().map(|i| NodeId(*i as u32)).collect();
    assert_eq!(
        s.verify_shares(msg, &refs),
        Err(named.clone()),
        "{}",
        s.name()
    );
    let a = s.assemble(msg, &mixed).unwrap();
    if s.is_attributable() {
        // Attributable schemes examine every share.
        assert_eq!(a.bad_signers, named, "{}", s.name());
        assert_eq!(a.signers.unwrap().len(), n - bad.len());
    } else {
        // Threshold combination stops once it has enough good shares; the
        // culprits it met are named.
        assert!(
            a.bad_signers.iter().all(|b| named.contains(b)),
            "{}",
            s.name()
        );
        assert!(!a.bad_signers.is_empty());
    }
    assert!(s.verify_certificate(msg, &a.cert));

    // Nothing valid: an error naming everyone.
    let everyone: Vec<usize> = (0..n).collect();
    let all_bad = shares(s, secrets, 0..n, &everyone, msg);
    let e = s.assemble(msg, &all_bad).unwrap_err();
    let all: Vec<NodeId> = NodeId::all(n).collect();
    assert_eq!(e.bad_signers, all, "{}", s.name());
    assert_eq!(e.valid, 0);
}

#[test]
fn multisig_roundtrip_and_fallback() {
    let (s, k) = multisig(7);
    roundtrip(&s, &k, 5);
}

#[test]
fn bls_aggregate_roundtrip_and_fallback() {
    let (s, k) = aggregate(7);
    roundtrip(&s, &k, 5);
}

#[test]
fn bls_threshold_roundtrip_and_fallback() {
    let (s, k) = threshold(7, 5);
    roundtrip(&s, &k, 5);
}

#[test]
fn sub_quorum_certificates_fail_the_quorum_check() {
    let (s, k) = multisig(4);
    let committee = WeightedCommittee::new(vec![1; 4], 1).unwrap();
    let two = shares(&s, &k, 0..2, &[], b"m");
    let a = s.assemble(b"m", &two).unwrap();
    assert!(s.verify_certificate(b"m", &a.cert));
    assert!(!verify_quorum(&s, &committee, b"m", &a.cert));
    // Weighted: node 3 alone holds a quorum of weight.
    let heavy = WeightedCommittee::new(vec![1, 1, 1, 10], 2).unwrap();
    let a = s.assemble(b"m", &shares(&s, &k, [3], &[], b"m")).unwrap();
    assert!(verify_quorum(&s, &heavy, b"m", &a.cert));
    // A threshold of 2 is not a quorum of 4 equal replicas.
    let (t, tk) = threshold(4, 2);
    let a = t.assemble(b"m", &shares(&t, &tk, 0..2, &[], b"m")).unwrap();
    assert!(t.verify_certificate(b"m", &a.cert));
    assert!(!verify_quorum(&t, &committee, b"m", &a.cert));
    let (t, tk) = threshold(4, 3);
    let e = t
        .assemble(b"m", &shares(&t, &tk, 0..2, &[], b"m"))
        .unwrap_err();
    assert_eq!((e.valid, e.needed), (2, 3));
}

#[test]
fn tampered_certificates_are_rejected() {
    let (s, k) = multisig(4);
    let a = s.assemble(b"m", &shares(&s, &k, 0..3, &[], b"m")).unwrap();
    let mut c = a.cert.clone();
    c.signatures.swap(0, 1);
    assert!(!s.verify_certificate(b"m", &c));
    let mut c = a.cert.clone();
    c.signatures.pop();
    assert!(!s.verify_certificate(b"m", &c), "length mismatch");
    let mut c = a.cert.clone();
    c.signers.insert(NodeId(9));
    c.signatures.push(c.signatures[0]);
    assert!(!s.verify_certificate(b"m", &c), "unknown signer");
    let (b, bk) = aggregate(4);
    let a = b.assemble(b"m", &shares(&b, &bk, 0..3, &[], b"m")).unwrap();
    let mut c = a.cert.clone();
    c.signers.insert(NodeId(3));
    assert!(
        !b.verify_certificate(b"m", &c),
        "claims a signer who did not sign"
    );
    // Domains separate protocols.
    let other = BlsAggregate::new(AggKeyring::bls(4, 5).publics, b"other protocol");
    assert!(!other.verify_certificate(b"m", &a.cert));
}

#[test]
fn lightest_weight_sums_the_smallest() {
    let c = WeightedCommittee::new(vec![5, 1, 3, 2], 1).unwrap();
    assert_eq!(lightest_weight(&c, 2), 3);
    assert_eq!(lightest_weight(&c, 9), 11);
}

#[test]
fn signer_binding_matches_pbft_statements() {
    use dwcp_core::Digest;
    use dwcp_pbft::{Checkpoint, SIGNING_CONTEXT, Signed, Statement};
    let k = Keyring::sr25519(4, 9);
    let s = MultiSig::with_signer_binding(k.publics.clone(), SIGNING_CONTEXT);
    let (seq, state) = (16u64, Digest::of(b"state"));
    let mut msg = vec![Checkpoint::TAG];
    msg.extend_from_slice(&dwcp_core::codec::encode(&(seq, state)));
    for i in 0..4u32 {
        let body = Checkpoint {
            seq,
            state,
            replica: NodeId(i),
        };
        assert_eq!(s.signed_bytes(NodeId(i), &msg), body.signing_bytes());
        let signed = Signed::sign(body, &k.secrets[i as usize]);
        assert!(s.verify_share(NodeId(i), &msg, &signed.signature));
        assert!(!s.verify_share(NodeId((i + 1) % 4), &msg, &signed.signature));
        assert_eq!(s.sign(&k.secrets[i as usize], &msg), signed.signature);
    }
    roundtrip(&s, &k.secrets, 3);
}
