use crate::PbftEquivocation;
use dwcp_core::{Digest, NodeId, codec};
use dwcp_crypto::{Keyring, Signed};
use dwcp_pbft::PrePrepare;
use dwcp_reputation::{Ledger, LedgerConfig, TransferableEvidence};

fn pp(view: u64, seq: u64, d: &[u8], primary: u32) -> PrePrepare {
    PrePrepare {
        view,
        seq,
        digest: Digest::of(d),
        primary: NodeId(primary),
    }
}

#[test]
fn conflicting_signed_pre_prepares_mark_for_good() {
    let keys = Keyring::sr25519(4, 3);
    let a = codec::encode(&Signed::sign(pp(1, 5, b"a", 1), &keys.secrets[1]));
    let b = codec::encode(&Signed::sign(pp(1, 5, b"b", 1), &keys.secrets[1]));
    let other_slot = codec::encode(&Signed::sign(pp(1, 6, b"b", 1), &keys.secrets[1]));
    let forged = codec::encode(&Signed::sign(pp(1, 5, b"b", 1), &keys.secrets[2]));
    let ev = |first: &[u8], second: &[u8], culprit: u32| {
        PbftEquivocation {
            culprit: NodeId(culprit),
            first,
            second,
            publics: &keys.publics,
        }
        .verify()
    };
    assert!(ev(&a, &b, 1));
    assert!(!ev(&a, &a, 1), "identical statements are no conflict");
    assert!(!ev(&a, &other_slot, 1), "different slots are no conflict");
    assert!(!ev(&a, &forged, 1), "someone else's key");
    assert!(!ev(&a, &b, 2), "wrong culprit");
    let mut ledger = Ledger::new(4, LedgerConfig::default());
    let proof = PbftEquivocation {
        culprit: NodeId(1),
        first: &a,
        second: &b,
        publics: &keys.publics,
    };
    assert!(ledger.mark_byzantine(&proof));
    assert_eq!(ledger.scores().unwrap().get(NodeId(1)), 0.0);
}
