//! One consensus instance `(view, slot)`: the accepted proposal, the
//! leader's signed headers seen, and the tally of verified votes.
//!
//! Everything here is pure bookkeeping over votes that were already
//! verified (signature, VRF proof, sample membership): the engine and the
//! single-decision safety model ([`crate::model`]) share it, so the model
//! counts quorums and detects equivocation with exactly the engine's code.

use crate::message::{CertEntry, Phase, PreparedCert, Proposal, Signed, Vote};
use dwcp_core::{Digest, NodeId};
use dwcp_crypto::Signature;
use std::collections::BTreeMap;

/// Distinct digests tracked per instance and phase; more can only come from
/// an equivocating leader, which two already prove.
const MAX_DIGESTS: usize = 2;

/// What adding a vote did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoteAdd {
    /// A new vote, now counted.
    New,
    /// The same vote again (ignored).
    Duplicate,
    /// The voter already voted for another digest in this phase: the first
    /// vote is returned as evidence; the new one is not counted.
    Equivocation(Box<Signed<Vote>>),
    /// A third digest in this instance (only a proven-faulty leader signs
    /// two); not counted.
    Ignored,
}

/// What a replica must do after its instance moved (see [`Instance::advance`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing yet.
    Wait,
    /// It just became prepared: keep this certificate and send a commit.
    Commit(Box<PreparedCert>),
    /// It just decided the accepted proposal.
    Decide,
}

/// The state of one `(view, slot)` instance.
#[derive(Clone, Debug, Default)]
pub struct Instance {
    /// The proposal this replica accepted from the leader (or a new-view).
    pub accepted: Option<Proposal>,
    /// The leader's signatures seen, by digest (from the proposal and from
    /// votes, which carry them). Two entries prove equivocation.
    pub headers: BTreeMap<Digest, Signature>,
    /// Set once two leader-signed headers disagree: no commit and no
    /// decision in this instance any more.
    pub equivocation: bool,
    /// The first vote of each voter, per phase.
    first: [BTreeMap<NodeId, Signed<Vote>>; 2],
    /// Counted votes per phase and digest, with what a certificate needs.
    tally: [BTreeMap<Digest, BTreeMap<NodeId, CertEntry>>; 2],
    /// What this replica voted, per phase.
    pub sent: [Option<Digest>; 2],
    /// Set when this replica became prepared (and committed).
    pub prepared: bool,
    /// Set when this replica decided in this instance.
    pub decided: bool,
}

impl Instance {
    /// Records the leader's signature on the header for `digest`. Returns
    /// the other digest and its signature if this makes two (the leader
    /// equivocated), and sets [`Instance::equivocation`].
    pub fn record_header(
        &mut self,
        digest: Digest,
        signature: Signature,
    ) -> Option<(Digest, Signature)> {
        if self.headers.contains_key(&digest) {
            return None;
        }
        let other = self.headers.iter().next().map(|(d, s)| (*d, *s));
        if self.headers.len() < MAX_DIGESTS {
            self.headers.insert(digest, signature);
        }
        if other.is_some() {
            self.equivocation = true;
        }
        other
    }

    /// Whether this instance already holds the leader's header for `digest`
    /// with exactly this signature (so it need not be verified again).
    pub fn knows_header(&self, digest: &Digest, signature: &Signature) -> bool {
        self.headers.get(digest) == Some(signature)
    }

    /// Counts a verified vote.
    pub fn add_vote(&mut self, vote: &Signed<Vote>, entry: CertEntry) -> VoteAdd {
        let i = vote.body.phase.index();
        let voter = vote.body.voter;
        if let Some(first) = self.first[i].get(&voter) {
            return if first.body.digest == vote.body.digest {
                VoteAdd::Duplicate
            } else {
                VoteAdd::Equivocation(Box::new(first.clone()))
            };
        }
        let digest = vote.body.digest;
        if !self.tally[i].contains_key(&digest) && self.tally[i].len() >= MAX_DIGESTS {
            return VoteAdd::Ignored;
        }
        self.first[i].insert(voter, vote.clone());
        self.tally[i]
            .entry(digest)
            .or_default()
            .insert(voter, entry);
        VoteAdd::New
    }

    /// The digest `voter` voted for in `phase`, if a vote of it was counted.
    pub fn voted_digest(&self, phase: Phase, voter: NodeId) -> Option<Digest> {
        self.first[phase.index()].get(&voter).map(|v| v.body.digest)
    }

    /// Whether `voter` already has a vote counted in `phase`.
    pub fn has_voted(&self, phase: Phase, voter: NodeId) -> bool {
        self.first[phase.index()].contains_key(&voter)
    }

    /// Distinct voters for `digest` in `phase`.
    pub fn count(&self, phase: Phase, digest: &Digest) -> usize {
        self.tally[phase.index()]
            .get(digest)
            .map_or(0, BTreeMap::len)
    }

