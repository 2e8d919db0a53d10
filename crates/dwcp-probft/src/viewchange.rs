//! View change, with carry-over of prepared values.
//!
//! What the paper says and what is ours: the paper has a view-change
//! sub-protocol triggered by a timer that carries prepared values into the
//! next view (verified from its summary); the message-level rules below
//! could not be checked against its text, so they follow PBFT (Castro and
//! Liskov, OSDI '99, §4.4), the most conservative choice:
//!
//! 1. A replica whose progress timer expires, or that holds proof that the
//!    leader equivocated, moves to view `v + 1`, stops working in `v` and
//!    sends a signed [`ViewChange`] to **everybody** (deterministic, `O(n²)`
//!    messages, paid only on a view change) with its next undecided slot and
//!    its highest-view prepared certificate for each slot from
//!    `next_slot − history` on, decided slots included.
//! 2. `f + 1` view-changes for views above a replica's own make it join the
//!    smallest of those views (PBFT's rule: at least one correct replica
//!    wants to move).
//! 3. The leader of `v + 1` waits for `n − f` valid view-changes (a
//!    deterministic quorum: any two share a correct replica), and then for
//!    the late ones until all `n` are in or `new_view_grace` has passed
//!    (ours: a value decided by few replicas survives only if one of them is
//!    heard, and those that decided join last, through rule 2). It computes
//!    the plan with [`compute_plan`] over all of them and sends a
//!    [`NewView`] holding the view-changes and one re-proposal per planned
//!    slot; every replica checks it by recomputing the plan.
//! 4. The plan re-proposes, for every slot from the lowest undecided one
//!    reported (at most `history` below the highest) up to the highest slot
//!    with a certificate, the value of the certificate with the highest view;
//!    slots without any certificate get the null (empty) batch. Fresh
//!    proposals of the new view start after those slots.
//! 5. Two certificates for different values in the same view can only come
//!    from an equivocating leader. ProBFT's prepared certificates are
//!    probabilistic, so this can happen; the tie is broken (our rule) by the
//!    number of distinct voters supporting each value across the reported
//!    certificates, not counting voters who signed prepares for both (proven
//!    equivocators), then by the lower digest.
//!
//! A replica that suspects the leader also sends its clients' oldest
//! pending requests to everybody (as a PBFT client retransmits to all), so
//! that replicas that never saw them start their own timers.
//!
//! As in PBFT, the view-change timer runs only once `n − f` view-changes
//! for the new view are held (the change is viable): a replica that is
//! alone in wanting a view re-sends its view-change instead of running
//! ahead of everybody else. Timeouts double after every view change that
//! did not lead to a decision, up to a cap, so that after GST a correct
//! leader's view eventually lasts long enough.

use crate::message::{
    Message, NewView, PreparedCert, Proposal, Request, Signed, ViewChange, batch_digest,
};
use crate::persist::Record;
use crate::replica::Probft;
use crate::verify::{check_proposal, check_view_change, leader_of};
use dwcp_core::{Digest, Fault, NodeId, Target, Time, codec};
use std::collections::{BTreeMap, BTreeSet};

/// View-change bookkeeping of one replica.
#[derive(Clone, Debug, Default)]
pub(crate) struct ViewChanges {
    /// Consecutive view changes without a decision (for the back-off).
    pub attempts: u32,
    /// When the current view change started.
    pub started: Time,
    /// Valid view-changes received, by target view and sender.
    pub received: BTreeMap<u64, BTreeMap<NodeId, Signed<ViewChange>>>,
    /// The view-changes this replica signed, by view (re-sent, never
    /// replaced, after a restart).
    pub own: BTreeMap<u64, Signed<ViewChange>>,
    /// The new-views this replica signed as leader, by view.
    pub new_views: BTreeMap<u64, Signed<NewView>>,
    /// The new-view of the view this replica works in (sent to replicas
    /// that show they missed it).
    pub current: Option<Signed<NewView>>,
    /// Who was last sent `current`, and for which view.
    pub shared: BTreeMap<NodeId, u64>,
    /// As the next leader: when the grace period for late view-changes ends.
    pub grace_until: Option<Time>,
    /// When `n − f` view-changes for the current view were first held: the
    /// view change is viable, and its timer runs from then (PBFT's rule; a
    /// replica alone in a higher view waits instead of running away).
    pub quorum_since: Option<Time>,
}

