//! The pacemaker: views, view timers with exponential backoff, timeout
//! messages carrying the high QC, and timeout certificates.

use crate::message::{Message, Qc, Tc, Vote, timeout_bytes};
use crate::replica::HotStuff;
use dwcp_core::{Duration, Fault, NodeId, Output, Time};
use dwcp_crypto::{PartialSig, invalid_signature_evidence};

impl HotStuff {
    /// The current view timeout: `base_timeout · 2^k` for `k` consecutive
    /// timeouts without a new QC (or a TC for a view without proposal),
    /// capped at `max_timeout`; just
    /// `base_timeout` if the view's leader let its last view time out and
    /// has not proposed since (a crashed leader costs one base timeout per
    /// turn, not an ever longer one).
    pub(crate) fn timeout_duration(&self) -> Duration {
        if self.suspected.contains(&self.cfg.leader(self.view)) {
            return self.cfg.base_timeout;
        }
        let k = self.timeouts_in_row.min(16);
        self.cfg
            .base_timeout
            .saturating_mul(1u32 << k)
            .min(self.cfg.max_timeout)
    }

    /// Moves to view `v` (never backwards): restarts the view timer, drops
    /// state of past views, and proposes if this replica leads `v`.
    pub(crate) fn enter_view(&mut self, now: Time, v: u64) {
        if v <= self.view {
            return;
        }
        self.view = v;
        self.stats.views += 1;
        self.view_deadline = Some(now + self.timeout_duration());
        if self.last_tc.as_ref().is_some_and(|t| t.view + 1 < v) {
            self.last_tc = None;
        }
        self.propose_at = None;
        let keep_votes = v.saturating_sub(1);
        self.votes = self.votes.split_off(&keep_votes);
        self.voters = self.voters.split_off(&keep_votes);
        self.convicted = self.convicted.split_off(&keep_votes);
        self.timeouts = self.timeouts.split_off(&v);
        let keep = v.saturating_sub(self.cfg.view_window);
        self.proposals = self.proposals.split_off(&keep);
        self.waiting = self.waiting.split_off(&keep);
        self.schedule_propose(now);
    }

    /// The view timer fired: give up on the view (broadcast a timeout with
    /// the high QC) and back off; fires again, re-broadcasting, until the
    /// view changes.
    pub(crate) fn local_timeout(&mut self, now: Time) {
        self.stats.timeouts += 1;
        self.timeouts_in_row = self.timeouts_in_row.saturating_add(1);
        let view = self.view;
        let leader = self.cfg.leader(view);
        if leader != self.id && self.suspected.insert(leader) {
            self.reroute_from(now, leader);
        }
        self.view_deadline = Some(now + self.timeout_duration());
        self.send_timeout(now, view);
    }

    fn send_timeout(&mut self, now: Time, view: u64) {
        self.timed_out_view = self.timed_out_view.max(view);
        let share = self.keys.share.sign(&timeout_bytes(view));
        let vote = self.last_vote.clone().filter(|v| v.view == view);
        self.broadcast(Message::Timeout {
            view,
            high_qc: self.high_qc.clone(),
            share: share.clone(),
            vote: vote.clone(),
        });
        if let Some(vote) = vote {
            self.on_vote(now, self.id, vote);
        }
        self.timeouts
            .entry(view)
            .or_default()
            .insert(self.id, share);
        self.check_timeouts(now, view);
    }

    pub(crate) fn on_timeout_msg(
        &mut self,
        now: Time,
        from: NodeId,
        view: u64,
        high_qc: Qc,
        share: PartialSig,
        vote: Option<Vote>,
    ) {
        if let Some(vote) = vote {
            if vote.view != view {
                self.evidence(
                    from,
                    Fault::Protocol("timeout carries a vote of another view"),
                );
                return;
            }
            self.on_vote(now, from, vote);
        }
        if high_qc.view > self.high_qc.view {
            if !self.verify_qc(&high_qc) {
                self.evidence(from, Fault::InvalidSignature);
                return;
            }
            self.update_qc(now, high_qc, from);
        }
        if view < self.view {
            // The sender lags: help it out of `view` with this replica's
            // high QC and a timeout share for that view (this replica is
            // past it anyway).
            if view + self.cfg.view_window >= self.view {
                let share = self.keys.share.sign(&timeout_bytes(view));
                let high_qc = self.high_qc.clone();
                let msg = Message::Help {
                    view,
                    high_qc,
                    share,
                };
                self.send(dwcp_core::Target::One(from), msg);
            }
            return;
        }
        if view > self.view + self.cfg.view_window {
            return;
        }
        let entry = self.timeouts.entry(view).or_default();
        if entry.contains_key(&from) {
            return;
        }
        entry.insert(from, share);
        self.check_timeouts(now, view);
    }

    /// Help from a replica past `view`: its high QC, and its timeout share
    /// counted like a timeout (never answered).
    pub(crate) fn on_help(
        &mut self,
        now: Time,
        from: NodeId,
        view: u64,
        high_qc: Qc,
        share: PartialSig,
    ) {
        if high_qc.view > self.high_qc.view {
            if !self.verify_qc(&high_qc) {
                self.evidence(from, Fault::InvalidSignature);
                return;
            }
            self.update_qc(now, high_qc, from);
        }
        if view != self.view {
            return;
        }
        let entry = self.timeouts.entry(view).or_default();
        if entry.contains_key(&from) {
            return;
        }
        entry.insert(from, share);
        self.check_timeouts(now, view);
    }

    /// `f + 1` timeouts for a view at least the current one: join them (some
    /// honest replica gave up). `n - f`: combine a TC and move on.
    fn check_timeouts(&mut self, now: Time, view: u64) {
        let count = self.timeouts.get(&view).map_or(0, |m| m.len());
        if count > self.cfg.f && view >= self.view && self.timed_out_view < view {
            self.enter_view(now, view);
            self.send_timeout(now, view);
            return;
        }
        if count < self.cfg.quorum() || view < self.view {
            return;
        }
        let Some(shares) = self.timeouts.get(&view).cloned() else {
            return;
        };
        match self
            .keys
            .threshold
            .combine_with_evidence(&timeout_bytes(view), &shares)
        {
            Ok(c) => {
                for e in c.evidence() {
                    self.out.push_back(Output::Evidence(e));
                }
                self.stats.tcs_formed += 1;
                self.on_tc(now, Tc { view, cert: c.cert });
            }
            Err(e) => {
                for ev in invalid_signature_evidence(&e.bad_signers) {
                    self.out.push_back(Output::Evidence(ev));
                }
                if let Some(m) = self.timeouts.get_mut(&view) {
                    for bad in &e.bad_signers {
                        m.remove(bad);
                    }
                }
            }
        }
    }

    /// A verified TC for `tc.view`: enter the next view, keeping the TC for
    /// the proposal if this replica leads it.
    pub(crate) fn on_tc(&mut self, now: Time, tc: Tc) {
        if tc.view < self.view && self.last_tc.as_ref().is_some_and(|t| t.view >= tc.view) {
            return;
        }
        let v = tc.view + 1;
        // No proposal in the view: its leader is down, the timeout was not
        // too short, the views are in step; do not back off further.
        if !self.proposals.contains_key(&tc.view) {
            self.timeouts_in_row = 0;
        }
        if self.last_tc.as_ref().is_none_or(|t| t.view < tc.view) {
            self.last_tc = Some(tc);
        }
        if v > self.view {
            self.enter_view(now, v);
        } else {
            self.schedule_propose(now);
        }
    }
}
