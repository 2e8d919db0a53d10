//! The server side of secure aggregation.

use super::config::SecAggConfig;
use super::keys::{self, KeyPair};
use super::messages::{
    EncryptedShare, KeyAdvert, SecAggMessage, SurvivorStatement, strictly_ascending,
};
use crate::fixed::{FixedPoint, unpack};
use crate::shamir::{self, Share};
use dwcp_core::{Digest, Engine, Evidence, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{PublicKey, Signature, Signed, verify_statement};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What the host asks of the server.
#[derive(Clone, Debug)]
pub enum ServerRequest {
    /// Open the session: the advertisement round's timeout starts now.
    Start,
}

/// The recovered aggregate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AggregateSum {
    /// Clients whose inputs are in the sum (U3).
    pub survivors: Vec<NodeId>,
    /// Clients that shared keys but dropped before sending their input (U2 \ U3).
    pub dropped: Vec<NodeId>,
    /// `Σ w_u · q_u` per coordinate, exact (no wrap-around by configuration).
    pub levels: Vec<u64>,
    /// `Σ w_u` over the survivors.
    pub weight_sum: u64,
}

impl AggregateSum {
    /// The weighted sum `Σ w_u · x_u` of the (clipped) inputs.
    pub fn weighted_sum(&self, fixed: &FixedPoint) -> Vec<f64> {
        self.levels
            .iter()
            .map(|&l| fixed.decode_weighted_sum(l, self.weight_sum))
            .collect()
    }

    /// The weighted mean `Σ w_u · x_u / Σ w_u`, within
    /// [`FixedPoint::max_error`] of the mean of the clipped inputs.
    pub fn weighted_mean(&self, fixed: &FixedPoint) -> Vec<f32> {
        let w = self.weight_sum.max(1) as f64;
        self.weighted_sum(fixed)
            .into_iter()
            .map(|s| (s / w) as f32)
            .collect()
    }
}

/// The server's result for the session.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerOutcome {
    /// The sum was recovered.
    Sum(AggregateSum),
    /// Too few clients remained at some round, or recovery failed.
    Aborted {
        /// The round that could not complete.
        round: &'static str,
        /// Why.
        reason: String,
    },
}

/// The server's rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Round {
    /// Collecting signed key advertisements.
    AdvertiseKeys,
    /// Collecting encrypted shares.
    ShareKeys,
    /// Collecting masked inputs.
    MaskedInput,
    /// Collecting signatures on the survivor set.
    Consistency,
    /// Collecting unmasking shares.
    Unmasking,
    /// Finished (sum delivered or aborted).
    Finished,
}

impl Round {
    fn name(self) -> &'static str {
        match self {
            Round::AdvertiseKeys => "advertise-keys",
            Round::ShareKeys => "share-keys",
            Round::MaskedInput => "masked-input",
            Round::Consistency => "consistency-check",
            Round::Unmasking => "unmasking",
            Round::Finished => "finished",
        }
    }
}

type Out = Output<SecAggMessage, (), ServerOutcome>;

/// The server's secure-aggregation state machine (sans-IO, see the crate docs).
pub struct SecAggServer {
    cfg: SecAggConfig,
    publics: Vec<PublicKey>,
    round: Round,
    deadline: Option<Time>,
    /// Who is expected to answer this round.
    expected: BTreeSet<NodeId>,
    /// Digest of each client's message this round (duplicates and conflicts).
    seen: BTreeMap<NodeId, Digest>,
    adverts: BTreeMap<NodeId, Signed<KeyAdvert>>,
    shares: BTreeMap<NodeId, Vec<EncryptedShare>>,
    u2: Vec<NodeId>,
    sum: Vec<u64>,
    u3: Vec<NodeId>,
    signatures: BTreeMap<NodeId, Signature>,
    /// owner -> shares of its seed (survivors) or key (dropped).
    seed_shares: BTreeMap<NodeId, Vec<Share>>,
    key_shares: BTreeMap<NodeId, Vec<Share>>,
    responders: BTreeSet<NodeId>,
    out: VecDeque<Out>,
}

impl SecAggServer {
    /// A server for `cfg`, checking client signatures against `publics`
    /// (indexed by client id).
    pub fn new(cfg: SecAggConfig, publics: Vec<PublicKey>) -> SecAggServer {
        let expected = NodeId::all(cfg.clients).collect();
        SecAggServer {
            sum: vec![0; cfg.upload_len()],
            cfg,
            publics,
            round: Round::AdvertiseKeys,
            deadline: None,
            expected,
            seen: BTreeMap::new(),
            adverts: BTreeMap::new(),
            shares: BTreeMap::new(),
            u2: vec![],
            u3: vec![],
            signatures: BTreeMap::new(),
            seed_shares: BTreeMap::new(),
            key_shares: BTreeMap::new(),
            responders: BTreeSet::new(),
            out: VecDeque::new(),
        }
    }