/// The outcome of [`compute_plan`]: what a new view re-proposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `(slot, batch)` re-proposed, ascending by slot.
    pub entries: Vec<(u64, Vec<Request>)>,
    /// The first slot fresh proposals of the new view may take.
    pub start: u64,
}

/// Computes the plan of a new view from its view-changes (see the module
/// docs, steps 4 and 5). Deterministic; the view-changes must be valid.
pub fn compute_plan<'a>(vcs: impl IntoIterator<Item = &'a ViewChange>, history: u64) -> Plan {
    let vcs: Vec<&ViewChange> = vcs.into_iter().collect();
    let max_next = vcs.iter().map(|v| v.next_slot).max().unwrap_or(0);
    let min_next = vcs.iter().map(|v| v.next_slot).min().unwrap_or(0);
    let lo = min_next.max(max_next.saturating_sub(history));
    let mut by_slot: BTreeMap<u64, Vec<&PreparedCert>> = BTreeMap::new();
    for c in vcs.iter().flat_map(|v| v.certs.iter()) {
        if c.header().slot >= lo {
            by_slot.entry(c.header().slot).or_default().push(c);
        }
    }
    let hi = by_slot
        .keys()
        .next_back()
        .map_or(lo, |s| s + 1)
        .max(max_next);
    let entries = (lo..hi)
        .map(|slot| {
            (
                slot,
                by_slot.get(&slot).map_or_else(Vec::new, |cs| choose(cs)),
            )
        })
        .collect();
    Plan { entries, start: hi }
}

/// The batch of the highest-view certificate; ties between values of the
/// same view broken by distinct non-equivocating supporters, then digest.
fn choose(certs: &[&PreparedCert]) -> Vec<Request> {
    let Some(top) = certs.iter().map(|c| c.header().view).max() else {
        return Vec::new();
    };
    let top: Vec<&&PreparedCert> = certs.iter().filter(|c| c.header().view == top).collect();
    let mut voters: BTreeMap<Digest, BTreeSet<NodeId>> = BTreeMap::new();
    let mut batches: BTreeMap<Digest, &Vec<Request>> = BTreeMap::new();
    for c in &top {
        let d = c.header().digest;
        voters
            .entry(d)
            .or_default()
            .extend(c.prepares.iter().map(|e| e.voter));
        batches.entry(d).or_insert(&c.proposal.batch);
    }
    let mut seen: BTreeMap<NodeId, usize> = BTreeMap::new();
    for set in voters.values() {
        for v in set {
            *seen.entry(*v).or_default() += 1;
        }
    }
    let support = |d: &Digest| {
        voters
            .get(d)
            .map_or(0, |s| s.iter().filter(|v| seen.get(v) == Some(&1)).count())
    };
    let best = voters
        .keys()
        .max_by(|a, b| support(a).cmp(&support(b)).then_with(|| b.cmp(a)));
    best.and_then(|d| batches.get(d))
        .map_or_else(Vec::new, |b| (*b).clone())
}

