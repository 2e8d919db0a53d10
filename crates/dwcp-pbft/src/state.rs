//! The replicated state as PBFT sees it: a running hash over executed
//! batches, the set of delivered request keys, and committed batches kept to
//! serve lagging replicas.

use crate::message::{Decided, Request};
use dwcp_core::Digest;
use std::collections::{BTreeMap, BTreeSet};

/// The state digest before anything is executed (checkpoint 0).
pub fn genesis_state() -> Digest {
    Digest::of(b"dwcp-pbft/genesis")
}

/// The state digest after executing the batch with digest `batch` at `seq`
/// on top of `prev`. Because the chain covers every batch, a checkpoint
/// certifies the whole delivered history up to it.
pub fn next_state(prev: Digest, seq: u64, batch: Digest) -> Digest {
    Digest::of_parts(&[b"dwcp-pbft/state", &prev.0, &seq.to_le_bytes(), &batch.0])
}

/// Execution progress of one replica.
#[derive(Clone, Debug)]
pub(crate) struct Execution {
    /// Last executed sequence number.
    pub last: u64,
    /// State digest after `last`.
    pub state: Digest,
    /// Every `(client, id)` delivered so far (exactly-once delivery). This is
    /// application state and grows with it.
    pub delivered: BTreeSet<(u64, u64)>,
    /// Own state digests at checkpoint sequence numbers, for comparing with
    /// certified checkpoints.
    pub states: BTreeMap<u64, Digest>,
    /// Recently committed batches with their certificates, served to lagging
    /// replicas.
    pub decided: BTreeMap<u64, Decided>,
}

impl Execution {
    pub(crate) fn new() -> Execution {
        Execution {
            last: 0,
            state: genesis_state(),
            delivered: BTreeSet::new(),
            states: BTreeMap::new(),
            decided: BTreeMap::new(),
        }
    }

    /// Applies a batch: returns the newly delivered requests (duplicates of
    /// already-delivered keys are skipped) and advances the state chain.
    pub(crate) fn apply(&mut self, seq: u64, batch: &[Request], digest: Digest) -> Vec<Request> {
        let mut fresh = vec![];
        for r in batch {
            if self.delivered.insert(r.key()) {
                fresh.push(r.clone());
            }
        }
        self.last = seq;
        self.state = next_state(self.state, seq, digest);
        fresh
    }

    /// Keeps a committed batch for catch-up, dropping those older than
    /// `retention` sequence numbers.
    pub(crate) fn retain_decided(&mut self, seq: u64, d: Decided, retention: u64) {
        self.decided.insert(seq, d);
        let floor = self.last.saturating_sub(retention);
        while let Some((&oldest, _)) = self.decided.first_key_value() {
            if oldest > floor {
                break;
            }
            self.decided.pop_first();
        }
    }

    /// Consecutive decided batches right after `after`, at most `max`.
    pub(crate) fn decided_after(&self, after: u64, max: usize) -> Vec<Decided> {
        let mut out = vec![];
        let mut want = after.saturating_add(1);
        for (seq, d) in self.decided.range(want..) {
            // A decision certified outside (no signatures held) cannot be
            // proven to the requester.
            if *seq != want || out.len() >= max || d.certificate.votes.is_empty() {
                break;
            }
            out.push(d.clone());
            want = want.saturating_add(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{VoteCertificate, VotePhase, batch_digest};

    fn req(c: u64, i: u64) -> Request {
        Request {
            client: c,
            id: i,
            payload: vec![],
            auth: None,
        }
    }

    #[test]
    fn apply_dedupes_and_chains() {
        let mut e = Execution::new();
        let b1 = vec![req(1, 1), req(1, 2)];
        assert_eq!(e.apply(1, &b1, batch_digest(&b1)).len(), 2);
        let b2 = vec![req(1, 2), req(2, 1), req(2, 1)];
        assert_eq!(e.apply(2, &b2, batch_digest(&b2)), vec![req(2, 1)]);
        let expected = next_state(
            next_state(genesis_state(), 1, batch_digest(&b1)),
            2,
            batch_digest(&b2),
        );
        assert_eq!((e.last, e.state), (2, expected));
    }

    #[test]
    fn decided_retention_and_ranges() {
        let mut e = Execution::new();
        let sig = dwcp_crypto::Keyring::insecure_mock(1, 1).secrets[0].sign(b"x", b"y");
        for seq in 1..=10u64 {
            e.last = seq;
            let cert = VoteCertificate {
                phase: VotePhase::Commit,
                view: 0,
                seq,
                digest: batch_digest(&[]),
                // Seq 10 was decided from a certificate verified elsewhere.
                votes: if seq == 10 {
                    vec![]
                } else {
                    vec![(dwcp_core::NodeId(0), sig)]
                },
            };
            e.retain_decided(
                seq,
                Decided {
                    batch: vec![],
                    certificate: cert,
                },
                4,
            );
        }
        assert_eq!(
            e.decided.keys().copied().collect::<Vec<_>>(),
            vec![7, 8, 9, 10]
        );
        assert_eq!(e.decided_after(6, 10).len(), 3, "10 holds no signatures");
        assert_eq!(e.decided_after(5, 10).len(), 0, "gap: 6 was dropped");
        assert_eq!(
            e.decided_after(7, 2)
                .iter()
                .map(|d| d.certificate.seq)
                .collect::<Vec<_>>(),
            vec![8, 9]
        );
    }
}
