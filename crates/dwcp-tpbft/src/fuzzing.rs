//! Entry points for fuzzers; none of them panics on any input.

use crate::certificate::{DecisionCertificate, GroupKey};
use crate::election::{Election, ElectionParams};
use crate::evidence::PbftEquivocation;
use crate::policy::TrustPolicy;
use dwcp_core::{NodeId, codec};
use dwcp_crypto::PublicKey;
use dwcp_pbft::Policy;
use dwcp_reputation::{TransferableEvidence, TrustScores};
use std::collections::BTreeSet;

/// Decodes a [`DecisionCertificate`] and verifies it under `key`.
pub fn decode_certificate(key: &GroupKey, data: &[u8]) -> bool {
    codec::decode_bounded::<DecisionCertificate>(data, 1 << 16).is_ok_and(|c| key.verify(&c))
}

/// Splits `data` in two and checks it as equivocation evidence.
pub fn equivocation(publics: &[PublicKey], data: &[u8]) -> bool {
    let mid = data.first().map_or(0, |b| *b as usize).min(data.len());
    let (a, b) = data.split_at(mid);
    PbftEquivocation {
        culprit: NodeId(0),
        first: a,
        second: b,
        publics,
    }
    .verify()
}

/// Builds a trust vector from bytes, elects, and checks the policy's
/// quorum predicates on subsets drawn from the same bytes. Returns whether
/// an election was possible; panics only if a checked invariant breaks
/// (two quorums with no weight beyond the `f` heaviest), which is the bug a
/// fuzzer looks for.
pub fn election(data: &[u8]) -> bool {
    let Some((&n, rest)) = data.split_first() else {
        return false;
    };
    let n = (n as usize % 32).max(1);
    let values: Vec<f64> = (0..n)
        .map(|i| rest.get(i).map_or(1.0, |b| *b as f64))
        .collect();
    let sum: f64 = values.iter().sum();
    let scores = TrustScores {
        values: values
            .iter()
            .map(|v| if sum > 0.0 { v / sum } else { 0.0 })
            .collect(),
        iterations: 0,
        converged: true,
    };
    // Fault bound and consensus-group size from the bytes after the subsets.
    let max_f = n.saturating_sub(1) / 3;
    let f = rest.get(2 * n).map_or(max_f, |b| *b as usize % (max_f + 1));
    let mut params = ElectionParams::with_faults(n, f);
    params.consensus_group = rest.get(2 * n + 1).map_or(n, |b| *b as usize % (n + 1));
    let Ok(e) = Election::elect(&scores, &params, 0) else {
        return false;
    };
    assert!(
        e.consensus_group.len() >= (3 * f + 1).min(n),
        "a consensus group too small for f"
    );
    for i in 0..n {
        let id = NodeId(i as u32);
        assert!(
            e.is_voter(id) || e.committee.weight(i) == 0,
            "a follower with weight"
        );
    }
    assert!(
        e.primary_group.iter().all(|m| e.is_voter(*m)),
        "a primary-group member outside the consensus group"
    );
    let p = TrustPolicy::new(e);
    let pick = |salt: u8| -> BTreeSet<NodeId> {
        (0..n)
            .filter(|i| rest.get(n + i).is_some_and(|b| (b ^ salt) & 1 == 1))
            .map(|i| NodeId(i as u32))
            .collect()
    };
    let (a, b) = (pick(0), pick(1));
    if p.is_quorum(&a) && p.is_quorum(&b) {
        let c = &p.election().committee;
        let common: u64 = a.intersection(&b).map(|x| c.weight(x.index())).sum();
        assert!(
            common > c.faulty(),
            "quorums intersect only in faulty weight"
        );
    }
    let _ = p.primary(rest.len() as u64);
    true
}

/// Runs a byte-chosen script against one T-PBFT replica (a `Pbft` under a
/// [`TrustPolicy`] elected from the first bytes among 5 members with
/// `f = 1` and a consensus group of 4, so that the replica is a voter or a
/// follower depending on the bytes, with group-signed proposals when the
/// election singles out a primary group): decoded
/// messages (endorsement shares included) from
/// chosen peers, requests and timeouts. Never panics unless the engine
/// does.
pub fn engine(data: &[u8]) {
    use dwcp_core::{Duration, Engine, Time, rng};
    use dwcp_crypto::Keyring;
    use dwcp_pbft::{Message, Pbft, PbftConfig, Request};

    const N: usize = 5;
    let (head, mut rest) = data.split_at(data.len().min(N));
    let values: Vec<f64> = (0..N)
        .map(|i| head.get(i).map_or(1.0, |b| *b as f64 + 1.0))
        .collect();
    let sum: f64 = values.iter().sum();
    let scores = TrustScores {
        values: values.iter().map(|v| v / sum).collect(),
        iterations: 0,
        converged: true,
    };
    let mut params = ElectionParams::with_faults(N, 1);
    params.consensus_group = 4;
    let Ok(election) = Election::elect(&scores, &params, 0) else {
        return;
    };
    let Ok(config) = PbftConfig::new(N) else {
        return;
    };
    let keys = Keyring::sr25519(N, 7);
    let me = NodeId(1);
    // A singled-out primary group signs proposals: decoded endorsements
    // with arbitrary shares reach the threshold-signature check.
    let policy = if election.primary_group.len() < N {
        let (key, _) = crate::deal(&election, 7, true);
        TrustPolicy::with_group_signature(election, key)
    } else {
        TrustPolicy::new(election)
    };
    let Ok(mut replica) = Pbft::with_policy(
        config,
        policy,
        me,
        keys.secrets[me.index()].clone(),
        keys.publics.clone(),
        rng::derive(7, 1),
    ) else {
        return;
    };
    let mut now = Time::ZERO;
    let mut steps = 0;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        steps += 1;
        if steps > 64 {
            break;
        }
        match op % 4 {
            0 => {
                let len = rest.first().map_or(0, |b| *b as usize * 2).min(rest.len());
                let (msg, tail) = rest.split_at(len);
                rest = tail;
                let from = NodeId((op as u32 >> 2) % N as u32);
                if let Ok(m) = codec::decode_bounded::<Message>(msg, 1 << 16) {
                    replica.handle_message(now, from, m);
                }
            }
            1 => replica.handle_request(
                now,
                Request {
                    client: (op >> 2) as u64 % 3,
                    id: steps,
                    payload: vec![op],
                    auth: None,
                },
            ),
            _ => {
                now += Duration::from_millis((op >> 2) as u64 * 20);
                replica.handle_timeout(now);
            }
        }
        while replica.poll_output().is_some() {}
    }
}

