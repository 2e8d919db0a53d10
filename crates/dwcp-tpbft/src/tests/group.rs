//! The consensus group: the most trusted members vote, the others follow
//! by commit certificate.

use crate::epochs::{self, Protocol, RunConfig, Scenario};
use crate::{Election, ElectionParams, TrustPolicy};
use dwcp_core::{Duration, Engine, NodeId, Output, Time, rng};
use dwcp_crypto::Keyring;
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_pbft::{Message, Pbft, PbftConfig, Policy, Signed, Vote, VotePhase};
use dwcp_reputation::TrustScores;
use dwcp_sim::{NetworkConfig, SimConfig};

/// `n` members, those in `low` with a tenth of the others' trust.
fn election(n: usize, f: usize, group: usize, low: &[u32]) -> Election {
    let values = (0..n as u32)
        .map(|i| if low.contains(&i) { 0.1 } else { 1.0 })
        .collect::<Vec<f64>>();
    let sum: f64 = values.iter().sum();
    let scores = TrustScores {
        values: values.iter().map(|v| v / sum).collect(),
        iterations: 0,
        converged: true,
    };
    let mut params = ElectionParams::with_faults(n, f);
    params.consensus_group = group;
    Election::elect(&scores, &params, 0).unwrap()
}

fn ids(v: &[u32]) -> Vec<NodeId> {
    v.iter().copied().map(NodeId).collect()
}

#[test]
fn the_group_is_the_most_trusted_and_tolerates_f() {
    let e = election(10, 2, 7, &[0, 1, 2]);
    assert_eq!(e.consensus_group, ids(&[3, 4, 5, 6, 7, 8, 9]));
    assert!(e.primary_group.iter().all(|p| e.is_voter(*p)));
    for i in 0..3 {
        assert_eq!(e.committee.weight(i), 0, "follower {i} has weight");
    }
    // Any f members are Byzantine whatever their trust: a group smaller
    // than 3f + 1 is refused and clamped.
    let small = election(10, 2, 4, &[0, 1, 2]);
    assert_eq!(small.consensus_group.len(), 7);
    // Equal trust: everyone votes (PBFT).
    let eq = Election::equal_with(&ElectionParams::with_faults(10, 2), 10, 0).unwrap();
    assert_eq!(eq.consensus_group.len(), 10);
    // Two quorums of the group intersect in an honest voter for every
    // choice of f Byzantine members (exhaustive over the group's subsets).
    let policy = TrustPolicy::new(e.clone());
    let group = &e.consensus_group;
    let subsets: Vec<Vec<NodeId>> = (0u32..1 << group.len())
        .map(|mask| {
            (0..group.len())
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| group[k])
                .collect()
        })
        .collect();
    let quorums: Vec<&Vec<NodeId>> = subsets
        .iter()
        .filter(|s| policy.is_quorum(&s.iter().copied().collect()))
        .collect();
    let min_common = quorums
        .iter()
        .flat_map(|a| {
            quorums
                .iter()
                .map(move |b| a.iter().filter(|x| b.contains(x)).count())
        })
        .min()
        .unwrap();
    assert!(min_common > 2, "two quorums share only {min_common}");
}

#[test]
fn followers_deliver_from_commit_certificates_and_send_no_votes() {
    let e = election(10, 2, 7, &[0, 1, 2]);
    let config = PbftConfig::new(10).unwrap();
    let net = NetworkConfig::fixed(Duration::from_millis(10));
    let mut sim = harness::cluster_with_policy(
        config,
        TrustPolicy::new(e),
        SimConfig::new(10, 5).with_network(net),
        CryptoMode::Sr25519,
    );
    // Requests reach every node, followers included (they forward them).
    harness::submit_requests(&mut sim, 30, Time::ZERO, Duration::from_millis(3));
    sim.run_until_delivered(30, Time::from_secs(10)).unwrap();
    harness::check(&sim).unwrap();
    for f in 0..3 {
        assert_eq!(sim.delivered(NodeId(f)).len(), 30, "follower {f}");
    }
    // Per slot: 6 backups of the group send prepares to the 6 other group
    // members, the 7 voters send commits to all 9 others. Followers voting,
    // or prepares leaking out of the group, break the ratio.
    let stats = sim.stats();
    let prepares = stats.kind("prepare").map_or(0, |k| k.sent);
    let commits = stats.kind("commit").map_or(0, |k| k.sent);
    assert!(commits > 0);
    assert_eq!(
        prepares * 63,
        commits * 36,
        "{prepares} prepares, {commits} commits"
    );
}

#[test]
fn a_vote_signed_by_a_follower_is_evidence() {
    let n = 10;
    let e = election(n, 2, 7, &[0, 1, 2]);
    let keys = Keyring::sr25519(n, 3);
    let mut voter = Pbft::with_policy(
        PbftConfig::new(n).unwrap(),
        TrustPolicy::new(e),
        NodeId(5),
        keys.secrets[5].clone(),
        keys.publics.clone(),
        rng::seeded(1),
    )
    .unwrap();
    let vote = Signed::sign(
        Vote {
            phase: VotePhase::Commit,
            view: 0,
            seq: 1,
            digest: dwcp_core::Digest::of(b"x"),
            replica: NodeId(1),
        },
        &keys.secrets[1],
    );
    voter.handle_message(Time::ZERO, NodeId(1), Message::Vote(vote));
    let evidence: Vec<NodeId> = std::iter::from_fn(|| voter.poll_output())
        .filter_map(|o| match o {
            Output::Evidence(ev) => Some(ev.culprit),
            _ => None,
        })
        .collect();
    assert_eq!(evidence, vec![NodeId(1)]);
}

#[test]
fn a_small_group_excludes_silent_primaries_and_saves_messages() {
    let run = |group: Option<usize>| {
        let mut c = RunConfig::new(10, Scenario::SilentPrimaries, Protocol::TPbft, 7);
        c.epochs = 6;
        c.per_epoch = 12;
        c.f = Some(2);
        c.consensus_group = group;
        epochs::run(&c)
    };
    let small = run(Some(7));
    assert!(small.safe());
    assert_eq!(small.decisions(), 6 * 12);
    // The silent nodes 0 and 1 lose trust in the first epochs and leave
    // the consensus group.
    for e in &small.epochs[2..] {
        assert_eq!(e.consensus_group.len(), 7, "epoch {}", e.epoch);
        assert!(!e.consensus_group.contains(&NodeId(0)));
        assert!(!e.consensus_group.contains(&NodeId(1)));
        assert_eq!(e.view_changes, 0);
    }
    let full = run(None);
    assert!(full.safe());
    assert_eq!(full.decisions(), 6 * 12);
    // Once the group excludes them: prepares among 7 instead of the 8
    // running nodes, endorsement shares to voters only (the silent nodes
    // sent nothing in either run, so this is what the group itself saves).
    for (a, b) in small.epochs[2..].iter().zip(&full.epochs[2..]) {
        assert!(
            (a.messages as f64) < 0.8 * b.messages as f64,
            "epoch {}: group of 7 sent {}, everyone {}",
            a.epoch,
            a.messages,
            b.messages
        );
    }
}
