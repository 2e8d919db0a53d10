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
    let Ok(e) = Election::elect(&scores, &ElectionParams::for_n(n), 0) else {
        return false;
    };
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
