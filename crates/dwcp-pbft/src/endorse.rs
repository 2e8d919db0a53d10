//! Endorsed proposals: a pre-prepare backed by a group signature.
//!
//! T-PBFT replaces the single primary by a primary group: the view's
//! primary proposes, but backups prepare its pre-prepare only once the
//! group has signed it. Under a [`Policy`] whose
//! [`Policy::requires_endorsement`] holds for a view:
//!
//! 1. every group member ([`Policy::is_endorser`]) that accepts the view's
//!    pre-prepare (the primary included, for its own) signs
//!    [`Endorsement::signing_bytes`] with its [`Endorser`] (set with
//!    [`Pbft::set_endorser`]) and broadcasts the share as an
//!    [`Endorsement`];
//! 2. a backup holding the pre-prepare collects the members' shares for
//!    its digest (one per member, sent by the member itself) and casts its
//!    prepare only when [`Policy::verify_endorsement`] accepts them (e.g.
//!    `f + 1` shares combine into a valid threshold signature, so at least
//!    one honest member vouched for the proposal);
//! 3. a member re-sends its share with its other messages for slots stuck
//!    uncommitted (retransmission).
//!
//! Pre-prepares re-issued in a new-view are justified by the quorum of
//! view-changes inside it and are prepared without endorsement. Safety
//! does not depend on endorsements (prepares keep PBFT's rules); they add
//! one message delay and keep a primary from getting a proposal prepared
//! that no honest group member accepted. A replica restarted by its host
//! needs [`Pbft::set_endorser`] again to endorse.

use crate::message::{Endorsement, Message, VotePhase};
use crate::policy::Policy;
use crate::replica::Pbft;
use dwcp_core::{Digest, Fault, NodeId, Target, Time};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Largest share accepted (bytes); blsttc shares are 96 bytes encoded.
pub const MAX_SHARE: usize = 1024;

/// Signs endorsement shares for one group member (its key share).
pub trait Endorser: Send + Sync {
    /// This member's share over `bytes`.
    fn share(&self, bytes: &[u8]) -> Vec<u8>;
}

/// An [`Endorser`] held by a replica.
#[derive(Clone)]
pub(crate) struct SharedEndorser(pub(crate) Arc<dyn Endorser>);

impl fmt::Debug for SharedEndorser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Endorser")
    }
}

impl<P: Policy> Pbft<P> {
    /// Gives this replica its share signer for endorsed proposals (needed
    /// only by primary-group members, see [`crate::endorse`]).
    pub fn set_endorser(&mut self, endorser: Arc<dyn Endorser>) {
        self.endorser = Some(SharedEndorser(endorser));
    }

    /// As a group member: signs and broadcasts a share on the accepted
    /// pre-prepare of `seq`.
    pub(crate) fn endorse_own(&mut self, now: Time, view: u64, seq: u64, digest: Digest) {
        if !self.policy.is_endorser(self.id, view) {
            return;
        }
        let Some(SharedEndorser(signer)) = &self.endorser else {
            return;
        };
        let share = signer.share(&Endorsement::signing_bytes(view, seq, &digest));
        let e = Endorsement {
            view,
            seq,
            digest,
            member: self.id,
            share,
        };
        self.log
            .slot(seq)
            .endorsements
            .entry(self.id)
            .or_insert((digest, e.share.clone()));
        // Only voters prepare, so only they need the shares.
        let voters: Vec<NodeId> = NodeId::all(self.cfg.n)
            .filter(|id| *id != self.id && self.policy.is_voter(*id, view))
            .collect();
        let to = if voters.len() + 1 >= self.cfg.n {
            Target::all_but(self.id)
        } else {
            Target::many(voters)
        };
        self.send(to, Message::Endorsement(e));
        self.check_endorsed(now, seq);
    }

    pub(crate) fn on_endorsement(&mut self, now: Time, from: NodeId, e: Endorsement) {
        if !self.policy.requires_endorsement(e.view) {
            return;
        }
        match self.place(e.view, e.seq) {
            crate::log::Place::Drop => return,
            crate::log::Place::Early => return self.buffer(from, Message::Endorsement(e)),
            crate::log::Place::Now => {}
        }
        if e.member != from || !self.policy.is_endorser(e.member, e.view) {
            return self.evidence(
                from,
                Fault::Protocol("endorsement not sent by a primary-group member"),
            );
        }
        if e.share.len() > MAX_SHARE {
            return self.evidence(from, Fault::Protocol("oversized endorsement share"));
        }
        self.log
            .slot(e.seq)
            .endorsements
            .entry(e.member)
            .or_insert((e.digest, e.share));
        self.check_endorsed(now, e.seq);
    }

    /// As a backup: prepares the pre-prepare of `seq` once the policy
    /// accepts the shares on its digest.
    pub(crate) fn check_endorsed(&mut self, now: Time, seq: u64) {
        let view = self.view;
        if self.is_primary() {
            return;
        }
        let Some(slot) = self.log.slots.get(&seq) else {
            return;
        };
        if slot.endorsed {
            return;
        }
        let Some(digest) = slot.digest() else {
            return;
        };
        let shares: BTreeMap<NodeId, Vec<u8>> = slot
            .endorsements
            .iter()
            .filter(|(_, (d, _))| *d == digest)
            .map(|(id, (_, s))| (*id, s.clone()))
            .collect();
        if !self.policy.verify_endorsement(view, seq, &digest, &shares) {
            return;
        }
        self.log.slot(seq).endorsed = true;
        self.cast_vote(VotePhase::Prepare, view, seq, digest);
        self.check_prepared(now, seq);
    }
}
