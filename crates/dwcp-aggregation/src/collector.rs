//! The vote collector: per `(round, phase)` tallies by digest, weighted
//! quorums, bounded memory per sender, duplicate and replay rejection, and
//! optimistic certificate assembly through any [`Scheme`].
//!
//! ```
//! use dwcp_aggregation::collector::{Added, CollectorConfig, VoteCollector};
//! use dwcp_core::{Digest, NodeId, WeightedCommittee};
//!
//! let committee = WeightedCommittee::new(vec![1; 4], 1).unwrap();
//! let mut c: VoteCollector<u8> = VoteCollector::new(committee, CollectorConfig::default());
//! let d = Digest::of(b"block");
//! for i in 0..3 {
//!     let quorum = i == 2;
//!     assert_eq!(c.add(NodeId(i), 1, 0, d, 0), Added::Counted { weight: i as u64 + 1, quorum });
//! }
//! assert_eq!(c.add(NodeId(0), 1, 0, d, 0), Added::Duplicate);
//! c.advance(1);
//! assert_eq!(c.add(NodeId(3), 1, 0, d, 0), Added::Stale);
//! ```

use crate::scheme::{Scheme, verify_quorum};
use dwcp_core::{Digest, NodeId, WeightedCommittee};
use std::collections::{BTreeMap, BTreeSet};

/// Bounds of a [`VoteCollector`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Votes for rounds beyond `floor + max_rounds_ahead` are refused.
    pub max_rounds_ahead: u64,
    /// Tallies one sender may have a pending vote in at once; beyond it the
    /// sender's votes are refused until rounds close. With `P` phases and a
    /// window of `W` rounds, `P · W` is enough for an honest sender.
    pub max_open_per_sender: usize,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            max_rounds_ahead: 256,
            max_open_per_sender: 512,
        }
    }
}

/// What [`VoteCollector::add`] did with a vote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    /// Counted; the digest's weight is now `weight`, and `quorum` says
    /// whether it reached the threshold.
    Counted {
        /// The digest's accumulated weight.
        weight: u64,
        /// Whether it is a quorum.
        quorum: bool,
    },
    /// The same vote again: ignored.
    Duplicate,
    /// The sender already voted for `first` in this round and phase: the
    /// new vote is refused (equivocation, if both are signed).
    Conflict {
        /// The digest counted first.
        first: Digest,
    },
    /// The round is closed (at or below the floor) or already certified: a
    /// replay or a late vote.
    Stale,
    /// The round is too far in the future.
    TooFarAhead,
    /// The sender has too many pending votes.
    OverLimit,
    /// The sender is not in the committee.
    UnknownSender,
    /// The sender sent an invalid share for this round and phase earlier.
    Banned,
}

/// The outcome of [`VoteCollector::certify`].
#[derive(Clone, Debug, PartialEq)]
pub enum Certified<C> {
    /// A quorum certificate for `digest`.
    Done {
        /// The certified digest.
        digest: Digest,
        /// The certificate.
        cert: C,
        /// Signers whose shares were invalid (evidence), now banned from
        /// this tally.
        bad_signers: Vec<NodeId>,
    },
    /// No quorum yet (after dropping `bad_signers`, if any).
    NotYet {
        /// Signers whose shares proved invalid.
        bad_signers: Vec<NodeId>,
    },
}

#[derive(Clone, Debug)]
struct Tally<S> {
    votes: BTreeMap<NodeId, (Digest, S)>,
    weights: BTreeMap<Digest, u64>,
    banned: BTreeSet<NodeId>,
    certified: bool,
}

impl<S> Default for Tally<S> {
    fn default() -> Self {
        Tally {
            votes: BTreeMap::new(),
            weights: BTreeMap::new(),
            banned: BTreeSet::new(),
            certified: false,
        }
    }
}

/// Tallies of shares `S` per `(round, phase)` and digest. See the module
/// docs.
#[derive(Clone, Debug)]
pub struct VoteCollector<S> {
    committee: WeightedCommittee,
    cfg: CollectorConfig,
    floor: u64,
    tallies: BTreeMap<(u64, u8), Tally<S>>,
    open: Vec<usize>,
}

