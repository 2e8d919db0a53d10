use crate::*;
use dwcp_core::{Digest, NodeId};
use dwcp_reputation::TrustScores;
use std::collections::BTreeMap;

fn election() -> Election {
    let v = [0.01, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2];
    let s = TrustScores {
        values: v.to_vec(),
        iterations: 0,
        converged: true,
    };
    Election::elect(&s, &ElectionParams::for_n(7), 2).unwrap()
}

fn decision(index: u64) -> Decision {
    Decision {
        epoch: 2,
        index,
        value: Digest::of(&index.to_le_bytes()),
    }
}

#[test]
fn group_threshold_certificates_teach_followers() {
    let e = election();
    assert!(!e.primary_group.contains(&NodeId(0)));
    let (key, signers) = deal(&e, 9, false);
    assert_eq!(key.public.threshold(), e.f + 1);
    let mut follower = Follower::new(key.clone());
    for i in 0..3 {
        let d = decision(i);
        // f + 1 = 3 members sign (a different subset each time).
        let shares: BTreeMap<NodeId, _> = signers
            .iter()
            .skip(i as usize % 2)
            .take(3)
            .map(|s| (s.node, s.sign(&d)))
            .collect();
        for (node, sh) in &shares {
            assert!(key.verify_share(*node, &d, sh));
        }
        let cert = key.combine(d, &shares).unwrap();
        assert!(key.verify(&cert));
        follower.accept(&cert).unwrap();
        assert_eq!(
            follower.accept(&cert),
            Err(FollowError::OutOfOrder { expected: i + 1 })
        );
    }
    assert_eq!(follower.log().len(), 3);
}

#[test]
fn too_few_or_foreign_shares_do_not_certify() {
    let e = election();
    let (key, signers) = deal(&e, 9, false);
    let d = decision(0);
    let few: BTreeMap<NodeId, _> = signers
        .iter()
        .take(2)
        .map(|s| (s.node, s.sign(&d)))
        .collect();
    assert!(key.combine(d, &few).is_err());
    // A non-member's "share" (node 0 signing with a member's key) is refused.
    let mut forged = few.clone();
    forged.insert(NodeId(0), signers[2].sign(&d));
    assert!(!key.verify_share(NodeId(0), &d, &signers[2].sign(&d)));
    assert!(key.combine(d, &forged).is_err());
    // A certificate for another decision or epoch does not verify.
    let three: BTreeMap<NodeId, _> = signers
        .iter()
        .take(3)
        .map(|s| (s.node, s.sign(&d)))
        .collect();
    let mut cert = key.combine(d, &three).unwrap();
    cert.decision.index = 1;
    assert!(!key.verify(&cert));
    let mut follower = Follower::new(key);
    assert_eq!(follower.accept(&cert), Err(FollowError::BadSignature));
}

#[test]
fn an_epoch_log_is_certified_only_with_f_plus_one_signing_members() {
    let e = election();
    let value = Digest::of(b"epoch log");
    let group = e.primary_group.clone();
    assert_eq!(group.len(), 5);
    // f + 1 = 3 members sign: certified, under the epoch's group key.
    let three = |x: NodeId| group[..3].contains(&x);
    let cert = certify_log(&e, 5, false, three, value).expect("certified");
    assert_eq!(cert.decision.value, value);
    assert_eq!(cert.decision.epoch, e.epoch);
    // Only f = 2 sign (the others withhold): no certificate.
    let two = |x: NodeId| group[..2].contains(&x);
    assert!(certify_log(&e, 5, false, two, value).is_none());
}
