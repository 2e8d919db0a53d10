//! View change and new view (Castro–Liskov §4.4), with exponential back-off.

use crate::message::{
    CheckpointProof, Message, NewView, PrePrepare, Request, Signed, ViewChange, VotePhase,
    batch_digest,
};
use crate::persist::{Record, SignKind};
use crate::policy::Policy;
use crate::replica::Pbft;
use crate::verify::{self, SigBatch};
use dwcp_core::{Digest, Duration, Fault, NodeId, Target, Time};
use std::collections::{BTreeMap, BTreeSet};

/// View-change bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct ViewChangeState {
    /// The highest-view view-change received from each replica (and our
    /// own), with whether its content was fully validated.
    pub latest: BTreeMap<NodeId, (Signed<ViewChange>, bool)>,
    /// The new-view that installed the current view (retransmitted to
    /// replicas that missed it).
    pub new_view: Option<Signed<NewView>>,
    /// The next view-change timeout.
    pub backoff: Duration,
    /// Request timer (active) or view-change timer (changing views).
    pub timer: Option<Time>,
    /// The timeout of the view change in progress.
    pub timeout: Duration,
    /// Slots `(view, seq)` whose conflicting pre-prepares were already
    /// reported ([`crate::relay`]).
    pub accused: BTreeSet<(u64, u64)>,
}

impl ViewChangeState {
    pub(crate) fn new(backoff: Duration) -> ViewChangeState {
        ViewChangeState {
            latest: BTreeMap::new(),
            new_view: None,
            backoff,
            timer: None,
            timeout: backoff,
            accused: BTreeSet::new(),
        }
    }
}

/// What a quorum of view-changes determines: the starting checkpoint and,
/// for every sequence number above it up to the highest prepared one, the
/// digest to re-propose (the highest-view prepared batch, or the null
/// request) and its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewViewPlan {
    /// The highest stable checkpoint among the view-changes (`min-s`).
    pub stable: CheckpointProof,
    /// `O`: sequence number → (digest, batch), ascending, no gaps.
    pub entries: BTreeMap<u64, (Digest, Vec<Request>)>,
}

/// Computes `O` from (already validated) view-changes, as in the paper
/// (reported votes are ignored: classic PBFT has no fast path).
pub fn compute_new_view<'a>(vcs: impl IntoIterator<Item = &'a ViewChange>) -> NewViewPlan {
    plan(vcs, None::<fn(&BTreeSet<NodeId>) -> bool>)
}

/// Computes `O` under `policy`: with the fast path on
/// ([`Policy::fast_path_timeout`]), a value whose reported own votes in
/// views above the highest prepared certificate come from a set that
/// [`Policy::is_fast_witness`] accepts is re-proposed (see [`crate::fast`]);
/// without it, exactly [`compute_new_view`].
pub fn compute_new_view_with<'a, P: Policy>(
    policy: &P,
    vcs: impl IntoIterator<Item = &'a ViewChange>,
) -> NewViewPlan {
    if policy.fast_path_timeout().is_some() {
        plan(vcs, Some(|s: &BTreeSet<NodeId>| policy.is_fast_witness(s)))
    } else {
        compute_new_view(vcs)
    }
}

/// A value reported by own votes: voters, their highest view, the batch.
type Witnessed<'a> = BTreeMap<Digest, (BTreeSet<NodeId>, u64, &'a Vec<Request>)>;

