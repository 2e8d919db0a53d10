//! The single-decision safety model (feature `sim`): thousands of seeded
//! ProBFT instances with an equivocating leader and `f` colluding voters,
//! fast enough for the lab's `probft-safety`.
//!
//! A full simulation of one instance at `n = 100` costs a few hundred
//! milliseconds, almost all of it in the all-to-all view change, so the
//! model replaces the network and the message plumbing by synchronous
//! rounds on a fixed-latency network and keeps the engine's own code for
//! everything that decides the outcome:
//!
//! - samples: [`crate::sample::own_sample`] with the replicas' VRF keys
//!   (the insecure mock in the lab: same sortition, cheap VRF);
//! - counting, equivocation detection, prepared certificates and decisions:
//!   [`Instance::add_vote`], [`Instance::record_header`] and
//!   [`Instance::advance`], called in the order `on_vote` calls them, one
//!   message at a time in a seeded random arrival order (so a replica may
//!   become prepared and commit before the conflicting prepare reaches it,
//!   exactly as in the engine);
//! - the view change: [`crate::compute_plan`] over view-changes carrying the
//!   certificates the instances produced.
//!
//! Signatures are not computed (every vote here is one the adversary or a
//! correct replica really could sign; verification cannot change the
//! outcome).
//!
//! # The run
//!
//! 1. **View 0.** Replica 0 leads and is faulty, with `f − 1` other faulty
//!    replicas drawn at random. It signs `x` for a set `A` of correct
//!    replicas and `y` for a disjoint set `B` ([`Attack`]); the rest get
//!    nothing. Correct replicas prepare what they got; every faulty replica
//!    sends `x` prepares and commits to the members of `A` in its samples
//!    and `y` to those of `B`. Correct replicas commit and decide by the
//!    engine's rules.
//! 2. **View change.** Every correct replica that has not decided `x` times
//!    out; the others join (`f + 1` rule). A correct leader of view 1
//!    (replica 1) uses every view-change (it waits out `new_view_grace`);
//!    faulty replicas report no certificates. If replica 1 is faulty it
//!    picks the `n − f` that best hide a decided value's certificates.
//! 3. **View 1.** The leader proposes the plan's value for the slot, or a
//!    fresh value `z` distinct from `x` and `y` if the plan has none;
//!    correct replicas vote (those that decided only for their decision);
//!    faulty replicas vote for it when that can cause a disagreement and
//!    stay silent otherwise.
//!
//! An instance violates agreement when two correct replicas decided
//! different values, in view 0 or across views 0 and 1.

use crate::config::{quorum_size, sample_size};
use crate::instance::{Instance, Step};
use crate::message::{CertEntry, Phase, PreparedCert, Proposal, Request, Signed, ViewChange, Vote};
use crate::sample::{Draw, own_sample};
use crate::viewchange::compute_plan;
use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Digest, NodeId, rng};
use dwcp_crypto::{Keyring, Signature};
use std::collections::BTreeSet;

/// How the faulty leader splits the correct replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// `x` to the lower half of the correct replicas (by id), `y` to the
    /// upper half: the simulator's `Equivocate` split.
    Balanced,
    /// `x` to `a` and `y` to `b` random correct replicas, the rest nothing:
    /// with `(a, b)` the worst split of [`crate::bound::safety_analysis`].
    Split(usize, usize),
}

/// What one instance did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Correct replicas that decided `x` in view 0.
    pub decided_x: usize,
    /// Correct replicas that decided `y` in view 0.
    pub decided_y: usize,
    /// Correct replicas that saw both of the leader's headers in view 0.
    pub detected: usize,
    /// Correct replicas that decided in view 1.
    pub decided_view1: usize,
    /// Two correct replicas decided different values in view 0.
    pub violation_in_view: bool,
    /// Two correct replicas decided different values overall.
    pub violation: bool,
    /// Correct replicas with no decision after view 1.
    pub undecided: usize,
    /// Whether replica 1 (the leader of view 1) was faulty.
    pub faulty_next_leader: bool,
}

/// The committee and parameters of a model run.
pub struct Model<'k> {
    n: usize,
    f: usize,
    sample: usize,
    quorum: usize,
    history: u64,
    keys: &'k Keyring,
    dummy: Signature,
}