impl Probft {
    /// Moves to `view` (if higher) and sends this replica's view-change.
    pub(crate) fn start_view_change(&mut self, view: u64) {
        if view < self.view || (view == self.view && !self.active) {
            return;
        }
        self.view = view;
        self.active = false;
        self.moved = true;
        self.suspect_leader = false;
        self.vc.started = self.now;
        self.vc.grace_until = None;
        self.vc.quorum_since = None;
        self.stats.view_changes += 1;
        let current = self.view;
        self.instances.retain(|(v, _), _| *v >= current);
        let vc = match self.vc.own.get(&view) {
            Some(vc) => vc.clone(),
            None => {
                let body = ViewChange {
                    view,
                    replica: self.id,
                    next_slot: self.next_slot,
                    certs: self.certs_to_report(),
                };
                Signed::sign(body, &self.key)
            }
        };
        self.persist(Record::View {
            view,
            active: false,
            start: 0,
        });
        self.persist(Record::ViewChange(vc.clone()));
        self.vc.own.insert(view, vc.clone());
        self.send(Target::all_but(self.id), Message::ViewChange(vc.clone()));
        self.vc
            .received
            .entry(view)
            .or_default()
            .insert(self.id, vc);
        // Like a PBFT client retransmitting to all: replicas that never saw
        // these requests start their own timers, so that f + 1 of them
        // suspect a leader that ignores requests.
        for r in self.requests.local(self.cfg.max_batch) {
            self.send(Target::all_but(self.id), Message::Request(r));
        }
        self.note_quorum();
        self.try_new_view();
    }

    /// Highest-view certificates from `next_slot − history` on, one per slot.
    fn certs_to_report(&self) -> Vec<PreparedCert> {
        let low = self.next_slot.saturating_sub(self.cfg.history);
        let high = self.next_slot.saturating_add(self.cfg.window);
        let mut out: BTreeMap<u64, PreparedCert> = BTreeMap::new();
        let decided = self
            .decided
            .range(low..high)
            .filter_map(|(_, d)| d.cert.as_ref());
        for c in decided.chain(self.certs.range(low..high).map(|(_, c)| c)) {
            let slot = c.header().slot;
            if out
                .get(&slot)
                .is_none_or(|o| o.header().view < c.header().view)
            {
                out.insert(slot, c.clone());
            }
        }
        out.into_values().collect()
    }

    pub(crate) fn on_view_change(&mut self, from: NodeId, vc: Signed<ViewChange>) {
        let v = vc.body.view;
        if from != vc.body.replica {
            return self.evidence(from, Fault::Protocol("view-change not sent by its replica"));
        }
        if v == self.view && self.active {
            // A late or repeated view-change for the view we work in: its
            // sender missed the new-view; the leader sends it again.
            if let Some(nv) = self.vc.new_views.get(&v).cloned() {
                self.send(Target::One(from), Message::NewView(nv));
            }
        }
        if v < self.view
            || (v == self.view && self.active)
            || v > self.view.saturating_add(self.cfg.max_views_ahead)
        {
            self.help_behind(from, &vc);
            return;
        }
        if let Some(old) = self.vc.received.get(&v).and_then(|m| m.get(&from)) {
            if *old != vc {
                let fault = Fault::Equivocation {
                    first: codec::encode(old),
                    second: codec::encode(&vc),
                };
                self.evidence(from, fault);
            } else {
                self.help_behind(from, &vc);
            }
            return;
        }
        if let Err(fault) = check_view_change(&vc, &self.params()) {
            return self.evidence(from, fault);
        }
        self.help_behind(from, &vc);
        self.vc.received.entry(v).or_default().insert(from, vc);
        // Join rule: f + 1 replicas want a view above ours.
        let ahead: BTreeMap<NodeId, u64> = self
            .vc
            .received
            .range(self.view + 1..)
            .flat_map(|(view, m)| m.keys().map(move |id| (*id, *view)))
            .filter(|(id, _)| *id != self.id)
            .fold(BTreeMap::new(), |mut acc, (id, view)| {
                acc.entry(id).or_insert(view);
                acc
            });
        if ahead.len() > self.cfg.f
            && let Some(smallest) = ahead.values().min().copied()
        {
            self.start_view_change(smallest);
        }
        self.note_quorum();
        self.try_new_view();
    }

