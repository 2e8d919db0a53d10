//! Durable records and crash recovery.
//!
//! A replica emits `Output::Persist(record)` *before* the send that depends
//! on it (the host holds the send until the record is durable):
//!
//! | before sending / doing | it persists |
//! |---|---|
//! | a pre-prepare | [`Record::PrePrepare`] (with the batch) |
//! | a prepare or commit | [`Record::Vote`] (and [`Record::Prepared`] before the commit) |
//! | a prepare or pre-prepare, with the fast path on | [`Record::Voted`] too |
//! | a checkpoint | [`Record::Checkpoint`] |
//! | a view-change | [`Record::View`] `{ active: false }`, [`Record::ViewChange`] |
//! | a new-view (as primary) | [`Record::NewView`] |
//! | entering a view from a new-view | [`Record::View`] `{ active: true }` |
//! | delivering requests | [`Record::Executed`] |
//! | moving the low watermark | [`Record::Stable`] |
//!
//! [`crate::Pbft`]'s `restore` replays them: the replica comes back in the
//! highest view it reached (never lower), refuses to sign a second digest
//! for any `(view, seq, phase)` it already signed, keeps its prepared
//! certificates for future view-changes, and resumes execution after the
//! last executed batch without delivering anything twice.

use crate::message::{
    Checkpoint, CheckpointProof, Message, NewView, PrePrepare, PreparedProof, Request, Signed,
    ViewChange, Vote, VotePhase, VotedProof, batch_digest,
};
use crate::policy::Policy;
use crate::replica::Pbft;
use crate::verify::{self, SigBatch};
use dwcp_core::{Digest, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A durable record; see the module docs for when each is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Entered `view`: `active: false` when starting a view change to it,
    /// `true` once its new-view was accepted.
    View {
        /// The view.
        view: u64,
        /// Whether the new-view was accepted.
        active: bool,
    },
    /// A pre-prepare this replica signed as primary, with its batch.
    PrePrepare {
        /// The signed statement.
        pre_prepare: Signed<PrePrepare>,
        /// The batch.
        batch: Vec<Request>,
    },
    /// A prepare or commit this replica signed.
    Vote(Signed<Vote>),
    /// A checkpoint this replica signed.
    Checkpoint(Signed<Checkpoint>),
    /// A view-change this replica signed.
    ViewChange(Signed<ViewChange>),
    /// A new-view this replica signed as primary (with `O`).
    NewView(Signed<NewView>),
    /// A prepared certificate this replica holds.
    Prepared(PreparedProof),
    /// With the fast path ([`crate::fast`]): this replica's own prepare vote
    /// (or, as primary, its pre-prepare) with the batch, which its
    /// view-changes must report even after a crash.
    Voted(VotedProof),
    /// A new stable checkpoint.
    Stable(CheckpointProof),
    /// Executed `seq`; `delivered` lists the keys delivered by it.
    Executed {
        /// The sequence number.
        seq: u64,
        /// The state digest after it.
        state: Digest,
        /// `(client, id)` of the requests delivered.
        delivered: Vec<(u64, u64)>,
    },
}

/// What was signed for a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SignKind {
    PrePrepare,
    Prepare,
    Commit,
}

impl From<VotePhase> for SignKind {
    fn from(p: VotePhase) -> SignKind {
        match p {
            VotePhase::Prepare => SignKind::Prepare,
            VotePhase::Commit => SignKind::Commit,
        }
    }
}

/// Remembers every digest this replica signed per slot, so it never signs
/// a conflicting one (also across restarts, rebuilt from the records).
#[derive(Clone, Debug, Default)]
pub(crate) struct SignGuard {
    slots: BTreeMap<(u64, u64, SignKind), Digest>,
    checkpoints: BTreeMap<u64, Digest>,
}

impl SignGuard {
    /// True (and remembered) unless a different digest was already signed
    /// for `(view, seq, kind)`.
    pub(crate) fn allow(&mut self, view: u64, seq: u64, kind: SignKind, digest: Digest) -> bool {
        *self.slots.entry((view, seq, kind)).or_insert(digest) == digest
    }

    /// The same for checkpoints.
    pub(crate) fn allow_checkpoint(&mut self, seq: u64, state: Digest) -> bool {
        *self.checkpoints.entry(seq).or_insert(state) == state
    }

