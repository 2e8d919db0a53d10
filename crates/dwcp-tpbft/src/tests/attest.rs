//! Committed attestations: parsing, signatures, the f + 1 rule, evidence.

use crate::attest::{Attestation, Attestations, MAX_VIEWS};
use crate::{Election, PbftEquivocation};
use dwcp_core::{Digest, NodeId, codec};
use dwcp_crypto::{Keyring, PublicKey, Signed};
use dwcp_pbft::{PrePrepare, Request};
use dwcp_reputation::{Ledger, LedgerConfig, TransferableEvidence};

const N: usize = 7;
const BASE: u64 = 8;

fn setup() -> (Keyring, Vec<PublicKey>) {
    let keys = Keyring::sr25519(N, 9);
    // Client keys: 8 unrelated ones, then the replicas' (client BASE + r).
    let mut clients = Keyring::sr25519(BASE as usize, 10).publics;
    clients.extend(keys.publics.iter().cloned());
    (keys, clients)
}

fn signed(keys: &Keyring, r: u32, a: &Attestation) -> Request {
    a.to_request(NodeId(r), &keys.secrets[r as usize], BASE)
}

fn failed(epoch: u64, views: &[u64]) -> Attestation {
    Attestation {
        epoch,
        failed_views: views.to_vec(),
        ..Attestation::default()
    }
}

/// `failed` plus a timely checkpoint vote from every other replica.
fn failed_by(r: u32, views: &[u64]) -> Attestation {
    Attestation {
        timely: (0..N as u32)
            .filter(|i| *i != r)
            .map(|i| (NodeId(i), 3))
            .collect(),
        ..failed(0, views)
    }
}

#[test]
fn parse_verify_and_count_once() {
    let (keys, clients) = setup();
    let a = Attestation {
        epoch: 3,
        timely: vec![(NodeId(1), 2), (NodeId(4), 1)],
        failed_views: vec![0, 2],
        invalid: vec![(NodeId(5), 3)],
        conflicts: vec![],
    };
    let req = signed(&keys, 2, &a);
    assert_eq!(
        Attestation::from_request(&req, BASE, N),
        Some((NodeId(2), a.clone()))
    );
    let mut read = Attestations::new(2, N, 3);
    assert!(read.add(&req, BASE, &clients));
    // A second one from the same replica is ignored, so is another epoch's.
    assert!(!read.add(&signed(&keys, 2, &failed(3, &[1])), BASE, &clients));
    assert!(!read.add(&signed(&keys, 3, &failed(4, &[1])), BASE, &clients));
    // Signed with another replica's key: refused.
    let forged = a.to_request(NodeId(3), &keys.secrets[4], BASE);
    assert!(!read.add(&forged, BASE, &clients));
    assert_eq!(read.attesters(), vec![NodeId(2)]);
    // Malformed: ids out of order, out of range, too many views.
    for bad in [
        Attestation {
            timely: vec![(NodeId(4), 1), (NodeId(1), 1)],
            ..a.clone()
        },
        Attestation {
            invalid: vec![(NodeId(N as u32), 1)],
            ..a.clone()
        },
        failed(3, &(0..MAX_VIEWS as u64 + 1).collect::<Vec<_>>()),
    ] {
        assert_eq!(
            Attestation::from_request(&signed(&keys, 1, &bad), BASE, N),
            None
        );
    }
}

#[test]
fn a_view_fails_only_with_f_plus_one_attesters() {
    let (keys, clients) = setup();
    let election = Election::equal(N, 0).unwrap();
    let mut read = Attestations::new(2, N, 0);
    // f = 2 attesters claim view 1 failed: not enough.
    for r in [5, 6] {
        assert!(read.add(&signed(&keys, r, &failed_by(r, &[1])), BASE, &clients));
    }
    assert!(read.failed_primaries(&election).is_empty());
    assert!(read.add(&signed(&keys, 4, &failed_by(4, &[1, 3])), BASE, &clients));
    for r in [0, 2, 3] {
        assert!(read.add(&signed(&keys, r, &failed_by(r, &[])), BASE, &clients));
    }
    assert_eq!(read.failed_primaries(&election), vec![election.primary(1)]);
    let mut ledger = Ledger::new(N, LedgerConfig::default());
    read.apply(&mut ledger, &election, &keys.publics);
    let t = ledger.scores().unwrap().values;
    let p = election.primary(1).index();
    assert!((0..N).filter(|i| *i != p).all(|i| t[p] < t[i]), "{t:?}");
}

#[test]
fn a_relayed_conflict_marks_its_signer_and_a_bogus_one_does_not() {
    let (keys, clients) = setup();
    let pp = |d: &[u8]| PrePrepare {
        view: 0,
        seq: 1,
        digest: Digest::of(d),
        primary: NodeId(0),
    };
    let a = codec::encode(&Signed::sign(pp(b"a"), &keys.secrets[0]));
    let b = codec::encode(&Signed::sign(pp(b"b"), &keys.secrets[0]));
    let framed = codec::encode(&Signed::sign(pp(b"b"), &keys.secrets[6]));
    assert!(
        PbftEquivocation {
            culprit: NodeId(0),
            first: &a,
            second: &b,
            publics: &keys.publics
        }
        .verify()
    );
    let mut read = Attestations::new(2, N, 0);
    let honest = Attestation {
        conflicts: vec![(NodeId(0), a.clone(), b)],
        ..failed(0, &[])
    };
    // A Byzantine attester accuses node 1 with a pair it cannot sign.
    let liar = Attestation {
        conflicts: vec![(NodeId(1), a, framed)],
        ..failed(0, &[])
    };
    assert!(read.add(&signed(&keys, 3, &honest), BASE, &clients));
    assert!(read.add(&signed(&keys, 6, &liar), BASE, &clients));
    let mut ledger = Ledger::new(N, LedgerConfig::default());
    let marked = read.apply(&mut ledger, &Election::equal(N, 0).unwrap(), &keys.publics);
    assert_eq!(marked, vec![NodeId(0)]);
    assert!(ledger.is_byzantine(NodeId(0)) && !ledger.is_byzantine(NodeId(1)));
}

#[test]
fn fuzz_entry_never_panics() {
    let (keys, _) = setup();
    dwcp_core::fuzz::random_inputs(23, 300, 200, |_, data| {
        let _ = crate::fuzzing::attestations(&keys, data);
    });
}
