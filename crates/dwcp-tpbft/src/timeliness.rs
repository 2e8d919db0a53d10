//! Proposal timeliness as committed data: signed late-proposal complaints
//! ordered in the log, charged only when `f + 1` replicas agree.
//!
//! A slow primary that stays just under the request timeout never loses a
//! view, and certificates and checkpoints hold no proposal times, so the
//! committed data alone cannot tell it from an honest one. This module makes
//! timeliness committed:
//!
//! 1. **Measure** ([`Monitor`], one per replica, driven by its host with the
//!    caller-supplied clock): for each request the replica received itself,
//!    the delay between `max(receipt, start of the current view, last time
//!    the sequence window reopened)` and the moment the replica accepted the
//!    primary's pre-prepare carrying it (its own prepare vote,
//!    `dwcp_pbft::Record::Voted`). The window term matters under loss: a
//!    primary whose window is full must wait for a stable checkpoint, and
//!    is not to blame for that wait. A delay above the
//!    configured bound (half the request timeout in [`crate::epochs`])
//!    yields one [`Complaint`] naming `(epoch, view, seq, primary)`, at most
//!    one per view and [`Monitor::MAX_PENDING`] tracked requests.
//! 2. **Order**: the replica signs the complaint with its own key as a
//!    client request ([`Complaint::to_request`], client id
//!    `client_base + replica`), and submits it like any request, so it is
//!    ordered into the committed log. [`crate::epochs`] submits the
//!    complaints of an epoch when it closes, with the replicas'
//!    attestations ([`crate::attest`]), and again at the start of the next
//!    epoch, under the next primary, if they were not committed by then (a
//!    censoring primary cannot hold them back for good).
//! 3. **Tally** ([`Tally`]): every honest node reads the same committed log,
//!    checks each complaint's signature and charges the primary once per
//!    `(epoch, view)` for which `f + 1` **distinct** replicas' valid
//!    complaints were committed.
//!
//! ## Why an honest primary cannot be framed
//!
//! At most `f` replicas are Byzantine, so `f + 1` distinct signed
//! complaints about the same `(epoch, view, primary)` include one from an
//! honest replica, and signatures (under the client context, separate from
//! protocol messages) cannot be forged. An honest replica complains only
//! when it measured, with its own clock, a proposal later than the bound
//! after it held the request in that view. An honest primary proposes within
//! two message delays of a request reaching any honest replica, so as long
//! as the bound exceeds that (the synchrony PBFT already assumes for its
//! request timer, the bound being half of it) no honest replica complains
//! about it and it is never charged. The tally is a pure function of the
//! committed log, so every honest node charges the same primaries. Each
//! complainant's keys are capped per epoch ([`Tally::new`]'s `cap`) and
//! only the current and previous epoch are kept, so `f` Byzantine
//! replicas flooding complaints cost bounded memory and ordering slots,
//! never a charge.
//!
//! Limits: a Byzantine primary can still be slow *below* the bound (up to
//! half the request timeout per request, counted from its receipt, the
//! view's start or the window's reopening) without being charged; an
//! honest primary on a network slower than the bound (beyond PBFT's timing
//! assumption) can be charged, as it could time out anyway; a replica only
//! measures the requests it received itself, so a slow primary is caught
//! once `f + 1` replicas submitted requests in its view.

use dwcp_core::{Duration, NodeId, Time, codec};
use dwcp_crypto::{PublicKey, SecretKey};
use dwcp_pbft::{PrePrepare, Request};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Tag at the start of a complaint request's payload.
pub const TAG: &[u8; 4] = b"LATE";

/// Largest encoded complaint accepted.
const MAX_COMPLAINT: usize = 64;

/// "The primary of `view` in `epoch` proposed `seq` late", as signed by
/// the complaining replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Complaint {
    /// Epoch (engine instance) of the late proposal.
    pub epoch: u64,
    /// Its view.
    pub view: u64,
    /// Its sequence number (informational; the tally keys on the view).
    pub seq: u64,
    /// The view's primary.
    pub primary: NodeId,
}