/// Scripts arbitrary committed requests into a complaint [`Tally`]
/// (`n = 4`, `f = 1`, 2 non-replica clients before the replicas' keys):
/// raw payloads after the complaint tag, signed complaints with
/// fuzz-chosen fields (from replicas and with wrong keys), and epoch
/// changes. Panics if a charge is ever made without `f + 1` distinct
/// signed complainants, if a Byzantine complainant alone causes one, or if
/// the tally outgrows its bound. Returns the number of charges made.
///
/// [`Tally`]: crate::timeliness::Tally
pub fn complaints(keys: &dwcp_crypto::Keyring, data: &[u8]) -> usize {
    use crate::timeliness::{Complaint, TAG, Tally};
    use dwcp_pbft::Request;
    use std::collections::BTreeMap;
    const N: usize = 4;
    const BASE: u64 = 2;
    const CAP: usize = 8;
    let mut clients = keys.publics[..2.min(keys.publics.len())].to_vec();
    clients.extend(keys.publics.iter().take(N).cloned());
    if keys.publics.len() < N {
        return 0;
    }
    let mut charges = 0;
    let mut tally = Tally::new(1, CAP);
    let mut epoch = 0u64;
    // Who the harness knows signed a complaint per (epoch, view, primary).
    let mut signers: BTreeMap<(u64, u64, NodeId), BTreeSet<NodeId>> = BTreeMap::new();
    for chunk in data.chunks(8) {
        let b = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let req = match b(0) % 4 {
            0 => {
                let mut payload = TAG.to_vec();
                payload.extend_from_slice(chunk.get(3..).unwrap_or(&[]));
                Request::new(BASE + u64::from(b(1) % 6), u64::from(b(2)), payload)
            }
            1 | 2 => {
                let me = NodeId(u32::from(b(1)) % N as u32);
                let c = Complaint {
                    epoch: epoch.saturating_sub(u64::from(b(2) % 3)),
                    view: u64::from(b(3) % 4),
                    seq: u64::from(b(4)),
                    primary: NodeId(u32::from(b(5)) % (N as u32 + 1)),
                };
                // Op 2 signs with a key that is not `me`'s.
                let signer = if b(0) % 4 == 2 {
                    (me.index() + 1) % N
                } else {
                    me.index()
                };
                let req = c.to_request(me, &keys.secrets[signer], BASE);
                if b(0) % 4 == 1 {
                    signers
                        .entry((c.epoch, c.view, c.primary))
                        .or_default()
                        .insert(me);
                }
                req
            }
            _ => {
                epoch += u64::from(b(1) % 3);
                tally.start_epoch(epoch);
                continue;
            }
        };
        let _ = tally.add(&req, BASE, N, &clients);
        for key in tally.newly_confirmed() {
            let who = signers.get(&key).map_or(0, BTreeSet::len);
            assert!(who >= 2, "charged {key:?} with {who} signed complainants");
            charges += 1;
        }
        assert!(
            tally.tracked() <= 2 * N * CAP,
            "tally grew to {}",
            tally.tracked()
        );
    }
    charges
}

/// Reads arbitrary bytes as committed requests (chunks of up to 255 bytes,
/// each a raw payload under the attestation tag or a decoded request) into
/// an [`crate::attest::Attestations`] reader over `keys.len()` replicas and
/// applies it to a fresh ledger. Returns the number of counted
/// attestations; never panics, and never counts more than one per replica.
pub fn attestations(keys: &dwcp_crypto::Keyring, data: &[u8]) -> usize {
    use crate::attest::{Attestations, TAG};
    use dwcp_pbft::Request;
    use dwcp_reputation::{Ledger, LedgerConfig};
    const BASE: u64 = 1;
    let n = keys.len();
    let Ok(election) = Election::equal(n, 0) else {
        return 0;
    };
    let mut clients = keys.publics[..1.min(n)].to_vec();
    clients.extend(keys.publics.iter().cloned());
    let mut read = Attestations::new(election.f, n, 0);
    let mut rest = data;
    let mut counted = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let (chunk, tail) = tail.split_at((len as usize).min(tail.len()));
        rest = tail;
        let req = match codec::decode_bounded::<Request>(chunk, 1 << 12) {
            Ok(r) => r,
            Err(_) => {
                let mut payload = TAG.to_vec();
                payload.extend_from_slice(chunk);
                let client = BASE + u64::from(len) % (n as u64 + 1);
                Request::new(client, u64::from(len), payload)
            }
        };
        counted += usize::from(read.add(&req, BASE, &clients));
    }
    assert!(read.attesters().len() <= n, "more attesters than replicas");
    let mut ledger = Ledger::new(n, LedgerConfig::default());
    read.apply(&mut ledger, &election, &keys.publics);
    counted
}
