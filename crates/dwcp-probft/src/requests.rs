//! Requests waiting to be ordered.
//!
//! Every replica remembers the requests it has seen and not yet delivered:
//! the leader batches them in arrival order; the others keep them so that a
//! request that does not get decided in time makes them suspect the leader,
//! and so that they can hand their clients' requests to the next leader.

use crate::message::Request;
use dwcp_core::Time;
use std::collections::{BTreeMap, BTreeSet};

type Key = (u64, u64);

#[derive(Clone, Debug)]
struct Entry {
    req: Request,
    arrival: u64,
    since: Time,
    local: bool,
    proposed: bool,
}

/// The pending requests of one replica.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requests {
    by_key: BTreeMap<Key, Entry>,
    /// `(arrival, key)` of the requests not yet in a proposal.
    waiting: BTreeSet<(u64, Key)>,
    arrivals: u64,
}

impl Requests {
    /// Remembers `req` unless it is already pending or `max` are. A request
    /// from a local client marks an existing entry local too.
    pub(crate) fn insert(&mut self, req: Request, now: Time, local: bool, max: usize) -> bool {
        let key = req.key();
        if let Some(e) = self.by_key.get_mut(&key) {
            e.local |= local;
            return false;
        }
        if self.by_key.len() >= max {
            return false;
        }
        let arrival = self.arrivals;
        self.arrivals += 1;
        self.waiting.insert((arrival, key));
        self.by_key.insert(
            key,
            Entry {
                req,
                arrival,
                since: now,
                local,
                proposed: false,
            },
        );
        true
    }

    /// Forgets a delivered request.
    pub(crate) fn remove(&mut self, key: &Key) {
        if let Some(e) = self.by_key.remove(key) {
            self.waiting.remove(&(e.arrival, *key));
        }
    }

    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Pending requests not yet in a proposal.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// When the oldest request not yet in a proposal arrived.
    pub(crate) fn oldest_waiting(&self) -> Option<Time> {
        let (_, key) = self.waiting.first()?;
        self.by_key.get(key).map(|e| e.since)
    }

    /// Up to `max` of the oldest waiting requests, now marked proposed.
    pub(crate) fn take_batch(&mut self, max: usize) -> Vec<Request> {
        let mut batch = Vec::new();
        while batch.len() < max {
            let Some((_, key)) = self.waiting.pop_first() else {
                break;
            };
            if let Some(e) = self.by_key.get_mut(&key) {
                e.proposed = true;
                batch.push(e.req.clone());
            }
        }
        batch
    }

    /// Marks the requests of an accepted proposal as proposed.
    pub(crate) fn mark_proposed(&mut self, batch: &[Request]) {
        for r in batch {
            if let Some(e) = self.by_key.get_mut(&r.key()) {
                e.proposed = true;
                self.waiting.remove(&(e.arrival, r.key()));
            }
        }
    }

    /// A new view: proposals of the old one may never be decided, so every
    /// pending request waits again, in arrival order.
    pub(crate) fn requeue(&mut self) {
        for (key, e) in &mut self.by_key {
            if e.proposed {
                e.proposed = false;
                self.waiting.insert((e.arrival, *key));
            }
        }
    }

    /// The oldest `max` pending requests submitted by local clients.
    pub(crate) fn local(&self, max: usize) -> Vec<Request> {
        let mut mine: Vec<&Entry> = self.by_key.values().filter(|e| e.local).collect();
        mine.sort_by_key(|e| e.arrival);
        mine.into_iter().take(max).map(|e| e.req.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: u64) -> Request {
        Request::new(7, id, vec![id as u8])
    }

    #[test]
    fn batches_in_arrival_order_and_requeues() {
        let mut q = Requests::default();
        for (i, id) in [4u64, 1, 9].into_iter().enumerate() {
            assert!(q.insert(req(id), Time::from_millis(i as u64), id == 1, 10));
        }
        assert!(!q.insert(req(1), Time::ZERO, false, 10), "duplicate");
        assert!(!q.insert(req(2), Time::ZERO, false, 3), "full");
        assert_eq!(q.oldest_waiting(), Some(Time::ZERO));
        assert_eq!(
            q.take_batch(2).iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![4, 1]
        );
        assert_eq!(q.waiting(), 1);
        q.remove(&(7, 4));
        q.requeue();
        assert_eq!(
            q.take_batch(5).iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![1, 9]
        );
        q.requeue();
        q.mark_proposed(&[req(9)]);
        assert_eq!(q.take_batch(5), vec![req(1)]);
        assert_eq!(q.local(5), vec![req(1)]);
        q.remove(&(7, 1));
        q.remove(&(7, 9));
        assert!(q.is_empty() && q.oldest_waiting().is_none());
    }
}