impl Complaint {
    /// The complaint as a request of client `client_base + me`, signed with
    /// `me`'s key (its id, `epoch · 2³² + view`, is unique per complainant
    /// and view).
    pub fn to_request(&self, me: NodeId, key: &SecretKey, client_base: u64) -> Request {
        let mut payload = TAG.to_vec();
        payload.extend(codec::encode(self));
        let id = (self.epoch << 32) | (self.view & 0xffff_ffff);
        Request::signed(client_base + me.0 as u64, id, payload, key)
    }

    /// Parses a committed request as a complaint: `(complainant, complaint)`
    /// when it comes from client `client_base + r` with `r < n` and carries
    /// a well-formed complaint. The signature is checked by [`Tally::add`].
    pub fn from_request(req: &Request, client_base: u64, n: usize) -> Option<(NodeId, Complaint)> {
        let r = req.client.checked_sub(client_base)?;
        if r >= n as u64 {
            return None;
        }
        let body = req.payload.strip_prefix(TAG.as_slice())?;
        let c: Complaint = codec::decode_bounded(body, MAX_COMPLAINT).ok()?;
        let id = (c.epoch << 32) | (c.view & 0xffff_ffff);
        (id == req.id).then_some((NodeId(r as u32), c))
    }
}

/// One replica's proposal-timeliness monitor (sans-IO: its host feeds it
/// requests, installed views and accepted proposals with local times).
#[derive(Clone, Debug)]
pub struct Monitor {
    epoch: u64,
    bound: Duration,
    view: u64,
    view_start: Time,
    window: u64,
    stable: u64,
    highest: u64,
    reopened: Time,
    pending: BTreeMap<(u64, u64), Time>,
    complained: BTreeSet<u64>,
}

impl Monitor {
    /// Most requests tracked at once (older ones are forgotten first).
    pub const MAX_PENDING: usize = 1024;

    /// A monitor for `epoch`, complaining about proposals later than
    /// `bound`; view 0 starts at `start`; `window` is the engine's sequence
    /// window (proposals at most `window` above the stable checkpoint).
    pub fn new(epoch: u64, bound: Duration, start: Time, window: u64) -> Monitor {
        Monitor {
            epoch,
            bound,
            view: 0,
            view_start: start,
            window,
            stable: 0,
            highest: 0,
            reopened: start,
            pending: BTreeMap::new(),
            complained: BTreeSet::new(),
        }
    }

    /// This replica received `req` (from a client) at `now`.
    pub fn on_request(&mut self, now: Time, req: &Request) {
        if self.pending.len() >= Self::MAX_PENDING {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.pending.remove(&k);
            }
        }
        self.pending.entry(req.key()).or_insert(now);
    }

    /// This replica installed `view` at `now` (its new-view was accepted):
    /// the clock of every pending request restarts, so that the new primary
    /// is not blamed for its predecessor's delay.
    pub fn on_view(&mut self, now: Time, view: u64) {
        if view > self.view {
            self.view = view;
            self.view_start = now;
        }
    }

    /// This replica's checkpoint `seq` became stable at `now`: if the
    /// window was full (the primary could not propose), the clock of every
    /// pending request restarts.
    pub fn on_stable(&mut self, now: Time, seq: u64) {
        if seq > self.stable {
            if self.highest >= self.stable.saturating_add(self.window) {
                self.reopened = now;
            }
            self.stable = seq;
        }
    }

    /// This replica accepted (voted for) `pre_prepare` with `batch` at
    /// `now`. Returns a complaint when it carried a request this replica
    /// had held for longer than the bound in this view (once per view).
    pub fn on_proposal(
        &mut self,
        now: Time,
        pre_prepare: &PrePrepare,
        batch: &[Request],
    ) -> Option<Complaint> {
        let mut late = false;
        self.highest = self.highest.max(pre_prepare.seq);
        for req in batch {
            if let Some(at) = self.pending.remove(&req.key()) {
                let since = if pre_prepare.view == self.view {
                    at.max(self.view_start).max(self.reopened)
                } else {
                    now
                };
                late |= now.saturating_since(since) > self.bound;
            }
        }
        if !late || pre_prepare.view != self.view || !self.complained.insert(pre_prepare.view) {
            return None;
        }
        Some(Complaint {
            epoch: self.epoch,
            view: pre_prepare.view,
            seq: pre_prepare.seq,
            primary: pre_prepare.primary,
        })
    }
}