    /// A view-change shows its sender's next slot: if it is behind ours,
    /// send it the decided batches it lacks (rate-limited like a fetch).
    ///
    /// A view-change for a view at or below the one we work in shows that
    /// its sender missed our view's new-view: send it (once per view).
    fn help_behind(&mut self, from: NodeId, vc: &Signed<ViewChange>) {
        if vc.body.replica != from {
            return;
        }
        if vc.body.next_slot < self.next_slot {
            self.on_fetch(from, vc.body.next_slot);
        }
        if self.active
            && vc.body.view <= self.view
            && self.vc.shared.get(&from) != Some(&self.view)
            && let Some(nv) = self
                .vc
                .current
                .clone()
                .filter(|nv| nv.body.view == self.view)
        {
            self.vc.shared.insert(from, self.view);
            self.send(Target::One(from), Message::NewView(nv));
        }
    }

    /// Starts the view-change timer once `n − f` view-changes for the
    /// current view are held.
    pub(crate) fn note_quorum(&mut self) {
        let held = self.vc.received.get(&self.view).map_or(0, |m| m.len());
        if !self.active && self.vc.quorum_since.is_none() && held >= self.n() - self.cfg.f {
            self.vc.quorum_since = Some(self.now);
        }
    }

    /// The view-change timer expired: escalate if the change was viable,
    /// otherwise send the view-change again (it may have been lost).
    pub(crate) fn view_change_timer(&mut self) {
        if self.vc.quorum_since.is_some() {
            self.vc.attempts = self.vc.attempts.saturating_add(1);
            self.start_view_change(self.view + 1);
        } else {
            self.vc.started = self.now;
            if let Some(vc) = self.vc.own.get(&self.view).cloned() {
                self.send(Target::all_but(self.id), Message::ViewChange(vc));
            }
        }
    }

    /// As the leader of the view being changed to: sends the new-view once
    /// `n − f` view-changes are in and either all `n` are or the grace
    /// period for late ones (`new_view_grace`) has passed.
    pub(crate) fn try_new_view(&mut self) {
        let view = self.view;
        if self.active || leader_of(view, self.n()) != self.id {
            return;
        }
        let need = self.n() - self.cfg.f;
        let nv = match self.vc.new_views.get(&view) {
            Some(nv) => nv.clone(),
            None => {
                let Some(got) = self.vc.received.get(&view) else {
                    return;
                };
                if got.len() < need {
                    return;
                }
                if got.len() < self.n() {
                    let until = *self
                        .vc
                        .grace_until
                        .get_or_insert(self.now + self.cfg.new_view_grace);
                    if self.now < until {
                        return;
                    }
                }
                self.vc.grace_until = None;
                let chosen: Vec<Signed<ViewChange>> = got.values().cloned().collect();
                let plan = compute_plan(chosen.iter().map(|s| &s.body), self.cfg.history);
                let proposals = plan
                    .entries
                    .iter()
                    .map(|(slot, batch)| {
                        Proposal::new(view, *slot, batch.clone(), self.id, &self.key)
                    })
                    .collect();
                let nv = Signed::sign(
                    NewView {
                        view,
                        leader: self.id,
                        view_changes: chosen,
                        proposals,
                    },
                    &self.key,
                );
                self.persist(Record::NewView(nv.clone()));
                self.vc.new_views.insert(view, nv.clone());
                nv
            }
        };
        for p in &nv.body.proposals {
            let h = &p.header.body;
            self.guard.allow_proposal(h.view, h.slot, h.digest);
        }
        self.send(Target::all_but(self.id), Message::NewView(nv.clone()));
        let plan = compute_plan(
            nv.body.view_changes.iter().map(|s| &s.body),
            self.cfg.history,
        );
        self.vc.current = Some(nv.clone());
        self.enter_view(view, plan.start, nv.body.proposals);
    }

