//! A trivial protocol for benchmarks, demos and the simulator's own tests.
//!
//! Every node broadcasts a vote for its current round and moves to the next
//! round once `2f + 1` nodes (itself included) have voted for that round or
//! a later one, delivering the number of the round it completed. A node
//! that makes no progress for `resend` re-broadcasts its vote marked
//! `retry`; nodes at or past that round answer a retry with their own vote,
//! so lost messages and restarts are recovered from. After `rounds` rounds a
//! node stops (its last vote announces it), so a run ends on its own.
//!
//! It is not a consensus protocol: every honest node delivers `0, 1, 2, …`.
//! It exists to load the simulator with all-to-all traffic and to give the
//! adversaries something to act on (it reports evidence for votes from
//! outside the committee, bad signatures and equivocation).

use crate::adversary::ByzantineMessage;
use crate::rand::index;
use dwcp_core::codec::encode;
use dwcp_core::rng::Rng;
use dwcp_core::{
    Committee, Duration, Engine, Evidence, Fault, NodeId, Output, Target, Time, WireMessage,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The toy's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToyConfig {
    /// Committee size.
    pub n: usize,
    /// Rounds to run before stopping.
    pub rounds: u64,
    /// Re-broadcast after this long without progress.
    pub resend: Duration,
    /// Persist each new round (and deliver only after it), so restarts
    /// resume where they were.
    pub persist: bool,
}

impl ToyConfig {
    /// `n` nodes, `rounds` rounds, 200 ms resend, no persistence.
    pub fn new(n: usize, rounds: u64) -> ToyConfig {
        ToyConfig {
            n,
            rounds,
            resend: Duration::from_millis(200),
            persist: false,
        }
    }
}

/// The toy's only message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The sender's current round.
    pub round: u64,
    /// A re-broadcast after a stall: nodes at or past `round` answer it.
    pub retry: bool,
    /// Stands in for content and signature: bit 0 distinguishes
    /// equivocating variants, [`Vote::BAD_SIGNATURE`] marks a signature that
    /// does not verify.
    pub tag: u8,
}

impl Vote {
    /// The tag bit of a vote whose signature does not verify.
    pub const BAD_SIGNATURE: u8 = 0x80;
}

fn varint_len(v: u64) -> usize {
    match v {
        0..=250 => 1,
        251..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

impl WireMessage for Vote {
    fn kind(&self) -> &'static str {
        "vote"
    }
    fn wire_size(&self) -> usize {
        varint_len(self.round) + 2
    }
}

impl ByzantineMessage for Vote {
    fn equivocate(&self, _: &mut Rng) -> Option<Self> {
        Some(Vote {
            tag: self.tag ^ 1,
            ..self.clone()
        })
    }
    fn corrupt_signature(&self) -> Option<Self> {
        Some(Vote {
            tag: self.tag | Vote::BAD_SIGNATURE,
            ..self.clone()
        })
    }
    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        Some(Vote {
            round: self.round ^ (1 << index(rng, 8)),
            ..self.clone()
        })
    }
}

/// One toy node.
pub struct Toy {
    cfg: ToyConfig,
    id: NodeId,
    quorum: usize,
    round: u64,
    /// Per node: 1 + the highest round it voted for (0: none yet).
    highest: Vec<u32>,
    tags: Vec<u8>,
    /// Nodes (this one included) whose highest vote is at least `round`.
    count: usize,
    out: VecDeque<Output<Vote, u64, u64>>,
    deadline: Option<Time>,
    started: bool,
}

impl Toy {
    /// A fresh node; its first timeout (at time zero) starts it.
    pub fn new(cfg: ToyConfig, id: NodeId) -> Toy {
        let quorum = Committee::new(cfg.n).map_or(1, |c| c.quorum());
        Toy {
            highest: vec![0; cfg.n],
            tags: vec![0; cfg.n],
            cfg,
            id,
            quorum,
            round: 0,
            count: 1,
            out: VecDeque::new(),
            deadline: Some(Time::ZERO),
            started: false,
        }
    }

    /// The current round (= rounds completed).
    pub fn round(&self) -> u64 {
        self.round
    }

    fn vote(&mut self, to: Target, retry: bool) {
        self.out.push_back(Output::Send {
            to,
            msg: Vote {
                round: self.round,
                retry,
                tag: 0,
            },
        });
    }

