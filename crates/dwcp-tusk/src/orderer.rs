//! The Tusk commit rule with a threshold coin.

use dwcp_core::{Digest, NodeId};
use dwcp_crypto::{PartialSig, ThresholdPublic, ThresholdShare};
use dwcp_narwhal::{CommittedSubDag, Committer, Dag, Header, Orderer, OrdererState, Round, Vertex};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The message whose threshold signature is the coin electing the leader of
/// `round`.
pub fn coin_message(round: Round) -> Vec<u8> {
    let mut m = b"dwcp-tusk/coin".to_vec();
    m.extend_from_slice(&round.to_le_bytes());
    m
}

/// Whether `round` is a leader round: even rounds from 2 on.
pub fn is_leader_round(round: Round) -> bool {
    round >= 2 && round.is_multiple_of(2)
}

/// Tusk on a Narwhal DAG. Waves overlap: the leader of every even round
/// `L ≥ 2` is elected *after the fact* by a threshold coin whose shares
/// (threshold `f + 1`) ride in the headers of round `L + 2`; the leader
/// commits when `f + 1` certificates of round `L + 1` have it as a parent,
/// checked once round `L + 2` is complete enough to reveal the coin, after
/// every earlier uncommitted leader it has a path to.
#[derive(Clone)]
pub struct Tusk {
    n: usize,
    validity: usize,
    quorum: usize,
    committer: Committer,
    public: Arc<ThresholdPublic>,
    share: ThresholdShare,
    coins: BTreeMap<Round, NodeId>,
    checkpoints: Vec<OrdererState>,
}

impl std::fmt::Debug for Tusk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tusk")
            .field("n", &self.n)
            .field(
                "last_committed_round",
                &self.committer.last_committed_round(),
            )
            .finish_non_exhaustive()
    }
}

impl Tusk {
    /// For `n` nodes tolerating `f`, with this node's coin `share` of a
    /// setup whose threshold is `f + 1` (`public`), collecting history
    /// `gc_depth` rounds below the last committed leader.
    pub fn new(
        n: usize,
        f: usize,
        gc_depth: Round,
        public: Arc<ThresholdPublic>,
        share: ThresholdShare,
    ) -> Tusk {
        Tusk {
            n,
            validity: f + 1,
            quorum: dwcp_core::Committee::with_faults(n, f).map_or(2 * f + 1, |c| c.quorum()),
            committer: Committer::new(gc_depth),
            public,
            share,
            coins: BTreeMap::new(),
            checkpoints: vec![],
        }
    }

    /// The leader of `round` if its coin can be revealed from the shares in
    /// the certificates of `round + 2` held in `dag` (cached once known).
    pub fn leader(&mut self, dag: &Dag, round: Round) -> Option<NodeId> {
        if !is_leader_round(round) {
            return None;
        }
        if let Some(l) = self.coins.get(&round) {
            return Some(*l);
        }
        let shares: BTreeMap<NodeId, PartialSig> = dag
            .round(round + 2)
            .filter_map(|v| Some((v.author(), v.cert.header.coin.clone()?)))
            .collect();
        if shares.len() < self.public.threshold() {
            return None;
        }
        let cert = self.public.combine(&coin_message(round), &shares).ok()?;
        let d = Digest::of_value(&cert);
        let mut head = [0u8; 8];
        head.copy_from_slice(&d.0[..8]);
        let leader = NodeId((u64::from_le_bytes(head) % self.n.max(1) as u64) as u32);
        self.coins.insert(round, leader);
        Some(leader)
    }
}

impl Orderer for Tusk {
    fn on_insert(&mut self, dag: &Dag, vertex: &Vertex) -> Vec<CommittedSubDag> {
        // The wave of leader round L ends when a quorum of round L + 2 is
        // here (the node may enter round L + 3): enough shares for the coin.
        // A certificate of round L + 3 (a quorum of L + 2 below it) is
        // checked too, for waves that ended without the leader's support.
        let q = vertex.round();
        let mut subs = vec![];
        if let Some(l) = q.checked_sub(2)
            && dag.count(q) >= self.quorum
        {
            subs = self.try_commit(dag, l);
        }
        if subs.is_empty()
            && let Some(l) = q.checked_sub(3)
        {
            subs = self.try_commit(dag, l);
        }
        subs
    }

