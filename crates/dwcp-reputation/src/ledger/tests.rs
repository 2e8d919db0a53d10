use super::*;

struct Proof {
    culprit: NodeId,
    valid: bool,
}

impl TransferableEvidence for Proof {
    fn culprit(&self) -> NodeId {
        self.culprit
    }
    fn verify(&self) -> bool {
        self.valid
    }
}

fn all_vote(l: &mut Ledger, rounds: usize, except: &[u32]) {
    let n = l.n() as u32;
    for _ in 0..rounds {
        for i in 0..n {
            for j in 0..n {
                if !except.contains(&j) {
                    l.observe(NodeId(i), NodeId(j), Observation::TimelyVote);
                }
            }
        }
    }
}

#[test]
fn equal_behaviour_equal_trust() {
    let mut l = Ledger::new(4, LedgerConfig::default());
    all_vote(&mut l, 3, &[]);
    let s = l.scores().unwrap();
    assert!(s.values.iter().all(|v| (v - 0.25).abs() < 1e-9), "{s:?}");
    assert_eq!(s.to_weights(10), vec![10; 4]);
}

#[test]
fn misbehaviour_lowers_trust() {
    let mut l = Ledger::new(4, LedgerConfig::default());
    all_vote(&mut l, 3, &[3]);
    for i in 0..3 {
        l.observe(NodeId(i), NodeId(3), Observation::MissedDeadline);
        l.observe(NodeId(i), NodeId(2), Observation::InvalidSignature);
    }
    let s = l.scores().unwrap();
    // 3 only gets the damping share; 2 lost some trust to the invalid signature.
    assert!(s.get(NodeId(3)) < s.get(NodeId(2)), "{s:?}");
    assert!(s.get(NodeId(2)) < s.get(NodeId(0)), "{s:?}");
    assert_eq!(*s.ranking().last().unwrap(), NodeId(3));
}

#[test]
fn decay_lets_a_reformed_node_recover() {
    let cfg = LedgerConfig::default();
    let mut l = Ledger::new(4, cfg);
    for i in 0..3 {
        for _ in 0..4 {
            l.observe(NodeId(i), NodeId(3), Observation::MissedDeadline);
        }
    }
    all_vote(&mut l, 1, &[3]);
    let before = l.scores().unwrap().get(NodeId(3));
    // Five epochs of good behaviour; the old penalty (12 per observer) decays.
    for _ in 0..5 {
        l.end_epoch();
        all_vote(&mut l, 1, &[]);
    }
    let after = l.scores().unwrap().get(NodeId(3));
    assert!(after > before, "{before} -> {after}");
    assert!(after > 0.2, "{after}");
    assert_eq!(l.epoch(), 5);
}

#[test]
fn byzantine_mark_is_permanent_and_needs_valid_proof() {
    let mut l = Ledger::new(4, LedgerConfig::default());
    all_vote(&mut l, 2, &[]);
    assert!(!l.mark_byzantine(&Proof {
        culprit: NodeId(1),
        valid: false
    }));
    assert!(!l.mark_byzantine(&Proof {
        culprit: NodeId(9),
        valid: true
    }));
    assert!(l.mark_byzantine(&Proof {
        culprit: NodeId(1),
        valid: true
    }));
    for _ in 0..10 {
        l.end_epoch();
        all_vote(&mut l, 5, &[]);
    }
    assert!(l.is_byzantine(NodeId(1)));
    let s = l.scores().unwrap();
    assert_eq!(s.get(NodeId(1)), 0.0);
    assert!((s.values.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn identical_feeds_identical_scores() {
    let feed = |l: &mut Ledger| {
        for k in 0..50u32 {
            let what = match k % 4 {
                0 => Observation::InvalidSignature,
                1 => Observation::MissedDeadline,
                _ => Observation::TimelyVote,
            };
            l.observe(NodeId(k % 5), NodeId((k * 7 + 1) % 5), what);
            if k % 10 == 9 {
                l.end_epoch();
            }
        }
    };
    let mut a = Ledger::new(5, LedgerConfig::default());
    let mut b = Ledger::new(5, LedgerConfig::default());
    feed(&mut a);
    feed(&mut b);
    assert_eq!(a, b);
    let (sa, sb) = (a.scores().unwrap(), b.scores().unwrap());
    assert_eq!(
        sa.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        sb.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn ignores_unknown_and_self() {
    let mut l = Ledger::new(3, LedgerConfig::default());
    let before = l.clone();
    l.observe(NodeId(5), NodeId(1), Observation::TimelyVote);
    l.observe(NodeId(1), NodeId(7), Observation::TimelyVote);
    l.observe(NodeId(1), NodeId(1), Observation::TimelyVote);
    assert_eq!(l, before);
}

#[test]
fn a_confirmed_late_view_outweighs_an_epoch_of_timely_votes() {
    // Node 3 votes like everybody (5 checkpoints' worth of timely votes) but
    // one of its views as primary was confirmed late: its trust falls below
    // half the average; without the late view it equals the others'.
    let mut l = Ledger::new(4, LedgerConfig::default());
    all_vote(&mut l, 5, &[]);
    let before = l.scores().unwrap();
    assert!((before.get(NodeId(3)) - 0.25).abs() < 1e-9, "{before:?}");
    for i in 0..3 {
        l.observe(NodeId(i), NodeId(3), Observation::LateProposal);
    }
    let s = l.scores().unwrap();
    assert!(s.get(NodeId(3)) < 0.5 / 4.0, "{s:?}");
    assert_eq!(*s.ranking().last().unwrap(), NodeId(3));
}
