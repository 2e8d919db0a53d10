//! The message log: one slot per sequence number inside the watermark
//! window `(h, h + L]`, the stable checkpoint `h` with its proof, and this
//! replica's prepared certificates (which view-changes carry).

use crate::message::{
    CheckpointProof, PrePrepare, PreparedProof, Request, Signed, VoteCertificate, VotePhase,
    VotedProof,
};
use crate::state::genesis_state;
use dwcp_core::{Digest, NodeId, Time};
use dwcp_crypto::Signature;
use std::collections::{BTreeMap, BTreeSet};

/// Where a `(view, seq)` stands relative to this replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Process it now.
    Now,
    /// Too early (future view, or just beyond the high watermark): buffer it.
    Early,
    /// Stale or far out of range: drop it silently.
    Drop,
}

/// One sequence number's state in the current view.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slot {
    /// The accepted pre-prepare and its batch.
    pub pre_prepare: Option<(Signed<PrePrepare>, Vec<Request>)>,
    /// Prepare votes by backup: digest and signature.
    pub prepares: BTreeMap<NodeId, (Digest, Signature)>,
    /// Commit votes by replica.
    pub commits: BTreeMap<NodeId, (Digest, Signature)>,
    /// Whether this replica holds a prepared certificate.
    pub prepared: bool,
    /// The commit certificate once committed locally.
    pub committed: Option<VoteCertificate>,
    /// When the pre-prepare was accepted or this replica's messages for the
    /// slot were last retransmitted.
    pub touched: Time,
    /// Fast path, as collector: prepared, still waiting for a fast quorum
    /// until then.
    pub fast_wait: Option<Time>,
    /// Fast path, as collector: the wait ended and the prepare certificate
    /// went out (the slot is on the slow path).
    pub fell_back: bool,
    /// Endorsed proposals: each member's first share, with the digest it
    /// endorses.
    pub endorsements: BTreeMap<NodeId, (Digest, Vec<u8>)>,
    /// Endorsed proposals: the pre-prepare's endorsement is complete (this
    /// replica prepared it).
    pub endorsed: bool,
}

impl Slot {
    /// The accepted digest, if any.
    pub(crate) fn digest(&self) -> Option<Digest> {
        self.pre_prepare.as_ref().map(|(pp, _)| pp.body.digest)
    }

    /// The votes of `phase`.
    pub(crate) fn votes(&self, phase: VotePhase) -> &BTreeMap<NodeId, (Digest, Signature)> {
        match phase {
            VotePhase::Prepare => &self.prepares,
            VotePhase::Commit => &self.commits,
        }
    }

    /// The votes of `phase`, mutably.
    pub(crate) fn votes_mut(
        &mut self,
        phase: VotePhase,
    ) -> &mut BTreeMap<NodeId, (Digest, Signature)> {
        match phase {
            VotePhase::Prepare => &mut self.prepares,
            VotePhase::Commit => &mut self.commits,
        }
    }

    /// The voters of `phase` for `digest`, and their signatures.
    pub(crate) fn matching(
        &self,
        phase: VotePhase,
        digest: Digest,
    ) -> (BTreeSet<NodeId>, Vec<(NodeId, Signature)>) {
        let mut set = BTreeSet::new();
        let mut sigs = vec![];
        for (id, (d, s)) in self.votes(phase) {
            if *d == digest {
                set.insert(*id);
                sigs.push((*id, *s));
            }
        }
        (set, sigs)
    }
}

/// Slots, watermarks and prepared certificates.
#[derive(Clone, Debug)]
pub(crate) struct Log {
    /// The stable checkpoint (low watermark `h = stable.seq`).
    pub stable: CheckpointProof,
    /// `L`.
    pub window: u64,
    /// Slots of the current view, `(h, h + L]`.
    pub slots: BTreeMap<u64, Slot>,
    /// Highest-view prepared certificate per sequence number above `h`.
    pub prepared: BTreeMap<u64, PreparedProof>,
    /// Fast path: this replica's own highest-view prepare vote per sequence
    /// number above `h` (kept across views, reported in view-changes).
    pub voted: BTreeMap<u64, VotedProof>,
}

impl Log {
    pub(crate) fn new(window: u64) -> Log {
        Log {
            stable: CheckpointProof {
                seq: 0,
                state: genesis_state(),
                signatures: vec![],
            },
            window,
            slots: BTreeMap::new(),
            prepared: BTreeMap::new(),
            voted: BTreeMap::new(),
        }
    }

    /// The low watermark `h`.
    pub(crate) fn low(&self) -> u64 {
        self.stable.seq
    }

    /// The high watermark `h + L`.
    pub(crate) fn high(&self) -> u64 {
        self.low().saturating_add(self.window)
    }