impl<S: Clone> VoteCollector<S> {
    /// An empty collector; rounds start above 0.
    pub fn new(committee: WeightedCommittee, cfg: CollectorConfig) -> Self {
        let open = vec![0; committee.len()];
        VoteCollector {
            committee,
            cfg,
            floor: 0,
            tallies: BTreeMap::new(),
            open,
        }
    }

    /// The committee.
    pub fn committee(&self) -> &WeightedCommittee {
        &self.committee
    }

    /// Rounds at or below this are closed.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// Counts `from`'s vote for `digest` in `(round, phase)`.
    pub fn add(&mut self, from: NodeId, round: u64, phase: u8, digest: Digest, share: S) -> Added {
        let Some(open) = self.open.get(from.index()).copied() else {
            return Added::UnknownSender;
        };
        if round <= self.floor {
            return Added::Stale;
        }
        if round > self.floor.saturating_add(self.cfg.max_rounds_ahead) {
            return Added::TooFarAhead;
        }
        let weight_of_sender = self.committee.weight(from.index());
        let threshold = self.committee.threshold();
        if let Some(t) = self.tallies.get(&(round, phase)) {
            if t.certified {
                return Added::Stale;
            }
            if t.banned.contains(&from) {
                return Added::Banned;
            }
            if let Some((first, _)) = t.votes.get(&from) {
                return if *first == digest {
                    Added::Duplicate
                } else {
                    Added::Conflict { first: *first }
                };
            }
        }
        if open >= self.cfg.max_open_per_sender {
            return Added::OverLimit;
        }
        let t = self.tallies.entry((round, phase)).or_default();
        t.votes.insert(from, (digest, share));
        let w = t.weights.entry(digest).or_insert(0);
        *w += weight_of_sender;
        let weight = *w;
        if let Some(o) = self.open.get_mut(from.index()) {
            *o += 1;
        }
        Added::Counted {
            weight,
            quorum: weight >= threshold,
        }
    }

    /// The weight gathered by `digest` in `(round, phase)`.
    pub fn weight(&self, round: u64, phase: u8, digest: &Digest) -> u64 {
        self.tallies
            .get(&(round, phase))
            .and_then(|t| t.weights.get(digest))
            .copied()
            .unwrap_or(0)
    }

    /// The digest with a quorum in `(round, phase)`, if any (at most one can
    /// have one unless more than the faulty weight equivocates).
    pub fn quorum_digest(&self, round: u64, phase: u8) -> Option<Digest> {
        let t = self.tallies.get(&(round, phase))?;
        t.weights
            .iter()
            .find(|(_, w)| **w >= self.committee.threshold())
            .map(|(d, _)| *d)
    }

