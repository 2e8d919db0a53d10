//! The primary group's threshold signature over decisions, and the
//! certificates from which non-group nodes learn them.
//!
//! Every primary-group member holds a blsttc key share (threshold `f + 1`
//! of the group, so at least one honest member vouches for every
//! certificate). After committing the `index`-th value of epoch `epoch`, a
//! member signs the [`Decision`]; any `f + 1` shares combine into one
//! [`DecisionCertificate`] that verifies under the group key alone. A
//! [`Follower`] (a node outside the consensus group) accepts decisions in
//! order, certificate by certificate.

use crate::election::Election;
use dwcp_core::{Digest, NodeId};
use dwcp_crypto::{
    Certificate, CombineError, PartialSig, ThresholdPublic, ThresholdSetup, ThresholdShare,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Context prepended to every signed decision.
const CONTEXT: &[u8] = b"dwcp-tpbft-decision-v1";

/// The `index`-th committed value of `epoch`, by digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Decision {
    /// Epoch.
    pub epoch: u64,
    /// Position in the epoch's committed log (from 0).
    pub index: u64,
    /// Digest of the committed value.
    pub value: Digest,
}

impl Decision {
    /// The signed bytes: context, epoch, index, digest.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(CONTEXT.len() + 48);
        m.extend_from_slice(CONTEXT);
        m.extend_from_slice(&self.epoch.to_le_bytes());
        m.extend_from_slice(&self.index.to_le_bytes());
        m.extend_from_slice(&self.value.0);
        m
    }
}

/// A decision with the primary group's threshold signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionCertificate {
    /// What was decided.
    pub decision: Decision,
    /// The combined signature.
    pub signature: Certificate,
}

/// The public side of one epoch's primary group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    /// Epoch.
    pub epoch: u64,
    /// Group members; member `k` holds threshold share `k`.
    pub members: Vec<NodeId>,
    /// The threshold public key (`f + 1` of `members.len()`).
    pub public: ThresholdPublic,
}

/// A group member's signing key.
#[derive(Clone, Debug)]
pub struct GroupSigner {
    /// The member's node id.
    pub node: NodeId,
    share: ThresholdShare,
}

impl GroupSigner {
    /// This member's share on `decision`.
    pub fn sign(&self, decision: &Decision) -> PartialSig {
        self.share.sign(&decision.signing_bytes())
    }

    /// This member's share on arbitrary bytes (the engine's proposal
    /// endorsements, see [`crate::ProposalEndorser`]).
    pub fn sign_bytes(&self, bytes: &[u8]) -> PartialSig {
        self.share.sign(bytes)
    }
}

/// Deals the primary group's keys for `election` (a trusted dealer seeded by
/// `seed`, as in simulations; a deployment runs a DKG per epoch). With
/// `mock` and the `insecure-mock-crypto` feature, dwcp-crypto's INSECURE
/// mock shares are used (without the feature, real shares).
pub fn deal(election: &Election, seed: u64, mock: bool) -> (GroupKey, Vec<GroupSigner>) {
    let members = election.primary_group.clone();
    let g = members.len().max(1);
    let t = (election.f + 1).clamp(1, g);
    #[cfg(feature = "insecure-mock-crypto")]
    let setup = if mock {
        ThresholdSetup::insecure_mock(g, t, seed)
    } else {
        ThresholdSetup::generate(g, t, seed)
    };
    #[cfg(not(feature = "insecure-mock-crypto"))]
    let setup = {
        let _ = mock;
        ThresholdSetup::generate(g, t, seed)
    };
    let signers = members
        .iter()
        .zip(setup.shares)
        .map(|(&node, share)| GroupSigner { node, share })
        .collect();
    (
        GroupKey {
            epoch: election.epoch,
            members,
            public: setup.public,
        },
        signers,
    )
}

impl GroupKey {
    fn slot(&self, node: NodeId) -> Option<NodeId> {
        self.members
            .iter()
            .position(|m| *m == node)
            .map(|k| NodeId(k as u32))
    }

