//! Durable records and crash recovery.
//!
//! A replica emits `Output::Persist(record)` *before* the send or delivery
//! that depends on it (the host holds later sends until the record is
//! durable):
//!
//! | before | it persists |
//! |---|---|
//! | sending a proposal (as leader) | [`Record::Proposed`] |
//! | sending a prepare or commit | [`Record::Vote`] (and [`Record::Prepared`] before the commit) |
//! | sending a view-change | [`Record::View`] `{ active: false }`, [`Record::ViewChange`] |
//! | sending a new-view (as leader) | [`Record::NewView`] |
//! | working in a view entered through a new-view | [`Record::View`] `{ active: true }` |
//! | delivering a batch | [`Record::Decided`] |
//!
//! `restore` replays them: the replica comes back in the highest view it
//! reached (never lower); never signs a second digest for a
//! `(phase, view, slot)` or a second proposal for a `(view, slot)`; re-sends
//! (never replaces) the view-change and new-view it signed for a view; keeps
//! its prepared certificates for future view-changes; resumes after the
//! last decided slot without delivering anything twice; and asks everybody
//! for the decided batches it missed while down. Records that do not
//! verify (not signed by this replica, malformed certificates) are skipped.

use crate::message::{
    NewView, Phase, PreparedCert, Proposal, Request, Signed, ViewChange, Vote, batch_digest,
};
use crate::replica::{DecidedSlot, Probft};
use crate::verify::{check_cert, check_proposal, check_view_change};
use dwcp_core::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A durable record; see the module docs for when each is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Entered `view`: `active: false` when starting a view change to it,
    /// `true` once its new-view was accepted, with the view's first fresh slot.
    View {
        /// The view.
        view: u64,
        /// Whether the new-view was accepted.
        active: bool,
        /// First slot of fresh proposals in the view.
        start: u64,
    },
    /// A proposal this replica signed as leader.
    Proposed(Proposal),
    /// A prepare or commit this replica signed.
    Vote(Signed<Vote>),
    /// A prepared certificate this replica holds.
    Prepared(PreparedCert),
    /// A view-change this replica signed.
    ViewChange(Signed<ViewChange>),
    /// A new-view this replica signed as leader.
    NewView(Signed<NewView>),
    /// `slot` decided (or adopted) with `batch`.
    Decided {
        /// The slot.
        slot: u64,
        /// The batch.
        batch: Vec<Request>,
    },
}

/// Everything this replica signed per position, so it never signs a
/// conflicting statement (also across restarts, rebuilt from the records).
#[derive(Clone, Debug, Default)]
pub(crate) struct SignGuard {
    votes: BTreeMap<(u64, u64, Phase), Digest>,
    proposals: BTreeMap<(u64, u64), Digest>,
}

impl SignGuard {
    /// True (and remembered) unless another digest was voted for this
    /// `(phase, view, slot)`.
    pub(crate) fn allow_vote(
        &mut self,
        phase: Phase,
        view: u64,
        slot: u64,
        digest: Digest,
    ) -> bool {
        *self.votes.entry((view, slot, phase)).or_insert(digest) == digest
    }

    /// True (and remembered) unless another digest was proposed for `(view, slot)`.
    pub(crate) fn allow_proposal(&mut self, view: u64, slot: u64, digest: Digest) -> bool {
        *self.proposals.entry((view, slot)).or_insert(digest) == digest
    }

    /// Whether a proposal was signed for `(view, slot)`.
    pub(crate) fn proposed(&self, view: u64, slot: u64) -> bool {
        self.proposals.contains_key(&(view, slot))
    }

    /// Forgets views below `view` (never signed in again).
    pub(crate) fn forget_views_below(&mut self, view: u64) {
        self.votes = self.votes.split_off(&(view, 0, Phase::Prepare));
        self.proposals = self.proposals.split_off(&(view, 0));
    }
}

impl Probft {
    /// Rebuilds the state from every record persisted before a crash.
    pub(crate) fn restore_records(&mut self, records: Vec<Record>) {
        let mut decided: BTreeMap<u64, Vec<Request>> = BTreeMap::new();
        for r in records {
            match r {
                Record::View {
                    view,
                    active,
                    start,
                } => {
                    if view >= self.view {
                        self.view = view;
                        self.active = active;
                        self.view_start = if active { start } else { self.view_start };
                    }
                }
                Record::Proposed(p) => {
                    let h = &p.header.body;
                    if h.leader == self.id && check_proposal(&p, &self.params()).is_ok() {
                        self.guard.allow_proposal(h.view, h.slot, h.digest);
                    }
                }
                Record::Vote(v) => {
                    if v.body.voter == self.id && v.verify(&self.publics) {
                        self.guard.allow_vote(
                            v.body.phase,
                            v.body.view,
                            v.body.slot,
                            v.body.digest,
                        );
                    }
                }
                Record::Prepared(c) => {
                    if check_cert(&c, self.id, &self.params()).is_ok() {
                        self.keep_cert(c);
                    }
                }
                Record::ViewChange(vc) => {
                    if vc.body.replica == self.id && check_view_change(&vc, &self.params()).is_ok()
                    {
                        self.vc.own.insert(vc.body.view, vc);
                    }
                }
                Record::NewView(nv) => {
                    if nv.body.leader == self.id && nv.verify(&self.publics) {
                        for p in &nv.body.proposals {
                            let h = &p.header.body;
                            self.guard.allow_proposal(h.view, h.slot, h.digest);
                        }
                        self.vc.new_views.insert(nv.body.view, nv);
                    }
                }
                Record::Decided { slot, batch } => {
                    decided.entry(slot).or_insert(batch);
                }
            }
        }
        // Everything contiguous from slot 0 was delivered before the crash.
        while let Some(batch) = decided.remove(&self.next_slot) {
            self.delivered.extend(batch.iter().map(Request::key));
            let digest = batch_digest(&batch);
            let cert = self
                .certs
                .get(&self.next_slot)
                .filter(|c| c.header().digest == digest)
                .cloned();
            self.decided.insert(
                self.next_slot,
                DecidedSlot {
                    digest,
                    batch,
                    cert,
                },
            );
            self.next_slot += 1;
        }
        // Decided further ahead (a gap was being filled): keep, deliver later.
        for (slot, batch) in decided {
            let digest = batch_digest(&batch);
            let cert = self
                .certs
                .get(&slot)
                .filter(|c| c.header().digest == digest)
                .cloned();
            self.decided.insert(
                slot,
                DecidedSlot {
                    digest,
                    batch,
                    cert,
                },
            );
        }
        self.guard.forget_views_below(self.view);
        self.vc.started = self.now;
        self.moved = true;
        self.collect_garbage();
        // Ask what was decided while we were down.
        self.send_fetch();
        if !self.active
            && let Some(vc) = self.vc.own.get(&self.view).cloned()
        {
            self.vc
                .received
                .entry(self.view)
                .or_default()
                .insert(self.id, vc.clone());
            self.send(
                dwcp_core::Target::all_but(self.id),
                crate::message::Message::ViewChange(vc),
            );
        }
    }
}