    /// The shares for `digest` in `(round, phase)`.
    pub fn shares(&self, round: u64, phase: u8, digest: &Digest) -> BTreeMap<NodeId, S> {
        self.tallies
            .get(&(round, phase))
            .map(|t| {
                t.votes
                    .iter()
                    .filter(|(_, (d, _))| d == digest)
                    .map(|(id, (_, s))| (*id, s.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drops `signer`'s vote in `(round, phase)` (its share proved invalid)
    /// and refuses further votes from it there.
    pub fn reject(&mut self, round: u64, phase: u8, signer: NodeId) {
        let Some(t) = self.tallies.get_mut(&(round, phase)) else {
            return;
        };
        t.banned.insert(signer);
        if let Some((d, _)) = t.votes.remove(&signer) {
            if let Some(w) = t.weights.get_mut(&d) {
                *w = w.saturating_sub(self.committee.weight(signer.index()));
            }
            if let Some(o) = self.open.get_mut(signer.index()) {
                *o = o.saturating_sub(1);
            }
        }
    }

    /// Marks `(round, phase)` certified: its shares are freed and later votes
    /// are [`Added::Stale`].
    pub fn mark_certified(&mut self, round: u64, phase: u8) {
        let t = self.tallies.entry((round, phase)).or_default();
        t.certified = true;
        let votes = std::mem::take(&mut t.votes);
        t.weights.clear();
        t.banned.clear();
        for id in votes.keys() {
            if let Some(o) = self.open.get_mut(id.index()) {
                *o = o.saturating_sub(1);
            }
        }
    }

    /// Closes every round at or below `floor` and frees its memory.
    pub fn advance(&mut self, floor: u64) {
        if floor <= self.floor {
            return;
        }
        self.floor = floor;
        let keep = self.tallies.split_off(&(floor.saturating_add(1), 0));
        for t in std::mem::replace(&mut self.tallies, keep).into_values() {
            for id in t.votes.keys() {
                if let Some(o) = self.open.get_mut(id.index()) {
                    *o = o.saturating_sub(1);
                }
            }
        }
    }

    /// Votes currently held (for memory-bound checks).
    pub fn held(&self) -> usize {
        self.tallies.values().map(|t| t.votes.len()).sum()
    }

    /// Tries to certify `(round, phase)`: if a digest has quorum weight, its
    /// shares are assembled optimistically with `scheme` on `msg(digest)`;
    /// invalid shares are dropped and their signers banned and reported; if
    /// the remaining valid shares still carry a quorum the round is marked
    /// certified.
    pub fn certify<Sch: Scheme<Share = S>>(
        &mut self,
        scheme: &Sch,
        round: u64,
        phase: u8,
        msg: impl Fn(&Digest) -> Vec<u8>,
    ) -> Certified<Sch::Certificate> {
        let Some(digest) = self.quorum_digest(round, phase) else {
            return Certified::NotYet {
                bad_signers: vec![],
            };
        };
        let shares = self.shares(round, phase, &digest);
        let m = msg(&digest);
        match scheme.assemble(&m, &shares) {
            Ok(a) => {
                for b in &a.bad_signers {
                    self.reject(round, phase, *b);
                }
                if verify_quorum(scheme, &self.committee, &m, &a.cert)
                    && self.weight(round, phase, &digest) >= self.committee.threshold()
                {
                    self.mark_certified(round, phase);
                    Certified::Done {
                        digest,
                        cert: a.cert,
                        bad_signers: a.bad_signers,
                    }
                } else {
                    Certified::NotYet {
                        bad_signers: a.bad_signers,
                    }
                }
            }
            Err(e) => {
                for b in &e.bad_signers {
                    self.reject(round, phase, *b);
                }
                Certified::NotYet {
                    bad_signers: e.bad_signers,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::{BlsAggregate, MultiSig};
    use dwcp_crypto::{AggKeyring, Keyring};
    use proptest::prelude::*;

    fn committee(n: usize) -> WeightedCommittee {
        WeightedCommittee::new(vec![1; n], ((n - 1) / 3) as u64).unwrap()
    }

    #[test]
    fn duplicates_conflicts_replays_and_bounds() {
        let cfg = CollectorConfig {
            max_rounds_ahead: 4,
            max_open_per_sender: 2,
        };
        let mut c: VoteCollector<()> = VoteCollector::new(committee(4), cfg);
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        assert!(matches!(
            c.add(NodeId(0), 1, 0, a, ()),
            Added::Counted {
                weight: 1,
                quorum: false
            }
        ));
        assert_eq!(c.add(NodeId(0), 1, 0, a, ()), Added::Duplicate);
        assert_eq!(c.add(NodeId(0), 1, 0, b, ()), Added::Conflict { first: a });
        assert!(
            matches!(c.add(NodeId(0), 1, 1, b, ()), Added::Counted { .. }),
            "other phase"
        );
        assert_eq!(c.add(NodeId(0), 2, 0, a, ()), Added::OverLimit);
        assert_eq!(c.add(NodeId(1), 5, 0, a, ()), Added::TooFarAhead);
        assert_eq!(c.add(NodeId(9), 1, 0, a, ()), Added::UnknownSender);
        assert_eq!(c.add(NodeId(0), 0, 0, a, ()), Added::Stale);
        c.advance(1);
        assert_eq!(c.held(), 0);
        assert_eq!(
            c.add(NodeId(0), 1, 0, a, ()),
            Added::Stale,
            "replay after close"
        );
        assert!(
            matches!(c.add(NodeId(0), 2, 0, a, ()), Added::Counted { .. }),
            "memory freed"
        );
        assert!(matches!(
            c.add(NodeId(0), 5, 0, a, ()),
            Added::Counted { .. }
        ));
    }

    #[test]
    fn weighted_quorum() {
        let w = WeightedCommittee::new(vec![10, 1, 1, 1, 1], 3).unwrap();
        let th = w.threshold();
        let mut c: VoteCollector<()> = VoteCollector::new(w, CollectorConfig::default());
        let d = Digest::of(b"x");
        for i in 1..5 {
            assert!(matches!(
                c.add(NodeId(i), 1, 0, d, ()),
                Added::Counted { quorum: false, .. }
            ));
        }
        let Added::Counted { weight, quorum } = c.add(NodeId(0), 1, 0, d, ()) else {
            panic!()
        };
        assert_eq!((weight, quorum), (14, 14 >= th));
        assert_eq!(c.quorum_digest(1, 0), Some(d));
        assert_eq!(c.quorum_digest(2, 0), None);
    }

    #[test]
    fn certify_drops_invalid_shares_and_waits_for_valid_ones() {
        let n = 4;
        let keys = Keyring::sr25519(n, 3);
        let scheme = MultiSig::new(keys.publics.clone(), b"ctx");
        let mut c = VoteCollector::new(committee(n), CollectorConfig::default());
        let d = Digest::of(b"block");
        let msg = |d: &Digest| d.0.to_vec();
        // Node 1's share signs something else: invalid.
        for i in 0..3usize {
            let m = if i == 1 { b"junk".to_vec() } else { msg(&d) };
            c.add(NodeId(i as u32), 1, 0, d, scheme.sign(&keys.secrets[i], &m));
        }
        assert_eq!(
            c.certify(&scheme, 1, 0, msg),
            Certified::NotYet {
                bad_signers: vec![NodeId(1)]
            }
        );
        assert_eq!(
            c.add(NodeId(1), 1, 0, d, scheme.sign(&keys.secrets[1], &msg(&d))),
            Added::Banned
        );
        c.add(NodeId(3), 1, 0, d, scheme.sign(&keys.secrets[3], &msg(&d)));
        let Certified::Done {
            digest,
            cert,
            bad_signers,
        } = c.certify(&scheme, 1, 0, msg)
        else {
            panic!("no certificate")
        };
        assert_eq!((digest, bad_signers), (d, vec![]));
        assert_eq!(
            cert.signers.iter().collect::<Vec<_>>(),
            vec![NodeId(0), NodeId(2), NodeId(3)]
        );
        assert!(scheme.verify_certificate(&msg(&d), &cert));
        assert!(matches!(
            c.add(NodeId(1), 1, 0, d, scheme.sign(&keys.secrets[1], &msg(&d))),
            Added::Stale
        ));
        assert_eq!(c.held(), 0);
    }

    #[test]
    fn certify_with_bls_aggregate() {
        let n = 7;
        let keys = AggKeyring::bls(n, 3);
        let scheme = BlsAggregate::new(keys.publics.clone(), b"ctx");
        let mut c = VoteCollector::new(committee(n), CollectorConfig::default());
        let d = Digest::of(b"block");
        for i in 0..5usize {
            c.add(
                NodeId(i as u32),
                3,
                1,
                d,
                scheme.sign(&keys.secrets[i], &d.0),
            );
        }
        assert!(matches!(
            c.certify(&scheme, 3, 1, |d| d.0.to_vec()),
            Certified::Done { .. }
        ));
    }

    proptest! {
        /// Memory stays bounded by the per-sender limit whatever a sender
        /// sends, and weights never exceed the committee's total.
        #[test]
        fn bounded_memory(votes in proptest::collection::vec((0u32..6, 0u64..40, 0u8..3, 0u8..4), 0..400)) {
            let cfg = CollectorConfig { max_rounds_ahead: 16, max_open_per_sender: 5 };
            let mut c: VoteCollector<u8> = VoteCollector::new(committee(4), cfg);
            for (i, (from, round, phase, d)) in votes.into_iter().enumerate() {
                c.add(NodeId(from), round, phase, Digest::of(&[d]), d);
                if i % 50 == 49 { c.advance(c.floor() + 3); }
                prop_assert!(c.held() <= 4 * 5);
            }
        }
    }
}