    pub(crate) fn on_new_view(&mut self, from: NodeId, nv: Signed<NewView>) {
        let view = nv.body.view;
        if view < self.view
            || (view == self.view && self.active)
            || view > self.view.saturating_add(self.cfg.max_views_ahead)
        {
            return;
        }
        // Any replica may relay a new-view: the leader's signature is what
        // authenticates it.
        if nv.body.leader != leader_of(view, self.n()) {
            return self.evidence(
                from,
                Fault::Protocol("new-view signed by a replica that does not lead its view"),
            );
        }
        if let Err(fault) = self.check_new_view(&nv) {
            return self.evidence(from, fault);
        }
        for vc in &nv.body.view_changes {
            self.vc
                .received
                .entry(view)
                .or_default()
                .insert(vc.body.replica, vc.clone());
        }
        let plan = compute_plan(
            nv.body.view_changes.iter().map(|s| &s.body),
            self.cfg.history,
        );
        self.vc.current = Some(nv.clone());
        self.enter_view(view, plan.start, nv.body.proposals);
    }

    fn check_new_view(&self, nv: &Signed<NewView>) -> Result<(), Fault> {
        let b = &nv.body;
        if !nv.verify(&self.publics) {
            return Err(Fault::InvalidSignature);
        }
        let senders: BTreeSet<NodeId> = b.view_changes.iter().map(|v| v.body.replica).collect();
        if senders.len() != b.view_changes.len() || senders.len() < self.n() - self.cfg.f {
            return Err(Fault::Protocol(
                "new-view without n - f distinct view-changes",
            ));
        }
        let params = self.params();
        for vc in &b.view_changes {
            if vc.body.view != b.view {
                return Err(Fault::Protocol(
                    "new-view holds a view-change for another view",
                ));
            }
            let known = self
                .vc
                .received
                .get(&b.view)
                .and_then(|m| m.get(&vc.body.replica))
                == Some(vc);
            if !known {
                check_view_change(vc, &params)?;
            }
        }
        let plan = compute_plan(b.view_changes.iter().map(|s| &s.body), self.cfg.history);
        if plan.entries.len() != b.proposals.len() {
            return Err(Fault::Protocol(
                "new-view proposals do not match its view-changes",
            ));
        }
        for ((slot, batch), p) in plan.entries.iter().zip(&b.proposals) {
            let h = &p.header.body;
            if h.view != b.view || h.slot != *slot || h.digest != batch_digest(batch) {
                return Err(Fault::Protocol(
                    "new-view proposals do not match its view-changes",
                ));
            }
            check_proposal(p, &params)?;
        }
        Ok(())
    }