    /// The current round.
    pub fn round(&self) -> Round {
        self.round
    }

    fn evidence(&mut self, culprit: NodeId, fault: Fault) {
        self.out
            .push_back(Output::Evidence(Evidence { culprit, fault }));
    }

    /// Records `msg` from `from` for this round. `false` (and maybe
    /// evidence) if it is a duplicate or a conflicting second message.
    fn first_time(&mut self, from: NodeId, msg: &SecAggMessage) -> bool {
        let d = Digest::of_value(msg);
        match self.seen.get(&from) {
            None => {
                self.seen.insert(from, d);
                true
            }
            Some(prev) if *prev == d => false,
            Some(_) => {
                self.evidence(
                    from,
                    Fault::Protocol("conflicting second message in one round"),
                );
                false
            }
        }
    }

    fn advance(&mut self, now: Time, round: Round, expected: BTreeSet<NodeId>) {
        self.round = round;
        self.expected = expected;
        self.seen.clear();
        self.deadline = Some(now.saturating_add(self.cfg.round_timeout));
    }

    fn abort(&mut self, reason: String) {
        let round = self.round.name();
        self.round = Round::Finished;
        self.deadline = None;
        self.out
            .push_back(Output::Deliver(ServerOutcome::Aborted { round, reason }));
    }

    fn all_answered(&self) -> bool {
        self.seen.len() == self.expected.len()
    }

    /// Ends the current round: on to the next with whoever answered, or
    /// abort if fewer than `threshold` did.
    fn close_round(&mut self, now: Time) {
        let answered: Vec<NodeId> = self.seen.keys().copied().collect();
        if answered.len() < self.cfg.threshold && self.round != Round::Unmasking {
            return self.abort(format!(
                "{} of {} clients answered, threshold {}",
                answered.len(),
                self.expected.len(),
                self.cfg.threshold
            ));
        }
        match self.round {
            Round::AdvertiseKeys => {
                self.adverts.retain(|id, _| answered.contains(id));
                let list: Vec<_> = self.adverts.values().cloned().collect();
                self.advance(now, Round::ShareKeys, answered.iter().copied().collect());
                self.out.push_back(Output::Send {
                    to: Target::many(answered),
                    msg: SecAggMessage::KeyList(list),
                });
            }
            Round::ShareKeys => {
                self.u2 = answered.clone();
                for v in &answered {
                    let mut to_v = vec![];
                    for u in &answered {
                        let found = self
                            .shares
                            .get(u)
                            .and_then(|l| l.iter().find(|e| e.to == *v));
                        to_v.extend(found.cloned());
                    }
                    self.out.push_back(Output::Send {
                        to: Target::One(*v),
                        msg: SecAggMessage::SharesFor(to_v),
                    });
                }
                self.shares.clear();
                self.advance(now, Round::MaskedInput, answered.into_iter().collect());
            }
            Round::MaskedInput => {
                self.u3 = answered.clone();
                self.advance(now, Round::Consistency, answered.iter().copied().collect());
                self.out.push_back(Output::Send {
                    to: Target::many(answered.clone()),
                    msg: SecAggMessage::ConsistencyCheck(answered),
                });
            }
            Round::Consistency => {
                let signatures: Vec<_> = self.signatures.iter().map(|(k, v)| (*k, *v)).collect();
                self.advance(now, Round::Unmasking, answered.iter().copied().collect());
                self.out.push_back(Output::Send {
                    to: Target::many(answered),
                    msg: SecAggMessage::Unmask {
                        survivors: self.u3.clone(),
                        signatures,
                    },
                });
            }
            Round::Unmasking => {
                if let Err(reason) = self.try_finish() {
                    self.abort(reason);
                }
            }
            Round::Finished => {}
        }
    }