    fn last_committed_round(&self) -> Round {
        self.committer.last_committed_round()
    }

    fn coin_share(&self, round: Round) -> Option<PartialSig> {
        let l = round.checked_sub(2)?;
        is_leader_round(l).then(|| self.share.sign(&coin_message(l)))
    }

    fn check_coin(&self, header: &Header) -> bool {
        let wanted = header.round.checked_sub(2).filter(|l| is_leader_round(*l));
        // Presence only: shares are verified when the coin is combined
        // (optimistically, once per wave, bad shares skipped), which costs
        // one pairing check per wave instead of one per header.
        wanted.is_some() == header.coin.is_some()
    }

    fn memory(&self) -> usize {
        self.committer.memory() + self.coins.len() + self.checkpoints.len()
    }

    fn set_checkpoint_interval(&mut self, every: Round) {
        self.committer.set_checkpoint_interval(every);
    }

    fn take_checkpoints(&mut self) -> Vec<OrdererState> {
        std::mem::take(&mut self.checkpoints)
    }

    fn install(&mut self, state: &OrdererState) -> bool {
        if !state.extra.is_empty() || !self.committer.install(state, self.n) {
            return false;
        }
        self.checkpoints.clear();
        self.coins.clear();
        true
    }
}

impl Tusk {
    /// Commits the coin-elected leader of round `l` if it has `f + 1`
    /// votes, after every earlier uncommitted leader linked to it.
    fn try_commit(&mut self, dag: &Dag, l: Round) -> Vec<CommittedSubDag> {
        if !is_leader_round(l) || l <= self.committer.last_committed_round() {
            return vec![];
        }
        let Some(leader) = self.leader(dag, l) else {
            return vec![];
        };
        let Some(lv) = dag.get(l, leader).cloned() else {
            return vec![];
        };
        if dag.support(&lv.digest, l + 1) < self.validity {
            return vec![];
        }
        // Coins of earlier leader rounds, computed before the walk.
        let mut earlier = BTreeMap::new();
        let mut r = l.saturating_sub(2);
        while r > self.committer.last_committed_round() {
            if let Some(who) = self.leader(dag, r)
                && let Some(v) = dag.get(r, who)
            {
                earlier.insert(r, v.clone());
            }
            r = r.saturating_sub(2);
        }
        let chain = self
            .committer
            .chain(dag, &lv, 2, |round| earlier.get(&round).cloned());
        let mut subs = vec![];
        for v in chain {
            subs.push(self.committer.order(dag, v));
            if self.committer.checkpoint_due() {
                self.checkpoints.push(self.committer.state(vec![]));
            }
        }
        let keep = self
            .committer
            .last_committed_round()
            .saturating_sub(self.committer.gc_depth());
        self.coins = self.coins.split_off(&keep);
        subs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_crypto::ThresholdSetup;
    use dwcp_narwhal::testing::{DagBuilder, feed};
    use std::collections::BTreeSet;

    const N: usize = 4;

    fn setup() -> ThresholdSetup {
        ThresholdSetup::insecure_mock(N, 2, 5)
    }

    fn tusk(s: &ThresholdSetup) -> Tusk {
        Tusk::new(N, 1, 50, Arc::new(s.public.clone()), s.shares[0].clone())
    }

    fn coin(s: &ThresholdSetup) -> impl Fn(Round, u32) -> Option<PartialSig> + '_ {
        |round, author| {
            let l = round.checked_sub(2).filter(|l| is_leader_round(*l))?;
            Some(s.shares[author as usize].sign(&coin_message(l)))
        }
    }

