//! Catching equivocating primaries from relayed pre-prepares.
//!
//! An equivocating primary sends one signed pre-prepare to some replicas and
//! a conflicting one (same view and sequence number, another digest) to the
//! others; under all-to-all voting no replica receives both. View-changes
//! relay the signed pre-prepares their senders prepared
//! ([`crate::PreparedProof`]) and, with [`crate::Policy::report_own_votes`]
//! (or the fast path), the ones they voted for ([`crate::VotedProof`]). So
//! the new primary assembling a new-view, and every replica checking it,
//! holds the pre-prepares of a quorum of replicas: two validly signed ones
//! for one slot with different digests are transferable evidence
//! (`Fault::Equivocation` with both encodings) against their signer.

use crate::message::{PrePrepare, Signed, ViewChange};
use crate::policy::Policy;
use crate::replica::Pbft;
use std::collections::BTreeMap;

/// At most this many accused slots are remembered (to report each conflict
/// once); the oldest are forgotten first.
const ACCUSED_LIMIT: usize = 1024;

impl<P: Policy> Pbft<P> {
    /// Reports every conflicting pair of pre-prepares among the (already
    /// verified) view-changes `vcs` and this replica's own prepared and voted
    /// records: same primary, view and sequence number, different digests.
    /// Each `(view, seq)` is reported once.
    pub(crate) fn detect_conflicting_proposals<'a>(
        &mut self,
        vcs: impl IntoIterator<Item = &'a Signed<ViewChange>>,
    ) {
        let mut seen: BTreeMap<(u64, u64), Signed<PrePrepare>> = BTreeMap::new();
        let mut conflicts = vec![];
        let own = self
            .log
            .prepared
            .values()
            .map(|p| &p.pre_prepare)
            .chain(self.log.voted.values().map(|v| &v.pre_prepare))
            .cloned()
            .collect::<Vec<_>>();
        let relayed = vcs.into_iter().flat_map(|vc| {
            vc.body
                .prepared
                .iter()
                .map(|p| &p.pre_prepare)
                .chain(vc.body.voted.iter().map(|v| &v.pre_prepare))
        });
        for pp in own.iter().chain(relayed) {
            let b = &pp.body;
            // Only the view's primary may sign its pre-prepares (checked
            // for relayed ones by the view-change validation).
            if b.primary != self.policy.primary(b.view) {
                continue;
            }
            let key = (b.view, b.seq);
            match seen.get(&key) {
                None => {
                    seen.insert(key, pp.clone());
                }
                Some(first) if first.body.digest != b.digest => {
                    if !self.vc.accused.contains(&key) {
                        conflicts.push((first.clone(), pp.clone()));
                        self.vc.accused.insert(key);
                    }
                }
                Some(_) => {}
            }
        }
        while self.vc.accused.len() > ACCUSED_LIMIT {
            self.vc.accused.pop_first();
        }
        for (first, second) in conflicts {
            // Our own records were verified when stored, relayed ones with
            // the view-change; check again so the evidence never accuses
            // anybody on the strength of an unchecked signature.
            if first.verify(&self.publics) && second.verify(&self.publics) {
                self.equivocation(first.body.primary, &first, &second);
            }
        }
    }
}