    /// Whether `share` is `node`'s valid share on `decision`.
    pub fn verify_share(&self, node: NodeId, decision: &Decision, share: &PartialSig) -> bool {
        self.slot(node).is_some_and(|k| {
            self.public
                .verify_share(k, &decision.signing_bytes(), share)
        })
    }

    /// Whether members' shares on `bytes` combine into a valid group
    /// signature (at least the threshold of good shares).
    pub fn signs(&self, bytes: &[u8], shares: &BTreeMap<NodeId, PartialSig>) -> bool {
        if shares.len() < self.public.threshold() {
            return false;
        }
        let mut mapped = BTreeMap::new();
        for (node, share) in shares {
            let k = self.slot(*node).unwrap_or(NodeId(u32::MAX));
            mapped.insert(k, share.clone());
        }
        self.public.combine(bytes, &mapped).is_ok()
    }

    /// Combines members' shares (keyed by node id; non-members are bad
    /// signers) into a certificate.
    pub fn combine(
        &self,
        decision: Decision,
        shares: &BTreeMap<NodeId, PartialSig>,
    ) -> Result<DecisionCertificate, CombineError> {
        let mut mapped = BTreeMap::new();
        for (node, share) in shares {
            // Non-members map past the end, where dwcp-crypto reports them bad.
            let k = self.slot(*node).unwrap_or(NodeId(u32::MAX));
            mapped.insert(k, share.clone());
        }
        let signature = self.public.combine(&decision.signing_bytes(), &mapped)?;
        Ok(DecisionCertificate {
            decision,
            signature,
        })
    }

    /// Whether `cert` is a valid certificate of this epoch's group.
    pub fn verify(&self, cert: &DecisionCertificate) -> bool {
        cert.decision.epoch == self.epoch
            && self
                .public
                .verify(&cert.decision.signing_bytes(), &cert.signature)
    }
}

/// Why a follower refused a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowError {
    /// The signature does not verify under the epoch's group key.
    BadSignature,
    /// Not the next index (already known, or a gap).
    OutOfOrder {
        /// The index the follower expects.
        expected: u64,
    },
}

/// A node outside the consensus group, learning decisions from
/// certificates in order.
#[derive(Clone, Debug)]
pub struct Follower {
    key: GroupKey,
    log: Vec<Digest>,
}

impl Follower {
    /// Follows the group with public key `key`.
    pub fn new(key: GroupKey) -> Follower {
        Follower { key, log: vec![] }
    }

    /// Accepts the next decision if its certificate verifies.
    pub fn accept(&mut self, cert: &DecisionCertificate) -> Result<(), FollowError> {
        if !self.key.verify(cert) {
            return Err(FollowError::BadSignature);
        }
        let expected = self.log.len() as u64;
        if cert.decision.index != expected {
            return Err(FollowError::OutOfOrder { expected });
        }
        self.log.push(cert.decision.value);
        Ok(())
    }

    /// Digests learned so far, in order.
    pub fn log(&self) -> &[Digest] {
        &self.log
    }
}

/// One epoch's committed log certified by its primary group, and whether a
/// [`Follower`] outside the group accepted it: the members for which
/// `signs` holds each sign [`Decision`] `{ epoch, index: 0, value }` (where
/// `value` is the digest of the epoch's committed log), the first `f + 1`
/// shares combine into a certificate, and a new follower checks it under
/// the group key alone. `None` when too few members sign (a follower then
/// learns nothing).
pub fn certify_log(
    election: &Election,
    seed: u64,
    mock: bool,
    signs: impl Fn(NodeId) -> bool,
    value: Digest,
) -> Option<DecisionCertificate> {
    let (key, signers) = deal(election, seed, mock);
    let decision = Decision {
        epoch: election.epoch,
        index: 0,
        value,
    };
    let t = election.f + 1;
    let shares: BTreeMap<NodeId, PartialSig> = signers
        .iter()
        .filter(|s| signs(s.node))
        .take(t)
        .map(|s| (s.node, s.sign(&decision)))
        .collect();
    let cert = key.combine(decision, &shares).ok()?;
    let mut follower = Follower::new(key);
    follower.accept(&cert).ok().map(|()| cert)
}