    /// The coin's leaders of rounds 2 and 4 (they depend only on the setup).
    fn leaders(s: &ThresholdSetup) -> (NodeId, NodeId) {
        let mut b = DagBuilder::new(N);
        b.rounds_with_coin(1..=6, &[0, 1, 2, 3], coin(s));
        let mut t = tusk(s);
        (t.leader(&b.dag, 2).unwrap(), t.leader(&b.dag, 4).unwrap())
    }

    #[test]
    fn coin_elected_leaders_commit_with_support_after_the_reveal() {
        let s = setup();
        let (l2, l4) = leaders(&s);
        let mut b = DagBuilder::new(N);
        b.rounds_with_coin(1..=3, &[0, 1, 2, 3], coin(&s));
        let share = coin(&s);
        let all = [0, 1, 2, 3];
        // Two round-4 shares reveal the coin, but the wave ends only with a
        // quorum of round 4.
        for a in [0, 1] {
            b.add_with_coin(4, a, &all, share(4, a));
        }
        let (none, _) = feed(&mut tusk(&s), N, &b.log);
        assert!(none.is_empty(), "the wave of round 2 ends in round 4");
        b.add_with_coin(4, 2, &all, share(4, 2));
        let (first, _) = feed(&mut tusk(&s), N, &b.log);
        assert_eq!(first, vec![(2, l2)], "a quorum of round 4 ends the wave");
        b.add_with_coin(4, 3, &all, share(4, 3));
        b.rounds_with_coin(5..=7, &[0, 1, 2, 3], coin(&s));
        let (committed, order) = feed(&mut tusk(&s), N, &b.log);
        assert_eq!(committed, vec![(2, l2), (4, l4)]);
        let set: BTreeSet<_> = order.iter().collect();
        assert_eq!(set.len(), order.len());
    }

    #[test]
    fn dead_leader_is_ordered_by_nobody_and_the_next_wave_commits() {
        let s = setup();
        let (l2, l4) = leaders(&s);
        let all = [0u32, 1, 2, 3];
        let without: Vec<u32> = all.iter().copied().filter(|a| NodeId(*a) != l2).collect();
        let mut b = DagBuilder::new(N);
        b.rounds_with_coin(1..=1, &all, coin(&s));
        b.rounds_with_coin(2..=2, &without, coin(&s));
        b.rounds_with_coin(3..=7, &all, coin(&s));
        let (committed, order) = feed(&mut tusk(&s), N, &b.log);
        assert_eq!(committed, vec![(4, l4)]);
        assert!(!order.contains(&(2, l2)));
        assert_eq!(order.len(), 4 + 3 + 4 + 1);
    }

    #[test]
    fn bad_shares_do_not_change_the_coin() {
        let s = setup();
        let (l2, _) = leaders(&s);
        // Node 3 puts a share for the wrong round into its round-4 header.
        let bad = |round: Round, author: u32| {
            let l = round.checked_sub(2).filter(|l| is_leader_round(*l))?;
            let l = if author == 3 { l + 2 } else { l };
            Some(s.shares[author as usize].sign(&coin_message(l)))
        };
        let mut b = DagBuilder::new(N);
        b.rounds_with_coin(1..=4, &[0, 1, 2, 3], bad);
        assert_eq!(tusk(&s).leader(&b.dag, 2), Some(l2));
    }

    #[test]
    fn coin_shares_are_checked() {
        let s = setup();
        let t = tusk(&s);
        let mut h = Header {
            author: NodeId(1),
            round: 4,
            batches: vec![],
            parents: vec![],
            coin: None,
        };
        assert!(!t.check_coin(&h), "round 4 needs the share for round 2");
        h.coin = Some(s.shares[1].sign(&coin_message(2)));
        assert!(t.check_coin(&h));
        h.round = 3;
        assert!(!t.check_coin(&h), "odd rounds carry no share");
        assert_eq!(t.coin_share(3), None);
        assert!(t.coin_share(6).is_some());
    }
}
