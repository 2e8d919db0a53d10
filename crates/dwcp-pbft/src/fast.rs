//! SBFT's fast path (Gueta et al., DSN 2019) for collector-based voting.
//!
//! Enabled by a [`Policy`] whose [`Policy::fast_path_timeout`] is `Some`
//! and whose prepares go to a collector (classic all-to-all PBFT never uses
//! it, and its behaviour and wire traffic are unchanged apart from an empty
//! `voted` list in view-changes).
//!
//! ## Normal case
//!
//! 1. The primary sends its pre-prepare (`n − 1` messages); every backup
//!    sends its prepare to the collector (`n − 1`).
//! 2. When the collector holds a **fast quorum** of matching prepares
//!    (counting the primary's pre-prepare) it broadcasts them as one
//!    prepare-phase [`crate::VoteCertificate`], the *commit proof*
//!    (`n − 1`), and every replica that checks it decides at once: three
//!    hops, `3(n − 1)` messages, no commit phase. The proof is also the
//!    slot's decision certificate for catch-up.
//! 3. If the collector holds a quorum but not a fast quorum, it waits up to
//!    the fast-path timeout; then it falls back to the slow path: it
//!    broadcasts the (non-fast) prepare certificate, replicas send commits
//!    to it and it relays the commit certificate, as without the fast path.
//!
//! ## Exact rule
//!
//! Let `q` be the quorum (weight), `f` the faulty bound and `W` the total
//! (`n` with unit weights). With fast quorum `W − c` and witness threshold
//! `> f + c` (at least `f + c + 1`), the fast path is safe iff
//! `q ≥ 2f + 2c + 1`. For `n = 3f + 1` (`q = 2f + 1`) that forces `c = 0`:
//! all `n` replicas. For `n > 3f + 1`, `q = ⌈(n + f + 1)/2⌉` and the largest
//! admissible slack is `c = ⌊(q − 2f − 1)/2⌋` (e.g. `n = 3f + 4` allows
//! `c = 1`). The defaults of [`Policy::is_fast_quorum`] and
//! [`Policy::is_fast_witness`] take `c = 0` (all `n`, and `f + 1`), which is
//! safe for every `n ≥ 3f + 1`; a policy may use the larger `c`.
//!
//! ## Why a fast decision survives the view change
//!
//! Every replica keeps its own highest-view prepare vote per sequence number
//! (as primary, its pre-prepare), persisted before the vote leaves
//! ([`crate::Record::Voted`]), and reports it in its view-changes
//! ([`crate::VotedProof`], signed by the replica itself, inside the signed
//! view-change so a new primary cannot strip it). The new primary computes
//! `O` with [`crate::compute_new_view_with`]: for each sequence number, let
//! `P` be the highest view of a prepared certificate among the quorum of
//! view-changes; if some value has reported votes, in views above `P`, from
//! a set of replicas that [`Policy::is_fast_witness`] accepts, it is
//! re-proposed (the highest such view wins, then the smaller digest);
//! otherwise the prepared value (or the null request) as in PBFT.
//!
//! Suppose `x` was decided on the fast path at `(v, s)`. Claim: every view
//! `w > v` that is installed re-proposes `x` at `s`. By induction on `w`:
//! in views `v..w` correct replicas voted only for `x` at `s` (in view `v`
//! they vote once; later views' `O` assign `x`, and `s` lies inside `O` so
//! the primary proposes nothing else there). The `W − c` fast voters meet
//! any quorum of view-changes in at least `q − c` weight, of which at least
//! `q − c − f ≥ f + c + 1` is correct; each such replica reports a vote for
//! `x` in some view `≥ v`. Any other value `y` can only be reported by the
//! at most `c` correct replicas that did not vote in `v` plus the `f`
//! faulty ones: `≤ f + c`, never a witness set. A prepared certificate for
//! `y ≠ x` cannot exist in views `≥ v` (in `v` it would need a quorum, but
//! only `c + f < q` weight could prepare `y`; after `v` by induction), so
//! either `P < v` and the votes for `x` all lie above `P`, or `P ≥ v` and
//! that certificate is for `x` itself. Slow-path decisions keep PBFT's
//! argument: a committed `y` has a prepared certificate in the highest
//! view among the view-changes, and above it correct replicas vote only
//! `y`, so no other value reaches `f + c + 1` reported votes above `P`.
//!
//! Subtleties: votes are counted across views above `P` (a correct voter's
//! highest vote may come from any view `≥ v` in which `x` was
//! re-proposed), but at most one per replica, the highest-view one; and the
//! witness threshold grows with `c`, which is why a smaller fast quorum for
//! `n > 3f + 1` needs the larger quorum `q ≥ 2f + 2c + 1`.

