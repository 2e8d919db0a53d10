//! Signed protocol statements: the envelope every dwcp protocol signs its
//! votes, proposals and certificates with.
//!
//! A [`Statement`] names its signer and a domain: the signing context (one
//! per protocol, e.g. `b"dwcp-pbft"`) and a one-byte tag (one per statement
//! type), so that a signature on one kind of statement can never be replayed
//! as another. The signed bytes are `[TAG] ‖ bincode(statement)`.
//! [`SigBatch`] collects signatures from a composite message (a certificate,
//! a view change) and checks them with one batch verification, naming the
//! bad signers on failure.

use crate::SecretKey;
use crate::sig::{PublicKey, Signature, verify_batch};
use dwcp_core::{NodeId, codec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something a replica signs.
pub trait Statement: Serialize {
    /// The protocol's signing context.
    const CONTEXT: &'static [u8];
    /// The statement type's tag, prefixed to the encoding before signing.
    const TAG: u8;
    /// Who must have signed it.
    fn signer(&self) -> NodeId;
    /// The exact bytes that are signed: `[TAG] ‖ bincode(self)`.
    fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![Self::TAG];
        bytes.extend_from_slice(&codec::encode(self));
        bytes
    }
}

/// A statement and its signer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// What was said.
    pub body: T,
    /// The signature of [`Statement::signing_bytes`] by [`Statement::signer`].
    pub signature: Signature,
}

impl<T: Statement> Signed<T> {
    /// Signs `body` with `key` (which should belong to `body.signer()`; a
    /// Byzantine host may of course sign anything with its own key).
    pub fn sign(body: T, key: &SecretKey) -> Signed<T> {
        let signature = key.sign(T::CONTEXT, &body.signing_bytes());
        Signed { body, signature }
    }

    /// The claimed signer.
    pub fn signer(&self) -> NodeId {
        self.body.signer()
    }

    /// Whether the signature verifies under the signer's key in `publics`
    /// (an unknown signer never verifies).
    pub fn verify(&self, publics: &[PublicKey]) -> bool {
        verify_statement(&self.body, &self.signature, publics)
    }
}

/// Whether `sig` is `body`'s signature by its signer, whose key is
/// `publics[signer]` (an unknown signer never verifies).
pub fn verify_statement<T: Statement>(body: &T, sig: &Signature, publics: &[PublicKey]) -> bool {
    publics
        .get(body.signer().index())
        .is_some_and(|pk| pk.verify(T::CONTEXT, &body.signing_bytes(), sig))
}

/// Signatures waiting to be checked together.
#[derive(Clone, Debug, Default)]
pub struct SigBatch {
    items: Vec<(NodeId, &'static [u8], Vec<u8>, Signature)>,
}

impl SigBatch {
    /// An empty batch.
    pub fn new() -> SigBatch {
        SigBatch::default()
    }

    /// Queues `sig` as `body`'s signature by its signer.
    pub fn push<T: Statement>(&mut self, body: &T, sig: &Signature) {
        self.items
            .push((body.signer(), T::CONTEXT, body.signing_bytes(), *sig));
    }

    /// Queues a signed statement.
    pub fn push_signed<T: Statement>(&mut self, s: &Signed<T>) {
        self.push(&s.body, &s.signature);
    }

    /// How many signatures are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Checks everything queued (one batch verification per signing
    /// context); on failure, the signers of the bad items, in queue order.
    pub fn verify(&self, publics: &[PublicKey]) -> Result<(), Vec<NodeId>> {
        let mut by_context: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
        for (i, item) in self.items.iter().enumerate() {
            by_context.entry(item.1).or_default().push(i);
        }
        let mut bad = vec![];
        for (context, idx) in by_context {
            let mut items = Vec::with_capacity(idx.len());
            let mut owners = Vec::with_capacity(idx.len());
            for &i in &idx {
                let (signer, _, bytes, sig) = &self.items[i];
                match publics.get(signer.index()) {
                    Some(pk) => {
                        items.push((pk, bytes.as_slice(), sig));
                        owners.push(i);
                    }
                    None => bad.push(i),
                }
            }
            if let Err(failed) = verify_batch(context, &items) {
                bad.extend(failed.into_iter().filter_map(|j| owners.get(j).copied()));
            }
        }
        if bad.is_empty() {
            return Ok(());
        }
        bad.sort_unstable();
        Err(bad.into_iter().map(|i| self.items[i].0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keyring;

    #[derive(Serialize)]
    struct Vote {
        voter: NodeId,
        round: u64,
    }
    impl Statement for Vote {
        const CONTEXT: &'static [u8] = b"test-a";
        const TAG: u8 = 1;
        fn signer(&self) -> NodeId {
            self.voter
        }
    }

    #[derive(Serialize)]
    struct Other {
        voter: NodeId,
        round: u64,
    }
    impl Statement for Other {
        const CONTEXT: &'static [u8] = b"test-b";
        const TAG: u8 = 1;
        fn signer(&self) -> NodeId {
            self.voter
        }
    }

    #[test]
    fn sign_verify_and_domain_separation() {
        let k = Keyring::sr25519(3, 1);
        let s = Signed::sign(
            Vote {
                voter: NodeId(1),
                round: 4,
            },
            &k.secrets[1],
        );
        assert!(s.verify(&k.publics));
        // Wrong signer's key, unknown signer, other statement type with the same fields.
        let forged = Signed::sign(
            Vote {
                voter: NodeId(2),
                round: 4,
            },
            &k.secrets[1],
        );
        assert!(!forged.verify(&k.publics));
        assert!(!s.verify(&k.publics[..1]));
        assert!(!verify_statement(
            &Other {
                voter: NodeId(1),
                round: 4
            },
            &s.signature,
            &k.publics
        ));
    }

    #[test]
    fn batch_names_bad_signers_across_contexts() {
        let k = Keyring::sr25519(4, 2);
        let mut b = SigBatch::new();
        for i in 0..4u32 {
            let v = Signed::sign(
                Vote {
                    voter: NodeId(i),
                    round: 1,
                },
                &k.secrets[i as usize],
            );
            b.push_signed(&v);
            let o = Signed::sign(
                Other {
                    voter: NodeId(i),
                    round: 1,
                },
                &k.secrets[i as usize],
            );
            b.push_signed(&o);
        }
        assert_eq!(b.len(), 8);
        assert_eq!(b.verify(&k.publics), Ok(()));
        let bad = Signed::sign(
            Vote {
                voter: NodeId(2),
                round: 9,
            },
            &k.secrets[3],
        );
        b.push_signed(&bad);
        b.push(
            &Other {
                voter: NodeId(7),
                round: 1,
            },
            &bad.signature,
        );
        assert_eq!(b.verify(&k.publics), Err(vec![NodeId(2), NodeId(7)]));
    }
}
