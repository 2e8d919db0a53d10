//! What each replica observed of the others, as committed data.
//!
//! Trust must come from committed data only, so that every honest node
//! derives the same scores and elects the same groups. What a replica sees
//! of its peers (whose checkpoint signatures reached it in time, which
//! primaries let a view fail, who sent it invalid signatures, which
//! conflicting statements it holds) is local; this module turns it into log
//! entries:
//!
//! 1. **Attest**: at the end of an epoch each replica's host builds one
//!    [`Attestation`] from its own engine's records and evidence, signs it
//!    with the replica's key as a client request
//!    ([`Attestation::to_request`], client id `client_base + replica`) and
//!    submits it; the epoch closes once they are committed.
//! 2. **Read** ([`Attestations`]): every node reads the same committed log,
//!    keeps the first valid attestation of each replica about the epoch,
//!    and [`Attestations::apply`] feeds the ledger: the attester's own
//!    observations (timely checkpoint signatures add, invalid signatures
//!    subtract) as *its* local trust, EigenTrust's model; a view's primary
//!    is charged a missed deadline only when `f + 1` distinct attesters
//!    report the view failed (so the `f` Byzantine replicas cannot frame an
//!    honest primary); a pair of conflicting signed statements marks its
//!    signer Byzantine once verified, whoever relayed it.
//!
//! The feed is a pure function of the committed log and the epoch's
//! election, so every honest node's ledger, scores and next election agree.
//! Attestations cost a few log slots per epoch. Byzantine attesters can credit each other and withhold
//! credit from honest nodes; EigenTrust's pre-trusted peers and damping
//! bound what `f` colluders gain (the limits are in dwcp-reputation's
//! docs).

use crate::election::Election;
use crate::evidence::PbftEquivocation;
use dwcp_core::{NodeId, codec};
use dwcp_crypto::{PublicKey, SecretKey};
use dwcp_pbft::Request;
use dwcp_reputation::{Ledger, Observation};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Tag at the start of an attestation request's payload.
pub const TAG: &[u8; 4] = b"ATST";

/// Largest encoded attestation accepted.
pub const MAX_ATTESTATION: usize = 8192;

/// Most failed views one attestation may list.
pub const MAX_VIEWS: usize = 64;

/// Most conflicting pairs one attestation may carry, and the largest
/// encoded statement in one.
pub const MAX_EVIDENCE: usize = 4;

/// Largest encoded statement of a conflicting pair.
pub const MAX_STATEMENT: usize = 1024;

/// Most observations of one kind counted per attester, subject and epoch.
pub const MAX_COUNT: u32 = 64;

/// A pair of conflicting signed statements and the accused signer.
pub type Conflict = (NodeId, Vec<u8>, Vec<u8>);

/// One replica's observations of one epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The epoch observed.
    pub epoch: u64,
    /// Peers whose signatures are in this replica's stable-checkpoint
    /// proofs of the epoch, with the number of checkpoints (ids ascending).
    pub timely: Vec<(NodeId, u32)>,
    /// Views of the epoch this replica left without preparing anything in
    /// them (ascending).
    pub failed_views: Vec<u64>,
    /// Peers that sent this replica invalid signatures, with counts (ids
    /// ascending).
    pub invalid: Vec<(NodeId, u32)>,
    /// Conflicting signed statements this replica caught.
    pub conflicts: Vec<Conflict>,
}

impl Attestation {
    /// The request id of `epoch`'s attestation (complaint ids use the low
    /// 32 bits for the view; views never reach `u32::MAX`).
    fn id(epoch: u64) -> u64 {
        (epoch << 32) | 0xffff_ffff
    }

    /// The attestation as a request of client `client_base + me`, signed
    /// with `me`'s key.
    pub fn to_request(&self, me: NodeId, key: &SecretKey, client_base: u64) -> Request {
        let mut payload = TAG.to_vec();
        payload.extend(codec::encode(self));
        Request::signed(
            client_base + me.0 as u64,
            Self::id(self.epoch),
            payload,
            key,
        )
    }

    /// Parses a committed request as a well-formed attestation of replica
    /// `r < n` (ids in range and strictly ascending, bounded lists). The
    /// signature is checked by [`Attestations::add`].
    pub fn from_request(
        req: &Request,
        client_base: u64,
        n: usize,
    ) -> Option<(NodeId, Attestation)> {
        let r = req.client.checked_sub(client_base)?;
        if r >= n as u64 {
            return None;
        }
        let body = req.payload.strip_prefix(TAG.as_slice())?;
        let a: Attestation = codec::decode_bounded(body, MAX_ATTESTATION).ok()?;
        (req.id == Self::id(a.epoch) && a.well_formed(n)).then_some((NodeId(r as u32), a))
    }

