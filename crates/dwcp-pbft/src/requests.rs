//! Requests waiting to be ordered, in arrival order.
//!
//! Every replica keeps the requests it has seen but not yet executed: the
//! primary batches them; backups time them (a request that does not execute
//! in time means a faulty primary). `local` requests were submitted to this
//! replica by a client; it is responsible for getting them to the primary.

use crate::message::Request;
use dwcp_core::Time;
use std::collections::{BTreeMap, BTreeSet};

type Key = (u64, u64);

#[derive(Clone, Debug)]
struct Pending {
    req: Request,
    ticket: u64,
    since: Time,
    local: bool,
}

/// The pending-request queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requests {
    pending: BTreeMap<Key, Pending>,
    /// Not yet proposed by this replica (as primary), oldest first.
    queue: BTreeMap<u64, Key>,
    /// Proposed by this replica in the current view, not yet executed.
    proposed: BTreeSet<Key>,
    next_ticket: u64,
}

impl Requests {
    /// Adds a request unless already pending or the queue holds `max`.
    /// Returns whether it was added.
    pub(crate) fn insert(&mut self, req: Request, now: Time, local: bool, max: usize) -> bool {
        let key = req.key();
        if let Some(p) = self.pending.get_mut(&key) {
            p.local |= local;
            return false;
        }
        if self.pending.len() >= max {
            return false;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.queue.insert(ticket, key);
        self.pending.insert(
            key,
            Pending {
                req,
                ticket,
                since: now,
                local,
            },
        );
        true
    }

    /// Forgets an executed request.
    pub(crate) fn remove(&mut self, key: &Key) {
        if let Some(p) = self.pending.remove(key) {
            self.queue.remove(&p.ticket);
        }
        self.proposed.remove(key);
    }

    /// Number of pending requests.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Number of pending requests not yet proposed.
    pub(crate) fn unproposed(&self) -> usize {
        self.queue.len()
    }

    /// Arrival time of the oldest unproposed request.
    pub(crate) fn oldest_unproposed(&self) -> Option<Time> {
        self.queue
            .first_key_value()
            .and_then(|(_, k)| self.pending.get(k))
            .map(|p| p.since)
    }

    /// Takes up to `max` of the oldest unproposed requests and marks them
    /// proposed.
    pub(crate) fn take_batch(&mut self, max: usize) -> Vec<Request> {
        let mut batch = vec![];
        while batch.len() < max {
            let Some((_, key)) = self.queue.pop_first() else {
                break;
            };
            if let Some(p) = self.pending.get(&key) {
                batch.push(p.req.clone());
                self.proposed.insert(key);
            }
        }
        batch
    }

    /// Marks requests as proposed (they are in a pre-prepare of this view).
    pub(crate) fn mark_proposed<'a>(&mut self, reqs: impl IntoIterator<Item = &'a Request>) {
        for r in reqs {
            let key = r.key();
            if let Some(p) = self.pending.get(&key) {
                self.queue.remove(&p.ticket);
                self.proposed.insert(key);
            }
        }
    }

    /// A new view begins: every proposed-but-unexecuted request is queued
    /// again, in its original order.
    pub(crate) fn requeue_proposed(&mut self) {
        for key in std::mem::take(&mut self.proposed) {
            if let Some(p) = self.pending.get(&key) {
                self.queue.insert(p.ticket, key);
            }
        }
    }

    /// The oldest `max` requests submitted to this replica by clients.
    pub(crate) fn local(&self, max: usize) -> Vec<Request> {
        let mut by_ticket: Vec<&Pending> = self.pending.values().filter(|p| p.local).collect();
        by_ticket.sort_by_key(|p| p.ticket);
        by_ticket
            .into_iter()
            .take(max)
            .map(|p| p.req.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(c: u64, i: u64) -> Request {
        Request {
            client: c,
            id: i,
            payload: vec![i as u8],
            auth: None,
        }
    }

    #[test]
    fn batches_in_arrival_order_and_requeue() {
        let mut q = Requests::default();
        for i in [5, 3, 9] {
            assert!(q.insert(req(1, i), Time::from_millis(i), i == 3, 10));
        }
        assert!(!q.insert(req(1, 3), Time::ZERO, false, 10), "duplicate");
        assert!(!q.insert(req(2, 1), Time::ZERO, false, 3), "full");
        assert_eq!(q.oldest_unproposed(), Some(Time::from_millis(5)));
        let b = q.take_batch(2);
        assert_eq!(b.iter().map(|r| r.id).collect::<Vec<_>>(), vec![5, 3]);
        assert_eq!((q.unproposed(), q.len()), (1, 3));
        q.remove(&(1, 5));
        q.requeue_proposed();
        assert_eq!(
            q.take_batch(9).iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![3, 9]
        );
        assert_eq!(q.local(9), vec![req(1, 3)]);
        q.requeue_proposed();
        q.mark_proposed(&[req(1, 9)]);
        assert_eq!(q.take_batch(9), vec![req(1, 3)]);
        assert!(!q.is_empty());
    }
}