    /// Forgets slots at or below the stable checkpoint (never signed again).
    pub(crate) fn collect_below(&mut self, seq: u64) {
        self.slots.retain(|(_, s, _), _| *s > seq);
        self.checkpoints = self.checkpoints.split_off(&seq.saturating_add(1));
    }

    /// Remembered entries (slots and checkpoints), for memory-bound tests.
    #[cfg(all(test, feature = "sim"))]
    pub(crate) fn len(&self) -> usize {
        self.slots.len() + self.checkpoints.len()
    }

    /// Forgets views below `view` (never signed in again).
    pub(crate) fn collect_views_below(&mut self, view: u64) {
        self.slots = self.slots.split_off(&(view, 0, SignKind::PrePrepare));
    }
}

impl<P: Policy> Pbft<P> {
    fn note_view(&mut self, view: u64, active: bool) {
        if view > self.view {
            self.view = view;
            self.active = active;
        } else if view == self.view && active {
            self.active = true;
        }
    }

    /// Rebuilds state from persisted records (see the module docs).
    pub(crate) fn restore_records(&mut self, now: Time, records: Vec<Record>) {
        let mut own_pps: BTreeMap<(u64, u64), (Signed<PrePrepare>, Vec<Request>)> = BTreeMap::new();
        let mut own_vc: Option<Signed<ViewChange>> = None;
        let mut own_nv: Option<Signed<NewView>> = None;
        let mut own_checkpoints = vec![];
        let me = self.id;
        for rec in records {
            match rec {
                Record::View { view, active } => self.note_view(view, active),
                Record::PrePrepare {
                    pre_prepare: pp,
                    batch,
                } => {
                    if pp.signer() == me
                        && pp.verify(&self.publics)
                        && batch_digest(&batch) == pp.body.digest
                    {
                        let b = &pp.body;
                        self.guard
                            .allow(b.view, b.seq, SignKind::PrePrepare, b.digest);
                        own_pps.insert((b.view, b.seq), (pp, batch));
                    }
                }
                Record::Vote(v) => {
                    if v.signer() == me && v.verify(&self.publics) {
                        let b = &v.body;
                        self.guard
                            .allow(b.view, b.seq, SignKind::from(b.phase), b.digest);
                    }
                }
                Record::Checkpoint(c) => {
                    if c.signer() == me && c.verify(&self.publics) {
                        self.guard.allow_checkpoint(c.body.seq, c.body.state);
                        own_checkpoints.push(c);
                    }
                }
                Record::ViewChange(vc) => {
                    if vc.signer() == me && vc.verify(&self.publics) {
                        self.note_view(vc.body.view, false);
                        if own_vc.as_ref().is_none_or(|o| o.body.view < vc.body.view) {
                            own_vc = Some(vc);
                        }
                    }
                }
                Record::NewView(nv) => {
                    if nv.signer() == me && nv.verify(&self.publics) {
                        for pp in &nv.body.pre_prepares {
                            let b = &pp.body;
                            self.guard
                                .allow(b.view, b.seq, SignKind::PrePrepare, b.digest);
                        }
                        self.note_view(nv.body.view, true);
                        if own_nv.as_ref().is_none_or(|o| o.body.view < nv.body.view) {
                            own_nv = Some(nv);
                        }
                    }
                }
                Record::Prepared(p) => {
                    let mut sigs = SigBatch::default();
                    let ok = verify::prepared_proof(&self.policy, &p, u64::MAX, &mut sigs).is_ok();
                    if ok && sigs.verify(&self.publics).is_ok() {
                        self.log.keep_prepared(p);
                    }
                }
                Record::Voted(v) => {
                    if crate::fast::own_vote_ok(&self.policy, &self.publics, me, &v) {
                        self.log.keep_voted(v);
                    }
                }
                Record::Stable(proof) => {
                    let mut sigs = SigBatch::default();
                    let ok = verify::checkpoint_proof(&self.policy, &proof, &mut sigs).is_ok();
                    if ok && sigs.verify(&self.publics).is_ok() {
                        self.log.advance(proof);
                    }
                }
                Record::Executed {
                    seq,
                    state,
                    delivered,
                } => {
                    if seq > self.exec.last {
                        self.exec.last = seq;
                        self.exec.state = state;
                        self.exec.delivered.extend(delivered);
                        if seq.is_multiple_of(self.cfg.checkpoint_interval) {
                            self.exec.states.insert(seq, state);
                        }
                    }
                }
            }
        }
        self.resume(now, own_pps, own_vc, own_nv, own_checkpoints);
    }