struct Msg {
    to: NodeId,
    vote: Signed<Vote>,
    entry: CertEntry,
    leader_sig: Signature,
}

fn request(tag: u64) -> Request {
    Request {
        client: u64::MAX,
        id: tag,
        payload: tag.to_le_bytes().to_vec(),
        auth: None,
    }
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

impl<'k> Model<'k> {
    /// A model of `n` replicas with these keys (`keys.len() == n`), `f`
    /// faulty, sample factor `o`, quorum factor `l`, and the engine's
    /// default `history` for the view change.
    pub fn new(keys: &'k Keyring, f: usize, o: f64, l: f64) -> Model<'k> {
        let n = keys.len();
        let dummy = keys.secrets[0].sign(b"dwcp-probft/model", b"unused");
        Model {
            n,
            f,
            sample: sample_size(n, o),
            quorum: quorum_size(n, l),
            history: 2,
            keys,
            dummy,
        }
    }

    /// Runs one instance; `slot` makes the VRF draws of different instances
    /// independent, `seed` the choice of faulty replicas, splits and arrival
    /// orders.
    pub fn run(&self, attack: Attack, slot: u64, seed: u64) -> Outcome {
        let mut rng = rng::derive(seed, slot);
        let n = self.n;
        let mut others: Vec<u32> = (1..n as u32).collect();
        shuffle(&mut others, &mut rng);
        let faulty: BTreeSet<NodeId> = std::iter::once(0)
            .chain(others.iter().copied().take(self.f.saturating_sub(1)))
            .map(NodeId)
            .collect();
        let correct: Vec<NodeId> = NodeId::all(n).filter(|id| !faulty.contains(id)).collect();
        let (a, b): (Vec<NodeId>, Vec<NodeId>) = match attack {
            Attack::Balanced => {
                let half = correct.len() / 2;
                (correct[..half].to_vec(), correct[half..].to_vec())
            }
            Attack::Split(a, b) => {
                let mut c = correct.clone();
                shuffle(&mut c, &mut rng);
                let a = a.min(c.len());
                let b = b.min(c.len() - a);
                (c[..a].to_vec(), c[a..a + b].to_vec())
            }
        };
        let leader0 = NodeId(0);
        let px = Proposal::new(0, slot, vec![request(1)], leader0, &self.keys.secrets[0]);
        let py = Proposal::new(0, slot, vec![request(2)], leader0, &self.keys.secrets[0]);
        let mut assigned: Vec<Option<&Proposal>> = vec![None; n];
        for id in &a {
            assigned[id.index()] = Some(&px);
        }
        for id in &b {
            assigned[id.index()] = Some(&py);
        }
        let side =
            |id: NodeId| -> Option<&Proposal> { assigned.get(id.index()).copied().flatten() };

        // ----- view 0 -----
        let mut inst: Vec<Instance> = (0..n).map(|_| Instance::default()).collect();
        for id in &correct {
            if let Some(p) = side(*id) {
                self.accept(&mut inst[id.index()], p);
            }
        }
        let mut decided: Vec<Option<Digest>> = vec![None; n];
        let mut certs: Vec<Option<PreparedCert>> = vec![None; n];
        let mut commits = Vec::new();
        let mut prepares = Vec::new();
        for id in &correct {
            if let Some(p) = side(*id) {
                prepares.extend(self.own_vote(&mut inst[id.index()], *id, Phase::Prepare, p));
            }
        }
        for id in &faulty {
            prepares.extend(self.votes_to(*id, Phase::Prepare, 0, slot, side));
            commits.extend(self.votes_to(*id, Phase::Commit, 0, slot, side));
        }
        self.deliver(
            prepares,
            &faulty,
            &mut inst,
            &mut certs,
            &mut decided,
            &mut commits,
            &mut rng,
            None,
        );
        let mut none = Vec::new();
        self.deliver(
            commits,
            &faulty,
            &mut inst,
            &mut certs,
            &mut decided,
            &mut none,
            &mut rng,
            None,
        );
        let (dx, dy) = (px.header.body.digest, py.header.body.digest);
        let mut out = Outcome {
            decided_x: correct
                .iter()
                .filter(|id| decided[id.index()] == Some(dx))
                .count(),
            decided_y: correct
                .iter()
                .filter(|id| decided[id.index()] == Some(dy))
                .count(),
            detected: correct
                .iter()
                .filter(|id| inst[id.index()].equivocation)
                .count(),
            ..Outcome::default()
        };
        out.violation_in_view = out.decided_x > 0 && out.decided_y > 0;

        // ----- view change to view 1 -----
        let leader1 = NodeId(1);
        out.faulty_next_leader = faulty.contains(&leader1);
        let vc = |id: NodeId| ViewChange {
            view: 1,
            replica: id,
            next_slot: u64::from(decided[id.index()].is_some()),
            certs: certs[id.index()].iter().cloned().collect(),
        };
        let quorum: Vec<ViewChange> = if out.faulty_next_leader {
            // It may use any n − f: it hides the certificates of whichever
            // value some correct replica decided.
            let target = if out.decided_x > 0 {
                Some(dx)
            } else if out.decided_y > 0 {
                Some(dy)
            } else {
                None
            };
            let holds = |id: &NodeId| {
                target.is_some() && certs[id.index()].as_ref().map(|c| c.header().digest) == target
            };
            let mut order: Vec<NodeId> = faulty.iter().copied().collect();
            let mut rest = correct.clone();
            shuffle(&mut rest, &mut rng);
            let (bad, good): (Vec<NodeId>, Vec<NodeId>) = rest.into_iter().partition(holds);
            order.extend(good);
            order.extend(bad);
            order.iter().take(n - self.f).map(|id| vc(*id)).collect()
        } else {
            // A correct leader waits out the grace period: every correct
            // replica's view-change (those that decided join through the
            // f + 1 rule) and the faulty ones'.
            NodeId::all(n).map(vc).collect()
        };
        let plan = compute_plan(quorum.iter(), self.history);
        let batch = match plan.entries.iter().find(|(s, _)| *s == slot) {
            Some((_, batch)) => batch.clone(),
            None => vec![request(3)],
        };

        // ----- view 1 -----
        let p1 = Proposal::new(1, slot, batch, leader1, &self.keys.secrets[1]);
        let d1 = p1.header.body.digest;
        let mut inst: Vec<Instance> = (0..n).map(|_| Instance::default()).collect();
        let mut prepares = Vec::new();
        let voters: Vec<NodeId> = correct
            .iter()
            .copied()
            .filter(|id| decided[id.index()].is_none_or(|d| d == d1))
            .collect();
        for id in &voters {
            self.accept(&mut inst[id.index()], &p1);
            prepares.extend(self.own_vote(&mut inst[id.index()], *id, Phase::Prepare, &p1));
        }
        let harmful = correct
            .iter()
            .any(|id| decided[id.index()].is_some_and(|d| d != d1));
        let mut commits = Vec::new();
        if harmful {
            for id in &faulty {
                prepares.extend(self.votes_to(*id, Phase::Prepare, 1, slot, |_| Some(&p1)));
                commits.extend(self.votes_to(*id, Phase::Commit, 1, slot, |_| Some(&p1)));
            }
        }
        let mut decided1: Vec<Option<Digest>> = vec![None; n];
        let mut certs1: Vec<Option<PreparedCert>> = vec![None; n];
        self.deliver(
            prepares,
            &faulty,
            &mut inst,
            &mut certs1,
            &mut decided1,
            &mut commits,
            &mut rng,
            Some(&decided),
        );
        self.deliver(
            commits,
            &faulty,
            &mut inst,
            &mut certs1,
            &mut decided1,
            &mut none,
            &mut rng,
            Some(&decided),
        );
        out.decided_view1 = correct
            .iter()
            .filter(|id| decided1[id.index()].is_some())
            .count();
        let mut values = BTreeSet::new();
        for id in &correct {
            match (decided[id.index()], decided1[id.index()]) {
                (Some(d), _) | (None, Some(d)) => {
                    values.insert(d);
                }
                (None, None) => out.undecided += 1,
            }
        }
        out.violation = values.len() > 1;
        out
    }

    /// The votes the engine's `accept_proposal` would count first.
    fn accept(&self, inst: &mut Instance, p: &Proposal) {
        inst.record_header(p.header.body.digest, p.header.signature);
        inst.accepted = Some(p.clone());
    }

    /// A correct replica's own vote: counted locally, sent to its sample.
    fn own_vote(&self, inst: &mut Instance, me: NodeId, phase: Phase, p: &Proposal) -> Vec<Msg> {
        let h = &p.header.body;
        let msgs = self.votes_to(me, phase, h.view, h.slot, |_| Some(p));
        let proof = match msgs.first() {
            Some(m) => m.entry.proof.clone(),
            None => self.proof(me, phase, h.view, h.slot),
        };
        let vote = Signed {
            body: Vote {
                phase,
                view: h.view,
                slot: h.slot,
                digest: h.digest,
                voter: me,
            },
            signature: self.dummy,
        };
        inst.add_vote(
            &vote,
            CertEntry {
                voter: me,
                signature: self.dummy,
                proof,
            },
        );
        inst.sent[phase.index()] = Some(h.digest);
        msgs
    }

    fn proof(&self, me: NodeId, phase: Phase, view: u64, slot: u64) -> dwcp_crypto::VrfProof {
        own_sample(
            &self.keys.secrets[me.index()],
            me,
            self.n,
            self.sample,
            Draw { phase, view, slot },
        )
        .1
    }

    /// `me`'s votes to each member of its sample for `(phase, view, slot)`,
    /// for the proposal `pick` names for that member (none: no vote).
    fn votes_to<'p>(
        &self,
        me: NodeId,
        phase: Phase,
        view: u64,
        slot: u64,
        pick: impl Fn(NodeId) -> Option<&'p Proposal>,
    ) -> Vec<Msg> {
        let draw = Draw { phase, view, slot };
        let (sample, proof) = own_sample(
            &self.keys.secrets[me.index()],
            me,
            self.n,
            self.sample,
            draw,
        );
        let entry = CertEntry {
            voter: me,
            signature: self.dummy,
            proof,
        };
        sample
            .into_iter()
            .filter_map(|to| {
                let p = pick(to)?;
                let vote = Signed {
                    body: Vote {
                        phase,
                        view,
                        slot,
                        digest: p.header.body.digest,
                        voter: me,
                    },
                    signature: self.dummy,
                };
                Some(Msg {
                    to,
                    vote,
                    entry: entry.clone(),
                    leader_sig: p.header.signature,
                })
            })
            .collect()
    }

    /// Delivers one round of votes to the correct replicas, each receiver's
    /// in a random order, applying the engine's per-vote logic. Commits of
    /// replicas that become prepared go to `next`.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &self,
        mut msgs: Vec<Msg>,
        faulty: &BTreeSet<NodeId>,
        inst: &mut [Instance],
        certs: &mut [Option<PreparedCert>],
        decided: &mut [Option<Digest>],
        next: &mut Vec<Msg>,
        rng: &mut Rng,
        earlier: Option<&[Option<Digest>]>,
    ) {
        shuffle(&mut msgs, rng);
        for m in msgs {
            let r = m.to.index();
            if faulty.contains(&m.to) {
                continue;
            }
            let Some(i) = inst.get_mut(r) else { continue };
            if i.add_vote(&m.vote, m.entry) != crate::instance::VoteAdd::New {
                continue;
            }
            i.record_header(m.vote.body.digest, m.leader_sig);
            loop {
                match i.advance(self.quorum) {
                    Step::Wait => break,
                    Step::Commit(cert) => {
                        let p = cert.proposal.clone();
                        let may = earlier
                            .and_then(|e| e[r])
                            .is_none_or(|d| d == p.header.body.digest);
                        certs[r] = Some(*cert);
                        if may {
                            next.extend(self.own_vote(i, m.to, Phase::Commit, &p));
                        }
                    }
                    Step::Decide => {
                        if earlier.and_then(|e| e[r]).is_none() {
                            decided[r] = i.accepted_digest();
                        }
                    }
                }
            }
        }
    }
}