fn plan<'a>(
    vcs: impl IntoIterator<Item = &'a ViewChange>,
    witness: Option<impl Fn(&BTreeSet<NodeId>) -> bool>,
) -> NewViewPlan {
    let vcs: Vec<&ViewChange> = vcs.into_iter().collect();
    let stable = vcs
        .iter()
        .map(|vc| &vc.stable)
        .fold(None::<&CheckpointProof>, |best, s| match best {
            Some(b) if b.seq >= s.seq => Some(b),
            _ => Some(s),
        })
        .cloned()
        .unwrap_or_else(|| crate::log::Log::new(1).stable);
    let min_s = stable.seq;
    // Highest view per sequence number; ties broken by the smaller digest.
    let mut best: BTreeMap<u64, (u64, Digest, &Vec<Request>)> = BTreeMap::new();
    for p in vcs.iter().flat_map(|vc| &vc.prepared) {
        let b = &p.pre_prepare.body;
        if b.seq <= min_s {
            continue;
        }
        let better = best.get(&b.seq).is_none_or(|(v, d, _)| {
            (b.view, std::cmp::Reverse(b.digest)) > (*v, std::cmp::Reverse(*d))
        });
        if better {
            best.insert(b.seq, (b.view, b.digest, &p.batch));
        }
    }
    // Fast path: own votes above the highest prepared view, one per replica.
    let mut adopted: BTreeMap<u64, (Digest, &Vec<Request>)> = BTreeMap::new();
    if let Some(witness) = witness {
        let mut votes: BTreeMap<u64, Witnessed<'_>> = BTreeMap::new();
        for vc in &vcs {
            for v in &vc.voted {
                let b = &v.pre_prepare.body;
                let above = best.get(&b.seq).is_none_or(|(pv, _, _)| b.view > *pv);
                if b.seq <= min_s || !above {
                    continue;
                }
                let e = votes
                    .entry(b.seq)
                    .or_default()
                    .entry(b.digest)
                    .or_insert_with(|| (BTreeSet::new(), b.view, &v.batch));
                e.0.insert(vc.replica);
                if b.view > e.1 {
                    e.1 = b.view;
                }
            }
        }
        for (seq, by_digest) in votes {
            let pick = by_digest
                .iter()
                .filter(|(_, (voters, _, _))| witness(voters))
                .max_by_key(|(d, (_, view, _))| (*view, std::cmp::Reverse(**d)));
            if let Some((d, (_, _, batch))) = pick {
                adopted.insert(seq, (*d, *batch));
            }
        }
    }
    let max_s = best
        .keys()
        .chain(adopted.keys())
        .copied()
        .max()
        .unwrap_or(min_s);
    let mut entries = BTreeMap::new();
    for seq in min_s.saturating_add(1)..=max_s {
        let entry = match (adopted.get(&seq), best.get(&seq)) {
            (Some((d, batch)), _) | (None, Some((_, d, batch))) => (*d, (*batch).clone()),
            (None, None) => (batch_digest(&[]), vec![]),
        };
        entries.insert(seq, entry);
    }
    NewViewPlan { stable, entries }
}

impl<P: Policy> Pbft<P> {
    /// Moves to `view` (higher than the current one): stops accepting
    /// normal-case messages, persists and broadcasts a view-change. The
    /// view-change timer (exponential back-off) starts once a quorum wants
    /// the same view, as in the paper, so that replicas whose timers fired
    /// at different times do not race each other through the views.
    pub(crate) fn start_view_change(&mut self, now: Time, view: u64) {
        if view <= self.view {
            return;
        }
        self.view = view;
        self.active = false;
        self.stats.view_changes += 1;
        self.guard.collect_views_below(view);
        self.vc.new_view = None;
        self.log.slots.clear();
        self.reqs.requeue_proposed();
        let low = self.log.low();
        let prepared = self
            .log
            .prepared
            .range(low.saturating_add(1)..)
            .map(|(_, p)| p.clone())
            .collect();
        let voted = self
            .log
            .voted
            .range(low.saturating_add(1)..)
            .map(|(_, v)| v.clone())
            .collect();
        let body = ViewChange {
            view,
            replica: self.id,
            stable: self.log.stable.clone(),
            prepared,
            voted,
        };
        let vc = Signed::sign(body, &self.key);
        self.persist(Record::View {
            view,
            active: false,
        });
        self.persist(Record::ViewChange(vc.clone()));
        self.broadcast(Message::ViewChange(vc.clone()));
        self.vc.latest.insert(self.id, (vc, true));
        self.vc.timer = None;
        self.vc.timeout = self.vc.backoff;
        self.vc.backoff = (self.vc.backoff * 2).min(self.cfg.max_view_change_timeout);
        self.arm_view_change_timer(now);
        // Make sure every replica knows the requests clients gave us, so the
        // next primary can order them.
        for req in self.reqs.local(self.cfg.max_batch) {
            self.broadcast(Message::Request(req));
        }
        self.resend_at = Some(now + self.cfg.request_timeout);
        self.try_new_view(now);
    }