    fn recount(&mut self) {
        // Our own slot stays 0 (votes from ourselves are refused), so this
        // counts the others; the 1 is our own vote.
        let r = u32::try_from(self.round).unwrap_or(u32::MAX);
        self.count = 1 + self.highest.iter().filter(|h| **h > r).count();
    }

    fn advance(&mut self, now: Time) {
        let mut moved = false;
        while self.count >= self.quorum && self.round < self.cfg.rounds {
            self.round += 1;
            if self.cfg.persist {
                self.out.push_back(Output::Persist(self.round));
            }
            self.out.push_back(Output::Deliver(self.round - 1));
            self.recount();
            moved = true;
        }
        if moved {
            self.vote(Target::all_but(self.id), false);
            self.deadline = (self.round < self.cfg.rounds).then(|| now + self.cfg.resend);
        }
    }
}

impl Engine for Toy {
    type Message = Vote;
    type Request = u64;
    type Record = u64;
    type Value = u64;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, now: Time, from: NodeId, msg: Vote) {
        let j = from.index();
        if j >= self.cfg.n || from == self.id {
            let fault = Fault::Protocol("vote from outside the committee");
            self.out.push_back(Output::Evidence(Evidence {
                culprit: from,
                fault,
            }));
            return;
        }
        if msg.tag & Vote::BAD_SIGNATURE != 0 {
            self.out.push_back(Output::Evidence(Evidence {
                culprit: from,
                fault: Fault::InvalidSignature,
            }));
            return;
        }
        let claim = u32::try_from(msg.round.saturating_add(1)).unwrap_or(u32::MAX);
        let (old, old_tag) = (self.highest[j], self.tags[j]);
        if claim == old && msg.tag != old_tag {
            let first = encode(&Vote {
                tag: old_tag,
                ..msg.clone()
            });
            let fault = Fault::Equivocation {
                first,
                second: encode(&msg),
            };
            self.out.push_back(Output::Evidence(Evidence {
                culprit: from,
                fault,
            }));
            return;
        }
        if claim > old {
            self.highest[j] = claim;
            self.tags[j] = msg.tag;
            let r = self.round;
            if u64::from(old) <= r && u64::from(claim) > r {
                self.count += 1;
            }
        }
        if msg.retry && self.started && self.round >= msg.round {
            self.vote(Target::One(from), false);
        }
        self.advance(now);
    }

    fn handle_request(&mut self, _: Time, _: u64) {}

    fn handle_timeout(&mut self, now: Time) {
        if self.deadline.is_none_or(|d| d > now) {
            return;
        }
        let retry = self.started;
        self.started = true;
        self.vote(Target::all_but(self.id), retry);
        // A committee of one completes rounds on its own vote.
        self.advance(now);
        self.deadline = (self.round < self.cfg.rounds).then(|| now + self.cfg.resend);
    }

    fn poll_output(&mut self) -> Option<Output<Vote, u64, u64>> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Time> {
        self.deadline
    }

    fn restore(&mut self, now: Time, records: Vec<u64>) {
        self.round = records
            .into_iter()
            .filter(|r| *r <= self.cfg.rounds)
            .max()
            .unwrap_or(0);
        self.recount();
        self.started = false;
        self.deadline = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::codec::encoded_len;

    #[test]
    fn wire_size_is_the_encoded_length() {
        for round in [0, 250, 251, 65_535, 65_536, u32::MAX as u64 + 1] {
            let v = Vote {
                round,
                retry: true,
                tag: 0x81,
            };
            assert_eq!(v.wire_size(), encoded_len(&v), "round {round}");
        }
    }

    #[test]
    fn a_single_node_runs_alone() {
        let mut t = Toy::new(ToyConfig::new(1, 3), NodeId(0));
        t.handle_timeout(Time::ZERO);
        let outs: Vec<_> = std::iter::from_fn(|| t.poll_output()).collect();
        let delivered: Vec<u64> = outs
            .iter()
            .filter_map(|o| {
                if let Output::Deliver(v) = o {
                    Some(*v)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(delivered, vec![0, 1, 2]);
        assert_eq!(t.next_deadline(), None);
    }
}