    /// The counted entries for `digest` in `phase`, in voter order.
    pub fn entries(&self, phase: Phase, digest: &Digest) -> Vec<CertEntry> {
        self.tally[phase.index()]
            .get(digest)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The accepted proposal's digest.
    pub fn accepted_digest(&self) -> Option<Digest> {
        self.accepted.as_ref().map(|p| p.header.body.digest)
    }

    /// Whether the accepted proposal has `q` prepares (own included) and no
    /// equivocation was seen.
    pub fn ready_to_commit(&self, q: usize) -> bool {
        !self.equivocation
            && self
                .accepted_digest()
                .is_some_and(|d| self.count(Phase::Prepare, &d) >= q)
    }

    /// Whether this replica is prepared and holds `q` commits for the
    /// accepted proposal (own included), with no equivocation seen.
    pub fn ready_to_decide(&self, q: usize) -> bool {
        !self.equivocation
            && self.prepared
            && self
                .accepted_digest()
                .is_some_and(|d| self.count(Phase::Commit, &d) >= q)
    }

    /// The next step, applied to the instance's flags: prepared (with the
    /// certificate of the `q` or more prepares counted) → commit; prepared
    /// with `q` commits → decide. Call it after every change until it
    /// returns [`Step::Wait`].
    pub fn advance(&mut self, q: usize) -> Step {
        if !self.prepared && self.ready_to_commit(q) {
            self.prepared = true;
            let Some(proposal) = self.accepted.clone() else {
                return Step::Wait;
            };
            let prepares = self.entries(Phase::Prepare, &proposal.header.body.digest);
            return Step::Commit(Box::new(PreparedCert { proposal, prepares }));
        }
        if !self.decided && self.ready_to_decide(q) {
            self.decided = true;
            return Step::Decide;
        }
        Step::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Statement;
    use dwcp_crypto::Keyring;

    fn vote(k: &Keyring, phase: Phase, digest: Digest, voter: u32) -> Signed<Vote> {
        Signed::sign(
            Vote {
                phase,
                view: 0,
                slot: 1,
                digest,
                voter: NodeId(voter),
            },
            &k.secrets[voter as usize],
        )
    }

    fn entry(k: &Keyring, v: &Signed<Vote>) -> CertEntry {
        let proof = k.secrets[v.signer().index()].vrf_prove(b"t", b"t").1;
        CertEntry {
            voter: v.body.voter,
            signature: v.signature,
            proof,
        }
    }

    #[test]
    fn counts_distinct_voters_and_catches_equivocation() {
        let k = Keyring::insecure_mock(5, 1);
        let (x, y, z) = (Digest::of(b"x"), Digest::of(b"y"), Digest::of(b"z"));
        let mut inst = Instance::default();
        for w in 0..3 {
            let v = vote(&k, Phase::Prepare, x, w);
            assert_eq!(inst.add_vote(&v, entry(&k, &v)), VoteAdd::New);
        }
        let again = vote(&k, Phase::Prepare, x, 1);
        assert_eq!(inst.add_vote(&again, entry(&k, &again)), VoteAdd::Duplicate);
        let other = vote(&k, Phase::Prepare, y, 1);
        assert!(
            matches!(inst.add_vote(&other, entry(&k, &other)), VoteAdd::Equivocation(first) if first.body.digest == x)
        );
        let v3 = vote(&k, Phase::Prepare, y, 3);
        assert_eq!(inst.add_vote(&v3, entry(&k, &v3)), VoteAdd::New);
        let v4 = vote(&k, Phase::Prepare, z, 4);
        assert_eq!(
            inst.add_vote(&v4, entry(&k, &v4)),
            VoteAdd::Ignored,
            "third digest"
        );
        assert_eq!(
            (
                inst.count(Phase::Prepare, &x),
                inst.count(Phase::Prepare, &y)
            ),
            (3, 1)
        );
        assert_eq!(inst.count(Phase::Commit, &x), 0);
        assert!(
            inst.has_voted(Phase::Prepare, NodeId(3)) && !inst.has_voted(Phase::Commit, NodeId(3))
        );
        assert_eq!(
            inst.entries(Phase::Prepare, &x)
                .iter()
                .map(|e| e.voter.0)
                .collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn conflicting_headers_block_commit_and_decision() {
        let k = Keyring::insecure_mock(4, 2);
        let p = Proposal::new(0, 1, vec![], NodeId(0), &k.secrets[0]);
        let d = p.header.body.digest;
        let mut inst = Instance {
            accepted: Some(p.clone()),
            ..Default::default()
        };
        assert_eq!(inst.record_header(d, p.header.signature), None);
        assert!(inst.knows_header(&d, &p.header.signature));
        for w in 0..3 {
            let v = vote(&k, Phase::Prepare, d, w);
            inst.add_vote(&v, entry(&k, &v));
        }
        assert!(inst.ready_to_commit(3) && !inst.ready_to_commit(4));
        let other = Digest::of(b"other");
        let sig = k.secrets[0].sign(b"x", &other.0);
        assert_eq!(
            inst.record_header(other, sig),
            Some((d, p.header.signature))
        );
        assert!(inst.equivocation && !inst.ready_to_commit(3));
        // The header statement's tag keeps it apart from votes.
        assert_ne!(
            p.header.body.signing_bytes()[0],
            vote(&k, Phase::Prepare, d, 0).body.signing_bytes()[0]
        );
    }
}