    pub(crate) fn on_view_change(&mut self, now: Time, from: NodeId, vc: Signed<ViewChange>) {
        let (view, replica) = (vc.body.view, vc.body.replica);
        if replica.index() >= self.cfg.n {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if replica == self.id {
            return;
        }
        let stale = view < self.view || (view == self.view && self.active);
        if stale || view > self.view.saturating_add(self.cfg.max_views_ahead) {
            return;
        }
        if self
            .vc
            .latest
            .get(&replica)
            .is_some_and(|(old, _)| old.body.view >= view)
        {
            return;
        }
        if !vc.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        self.vc.latest.insert(replica, (vc, false));
        // f + 1 replicas want a higher view: join the smallest of them.
        let ahead: BTreeMap<NodeId, u64> = self
            .vc
            .latest
            .iter()
            .filter(|(id, (v, _))| **id != self.id && v.body.view > self.view)
            .map(|(id, (v, _))| (*id, v.body.view))
            .collect();
        let senders: BTreeSet<NodeId> = ahead.keys().copied().collect();
        if self.policy.is_weak_quorum(&senders)
            && let Some(min) = ahead.values().min().copied()
        {
            self.start_view_change(now, min);
            return;
        }
        self.arm_view_change_timer(now);
        self.try_new_view(now);
    }

    /// Starts the view-change timer once a quorum (counting us) asked for
    /// the view we are moving to or a later one (a replica already asking
    /// for a later view has given up on ours too).
    pub(crate) fn arm_view_change_timer(&mut self, now: Time) {
        if self.active || self.vc.timer.is_some() {
            return;
        }
        let view = self.view;
        let voters: BTreeSet<NodeId> = self
            .vc
            .latest
            .iter()
            .filter(|(_, (v, _))| v.body.view >= view)
            .map(|(id, _)| *id)
            .collect();
        if self.policy.is_quorum(&voters) {
            self.vc.timer = Some(now + self.vc.timeout);
        }
    }

    /// As the new primary: once a quorum of valid view-changes for the view
    /// is in, computes `O`, persists, signs and broadcasts the new-view.
    pub(crate) fn try_new_view(&mut self, now: Time) {
        if self.active || !self.is_primary() || self.vc.new_view.is_some() {
            return;
        }
        let view = self.view;
        let candidates: Vec<NodeId> = self
            .vc
            .latest
            .iter()
            .filter(|(_, (v, _))| v.body.view == view)
            .map(|(id, _)| *id)
            .collect();
        let mut valid = BTreeSet::new();
        for id in candidates {
            let Some((vc, checked)) = self.vc.latest.get(&id) else {
                continue;
            };
            if !*checked {
                let mut sigs = SigBatch::default();
                let ok = verify::view_change(&self.policy, self.cfg.window, vc, &mut sigs);
                let sig_ok = sigs.verify(&self.publics).is_ok();
                if ok.is_err() || !sig_ok {
                    self.vc.latest.remove(&id);
                    let why = ok
                        .err()
                        .unwrap_or("view-change certificate signature invalid");
                    self.evidence(id, Fault::Protocol(why));
                    continue;
                }
                if let Some(entry) = self.vc.latest.get_mut(&id) {
                    entry.1 = true;
                }
            }
            valid.insert(id);
            if self.policy.is_quorum(&valid) {
                break;
            }
        }
        if !self.policy.is_quorum(&valid) {
            return;
        }
        let chosen: Vec<Signed<ViewChange>> = valid
            .iter()
            .filter_map(|id| self.vc.latest.get(id).map(|(v, _)| v.clone()))
            .collect();
        self.detect_conflicting_proposals(&chosen);
        let plan = compute_new_view_with(&self.policy, chosen.iter().map(|v| &v.body));
        let mut pre_prepares = vec![];
        for (seq, (digest, _)) in &plan.entries {
            // A restored primary may already have signed this view's O.
            if !self.guard.allow(view, *seq, SignKind::PrePrepare, *digest) {
                return;
            }
            pre_prepares.push(Signed::sign(
                PrePrepare {
                    view,
                    seq: *seq,
                    digest: *digest,
                    primary: self.id,
                },
                &self.key,
            ));
        }
        let nv = Signed::sign(
            NewView {
                view,
                primary: self.id,
                view_changes: chosen,
                pre_prepares,
            },
            &self.key,
        );
        self.persist(Record::NewView(nv.clone()));
        self.broadcast(Message::NewView(nv.clone()));
        self.enter_view(now, nv, plan);
    }

    pub(crate) fn on_new_view(&mut self, now: Time, from: NodeId, nv: Signed<NewView>) {
        let view = nv.body.view;
        let stale = view < self.view || (view == self.view && self.active);
        if stale || view > self.view.saturating_add(self.cfg.max_views_ahead) {
            return;
        }
        let mut sigs = SigBatch::default();
        if let Err(why) = verify::new_view(&self.policy, self.cfg.window, &nv, &mut sigs) {
            return self.evidence(from, Fault::Protocol(why));
        }
        if sigs.verify(&self.publics).is_err() {
            return self.evidence(from, Fault::InvalidSignature);
        }
        self.detect_conflicting_proposals(&nv.body.view_changes);
        let plan =
            compute_new_view_with(&self.policy, nv.body.view_changes.iter().map(|v| &v.body));
        self.persist(Record::View { view, active: true });
        self.enter_view(now, nv, plan);
    }

    /// Installs a verified new-view: adopts its checkpoint, accepts `O` as
    /// this view's pre-prepares (preparing them as a backup), and resumes.
    pub(crate) fn enter_view(&mut self, now: Time, nv: Signed<NewView>, plan: NewViewPlan) {
        let view = nv.body.view;
        self.view = view;
        self.active = true;
        self.guard.collect_views_below(view);
        self.vc.latest.retain(|_, (v, _)| v.body.view > view);
        self.log.slots.clear();
        self.reqs.requeue_proposed();
        self.advance_stable(plan.stable.clone());
        let primary = self.is_primary();
        let low = self.log.low();
        let mut last = low;
        for pp in &nv.body.pre_prepares {
            let seq = pp.body.seq;
            last = last.max(seq);
            let Some((digest, batch)) = plan.entries.get(&seq) else {
                continue;
            };
            if seq <= low {
                continue;
            }
            if primary {
                self.reqs.mark_proposed(batch);
            }
            self.log.install(pp.clone(), batch.clone(), now);
            if primary {
                self.note_own_vote(seq, None);
            } else {
                self.cast_vote(VotePhase::Prepare, view, seq, *digest);
            }
        }
        self.next_seq = last.saturating_add(1);
        self.vc.new_view = Some(nv);
        self.vc.timer = None;
        // Re-send the requests clients gave us to the new primary.
        if !primary {
            let to = self.policy.primary(view);
            for req in self.reqs.local(self.cfg.max_batch) {
                self.send(Target::One(to), Message::Request(req));
            }
        }
        self.arm_request_timer(now);
        let seqs: Vec<u64> = self.log.slots.keys().copied().collect();
        for seq in seqs {
            self.check_prepared(now, seq);
        }
        self.replay_early(now);
        self.try_execute(now);
        self.maybe_propose(now);
    }
}