    fn on_advert(&mut self, from: NodeId, msg: &SecAggMessage, s: &Signed<KeyAdvert>) {
        if s.body.client != from || s.body.session != self.cfg.session {
            return self.evidence(
                from,
                Fault::Protocol("advertisement for another client or session"),
            );
        }
        if !s.verify(&self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if !keys::is_valid_public(&s.body.cipher_pk) || !keys::is_valid_public(&s.body.mask_pk) {
            return self.evidence(from, Fault::Protocol("small-order X25519 key"));
        }
        if let Some(prev) = self.adverts.get(&from) {
            if prev != s {
                let fault = Fault::Equivocation {
                    first: codec::encode(prev),
                    second: codec::encode(s),
                };
                self.evidence(from, fault);
            }
            return;
        }
        if self.first_time(from, msg) {
            self.adverts.insert(from, s.clone());
        }
    }

    fn on_share_keys(&mut self, from: NodeId, msg: &SecAggMessage, list: &[EncryptedShare]) {
        // Exactly one ciphertext from `from` to every other client of U1.
        let targets: Vec<NodeId> = list.iter().map(|e| e.to).collect();
        let want: Vec<NodeId> = self
            .expected
            .iter()
            .copied()
            .filter(|v| *v != from)
            .collect();
        if targets != want || list.iter().any(|e| e.from != from) {
            return self.evidence(from, Fault::Protocol("share list does not match U1"));
        }
        if self.first_time(from, msg) {
            self.shares.insert(from, list.to_vec());
        }
    }

    fn on_masked_input(&mut self, from: NodeId, msg: &SecAggMessage, bytes: &[u8]) {
        let Some(y) = unpack(bytes, self.cfg.bits, self.cfg.upload_len()) else {
            return self.evidence(from, Fault::Protocol("masked input of the wrong size"));
        };
        if self.first_time(from, msg) {
            let mask = self.cfg.mask();
            for (s, v) in self.sum.iter_mut().zip(y) {
                *s = s.wrapping_add(v) & mask;
            }
        }
    }

    fn on_signature(&mut self, from: NodeId, msg: &SecAggMessage, sig: &Signature) {
        let st = SurvivorStatement {
            session: self.cfg.session,
            signer: from,
            survivors: self.u3.clone(),
        };
        if !verify_statement(&st, sig, &self.publics) {
            return self.evidence(from, Fault::InvalidSignature);
        }
        if self.first_time(from, msg) {
            self.signatures.insert(from, *sig);
        }
    }

    fn on_unmask_shares(
        &mut self,
        from: NodeId,
        msg: &SecAggMessage,
        seeds: &[(NodeId, Share)],
        keys: &[(NodeId, Share)],
    ) {
        let x = u64::from(from.0) + 1;
        let seed_ok = strictly_ascending(&seeds.iter().map(|p| p.0).collect::<Vec<_>>())
            && seeds
                .iter()
                .all(|(o, s)| s.x == x && self.u3.binary_search(o).is_ok());
        let key_ok = strictly_ascending(&keys.iter().map(|p| p.0).collect::<Vec<_>>())
            && keys.iter().all(|(o, s)| {
                s.x == x && self.u3.binary_search(o).is_err() && self.u2.binary_search(o).is_ok()
            });
        if !seed_ok || !key_ok {
            return self.evidence(from, Fault::Protocol("unmask shares for the wrong clients"));
        }
        if !self.first_time(from, msg) {
            return;
        }
        self.responders.insert(from);
        for (o, s) in seeds {
            self.seed_shares.entry(*o).or_default().push(*s);
        }
        for (o, s) in keys {
            self.key_shares.entry(*o).or_default().push(*s);
        }
    }

    /// Whether every survivor's seed and every dropped client's key has at
    /// least `threshold` shares (cheap; checked before the PRG work).
    fn shares_suffice(&self) -> bool {
        let t = self.cfg.threshold;
        let enough =
            |m: &BTreeMap<NodeId, Vec<Share>>, v: &NodeId| m.get(v).is_some_and(|l| l.len() >= t);
        self.responders.len() >= t
            && self.u3.iter().all(|u| enough(&self.seed_shares, u))
            && self
                .u2
                .iter()
                .filter(|v| self.u3.binary_search(v).is_err())
                .all(|v| enough(&self.key_shares, v))
    }

    /// Removes every mask; `Err` if some secret has fewer than `threshold`
    /// shares or the shares of a mask key do not match its advertisement.
    fn try_finish(&mut self) -> Result<(), String> {
        let t = self.cfg.threshold;
        let mask = self.cfg.mask();
        let session = self.cfg.session;
        let mut sum = self.sum.clone();
        for u in &self.u3 {
            let shares = self.seed_shares.get(u).map(Vec::as_slice).unwrap_or(&[]);
            let b =
                shamir::recover(shares, t).map_err(|e| format!("self-mask seed of {u}: {e}"))?;
            keys::apply_mask(&mut sum, &keys::self_mask_seed(session, *u, &b), true, mask);
        }
        let dropped: Vec<NodeId> = self
            .u2
            .iter()
            .copied()
            .filter(|v| self.u3.binary_search(v).is_err())
            .collect();
        for v in &dropped {
            let shares = self.key_shares.get(v).map(Vec::as_slice).unwrap_or(&[]);
            let secret = shamir::recover(shares, t).map_err(|e| format!("mask key of {v}: {e}"))?;
            let kp = KeyPair::from_secret_bytes(secret);
            let advertised = self.adverts.get(v).map(|a| a.body.mask_pk);
            if advertised != Some(kp.public) {
                return Err(format!(
                    "recovered mask key of {v} does not match its advertisement"
                ));
            }
            for u in &self.u3 {
                let Some(pk) = self.adverts.get(u).map(|a| a.body.mask_pk) else {
                    continue;
                };
                let Some(shared) = keys::agree(&kp.secret, &pk) else {
                    continue;
                };
                // Survivor u added the mask if u < v, subtracted it otherwise.
                keys::apply_mask(
                    &mut sum,
                    &keys::pairwise_seed(session, *u, *v, &shared),
                    u < v,
                    mask,
                );
            }
        }
        let weight_sum = sum.pop().unwrap_or(0);
        self.round = Round::Finished;
        self.deadline = None;
        self.out
            .push_back(Output::Deliver(ServerOutcome::Sum(AggregateSum {
                survivors: self.u3.clone(),
                dropped,
                levels: sum,
                weight_sum,
            })));
        Ok(())
    }
}

impl Engine for SecAggServer {
    type Message = SecAggMessage;
    type Request = ServerRequest;
    type Record = ();
    type Value = ServerOutcome;

