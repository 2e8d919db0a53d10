//! Validation of proposals, prepared certificates and view-changes: cheap
//! structural checks first, then signatures (batched where there are many)
//! and VRF proofs. Every refusal is a [`Fault`] that becomes evidence.

use crate::message::Phase;
use crate::message::{
    PreparedCert, Proposal, SIGNING_CONTEXT, Signed, Statement, ViewChange, Vote, batch_digest,
};
use crate::sample::check_membership;
use dwcp_core::{Fault, NodeId};
use dwcp_crypto::{PublicKey, verify_batch};
use std::collections::BTreeSet;

/// The leader of `view` in a committee of `n`: round robin.
pub fn leader_of(view: u64, n: usize) -> NodeId {
    NodeId((view % n.max(1) as u64) as u32)
}

/// What validation needs to know about the committee.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params<'a> {
    pub publics: &'a [PublicKey],
    pub sample: usize,
    pub quorum: usize,
    pub max_batch: usize,
    pub max_certs: usize,
    /// Client keys, when requests must be client-signed.
    pub clients: Option<&'a [PublicKey]>,
}

impl Params<'_> {
    pub fn n(&self) -> usize {
        self.publics.len()
    }
}

/// A proposal signed by its view's leader, whose batch matches the digest,
/// is not too large and holds no request twice.
pub(crate) fn check_proposal(p: &Proposal, params: &Params<'_>) -> Result<(), Fault> {
    let h = &p.header.body;
    if h.leader != leader_of(h.view, params.n()) {
        return Err(Fault::Protocol(
            "proposal signed by a replica that does not lead its view",
        ));
    }
    if p.batch.len() > params.max_batch {
        return Err(Fault::Protocol("batch larger than max_batch"));
    }
    let keys: BTreeSet<(u64, u64)> = p.batch.iter().map(|r| r.key()).collect();
    if keys.len() != p.batch.len() {
        return Err(Fault::Protocol("batch holds a request twice"));
    }
    if batch_digest(&p.batch) != h.digest {
        return Err(Fault::Protocol("batch does not match the proposal digest"));
    }
    if !p.header.verify(params.publics) {
        return Err(Fault::InvalidSignature);
    }
    if params
        .clients
        .is_some_and(|clients| !p.batch.iter().all(|r| r.verify(clients)))
    {
        // A request its client did not sign: the leader made it up.
        return Err(Fault::InvalidSignature);
    }
    Ok(())
}

/// A prepared certificate held by `holder`: a valid proposal, at least `q`
/// prepares for it from distinct voters, each validly signed and, unless it
/// is the holder's own, with a VRF proof whose sample holds the holder.
pub(crate) fn check_cert(
    cert: &PreparedCert,
    holder: NodeId,
    params: &Params<'_>,
) -> Result<(), Fault> {
    check_proposal(&cert.proposal, params)?;
    let h = cert.header();
    if cert.prepares.len() < params.quorum {
        return Err(Fault::Protocol("prepared certificate below the quorum"));
    }
    if !cert.prepares.windows(2).all(|w| w[0].voter < w[1].voter) {
        return Err(Fault::Protocol(
            "certificate voters not distinct and sorted",
        ));
    }
    let votes: Vec<(Vote, usize)> = cert
        .prepares
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                Vote {
                    phase: Phase::Prepare,
                    view: h.view,
                    slot: h.slot,
                    digest: h.digest,
                    voter: e.voter,
                },
                i,
            )
        })
        .collect();
    let mut items = Vec::with_capacity(votes.len());
    let bytes: Vec<Vec<u8>> = votes.iter().map(|(v, _)| v.signing_bytes()).collect();
    for ((vote, i), b) in votes.iter().zip(&bytes) {
        let pk = params
            .publics
            .get(vote.voter.index())
            .ok_or(Fault::InvalidSignature)?;
        let sig = &cert
            .prepares
            .get(*i)
            .ok_or(Fault::InvalidSignature)?
            .signature;
        items.push((pk, b.as_slice(), sig));
    }
    if verify_batch(SIGNING_CONTEXT, &items).is_err() {
        return Err(Fault::InvalidSignature);
    }
    for (vote, i) in &votes {
        if vote.voter == holder {
            continue;
        }
        let entry = cert.prepares.get(*i).ok_or(Fault::InvalidProof)?;
        check_membership(
            params.publics,
            vote.voter,
            holder,
            params.sample,
            vote.draw(),
            &entry.proof,
        )?;
    }
    Ok(())
}

/// A view-change signed by its sender, with at most `max_certs`
/// certificates for distinct ascending slots, each for a view below the
/// new one and valid for the sender.
pub(crate) fn check_view_change(vc: &Signed<ViewChange>, params: &Params<'_>) -> Result<(), Fault> {
    let b = &vc.body;
    if b.replica.index() >= params.n() {
        return Err(Fault::Protocol("view-change from an unknown replica"));
    }
    if b.certs.len() > params.max_certs {
        return Err(Fault::Protocol("too many certificates in a view-change"));
    }
    if !b
        .certs
        .windows(2)
        .all(|w| w[0].header().slot < w[1].header().slot)
    {
        return Err(Fault::Protocol(
            "view-change certificates not ascending by slot",
        ));
    }
    if b.certs.iter().any(|c| c.header().view >= b.view) {
        return Err(Fault::Protocol(
            "certificate from a view not below the new one",
        ));
    }
    if !vc.verify(params.publics) {
        return Err(Fault::InvalidSignature);
    }
    for c in &b.certs {
        check_cert(c, b.replica, params)?;
    }
    Ok(())
}