/// The committed complaints of recent epochs, and which primaries they
/// confirm as late. A pure function of the committed log.
#[derive(Clone, Debug)]
pub struct Tally {
    f: usize,
    cap: usize,
    /// `(epoch, view, primary)` → distinct complainants.
    keys: BTreeMap<(u64, u64, NodeId), BTreeSet<NodeId>>,
    /// `(complainant, epoch)` → keys it filed.
    filed: BTreeMap<(NodeId, u64), usize>,
    charged: BTreeSet<(u64, u64, NodeId)>,
    /// Newest epoch seen (complaints about older than `newest - 1` are
    /// dropped).
    newest: u64,
}

impl Tally {
    /// Charges once `f + 1` distinct replicas complained about the same
    /// `(epoch, view, primary)`; at most `cap` complaints per complainant
    /// and epoch count.
    pub fn new(f: usize, cap: usize) -> Tally {
        Tally {
            f,
            cap,
            keys: BTreeMap::new(),
            filed: BTreeMap::new(),
            charged: BTreeSet::new(),
            newest: 0,
        }
    }

    /// Reads one committed request; returns whether it was a valid, counted
    /// complaint (about the current or previous epoch of
    /// [`Tally::start_epoch`]). `clients` is the engine's client key list, whose entry
    /// `client_base + r` is replica `r`'s key, for `r < n`.
    pub fn add(
        &mut self,
        req: &Request,
        client_base: u64,
        n: usize,
        clients: &[PublicKey],
    ) -> bool {
        let Some((who, c)) = Complaint::from_request(req, client_base, n) else {
            return false;
        };
        if !req.verify(clients) || c.primary.index() >= n || c.primary == who {
            return false;
        }
        // Only the current and the previous epoch: memory stays bounded
        // whatever epochs Byzantine complainants name.
        if c.epoch.saturating_add(1) < self.newest || c.epoch > self.newest {
            return false;
        }
        let key = (c.epoch, c.view, c.primary);
        let n = self.filed.entry((who, c.epoch)).or_insert(0);
        let set = self.keys.entry(key).or_default();
        if set.contains(&who) || *n >= self.cap {
            return false;
        }
        *n += 1;
        set.insert(who);
        true
    }

    /// Keys that newly reached `f + 1` complainants since the last call
    /// (each is returned once).
    pub fn newly_confirmed(&mut self) -> Vec<(u64, u64, NodeId)> {
        let f = self.f;
        let fresh: Vec<_> = self
            .keys
            .iter()
            .filter(|(k, v)| v.len() > f && !self.charged.contains(*k))
            .map(|(k, _)| *k)
            .collect();
        self.charged.extend(fresh.iter().copied());
        fresh
    }

    /// Starts `epoch`: state about epochs before `epoch − 1` is dropped.
    pub fn start_epoch(&mut self, epoch: u64) {
        self.newest = self.newest.max(epoch);
        let keep = self.newest.saturating_sub(1);
        self.keys.retain(|k, _| k.0 >= keep);
        self.charged.retain(|k| k.0 >= keep);
        self.filed.retain(|k, _| k.1 >= keep);
    }

    /// Tracked `(epoch, view, primary)` keys (at most `n · cap` for each of
    /// the current and previous epoch).
    pub fn tracked(&self) -> usize {
        self.keys.len()
    }
}