    fn id(&self) -> NodeId {
        self.cfg.server()
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: SecAggMessage) {
        if !self.cfg.is_client(from) {
            return self.evidence(from, Fault::Protocol("not a client"));
        }
        if self.round == Round::Finished {
            return;
        }
        if !self.expected.contains(&from) {
            // Late messages from clients already counted as dropped are
            // normal; anything else from them is ignored too.
            return;
        }
        match (self.round, &msg) {
            (Round::AdvertiseKeys, SecAggMessage::AdvertiseKeys(s)) => {
                self.on_advert(from, &msg, s)
            }
            (Round::ShareKeys, SecAggMessage::ShareKeys(l)) => self.on_share_keys(from, &msg, l),
            (Round::MaskedInput, SecAggMessage::MaskedInput(b)) => {
                self.on_masked_input(from, &msg, b)
            }
            (Round::Consistency, SecAggMessage::ConsistencySignature(s)) => {
                self.on_signature(from, &msg, s)
            }
            (
                Round::Unmasking,
                SecAggMessage::UnmaskShares {
                    seed_shares,
                    key_shares,
                },
            ) => self.on_unmask_shares(from, &msg, seed_shares, key_shares),
            // A stale copy of an earlier round's message.
            (r, m) if stale(r, m) => {}
            _ => return self.evidence(from, Fault::Protocol("message out of round")),
        }
        if self.round == Round::Unmasking {
            // Finish as soon as every secret has `threshold` shares.
            if self.shares_suffice() {
                if let Err(reason) = self.try_finish() {
                    self.abort(reason);
                }
            } else if self.all_answered() {
                self.close_round(now);
            }
        } else if self.all_answered() {
            self.close_round(now);
        }
    }

    fn handle_request(&mut self, now: Time, req: ServerRequest) {
        match req {
            ServerRequest::Start
                if self.round == Round::AdvertiseKeys && self.deadline.is_none() =>
            {
                self.deadline = Some(now.saturating_add(self.cfg.round_timeout));
            }
            ServerRequest::Start => {}
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.close_round(now);
        }
    }

    fn poll_output(&mut self) -> Option<Out> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        self.deadline
    }

    /// The server keeps no durable state: a crashed server aborts the
    /// session, and the next session starts afresh.
    fn restore(&mut self, _now: Time, _records: Vec<()>) {}
}

fn stale(round: Round, msg: &SecAggMessage) -> bool {
    let sent_in = match msg {
        SecAggMessage::AdvertiseKeys(_) => Round::AdvertiseKeys,
        SecAggMessage::ShareKeys(_) => Round::ShareKeys,
        SecAggMessage::MaskedInput(_) => Round::MaskedInput,
        SecAggMessage::ConsistencySignature(_) => Round::Consistency,
        SecAggMessage::UnmaskShares { .. } => Round::Unmasking,
        _ => return false,
    };
    sent_in < round
}