    fn well_formed(&self, n: usize) -> bool {
        let ascending = |ids: &[(NodeId, u32)]| {
            ids.len() <= n
                && ids.windows(2).all(|w| w[0].0 < w[1].0)
                && ids.iter().all(|(id, _)| id.index() < n)
        };
        ascending(&self.timely)
            && ascending(&self.invalid)
            && self.failed_views.len() <= MAX_VIEWS
            && self.failed_views.windows(2).all(|w| w[0] < w[1])
            && self.conflicts.len() <= MAX_EVIDENCE
            && self.conflicts.iter().all(|(c, a, b)| {
                c.index() < n && a.len() <= MAX_STATEMENT && b.len() <= MAX_STATEMENT
            })
    }
}

/// The committed attestations about one epoch: the first valid one of each
/// replica. A pure function of the committed log.
#[derive(Clone, Debug)]
pub struct Attestations {
    f: usize,
    n: usize,
    epoch: u64,
    by: BTreeMap<NodeId, Attestation>,
}

impl Attestations {
    /// Collects attestations about `epoch` among `n` members with fault
    /// bound `f`.
    pub fn new(f: usize, n: usize, epoch: u64) -> Attestations {
        Attestations {
            f,
            n,
            epoch,
            by: BTreeMap::new(),
        }
    }

    /// Reads one committed request; returns whether it was a valid
    /// attestation about this epoch, counted (the first of its replica).
    /// `clients` is the engine's client key list, whose entry
    /// `client_base + r` is replica `r`'s key.
    pub fn add(&mut self, req: &Request, client_base: u64, clients: &[PublicKey]) -> bool {
        let Some((who, a)) = Attestation::from_request(req, client_base, self.n) else {
            return false;
        };
        if a.epoch != self.epoch || self.by.contains_key(&who) || !req.verify(clients) {
            return false;
        }
        self.by.insert(who, a);
        true
    }

    /// Replicas whose attestation was counted.
    pub fn attesters(&self) -> Vec<NodeId> {
        self.by.keys().copied().collect()
    }

    /// Primaries of views that `f + 1` distinct attesters report failed,
    /// under the attested epoch's `election` (one entry per view).
    pub fn failed_primaries(&self, election: &Election) -> Vec<NodeId> {
        let mut views: BTreeMap<u64, BTreeSet<NodeId>> = BTreeMap::new();
        for (who, a) in &self.by {
            for v in &a.failed_views {
                views.entry(*v).or_default().insert(*who);
            }
        }
        views
            .into_iter()
            .filter(|(_, w)| w.len() > self.f)
            .map(|(v, _)| election.primary(v))
            .collect()
    }

    /// Feeds `ledger`: each attester's timely and invalid-signature
    /// observations as its own, a missed deadline against every primary of
    /// a view confirmed failed by `f + 1` attesters (observed by everyone),
    /// and a permanent mark for every verified conflicting pair. Returns the
    /// nodes newly marked.
    pub fn apply(
        &self,
        ledger: &mut Ledger,
        election: &Election,
        publics: &[PublicKey],
    ) -> Vec<NodeId> {
        for (who, a) in &self.by {
            for (s, k) in &a.timely {
                for _ in 0..(*k).min(MAX_COUNT) {
                    ledger.observe(*who, *s, Observation::TimelyVote);
                }
            }
            for (s, k) in &a.invalid {
                for _ in 0..(*k).min(MAX_COUNT) {
                    ledger.observe(*who, *s, Observation::InvalidSignature);
                }
            }
        }
        for p in self.failed_primaries(election) {
            for i in 0..self.n as u32 {
                ledger.observe(NodeId(i), p, Observation::MissedDeadline);
            }
        }
        let mut marked = vec![];
        for (culprit, first, second) in self.by.values().flat_map(|a| &a.conflicts) {
            let proof = PbftEquivocation {
                culprit: *culprit,
                first,
                second,
                publics,
            };
            if !ledger.is_byzantine(*culprit) && ledger.mark_byzantine(&proof) {
                marked.push(*culprit);
            }
        }
        marked
    }
}