    /// Picks up where the records left off.
    fn resume(
        &mut self,
        now: Time,
        own_pps: BTreeMap<(u64, u64), (Signed<PrePrepare>, Vec<Request>)>,
        own_vc: Option<Signed<ViewChange>>,
        own_nv: Option<Signed<NewView>>,
        own_checkpoints: Vec<Signed<Checkpoint>>,
    ) {
        let low = self.log.low();
        self.guard.collect_below(low);
        self.guard.collect_views_below(self.view);
        self.next_seq = low.saturating_add(1);
        for c in own_checkpoints.into_iter().filter(|c| c.body.seq > low) {
            self.checkpoints
                .entry(c.body.seq)
                .or_default()
                .insert(self.id, (c.body.state, c.signature));
        }
        let view = self.view;
        if self.active {
            if let Some(nv) = own_nv.filter(|nv| nv.body.view == view) {
                let plan = crate::viewchange::compute_new_view_with(
                    &self.policy,
                    nv.body.view_changes.iter().map(|v| &v.body),
                );
                for pp in &nv.body.pre_prepares {
                    if let Some((_, batch)) = plan.entries.get(&pp.body.seq) {
                        own_pps_insert(&mut self.log, pp.clone(), batch.clone(), low, now);
                        self.next_seq = self.next_seq.max(pp.body.seq.saturating_add(1));
                        // The new-view's pre-prepares are our votes in this
                        // view (fast path): report them even if the crash
                        // came before their own records.
                        self.note_own_vote(pp.body.seq, None);
                    }
                }
                self.vc.new_view = Some(nv);
            }
            for ((v, seq), (pp, batch)) in own_pps {
                if v == view && seq > low {
                    // Re-send our proposals: they may never have left.
                    self.broadcast(Message::PrePrepare {
                        pre_prepare: pp.clone(),
                        batch: batch.clone(),
                    });
                    own_pps_insert(&mut self.log, pp, batch, low, now);
                    self.next_seq = self.next_seq.max(seq.saturating_add(1));
                }
            }
            let seqs: Vec<u64> = self.log.slots.keys().copied().collect();
            for seq in seqs {
                self.check_prepared(now, seq);
            }
        } else {
            match own_vc.filter(|vc| vc.body.view == view) {
                Some(vc) => {
                    self.broadcast(Message::ViewChange(vc.clone()));
                    self.vc.latest.insert(self.id, (vc, true));
                    self.vc.timeout = self.vc.backoff;
                    self.resend_at = Some(now + self.cfg.request_timeout);
                    self.arm_view_change_timer(now);
                }
                None => {
                    // Crashed between the two records of a view change: redo it.
                    self.view = view.saturating_sub(1);
                    self.start_view_change(now, view);
                }
            }
        }
        self.probe_random_peer();
    }
}

fn own_pps_insert(
    log: &mut crate::log::Log,
    pp: Signed<PrePrepare>,
    batch: Vec<Request>,
    low: u64,
    now: Time,
) {
    let seq = pp.body.seq;
    if seq > low && seq <= log.high() {
        log.install(pp, batch, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_refuses_conflicts_and_forgets_old_slots() {
        let mut g = SignGuard::default();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        assert!(g.allow(1, 5, SignKind::Prepare, a));
        assert!(g.allow(1, 5, SignKind::Prepare, a));
        assert!(!g.allow(1, 5, SignKind::Prepare, b));
        assert!(g.allow(1, 5, SignKind::Commit, b));
        assert!(g.allow(2, 5, SignKind::Prepare, b));
        assert!(g.allow_checkpoint(16, a) && !g.allow_checkpoint(16, b));
        g.collect_views_below(2);
        assert!(g.allow(1, 5, SignKind::Prepare, b), "view 1 forgotten");
        g.collect_below(5);
        assert!(g.allow(2, 5, SignKind::Prepare, a), "seq 5 forgotten");
        assert!(
            !g.allow_checkpoint(16, b),
            "checkpoint 16 is above 5, still remembered"
        );
        g.collect_below(16);
        assert!(g.allow_checkpoint(16, b));
    }
}