use crate::message::{Vote, VoteCertificate, VotePhase, VotedProof, batch_digest};
use crate::persist::Record;
use crate::policy::{Policy, fast_on};
use crate::replica::Pbft;
use crate::verify::{Invalid, SigBatch};
use dwcp_core::{NodeId, Time};
use dwcp_crypto::PublicKey;

/// Checks a reported own vote of `replica` (structure; signatures queued):
/// the pre-prepare comes from its view's primary, is below `before_view`,
/// names the batch, and the vote is the replica's (or the replica is the
/// primary and reports no separate vote).
pub(crate) fn voted_proof<P: Policy>(
    policy: &P,
    v: &VotedProof,
    replica: NodeId,
    before_view: u64,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    let pp = &v.pre_prepare.body;
    if pp.view >= before_view {
        return Err("reported vote from a view not below the new one");
    }
    let primary = policy.primary(pp.view);
    if pp.primary != primary {
        return Err("reported vote's pre-prepare not from the primary");
    }
    if batch_digest(&v.batch) != pp.digest {
        return Err("reported vote's batch does not match its digest");
    }
    out.push_signed(&v.pre_prepare);
    match (&v.prepare, replica == primary) {
        (None, true) => Ok(()),
        (Some(sig), false) => {
            let vote = Vote {
                phase: VotePhase::Prepare,
                view: pp.view,
                seq: pp.seq,
                digest: pp.digest,
                replica,
            };
            out.push(&vote, sig);
            Ok(())
        }
        _ => Err("reported vote's prepare does not fit its signer"),
    }
}

/// Whether a persisted [`VotedProof`] is this replica's own and valid.
pub(crate) fn own_vote_ok<P: Policy>(
    policy: &P,
    publics: &[PublicKey],
    me: NodeId,
    v: &VotedProof,
) -> bool {
    let mut sigs = SigBatch::default();
    voted_proof(policy, v, me, u64::MAX, &mut sigs).is_ok() && sigs.verify(publics).is_ok()
}

/// A decision certificate: a commit certificate, or (fast path) a
/// prepare-phase certificate from a fast quorum.
pub(crate) fn decision_certificate<P: Policy>(
    policy: &P,
    c: &VoteCertificate,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    if c.phase == VotePhase::Prepare {
        if !fast_on(policy, c.view, c.seq) {
            return Err("prepare certificate offered as a decision without a fast path");
        }
        let mut voters: std::collections::BTreeSet<NodeId> =
            c.votes.iter().map(|(id, _)| *id).collect();
        voters.insert(policy.primary(c.view));
        if !policy.is_fast_quorum(&voters) {
            return Err("fast commit proof below the fast quorum");
        }
    }
    crate::verify::vote_certificate(policy, c, out)
}

impl<P: Policy> Pbft<P> {
    /// Decides a slot of the current view from a decision certificate whose
    /// signatures the host verified by other means (the aggregation layer's
    /// BLS aggregate over the same votes): `signers` signed `cert`'s vote;
    /// `cert.votes` may be empty. A commit certificate needs a quorum and a
    /// prepared slot; a prepare-phase one (fast path only) a fast quorum
    /// counting the primary. Returns whether the slot is decided; anything
    /// else (another view, no matching pre-prepare yet, too few signers) is
    /// ignored and left to retransmission. A slot decided this way is not
    /// offered to lagging replicas by this replica (it holds no
    /// signatures to prove it); they catch up from replicas that do.
    pub fn decide_verified(
        &mut self,
        now: Time,
        cert: VoteCertificate,
        signers: &std::collections::BTreeSet<NodeId>,
    ) -> bool {
        let (view, seq) = (cert.view, cert.seq);
        if !self.active || view != self.view || self.log.place(seq) != crate::log::Place::Now {
            return false;
        }
        if signers.iter().any(|s| s.index() >= self.cfg.n) {
            return false;
        }
        let Some(slot) = self.log.slots.get(&seq) else {
            return false;
        };
        if slot.committed.is_some() {
            return true;
        }
        if slot.digest() != Some(cert.digest) {
            return false;
        }
        let ok = match cert.phase {
            VotePhase::Commit => slot.prepared && self.policy.is_quorum(signers),
            VotePhase::Prepare => {
                let mut voters = signers.clone();
                voters.insert(self.policy.primary(view));
                fast_on(&self.policy, view, seq) && self.policy.is_fast_quorum(&voters)
            }
        };
        if !ok {
            return false;
        }
        if cert.phase == VotePhase::Prepare {
            self.stats.fast_decisions += 1;
        }
        let slot = self.log.slot(seq);
        slot.fast_wait = None;
        slot.committed = Some(cert);
        self.try_execute(now);
        true
    }

