//! Rebuilding a node from its durable records.
//!
//! Replay is deterministic: certificates are re-inserted in the order they
//! were persisted, so the orderer takes the same decisions and assigns the
//! same indices; everything below the persisted delivery point is marked
//! handled without being delivered again. Records are this node's own
//! storage: they are checked for shape (a certificate whose parents are
//! absent is skipped) but signatures are not verified again.

use crate::message::Record;
use crate::node::Narwhal;
use crate::order::Orderer;
use crate::types::{Header, Vertex};
use dwcp_crypto::Signed;
use std::sync::Arc;

impl<O: Orderer> Narwhal<O> {
    pub(crate) fn replay(&mut self, records: Vec<Record>) {
        self.replaying = true;
        let mut own: Option<Arc<Signed<Header>>> = None;
        for r in records {
            match r {
                Record::Header(h) => {
                    if h.body.author == self.me
                        && own.as_ref().is_none_or(|o| o.body.round < h.body.round)
                    {
                        own = Some(h);
                    }
                }
                Record::Vote {
                    round,
                    author,
                    digest,
                } => {
                    self.votes_cast.insert((round, author), digest);
                }
                Record::Certificate(c) => {
                    let v = Vertex::new(c);
                    let complete = v.round() > 0
                        && (v.round() - 1 < self.dag.gc_round()
                            || v.parents().iter().all(|p| self.dag.contains(p)));
                    if complete {
                        if v.author() == self.me {
                            self.last_cert = Some(v.cert.clone());
                        }
                        self.insert_vertex(v);
                    }
                }
                Record::Batch(b) => {
                    let d = b.digest();
                    if !self.batches.contains_key(&d) {
                        self.store_batch(d, b);
                    }
                }
                Record::Delivered { next } => self.delivered = self.delivered.max(next),
                Record::Synced(state) => self.jump(state),
            }
        }
        if let Some(h) = own {
            let digest = h.body.digest();
            let certified = self.dag.contains(&digest);
            self.install_own_header(h, digest);
            if let Some(cur) = self.current.as_mut() {
                cur.certified = certified;
            }
            // Its batches are ours: they count as proposed.
        }
        self.replaying = false;
        let own_seq = self
            .batches
            .values()
            .filter(|s| s.batch.author == self.me)
            .map(|s| s.batch.seq + 1)
            .max()
            .unwrap_or(0);
        self.batch_seq = own_seq.max((self.round + 1) << 20);
        self.skip_delivered();
        self.collect_garbage();
    }
}
