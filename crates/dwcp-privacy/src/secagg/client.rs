//! The client side of secure aggregation.

use super::config::SecAggConfig;
use super::keys::{self, KeyPair};
use super::messages::{
    EncryptedShare, KeyAdvert, SecAggMessage, SharePlain, SurvivorStatement, strictly_ascending,
};
use crate::fixed::pack;
use crate::shamir::{self, Share};
use dwcp_core::rng::{self, Rng, RngCore};
use dwcp_core::{Engine, Evidence, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{PublicKey, SecretKey, Signed, verify_statement};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A client's contribution: its vector and an integer weight (for example
/// its number of training examples, capped at `max_weight`).
#[derive(Clone, Debug)]
pub struct ClientInput {
    /// The vector, `dim` values; clipped and encoded with the session's
    /// fixed-point code.
    pub values: Vec<f32>,
    /// The weight, in `1..=max_weight`.
    pub weight: u64,
}

/// What a client reports to its host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientEvent {
    /// The input was refused (wrong length, weight out of range, or a
    /// second input); nothing was sent.
    InputRefused(&'static str),
    /// The client released its unmasking shares; its part is done.
    Unmasked,
    /// The client stopped: the server broke a protocol rule (the string says
    /// which; an [`Output::Evidence`] against the server precedes it).
    Aborted(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Advertised,
    SharedKeys,
    Masked,
    SignedSurvivors,
    Done,
    Aborted,
}

/// One client's secure-aggregation state machine (sans-IO, see the crate docs).
pub struct SecAggClient {
    cfg: SecAggConfig,
    id: NodeId,
    signing: SecretKey,
    publics: Vec<PublicKey>,
    rng: Rng,
    phase: Phase,
    input: Vec<u64>,
    cipher: Option<KeyPair>,
    mask: Option<KeyPair>,
    seed_b: [u8; 32],
    /// U1 as this client saw it: the verified advertisements.
    adverts: BTreeMap<NodeId, KeyAdvert>,
    /// U2 as this client saw it.
    u2: BTreeSet<NodeId>,
    /// Shares held for each owner in U2 (including our own).
    held: BTreeMap<NodeId, (Share, Share)>,
    /// The survivor set we signed.
    signed: Option<Vec<NodeId>>,
    out: VecDeque<Output<SecAggMessage, (), ClientEvent>>,
}

impl SecAggClient {
    /// Client `id` (in `0..clients`), with its long-term signing key, every
    /// client's public signing key (indexed by id) and a seed for its key
    /// generation and Shamir polynomials.
    pub fn new(
        cfg: SecAggConfig,
        id: NodeId,
        signing: SecretKey,
        publics: Vec<PublicKey>,
        seed: u64,
    ) -> SecAggClient {
        SecAggClient {
            rng: rng::derive(seed, u64::from(id.0)),
            cfg,
            id,
            signing,
            publics,
            phase: Phase::Idle,
            input: vec![],
            cipher: None,
            mask: None,
            seed_b: [0; 32],
            adverts: BTreeMap::new(),
            u2: BTreeSet::new(),
            held: BTreeMap::new(),
            signed: None,
            out: VecDeque::new(),
        }
    }

    /// Whether the client has released its unmasking shares.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn send(&mut self, msg: SecAggMessage) {
        let to = Target::One(self.cfg.server());
        self.out.push_back(Output::Send { to, msg });
    }

    fn blame_server(&mut self, fault: Fault, why: &'static str, abort: bool) {
        self.out.push_back(Output::Evidence(Evidence {
            culprit: self.cfg.server(),
            fault,
        }));
        if abort {
            self.phase = Phase::Aborted;
            self.out
                .push_back(Output::Deliver(ClientEvent::Aborted(why)));
        }
    }

    fn start(&mut self, input: ClientInput) {
        if self.phase != Phase::Idle {
            self.out
                .push_back(Output::Deliver(ClientEvent::InputRefused(
                    "input already given",
                )));
            return;
        }
        if input.values.len() != self.cfg.dim {
            self.out
                .push_back(Output::Deliver(ClientEvent::InputRefused(
                    "wrong vector length",
                )));
            return;
        }
        if input.weight == 0 || input.weight > self.cfg.max_weight {
            self.out
                .push_back(Output::Deliver(ClientEvent::InputRefused(
                    "weight outside 1..=max_weight",
                )));
            return;
        }
        let mask = self.cfg.mask();
        let w = input.weight;
        self.input = self
            .cfg
            .fixed
            .encode(&input.values)
            .into_iter()
            .map(|q| (q * w) & mask)
            .collect();
        self.input.push(w & mask);
        let cipher = KeyPair::generate(&mut self.rng);
        let maskkp = KeyPair::generate(&mut self.rng);
        let advert = KeyAdvert {
            session: self.cfg.session,
            client: self.id,
            cipher_pk: cipher.public,
            mask_pk: maskkp.public,
        };
        self.cipher = Some(cipher);
        self.mask = Some(maskkp);
        self.phase = Phase::Advertised;
        let signed = Signed::sign(advert, &self.signing);
        self.send(SecAggMessage::AdvertiseKeys(signed));
    }

    fn on_key_list(&mut self, list: Vec<Signed<KeyAdvert>>) {
        let mut adverts = BTreeMap::new();
        let mut keys_seen = BTreeSet::new();
        for s in &list {
            let a = &s.body;
            if !self.cfg.is_client(a.client) || !s.verify(&self.publics) {
                return self.blame_server(
                    Fault::InvalidSignature,
                    "forged key advertisement",
                    true,
                );
            }
            if a.session != self.cfg.session
                || !keys::is_valid_public(&a.cipher_pk)
                || !keys::is_valid_public(&a.mask_pk)
                || adverts.insert(a.client, a.clone()).is_some()
                || !keys_seen.insert(a.cipher_pk)
                || !keys_seen.insert(a.mask_pk)
            {
                return self.blame_server(
                    Fault::Protocol("invalid key list"),
                    "invalid key list",
                    true,
                );
            }
        }
        let mine = match (&self.cipher, &self.mask) {
            (Some(c), Some(m)) => (c.public, m.public),
            _ => return,
        };
        let own_ok = adverts
            .get(&self.id)
            .is_some_and(|a| (a.cipher_pk, a.mask_pk) == mine);
        if !own_ok || adverts.len() < self.cfg.threshold {
            return self.blame_server(
                Fault::Protocol("key list without us or below threshold"),
                "key list without us or below threshold",
                true,
            );
        }
        // Share s_u^SK and b_u among U1, encrypt each share to its holder.
        self.rng.fill_bytes(&mut self.seed_b);
        let points: Vec<u64> = adverts.keys().map(|v| u64::from(v.0) + 1).collect();
        let Some(mask_secret) = self.mask.as_ref().map(|m| m.secret.to_bytes()) else {
            return;
        };
        let key_shares = shamir::split(&mask_secret, self.cfg.threshold, &points, &mut self.rng);
        let seed_shares = shamir::split(&self.seed_b, self.cfg.threshold, &points, &mut self.rng);
        let mut cts = Vec::with_capacity(adverts.len());
        for ((v, adv), (ks, ss)) in adverts.iter().zip(key_shares.into_iter().zip(seed_shares)) {
            if *v == self.id {
                self.held.insert(self.id, (ks, ss));
                continue;
            }
            let Some(cipher) = self.cipher.as_ref() else {
                return;
            };
            let Some(shared) = keys::agree(&cipher.secret, &adv.cipher_pk) else {
                return self.blame_server(
                    Fault::Protocol("small-order key"),
                    "small-order key",
                    true,
                );
            };
            let plain = SharePlain {
                session: self.cfg.session,
                from: self.id,
                to: *v,
                key_share: ks,
                seed_share: ss,
            };
            let ciphertext = keys::seal(
                self.cfg.session,
                self.id,
                *v,
                &shared,
                &codec::encode(&plain),
            );
            cts.push(EncryptedShare {
                from: self.id,
                to: *v,
                ciphertext,
            });
        }
        self.adverts = adverts;
        self.phase = Phase::SharedKeys;
        self.send(SecAggMessage::ShareKeys(cts));
    }

    fn on_shares_for(&mut self, list: Vec<EncryptedShare>) {
        let mut u2 = BTreeSet::from([self.id]);
        for e in &list {
            if e.to != self.id
                || e.from == self.id
                || !self.adverts.contains_key(&e.from)
                || !u2.insert(e.from)
            {
                return self.blame_server(
                    Fault::Protocol("invalid share relay"),
                    "invalid share relay",
                    true,
                );
            }
        }
        if u2.len() < self.cfg.threshold {
            return self.blame_server(
                Fault::Protocol("U2 below threshold"),
                "U2 below threshold",
                true,
            );
        }
        for e in list {
            let Some(adv) = self.adverts.get(&e.from) else {
                continue;
            };
            let Some(cipher) = self.cipher.as_ref() else {
                return;
            };
            let plain = keys::agree(&cipher.secret, &adv.cipher_pk)
                .and_then(|shared| {
                    keys::open(self.cfg.session, e.from, self.id, &shared, &e.ciphertext)
                })
                .and_then(|bytes| codec::decode::<SharePlain>(&bytes).ok());
            let expected_x = u64::from(self.id.0) + 1;
            match plain {
                Some(p)
                    if p.session == self.cfg.session
                        && p.from == e.from
                        && p.to == self.id
                        && p.key_share.x == expected_x
                        && p.seed_share.x == expected_x =>
                {
                    self.held.insert(e.from, (p.key_share, p.seed_share));
                }
                // Only `from` (or a tampering relay) can have produced it;
                // we keep `from` in U2 (its masks are in everyone's input)
                // but hold no share of it.
                _ => self.out.push_back(Output::Evidence(Evidence {
                    culprit: e.from,
                    fault: Fault::Protocol("share ciphertext does not open"),
                })),
            }
        }
        // y_u = w·x_u + PRG(b_u) + Σ_{v<u}... pairwise masks, signed by id order.
        let mask = self.cfg.mask();
        let mut y = std::mem::take(&mut self.input);
        keys::apply_mask(
            &mut y,
            &keys::self_mask_seed(self.cfg.session, self.id, &self.seed_b),
            false,
            mask,
        );
        let Some(mk) = self.mask.as_ref() else { return };
        for v in &u2 {
            if *v == self.id {
                continue;
            }
            let Some(adv) = self.adverts.get(v) else {
                continue;
            };
            let Some(shared) = keys::agree(&mk.secret, &adv.mask_pk) else {
                continue;
            };
            let seed = keys::pairwise_seed(self.cfg.session, self.id, *v, &shared);
            keys::apply_mask(&mut y, &seed, self.id > *v, mask);
        }
        self.u2 = u2;
        self.phase = Phase::Masked;
        let bytes = pack(&y, self.cfg.bits);
        self.send(SecAggMessage::MaskedInput(bytes));
    }

    fn survivors_ok(&self, s: &[NodeId]) -> bool {
        strictly_ascending(s)
            && s.len() >= self.cfg.threshold
            && s.contains(&self.id)
            && s.iter().all(|v| self.u2.contains(v))
    }

    fn on_consistency_check(&mut self, survivors: Vec<NodeId>) {
        if !self.survivors_ok(&survivors) {
            return self.blame_server(
                Fault::Protocol("invalid survivor set"),
                "invalid survivor set",
                true,
            );
        }
        let st = SurvivorStatement {
            session: self.cfg.session,
            signer: self.id,
            survivors: survivors.clone(),
        };
        let sig = Signed::sign(st, &self.signing).signature;
        self.signed = Some(survivors);
        self.phase = Phase::SignedSurvivors;
        self.send(SecAggMessage::ConsistencySignature(sig));
    }

    fn on_unmask(
        &mut self,
        survivors: Vec<NodeId>,
        signatures: Vec<(NodeId, dwcp_crypto::Signature)>,
    ) {
        if self.signed.as_ref() != Some(&survivors) {
            return self.blame_server(
                Fault::Protocol("unmask for a survivor set we did not sign"),
                "unmask for a survivor set we did not sign",
                true,
            );
        }
        let mut valid = BTreeSet::new();
        for (signer, sig) in &signatures {
            let st = SurvivorStatement {
                session: self.cfg.session,
                signer: *signer,
                survivors: survivors.clone(),
            };
            if survivors.binary_search(signer).is_ok() && verify_statement(&st, sig, &self.publics)
            {
                valid.insert(*signer);
            }
        }
        if valid.len() < self.cfg.threshold {
            return self.blame_server(
                Fault::InvalidSignature,
                "fewer than threshold valid survivor signatures",
                true,
            );
        }
        // Self-mask seed shares for survivors, key shares for the dropped:
        // the two sets are disjoint by construction, so no client's input is
        // ever exposed.
        let mut seed_shares = vec![];
        let mut key_shares = vec![];
        for (owner, (ks, ss)) in &self.held {
            if survivors.binary_search(owner).is_ok() {
                seed_shares.push((*owner, *ss));
            } else if self.u2.contains(owner) {
                key_shares.push((*owner, *ks));
            }
        }
        self.phase = Phase::Done;
        self.send(SecAggMessage::UnmaskShares {
            seed_shares,
            key_shares,
        });
        self.out.push_back(Output::Deliver(ClientEvent::Unmasked));
    }
}

impl Engine for SecAggClient {
    type Message = SecAggMessage;
    type Request = ClientInput;
    type Record = ();
    type Value = ClientEvent;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, _now: Time, from: NodeId, msg: SecAggMessage) {
        if from != self.cfg.server() {
            self.out.push_back(Output::Evidence(Evidence {
                culprit: from,
                fault: Fault::Protocol("clients only talk to the server"),
            }));
            return;
        }
        match (self.phase, msg) {
            (Phase::Advertised, SecAggMessage::KeyList(l)) => self.on_key_list(l),
            (Phase::SharedKeys, SecAggMessage::SharesFor(l)) => self.on_shares_for(l),
            (Phase::Masked, SecAggMessage::ConsistencyCheck(s)) => self.on_consistency_check(s),
            (
                Phase::SignedSurvivors,
                SecAggMessage::Unmask {
                    survivors,
                    signatures,
                },
            ) => self.on_unmask(survivors, signatures),
            // A repeated survivor set we already signed is a harmless duplicate.
            (Phase::SignedSurvivors, SecAggMessage::ConsistencyCheck(s))
                if self.signed.as_ref() == Some(&s) => {}
            (Phase::Aborted, _) => {}
            (Phase::Done, SecAggMessage::Unmask { .. }) => self.blame_server(
                Fault::Protocol("second unmask request"),
                "second unmask request",
                false,
            ),
            _ => self.blame_server(
                Fault::Protocol("message out of phase"),
                "message out of phase",
                false,
            ),
        }
    }

    fn handle_request(&mut self, _now: Time, req: ClientInput) {
        self.start(req);
    }

    fn handle_timeout(&mut self, _now: Time) {}

    fn poll_output(&mut self) -> Option<Output<SecAggMessage, (), ClientEvent>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        None
    }

    /// Secrets are never persisted: a client that crashes simply counts as
    /// dropped, which the protocol tolerates.
    fn restore(&mut self, _now: Time, _records: Vec<()>) {}
}