    /// Remembers (and, persisted first, reports in later view-changes) this
    /// replica's own vote for the pre-prepare of `seq`.
    pub(crate) fn note_own_vote(&mut self, seq: u64, prepare: Option<dwcp_crypto::Signature>) {
        let Some(slot) = self.log.slots.get(&seq) else {
            return;
        };
        let Some((pp, batch)) = &slot.pre_prepare else {
            return;
        };
        if !fast_on(&self.policy, pp.body.view, seq) && !self.policy.report_own_votes() {
            return;
        }
        let v = VotedProof {
            pre_prepare: pp.clone(),
            batch: batch.clone(),
            prepare,
        };
        self.persist(Record::Voted(v.clone()));
        self.log.keep_voted(v);
    }

    /// Fast path: decides `seq` if its prepares (with the primary) form a
    /// fast quorum; the collector then broadcasts them as the commit proof
    /// unless it already fell back. Returns whether the slot is decided.
    pub(crate) fn check_fast(&mut self, now: Time, seq: u64) -> bool {
        let view = self.view;
        if !fast_on(&self.policy, view, seq) {
            return false;
        }
        let primary = self.policy.primary(view);
        let Some(slot) = self.log.slots.get(&seq) else {
            return false;
        };
        if slot.committed.is_some() {
            return true;
        }
        let Some(digest) = slot.digest() else {
            return false;
        };
        if !slot.prepared {
            return false;
        }
        let (mut voters, mut votes) = slot.matching(VotePhase::Prepare, digest);
        votes.retain(|(id, _)| *id != primary);
        voters.insert(primary);
        if !self.policy.is_fast_quorum(&voters) {
            return false;
        }
        let fell_back = slot.fell_back;
        let cert = VoteCertificate {
            phase: VotePhase::Prepare,
            view,
            seq,
            digest,
            votes,
        };
        let slot = self.log.slot(seq);
        slot.fast_wait = None;
        slot.committed = Some(cert.clone());
        self.stats.fast_decisions += 1;
        let collector = self.policy.collector(VotePhase::Prepare, view, seq);
        if collector == Some(self.id) && !fell_back && !cert.votes.is_empty() {
            self.broadcast(crate::message::Message::Certificate(cert));
        }
        self.try_execute(now);
        true
    }

    /// When the earliest fast-path wait ends.
    pub(crate) fn fast_deadline(&self) -> Option<Time> {
        if !self.active {
            return None;
        }
        self.log.slots.values().filter_map(|s| s.fast_wait).min()
    }

    /// Falls back to the slow path for every slot whose fast-path wait
    /// ended: broadcasts the prepare certificate held so far.
    pub(crate) fn fast_fall_back(&mut self, now: Time) {
        let view = self.view;
        let primary = self.policy.primary(view);
        let due: Vec<u64> = self
            .log
            .slots
            .iter()
            .filter(|(_, s)| s.fast_wait.is_some_and(|t| t <= now))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in due {
            let slot = self.log.slot(seq);
            slot.fast_wait = None;
            slot.fell_back = true;
            let Some(digest) = slot.digest() else {
                continue;
            };
            if slot.committed.is_some() {
                continue;
            }
            let (_, mut votes) = slot.matching(VotePhase::Prepare, digest);
            votes.retain(|(id, _)| *id != primary);
            self.stats.fast_fallbacks += 1;
            if !votes.is_empty() {
                self.broadcast(crate::message::Message::Certificate(VoteCertificate {
                    phase: VotePhase::Prepare,
                    view,
                    seq,
                    digest,
                    votes,
                }));
            }
            self.check_committed(now, seq);
        }
    }
}
