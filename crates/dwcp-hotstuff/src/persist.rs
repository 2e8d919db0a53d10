//! Durable records and crash recovery.
//!
//! | before | the replica persists |
//! |---|---|
//! | sending a vote for view `v` | [`Record::Voted`]`(v)` |
//! | sending a proposal for view `v` | [`Record::Proposed`] |
//! | voting after its lock moved | [`Record::Locked`] (when the lock moves) |
//! | delivering committed blocks | [`Record::Committed`] (the new tip) |
//!
//! [`crate::HotStuff`]'s `restore` replays them: the replica never votes
//! again in a view it voted in (nor below), never proposes twice in a view,
//! keeps its lock (a QC whose certificate is re-verified; a record that
//! fails is skipped), and resumes delivery after the committed tip, so no
//! block is delivered twice. Blocks themselves are not persisted: the
//! replica fetches what it needs from peers. Timeout shares are not
//! persisted: signing a timeout again is harmless.

use crate::message::Record;
use crate::replica::{HotStuff, MAX_VIEW};
use dwcp_core::Time;

impl HotStuff {
    pub(crate) fn restore_records(&mut self, now: Time, records: Vec<Record>) {
        for r in records {
            match r {
                // Out-of-range records are corrupt: skipped.
                Record::Voted(v) if v < MAX_VIEW => self.last_voted = self.last_voted.max(v),
                Record::Proposed { view, .. } if view < MAX_VIEW => {
                    self.last_proposed = self.last_proposed.max(view)
                }
                Record::Voted(_) | Record::Proposed { .. } => {}
                Record::Locked(qc) => {
                    if qc.view > self.locked.view && qc.view < MAX_VIEW && self.verify_qc(&qc) {
                        self.locked = qc;
                    }
                }
                Record::Committed { height, block } => {
                    if height > self.committed.0 && height < MAX_VIEW {
                        self.committed = (height, block);
                    }
                }
            }
        }
        if self.locked.view > self.high_qc.view {
            self.high_qc = self.locked.clone();
        }
        let v = self
            .last_voted
            .max(self.last_proposed)
            .max(self.locked.view)
            .saturating_add(1);
        self.enter_view(now, v);
        self.view_deadline = Some(now + self.timeout_duration());
    }
}