    /// Enters `view` with the new-view's re-proposals.
    fn enter_view(&mut self, view: u64, start: u64, proposals: Vec<Proposal>) {
        self.view = view;
        self.active = true;
        self.moved = true;
        self.view_start = start;
        self.stats.new_views += 1;
        self.persist(Record::View {
            view,
            active: true,
            start,
        });
        self.instances.retain(|(v, _), _| *v >= view);
        self.vc.received.retain(|v, _| *v > view);
        self.vc.own.retain(|v, _| *v >= view);
        self.vc.new_views.retain(|v, _| *v >= view);
        self.requests.requeue();
        if !self.is_leader() {
            let leader = self.leader();
            for r in self.requests.local(self.cfg.max_pending) {
                self.send(Target::One(leader), Message::Request(r));
            }
        }
        self.progress_since = None;
        for p in proposals {
            if p.header.body.slot.saturating_add(self.cfg.history) >= self.next_slot {
                self.accept_proposal(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{CertEntry, Request};
    use dwcp_crypto::Keyring;

    fn req(i: u64) -> Request {
        Request {
            client: 1,
            id: i,
            payload: vec![i as u8],
            auth: None,
        }
    }

    /// A structurally complete (unverified) certificate.
    fn cert(
        k: &Keyring,
        view: u64,
        slot: u64,
        batch: Vec<Request>,
        voters: &[u32],
    ) -> PreparedCert {
        let leader = leader_of(view, k.len());
        let proposal = Proposal::new(view, slot, batch, leader, &k.secrets[leader.index()]);
        let prepares = voters
            .iter()
            .map(|&v| {
                let (_, proof) = k.secrets[v as usize].vrf_prove(b"t", b"t");
                CertEntry {
                    voter: NodeId(v),
                    signature: k.secrets[v as usize].sign(b"t", b"t"),
                    proof,
                }
            })
            .collect();
        PreparedCert { proposal, prepares }
    }

    fn vc(replica: u32, next_slot: u64, certs: Vec<PreparedCert>) -> ViewChange {
        ViewChange {
            view: 9,
            replica: NodeId(replica),
            next_slot,
            certs,
        }
    }

    #[test]
    fn plan_takes_highest_view_and_fills_with_null() {
        let k = Keyring::insecure_mock(8, 1);
        let a = vc(
            0,
            5,
            vec![
                cert(&k, 1, 5, vec![req(1)], &[0, 1, 2]),
                cert(&k, 1, 7, vec![req(7)], &[0, 1, 2]),
            ],
        );
        let b = vc(1, 5, vec![cert(&k, 3, 5, vec![req(2)], &[1, 2, 3])]);
        let c = vc(2, 4, vec![]);
        let plan = compute_plan([&a, &b, &c], 2);
        assert_eq!(
            plan.entries,
            vec![
                (4, vec![]),
                (5, vec![req(2)]),
                (6, vec![]),
                (7, vec![req(7)])
            ]
        );
        assert_eq!(plan.start, 8);
        // Nothing certified, everybody at slot 3: nothing to re-propose.
        let plan = compute_plan([&vc(0, 3, vec![]), &vc(1, 3, vec![])], 2);
        assert_eq!((plan.entries.len(), plan.start), (0, 3));
    }

    #[test]
    fn plan_lower_bound_is_history_below_the_highest_slot() {
        let k = Keyring::insecure_mock(8, 2);
        // Replica 0 is far behind; only two slots below the highest next
        // slot are re-proposed, with the decided certificates reported.
        let ahead = vc(
            1,
            20,
            vec![
                cert(&k, 0, 18, vec![req(18)], &[1, 2]),
                cert(&k, 0, 19, vec![req(19)], &[1, 2]),
            ],
        );
        let plan = compute_plan([&vc(0, 3, vec![]), &ahead], 2);
        assert_eq!(plan.entries, vec![(18, vec![req(18)]), (19, vec![req(19)])]);
        assert_eq!(plan.start, 20);
    }

    #[test]
    fn same_view_conflicts_go_to_the_better_supported_value() {
        let k = Keyring::insecure_mock(8, 3);
        // View 2's leader equivocated: x is backed by voters {0,1,2,3}, y by
        // {3,4,5,6,7}; voter 3 signed both and does not count. 3 vs 4: y.
        let x = vc(0, 1, vec![cert(&k, 2, 1, vec![req(10)], &[0, 1, 2, 3])]);
        let y = vc(1, 1, vec![cert(&k, 2, 1, vec![req(11)], &[3, 4, 5, 6, 7])]);
        assert_eq!(compute_plan([&x, &y], 2).entries, vec![(1, vec![req(11)])]);
        // With equal support, the lower digest wins, whatever the order.
        let x3 = vc(0, 1, vec![cert(&k, 2, 1, vec![req(10)], &[0, 1, 2])]);
        let y3 = vc(1, 1, vec![cert(&k, 2, 1, vec![req(11)], &[4, 5, 6])]);
        let one = compute_plan([&x3, &y3], 2);
        let two = compute_plan([&y3, &x3], 2);
        assert_eq!(one, two);
        let want = if batch_digest(&[req(10)]) < batch_digest(&[req(11)]) {
            req(10)
        } else {
            req(11)
        };
        assert_eq!(one.entries, vec![(1, vec![want])]);
    }
}
