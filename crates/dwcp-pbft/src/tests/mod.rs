//! Handler-level tests: one replica driven by hand, its outputs inspected.

use crate::{
    Message, Pbft, PbftConfig, PbftOutput, Record, Request, Signed, Vote, VotePhase, batch_digest,
};
use dwcp_core::{Digest, Engine, NodeId, Output, Target, Time, rng};
use dwcp_crypto::Keyring;

mod checkpoint;
#[cfg(feature = "sim")]
mod cluster;
mod endorse;
mod fast;
mod golden;
mod normal;
mod relay;
mod restore;
mod viewchange;

/// Small windows so that checkpoints and watermarks are exercised quickly;
/// no status probes or retransmissions (they would add outputs to every
/// timeout; their own tests turn them on).
pub(crate) fn cfg(n: usize) -> PbftConfig {
    let mut c = PbftConfig::new(n).unwrap();
    c.checkpoint_interval = 2;
    c.window = 4;
    c.max_batch = 2;
    c.catch_up_retention = 8;
    c.status_interval = None;
    c.retransmit_timeout = None;
    c
}

pub(crate) fn keys(n: usize) -> Keyring {
    Keyring::sr25519(n, 42)
}

pub(crate) fn replica(n: usize, id: u32, keys: &Keyring) -> Pbft {
    replica_with(cfg(n), id, keys)
}

pub(crate) fn replica_with(c: PbftConfig, id: u32, keys: &Keyring) -> Pbft {
    let id = NodeId(id);
    Pbft::new(
        c,
        id,
        keys.secrets[id.index()].clone(),
        keys.publics.clone(),
        rng::seeded(id.0 as u64),
    )
    .unwrap()
}

pub(crate) fn drain(e: &mut Pbft) -> Vec<PbftOutput> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

pub(crate) fn sends(outs: &[PbftOutput]) -> Vec<(Target, Message)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((to.clone(), msg.clone())),
            _ => None,
        })
        .collect()
}

pub(crate) fn records(outs: &[PbftOutput]) -> Vec<Record> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Persist(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn delivered(outs: &[PbftOutput]) -> Vec<Request> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Deliver(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn evidence(outs: &[PbftOutput]) -> Vec<dwcp_core::Evidence> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Evidence(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Votes of `phase` this replica sent, as (view, seq, digest).
pub(crate) fn sent_votes(outs: &[PbftOutput], phase: VotePhase) -> Vec<(u64, u64, Digest)> {
    sends(outs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Vote(v) if v.body.phase == phase => {
                Some((v.body.view, v.body.seq, v.body.digest))
            }
            _ => None,
        })
        .collect()
}

pub(crate) fn req(i: u64) -> Request {
    Request {
        client: 1,
        id: i,
        payload: vec![i as u8],
        auth: None,
    }
}

pub(crate) fn vote(
    keys: &Keyring,
    phase: VotePhase,
    view: u64,
    seq: u64,
    digest: Digest,
    who: u32,
) -> Message {
    let v = Vote {
        phase,
        view,
        seq,
        digest,
        replica: NodeId(who),
    };
    Message::Vote(Signed::sign(v, &keys.secrets[who as usize]))
}

/// A pre-prepare for `batch` at `(view, seq)` signed by the view's primary
/// (round robin over `n`).
pub(crate) fn pp(keys: &Keyring, n: usize, view: u64, seq: u64, batch: Vec<Request>) -> Message {
    let primary = NodeId((view % n as u64) as u32);
    Message::pre_prepare(view, seq, batch, &keys.secrets[primary.index()], primary)
}

pub(crate) fn digest_of(batch: &[Request]) -> Digest {
    batch_digest(batch)
}

/// The genesis checkpoint proof (sequence 0, no signatures).
pub(crate) fn genesis() -> crate::message::CheckpointProof {
    crate::message::CheckpointProof {
        seq: 0,
        state: crate::state::genesis_state(),
        signatures: vec![],
    }
}

/// The signed pre-prepare of view `view`'s primary (n = 4) for `batch`.
pub(crate) fn signed_pp(
    k: &Keyring,
    view: u64,
    seq: u64,
    batch: &[Request],
) -> Signed<crate::message::PrePrepare> {
    let Message::PrePrepare { pre_prepare, .. } = pp(k, 4, view, seq, batch.to_vec()) else {
        unreachable!()
    };
    pre_prepare
}

/// `who`'s own vote for `batch` at `(view, seq)`.
pub(crate) fn own(
    k: &Keyring,
    who: u32,
    view: u64,
    seq: u64,
    batch: &[Request],
) -> crate::message::VotedProof {
    let pre_prepare = signed_pp(k, view, seq, batch);
    let prepare = (pre_prepare.body.primary != NodeId(who)).then(|| {
        let Message::Vote(v) = vote(k, VotePhase::Prepare, view, seq, digest_of(batch), who) else {
            unreachable!()
        };
        v.signature
    });
    crate::message::VotedProof {
        pre_prepare,
        batch: batch.to_vec(),
        prepare,
    }
}

pub(crate) const T0: Time = Time::ZERO;
