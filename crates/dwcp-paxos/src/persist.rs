//! Durable records and crash recovery.
//!
//! | before sending | the replica persists |
//! |---|---|
//! | a promise (phase 1b), or a prepare as candidate | [`Record::Promised`] |
//! | an accepted (phase 2b), or an accept as leader | [`Record::Accepted`] |
//! | delivering decided slots | [`Record::Delivered`] |
//!
//! [`crate::Paxos`]'s `restore` replays them: the acceptor never goes back
//! on a promise or forgets a value it accepted (for slots it still
//! retains), and delivery resumes after the last delivered slot, so a
//! restarted node delivers nothing twice. Everything else (the leader, the
//! commit point, decided values) is learned again from peers.

use crate::message::Record;
use crate::replica::{MAX_NUMBER, Paxos, Role};
use dwcp_core::Time;

impl Paxos {
    pub(crate) fn restore_records(&mut self, now: Time, records: Vec<Record>) {
        for r in records {
            // Out-of-range records are corrupt: skipped.
            let sane = match &r {
                Record::Promised(b) => b.round < MAX_NUMBER,
                Record::Accepted(e) => e.ballot.round < MAX_NUMBER && e.slot < MAX_NUMBER,
                Record::Delivered(next) => *next < MAX_NUMBER,
            };
            if !sane {
                continue;
            }
            match r {
                Record::Promised(b) => self.promised = self.promised.max(b),
                Record::Accepted(e) => {
                    self.promised = self.promised.max(e.ballot);
                    let newer = self
                        .accepted
                        .get(&e.slot)
                        .is_none_or(|(b, _)| e.ballot >= *b);
                    if newer {
                        self.accepted.insert(e.slot, (e.ballot, e.batch));
                    }
                }
                Record::Delivered(next) => self.deliver_next = self.deliver_next.max(next),
            }
        }
        self.max_round = self.max_round.max(self.promised.round);
        self.known_commit = self.deliver_next;
        self.commit = self.deliver_next;
        self.role = Role::Follower;
        self.leader = None;
        self.gc();
        // Slots below the delivery point are decided; what is retained of
        // them only serves promises.
        self.reset_election_timer(now);
    }
}
