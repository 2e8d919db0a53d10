//! Certificate validation: structural checks first (cheap, no crypto), every
//! signature collected into one `dwcp_crypto::SigBatch` and checked with
//! `dwcp_crypto::verify_batch` at the end.

use crate::message::{
    CheckpointProof, NewView, PrePrepare, PreparedProof, Signed, ViewChange, Vote, VoteCertificate,
    VotePhase, batch_digest,
};
use crate::policy::Policy;
use crate::state::genesis_state;
use crate::viewchange::compute_new_view_with;
use dwcp_core::NodeId;
pub(crate) use dwcp_crypto::SigBatch;
use dwcp_crypto::Signature;
use std::collections::BTreeSet;

/// Why a certificate or composite message was refused.
pub(crate) type Invalid = &'static str;

/// Distinct, in-range signers, or an error.
fn signer_set<P: Policy>(
    policy: &P,
    sigs: &[(NodeId, Signature)],
) -> Result<BTreeSet<NodeId>, Invalid> {
    let mut set = BTreeSet::new();
    for (id, _) in sigs {
        if id.index() >= policy.n() {
            return Err("certificate names an unknown replica");
        }
        if !set.insert(*id) {
            return Err("certificate names a replica twice");
        }
    }
    Ok(set)
}

/// A stable-checkpoint proof: genesis, or a quorum of matching checkpoints.
pub(crate) fn checkpoint_proof<P: Policy>(
    policy: &P,
    p: &CheckpointProof,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    if p.seq == 0 {
        return if p.state == genesis_state() && p.signatures.is_empty() {
            Ok(())
        } else {
            Err("bad genesis checkpoint")
        };
    }
    let signers = signer_set(policy, &p.signatures)?;
    if !policy.is_quorum(&signers) {
        return Err("checkpoint proof below quorum");
    }
    for (replica, sig) in &p.signatures {
        out.push(
            &crate::message::Checkpoint {
                seq: p.seq,
                state: p.state,
                replica: *replica,
            },
            sig,
        );
    }
    Ok(())
}

/// A prepared certificate for a view below `before_view`.
pub(crate) fn prepared_proof<P: Policy>(
    policy: &P,
    p: &PreparedProof,
    before_view: u64,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    let pp: &PrePrepare = &p.pre_prepare.body;
    if pp.view >= before_view {
        return Err("prepared certificate from a view not below the new one");
    }
    let primary = policy.primary(pp.view);
    if pp.primary != primary {
        return Err("prepared certificate's pre-prepare not from the primary");
    }
    if batch_digest(&p.batch) != pp.digest {
        return Err("prepared certificate's batch does not match its digest");
    }
    let mut signers = signer_set(policy, &p.prepares)?;
    if signers.contains(&primary) {
        return Err("prepared certificate counts a prepare from the primary");
    }
    signers.insert(primary);
    if !policy.is_quorum(&signers) {
        return Err("prepared certificate below quorum");
    }
    out.push_signed(&p.pre_prepare);
    for (replica, sig) in &p.prepares {
        let vote = Vote {
            phase: VotePhase::Prepare,
            view: pp.view,
            seq: pp.seq,
            digest: pp.digest,
            replica: *replica,
        };
        out.push(&vote, sig);
    }
    Ok(())
}

/// A vote certificate: a quorum of matching votes (for prepares, the primary
/// counts and must not be among the signers).
pub(crate) fn vote_certificate<P: Policy>(
    policy: &P,
    c: &VoteCertificate,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    let mut signers = signer_set(policy, &c.votes)?;
    if c.phase == VotePhase::Prepare {
        let primary = policy.primary(c.view);
        if !signers.insert(primary) {
            return Err("prepare certificate counts a prepare from the primary");
        }
    }
    if !policy.is_quorum(&signers) {
        return Err("vote certificate below quorum");
    }
    for (replica, sig) in &c.votes {
        out.push(&c.vote_of(*replica), sig);
    }
    Ok(())
}

/// A view-change's content (its outer signature is queued too).
pub(crate) fn view_change<P: Policy>(
    policy: &P,
    window: u64,
    vc: &Signed<ViewChange>,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    let body = &vc.body;
    if body.replica.index() >= policy.n() {
        return Err("view-change from an unknown replica");
    }
    checkpoint_proof(policy, &body.stable, out)?;
    let mut last = body.stable.seq;
    for p in &body.prepared {
        let seq = p.pre_prepare.body.seq;
        if seq <= last {
            return Err("view-change certificates not strictly ascending above the checkpoint");
        }
        if seq > body.stable.seq.saturating_add(window) {
            return Err("view-change certificate beyond the high watermark");
        }
        last = seq;
        prepared_proof(policy, p, body.view, out)?;
    }
    let mut last = body.stable.seq;
    for v in &body.voted {
        let seq = v.pre_prepare.body.seq;
        if seq <= last {
            return Err("view-change votes not strictly ascending above the checkpoint");
        }
        if seq > body.stable.seq.saturating_add(window) {
            return Err("view-change vote beyond the high watermark");
        }
        last = seq;
        crate::fast::voted_proof(policy, v, body.replica, body.view, out)?;
    }
    out.push_signed(vc);
    Ok(())
}

/// A new-view: a quorum of valid view-changes for its view and exactly the
/// `O` they determine (the outer signature is queued too).
pub(crate) fn new_view<P: Policy>(
    policy: &P,
    window: u64,
    nv: &Signed<NewView>,
    out: &mut SigBatch,
) -> Result<(), Invalid> {
    let body = &nv.body;
    if body.primary != policy.primary(body.view) {
        return Err("new-view not from the view's primary");
    }
    let mut senders = BTreeSet::new();
    for vc in &body.view_changes {
        if vc.body.view != body.view {
            return Err("new-view includes a view-change for another view");
        }
        if !senders.insert(vc.signer()) {
            return Err("new-view includes two view-changes from one replica");
        }
        view_change(policy, window, vc, out)?;
    }
    if !policy.is_quorum(&senders) {
        return Err("new-view has fewer than a quorum of view-changes");
    }
    let plan = compute_new_view_with(policy, body.view_changes.iter().map(|v| &v.body));
    if plan.entries.len() != body.pre_prepares.len() {
        return Err("new-view's pre-prepares differ from the recomputed O");
    }
    for ((seq, (digest, _)), pp) in plan.entries.iter().zip(&body.pre_prepares) {
        let b = &pp.body;
        if b.seq != *seq || b.digest != *digest || b.view != body.view || b.primary != body.primary
        {
            return Err("new-view's pre-prepares differ from the recomputed O");
        }
        out.push_signed(pp);
    }
    out.push_signed(nv);
    Ok(())
}
