//! The event queue: a binary heap of `(time, seq)` keys. A send is one
//! [`Fanout`] entry whatever its number of recipients: the per-recipient
//! arrival times are computed once, sorted, and walked with a cursor, the
//! heap entry being re-keyed to the next arrival after each delivery.

use crate::config::FaultEvent;
use crate::network::Arrival;
use crate::partition::{LinkEffect, Partition};
use dwcp_core::{Engine, NodeId};
use std::cmp::Ordering;

/// What a heap entry refers to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    Fanout(u32),
    Timer { node: u32, generation: u32 },
    Control(u32),
}

/// A heap entry; the heap is a max-heap, so the order is reversed to pop
/// the smallest `(time, seq)` first.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    key: u128,
    pub what: What,
}

impl Entry {
    #[inline]
    pub fn new(time: u64, seq: u64, what: What) -> Entry {
        Entry {
            key: ((time as u128) << 64) | seq as u128,
            what,
        }
    }
    #[inline]
    pub fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
    #[inline]
    pub fn set_time(&mut self, time: u64) {
        self.key = ((time as u128) << 64) | (self.key as u64 as u128);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// One send in flight.
pub(crate) struct Fanout<M> {
    pub from: u32,
    pub incarnation: u32,
    pub depart: u64,
    pub kind: u16,
    pub size: u32,
    pub msg: Option<M>,
    pub arrivals: Vec<Arrival>,
    pub cursor: u32,
}

/// Scheduled non-message events.
pub(crate) enum Control<E: Engine> {
    Submit(NodeId, E::Request),
    Fault(FaultEvent),
    Resume(u32),
    LinkOn(u32, Partition, LinkEffect),
    LinkOff(u32),
    Load(usize),
}
