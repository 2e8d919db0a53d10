//! Local trust built from committed observations, with decay and permanent
//! Byzantine marks.

use crate::eigentrust::{EigenTrustConfig, LocalTrust, TrustError, TrustScores, eigentrust};
use dwcp_core::NodeId;
use std::collections::BTreeSet;

/// One committed fact about `subject`, as seen by `observer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Observation {
    /// A valid vote received before the deadline (adds trust).
    TimelyVote,
    /// A message with an invalid signature (subtracts).
    InvalidSignature,
    /// An expected message (a proposal as primary, a vote) that did not
    /// arrive in time (subtracts).
    MissedDeadline,
    /// Conflicting statements seen without transferable proof (subtracts;
    /// use [`Ledger::mark_byzantine`] with the proof for the permanent mark).
    Equivocation,
    /// A view whose proposals `f + 1` distinct replicas' signed, committed
    /// complaints found later than the timeliness bound (subtracts): at
    /// least one honest replica measured it, so `f` slanderers cannot cause
    /// it alone.
    LateProposal,
}

/// Two validly signed conflicting statements by the same node: proof that
/// anybody can check.
pub trait TransferableEvidence {
    /// The node that signed both statements.
    fn culprit(&self) -> NodeId;
    /// Whether both signatures verify under the culprit's key and the
    /// statements really conflict.
    fn verify(&self) -> bool;
}

/// Weights of each observation and the per-epoch decay.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerConfig {
    /// Added per timely vote.
    pub timely_vote: f64,
    /// Subtracted per invalid signature.
    pub invalid_signature: f64,
    /// Subtracted per missed deadline.
    pub missed_deadline: f64,
    /// Subtracted per unproven equivocation.
    pub equivocation: f64,
    /// Subtracted per quorum-confirmed late view as primary.
    pub late_proposal: f64,
    /// Factor in `[0, 1]` applied to every count at [`Ledger::end_epoch`].
    pub decay: f64,
    /// The EigenTrust parameters.
    pub eigentrust: EigenTrustConfig,
}

impl Default for LedgerConfig {
    /// +1 per timely vote, −5 per invalid signature, −3 per missed deadline,
    /// −10 per unproven equivocation, −10 per confirmed late view (a late
    /// view delays every proposal in it, like a lost view), decay 0.5 per
    /// epoch.
    fn default() -> Self {
        LedgerConfig {
            timely_vote: 1.0,
            invalid_signature: 5.0,
            missed_deadline: 3.0,
            equivocation: 10.0,
            late_proposal: 10.0,
            decay: 0.5,
            eigentrust: EigenTrustConfig::default(),
        }
    }
}

/// Every node's opinions, fed from the committed log, identical at every
/// honest node that feeds it the same observations.
#[derive(Clone, Debug, PartialEq)]
pub struct Ledger {
    n: usize,
    config: LedgerConfig,
    /// Positive and negative evidence per (observer, subject), decayed.
    pos: Vec<f64>,
    neg: Vec<f64>,
    byzantine: BTreeSet<NodeId>,
    epoch: u64,
}

impl Ledger {
    /// An empty ledger for `n` members.
    pub fn new(n: usize, config: LedgerConfig) -> Ledger {
        Ledger {
            n,
            config,
            pos: vec![0.0; n.saturating_mul(n)],
            neg: vec![0.0; n.saturating_mul(n)],
            byzantine: BTreeSet::new(),
            epoch: 0,
        }
    }

    /// Number of members.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Epochs closed so far.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The configuration.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    fn slot(&self, observer: NodeId, subject: NodeId) -> Option<usize> {
        let (i, j) = (observer.index(), subject.index());
        (i < self.n && j < self.n && i != j).then_some(i * self.n + j)
    }

    /// Records one committed observation; ignored for unknown ids or
    /// self-observation.
    pub fn observe(&mut self, observer: NodeId, subject: NodeId, what: Observation) {
        let Some(k) = self.slot(observer, subject) else {
            return;
        };
        let c = &self.config;
        let (p, m) = match what {
            Observation::TimelyVote => (c.timely_vote, 0.0),
            Observation::InvalidSignature => (0.0, c.invalid_signature),
            Observation::MissedDeadline => (0.0, c.missed_deadline),
            Observation::Equivocation => (0.0, c.equivocation),
            Observation::LateProposal => (0.0, c.late_proposal),
        };
        if let (Some(a), Some(b)) = (self.pos.get_mut(k), self.neg.get_mut(k)) {
            *a += p;
            *b += m;
        }
    }

    /// Marks the culprit Byzantine for good if the evidence verifies and the
    /// culprit is a member; returns whether it did.
    pub fn mark_byzantine(&mut self, evidence: &impl TransferableEvidence) -> bool {
        let id = evidence.culprit();
        if id.index() >= self.n || !evidence.verify() {
            return false;
        }
        self.byzantine.insert(id);
        true
    }

    /// Whether `id` carries a permanent Byzantine mark.
    pub fn is_byzantine(&self, id: NodeId) -> bool {
        self.byzantine.contains(&id)
    }

    /// The permanently marked nodes.
    pub fn byzantine(&self) -> &BTreeSet<NodeId> {
        &self.byzantine
    }

    /// Closes an epoch: every count is multiplied by the decay factor, so
    /// old behaviour fades (both good and bad; marks stay).
    pub fn end_epoch(&mut self) {
        let d = self.config.decay.clamp(0.0, 1.0);
        for v in self.pos.iter_mut().chain(self.neg.iter_mut()) {
            *v *= d;
        }
        self.epoch += 1;
    }

    /// The local trust matrix `s_ij = max(pos − neg, 0)`, with marked nodes'
    /// opinions discarded and nobody's opinion of them counted.
    pub fn local_trust(&self) -> LocalTrust {
        let mut l = LocalTrust::new(self.n);
        for i in 0..self.n {
            for j in 0..self.n {
                let marked = self.byzantine.contains(&NodeId(i as u32))
                    || self.byzantine.contains(&NodeId(j as u32));
                if i == j || marked {
                    continue;
                }
                let k = i * self.n + j;
                let p = self.pos.get(k).copied().unwrap_or(0.0);
                let m = self.neg.get(k).copied().unwrap_or(0.0);
                l.set(i, j, p - m);
            }
        }
        l
    }

    /// Global trust: EigenTrust over [`Ledger::local_trust`], marked nodes
    /// forced to zero and the rest renormalised; marked nodes are also
    /// removed from the pre-trusted set.
    pub fn scores(&self) -> Result<TrustScores, TrustError> {
        let mut cfg = self.config.eigentrust.clone();
        cfg.pre_trusted.retain(|id| !self.byzantine.contains(id));
        let mut s = eigentrust(&self.local_trust(), &cfg)?;
        for id in &self.byzantine {
            if let Some(v) = s.values.get_mut(id.index()) {
                *v = 0.0;
            }
        }
        let sum: f64 = s.values.iter().sum();
        if sum > 0.0 {
            for v in &mut s.values {
                *v /= sum;
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests;