    /// Classifies a sequence number: inside the window, just beyond it
    /// (within another window), or out of range.
    pub(crate) fn place(&self, seq: u64) -> Place {
        if seq <= self.low() {
            Place::Drop
        } else if seq <= self.high() {
            Place::Now
        } else if seq <= self.high().saturating_add(self.window) {
            Place::Early
        } else {
            Place::Drop
        }
    }

    /// The slot of `seq` (created empty if needed). Callers check the window.
    pub(crate) fn slot(&mut self, seq: u64) -> &mut Slot {
        self.slots.entry(seq).or_default()
    }

    /// Accepts a pre-prepare and its batch into the slot of its sequence
    /// number. Callers check the window.
    pub(crate) fn install(&mut self, pp: Signed<PrePrepare>, batch: Vec<Request>, now: Time) {
        let slot = self.slot(pp.body.seq);
        slot.pre_prepare = Some((pp, batch));
        slot.touched = now;
    }

    /// Keeps `proof` as this replica's prepared certificate for its sequence
    /// number unless one from a higher view is already held.
    pub(crate) fn keep_prepared(&mut self, proof: PreparedProof) {
        let seq = proof.pre_prepare.body.seq;
        if seq <= self.low() {
            return;
        }
        let newer = self
            .prepared
            .get(&seq)
            .is_none_or(|old| old.pre_prepare.body.view <= proof.pre_prepare.body.view);
        if newer {
            self.prepared.insert(seq, proof);
        }
    }

    /// Keeps `v` as this replica's own vote for its sequence number unless
    /// one from a higher view is already held.
    pub(crate) fn keep_voted(&mut self, v: VotedProof) {
        let seq = v.pre_prepare.body.seq;
        if seq <= self.low() {
            return;
        }
        let newer = self
            .voted
            .get(&seq)
            .is_none_or(|old| old.pre_prepare.body.view <= v.pre_prepare.body.view);
        if newer {
            self.voted.insert(seq, v);
        }
    }

    /// Makes `proof` the stable checkpoint and garbage-collects everything at
    /// or below it. Returns false (and does nothing) if it is not newer.
    pub(crate) fn advance(&mut self, proof: CheckpointProof) -> bool {
        if proof.seq <= self.low() {
            return false;
        }
        let h = proof.seq;
        self.stable = proof;
        self.slots = self.slots.split_off(&h.saturating_add(1));
        self.prepared = self.prepared.split_off(&h.saturating_add(1));
        self.voted = self.voted.split_off(&h.saturating_add(1));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::batch_digest;

    fn proof(seq: u64) -> CheckpointProof {
        CheckpointProof {
            seq,
            state: Digest::of(&seq.to_le_bytes()),
            signatures: vec![],
        }
    }

    #[test]
    fn watermarks_classify_sequence_numbers() {
        let mut log = Log::new(8);
        assert_eq!(
            (log.place(0), log.place(1), log.place(8)),
            (Place::Drop, Place::Now, Place::Now)
        );
        assert_eq!(
            (log.place(9), log.place(16), log.place(17)),
            (Place::Early, Place::Early, Place::Drop)
        );
        assert!(log.advance(proof(4)));
        assert_eq!(
            (log.place(4), log.place(12), log.place(13)),
            (Place::Drop, Place::Now, Place::Early)
        );
        assert_eq!(log.place(u64::MAX), Place::Drop);
        assert!(!log.advance(proof(4)));
        assert!(!log.advance(proof(2)));
    }

    #[test]
    fn advancing_collects_garbage() {
        let mut log = Log::new(8);
        for seq in 1..=8 {
            log.slot(seq).prepared = true;
        }
        assert!(log.advance(proof(4)));
        assert_eq!(
            log.slots.keys().copied().collect::<Vec<_>>(),
            vec![5, 6, 7, 8]
        );
        assert_eq!(log.low(), 4);
        assert_eq!(log.high(), 12);
    }

    #[test]
    fn matching_votes_filter_by_digest() {
        let keys = dwcp_crypto::Keyring::insecure_mock(1, 1);
        let sig = keys.secrets[0].sign(b"x", b"y");
        let mut slot = Slot::default();
        let d = batch_digest(&[]);
        slot.prepares.insert(NodeId(1), (d, sig));
        slot.prepares.insert(NodeId(2), (Digest::of(b"other"), sig));
        slot.prepares.insert(NodeId(3), (d, sig));
        let (set, sigs) = slot.matching(VotePhase::Prepare, d);
        assert_eq!(set.len(), 2);
        assert_eq!(sigs.len(), 2);
        assert!(slot.matching(VotePhase::Commit, d).0.is_empty());
    }
}
