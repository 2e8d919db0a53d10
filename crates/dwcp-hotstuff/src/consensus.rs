//! Proposals, votes, QCs, the lock and the three-chain commit rule.

use crate::message::{Block, Committed, Message, Proposal, Qc, Record, Tc, Vote, vote_bytes};
use crate::replica::{HotStuff, MAX_WAITING, Waiting};
use crate::tx::Batch;
use dwcp_core::{Digest, Fault, NodeId, Output, Target, Time, codec};
use dwcp_crypto::{Signed, invalid_signature_evidence};

impl HotStuff {
    pub(crate) fn on_proposal(
        &mut self,
        now: Time,
        from: NodeId,
        proposal: Signed<Proposal>,
        block: Block,
        tc: Option<Tc>,
    ) {
        let view = block.view;
        if from != self.cfg.leader(view) {
            self.evidence(
                from,
                Fault::Protocol("proposal from a node that does not lead the view"),
            );
            return;
        }
        let digest = block.digest();
        let p = &proposal.body;
        if p.view != view || p.author != from || block.author != from || p.block != digest {
            self.evidence(
                from,
                Fault::Protocol("proposal statement does not match its block"),
            );
            return;
        }
        if !proposal.verify(&self.keys.publics) {
            self.evidence(from, Fault::InvalidSignature);
            return;
        }
        match self.proposals.get(&view) {
            Some(first) if first.body.block != digest => {
                let fault = Fault::Equivocation {
                    first: codec::encode(first),
                    second: codec::encode(&proposal),
                };
                self.evidence(from, fault);
                return;
            }
            Some(_) => return,
            None => {}
        }
        let well_formed = block.parent == block.justify.block
            && block.view > block.justify.view
            && block.txs.txs().len() <= self.cfg.max_block_txs
            && block.txs.payload_bytes() <= self.cfg.max_block_bytes
            && match &tc {
                Some(tc) => tc.view + 1 == view && block.justify.view < tc.view,
                None => block.justify.view + 1 == view,
            };
        if !well_formed {
            self.evidence(from, Fault::Protocol("malformed proposal"));
            return;
        }
        if !block.txs.txs().iter().all(|tx| self.cfg.authentic(tx)) {
            self.evidence(
                from,
                Fault::Protocol("proposal carries a transaction no client signed"),
            );
            return;
        }
        if !self.verify_qc(&block.justify) {
            self.evidence(from, Fault::InvalidSignature);
            return;
        }
        if let Some(tc) = tc {
            if !self
                .keys
                .threshold
                .verify(&crate::message::timeout_bytes(tc.view), &tc.cert)
            {
                self.evidence(from, Fault::InvalidSignature);
                return;
            }
            self.on_tc(now, tc);
        }
        if view + self.cfg.view_window < self.view {
            return;
        }
        self.proposals.insert(view, proposal);
        self.suspected.remove(&from);
        let justify = block.justify.clone();
        self.update_qc(now, justify, from);
        self.accept_block(now, from, digest, block);
    }

    /// A verified proposal: store it once its parent is known (fetching the
    /// parent first if needed), then vote if the safety rules allow.
    pub(crate) fn accept_block(&mut self, now: Time, from: NodeId, digest: Digest, block: Block) {
        let Some(parent) = self.store.get(&block.parent) else {
            if self.waiting.len() >= MAX_WAITING {
                self.waiting.pop_first();
            }
            let parent = block.parent;
            self.waiting.insert(
                block.view,
                Waiting {
                    from,
                    digest,
                    block,
                },
            );
            self.fetch(now, parent, from);
            return;
        };
        if block.height != parent.height + 1 {
            self.evidence(
                from,
                Fault::Protocol("block height is not its parent's plus one"),
            );
            return;
        }
        // The lock rule for the QC this block carries (it certifies the
        // parent): lock on the parent's own QC before deciding to vote, even
        // if that QC was processed while the parent was still missing.
        if parent.justify.view > self.locked.view {
            self.locked = parent.justify.clone();
            self.persist(Record::Locked(self.locked.clone()));
        }
        let view = block.view;
        let safe = block.justify.view >= self.locked.view;
        self.store.insert(digest, block);
        if view == self.view && view > self.last_voted && safe {
            self.vote(now, view, digest);
        }
    }

    fn vote(&mut self, now: Time, view: u64, digest: Digest) {
        let Some(proposal) = self.proposals.get(&view).cloned() else {
            return;
        };
        self.last_voted = view;
        self.persist(Record::Voted(view));
        let share = self.keys.share.sign(&vote_bytes(view, &digest));
        self.stats.votes += 1;
        let vote = Vote {
            view,
            block: digest,
            share,
            proposal,
        };
        self.last_vote = Some(vote.clone());
        let next = self.cfg.leader(view + 1);
        if next == self.id {
            self.on_vote(now, self.id, vote);
        } else {
            self.send(Target::One(next), Message::Vote(vote));
        }
    }

    /// Collects vote shares (normally as the next view's leader; from
    /// timeouts, anyone) and combines a QC at `n - f`; bad shares are named
    /// by bisection and become evidence. A vote carrying a proposal that
    /// conflicts with the one this replica holds convicts the leader.
    pub(crate) fn on_vote(&mut self, now: Time, from: NodeId, vote: Vote) {
        let view = vote.view;
        if self.high_qc.view >= view
            || view + 1 < self.view
            || view > self.view + self.cfg.view_window
        {
            return;
        }
        let p = &vote.proposal.body;
        if p.view != view || p.block != vote.block || p.author != self.cfg.leader(view) {
            self.evidence(
                from,
                Fault::Protocol("vote for a proposal it does not carry"),
            );
            return;
        }
        if let Some(known) = self.proposals.get(&view)
            && known.body.block != vote.block
            && !self.convicted.contains(&view)
        {
            if !vote.proposal.verify(&self.keys.publics) {
                self.evidence(from, Fault::InvalidSignature);
                return;
            }
            let fault = Fault::Equivocation {
                first: codec::encode(known),
                second: codec::encode(&vote.proposal),
            };
            self.convicted.insert(view);
            self.evidence(p.author, fault);
        }
        let voters = self.voters.entry(view).or_default();
        if let Some(first) = voters.get(&from) {
            if first.block != vote.block {
                let first = first.clone();
                self.vote_equivocation(from, first, vote);
            }
            return;
        }
        voters.insert(from, vote.clone());
        let block = vote.block;
        let shares = self
            .votes
            .entry(view)
            .or_default()
            .entry(block)
            .or_default();
        shares.insert(from, vote.share);
        if shares.len() < self.cfg.quorum() {
            return;
        }
        let shares = shares.clone();
        match self
            .keys
            .threshold
            .combine_with_evidence(&vote_bytes(view, &block), &shares)
        {
            Ok(c) => {
                for e in c.evidence() {
                    self.out.push_back(Output::Evidence(e));
                }
                self.stats.qcs_formed += 1;
                self.verified.insert((view, block));
                let qc = Qc {
                    view,
                    block,
                    cert: Some(c.cert),
                };
                self.update_qc(now, qc, from);
            }
            Err(e) => {
                for ev in invalid_signature_evidence(&e.bad_signers) {
                    self.out.push_back(Output::Evidence(ev));
                }
                if let Some(s) = self.votes.get_mut(&view).and_then(|m| m.get_mut(&block)) {
                    for bad in &e.bad_signers {
                        s.remove(bad);
                    }
                }
            }
        }
    }

    /// A verified QC: raise the high QC, enter the next view, move the lock
    /// (to the QC its block carries) and commit by the three-chain rule.
    pub(crate) fn update_qc(&mut self, now: Time, qc: Qc, hint: NodeId) {
        if qc.view > self.high_qc.view {
            self.high_qc = qc.clone();
            self.timeouts_in_row = 0;
        }
        if qc.view + 1 > self.view {
            self.enter_view(now, qc.view + 1);
        }
        let Some(b2) = self.store.get(&qc.block) else {
            self.fetch(now, qc.block, hint);
            return;
        };
        let (b2_view, b1_digest, b2_height) = (b2.view, b2.parent, b2.height);
        if b2.justify.view > self.locked.view {
            self.locked = b2.justify.clone();
            self.persist(Record::Locked(self.locked.clone()));
        }
        if b2_height <= self.committed.0 + 1 {
            return;
        }
        let Some(b1) = self.store.get(&b1_digest) else {
            self.fetch(now, b1_digest, hint);
            return;
        };
        let (b1_view, b0_digest) = (b1.view, b1.parent);
        let Some(b0) = self.store.get(&b0_digest) else {
            self.fetch(now, b0_digest, hint);
            return;
        };
        if b2_view == b1_view + 1 && b1_view == b0.view + 1 && b0.height > self.committed.0 {
            let target = (b0.height, b0_digest);
            if self.commit_target.is_none_or(|t| t.0 < target.0) {
                self.commit_target = Some(target);
            }
            self.try_commit(now, hint);
        }
    }

    /// Delivers the chain from the committed tip up to the commit target,
    /// fetching missing ancestors first.
    pub(crate) fn try_commit(&mut self, now: Time, hint: NodeId) {
        let Some((_, target)) = self.commit_target else {
            return;
        };
        let mut chain = vec![];
        let mut d = target;
        while d != self.committed.1 {
            let Some(b) = self.store.get(&d) else {
                self.fetch(now, d, hint);
                return;
            };
            if b.height <= self.committed.0 {
                // A fork below the committed tip: never happens while
                // fewer than a third are Byzantine; refuse to deliver.
                self.commit_target = None;
                return;
            }
            chain.push(d);
            d = b.parent;
        }
        self.commit_target = None;
        let Some(&tip) = chain.first() else {
            return;
        };
        let height = self.store.get(&tip).map_or(0, |b| b.height);
        self.persist(Record::Committed { height, block: tip });
        for d in chain.into_iter().rev() {
            let Some(b) = self.store.get(&d) else {
                continue;
            };
            let txs = b.txs.ids();
            let value = Committed {
                height: b.height,
                view: b.view,
                block: d,
                txs,
            };
            self.stats.committed_blocks += 1;
            for &id in &value.txs {
                // Copies still in a mempool are skipped when cut.
                self.pending.remove(&id);
                self.remember(id);
            }
            if !value.txs.is_empty() {
                self.out.push_back(Output::Deliver(value));
            }
        }
        self.committed = (height, tip);
        self.gc_store();
    }

    fn gc_store(&mut self) {
        let floor = self.committed.0.saturating_sub(self.cfg.retention);
        let committed = self.committed.1;
        self.store
            .retain(|d, b| b.height >= floor || *d == committed || b.height == 0);
    }

    /// As the view's leader, with a QC (or TC) for the previous view:
    /// propose now if there is payload to carry, after `idle_block_delay`
    /// otherwise.
    pub(crate) fn schedule_propose(&mut self, now: Time) {
        if !self.can_propose() {
            return;
        }
        let busy = !self.mempool.is_empty() || self.chain_has_payload();
        let at = if busy {
            now
        } else {
            now + self.cfg.idle_block_delay
        };
        self.propose_at = Some(self.propose_at.map_or(at, |t| t.min(at)));
    }

    fn can_propose(&self) -> bool {
        let v = self.view;
        self.cfg.leader(v) == self.id
            && self.last_proposed < v
            && (self.high_qc.view + 1 == v
                || self.last_tc.as_ref().is_some_and(|t| t.view + 1 == v))
    }

    /// Whether an uncommitted block near the high QC carries transactions
    /// (empty blocks must follow to commit it).
    fn chain_has_payload(&self) -> bool {
        let mut d = self.high_qc.block;
        for _ in 0..3 {
            match self.store.get(&d) {
                Some(b) if b.height > self.committed.0 => {
                    if !b.txs.txs().is_empty() {
                        return true;
                    }
                    d = b.parent;
                }
                _ => return false,
            }
        }
        false
    }

    /// Proposes a block extending the high QC, persisted before it is sent.
    pub(crate) fn propose(&mut self, now: Time) {
        if !self.can_propose() {
            return;
        }
        let view = self.view;
        let justify = self.high_qc.clone();
        let Some(parent) = self.store.get(&justify.block) else {
            let hint = self.cfg.leader(justify.view);
            self.fetch(now, justify.block, hint);
            return;
        };
        let height = parent.height + 1;
        let txs = self.take_batch();
        let tc = self
            .last_tc
            .clone()
            .filter(|t| t.view + 1 == view && justify.view + 1 != view);
        let block = Block {
            view,
            height,
            parent: justify.block,
            justify,
            author: self.id,
            txs,
        };
        let digest = block.digest();
        self.last_proposed = view;
        self.persist(Record::Proposed {
            view,
            block: digest,
        });
        let proposal = Signed::sign(
            Proposal {
                view,
                block: digest,
                author: self.id,
            },
            &self.keys.secret,
        );
        self.stats.proposed += 1;
        self.broadcast(Message::Propose {
            proposal: proposal.clone(),
            block: block.clone(),
            tc,
        });
        self.proposals.insert(view, proposal);
        self.accept_block(now, self.id, digest, block);
    }

    /// Cuts a block's payload from the mempool.
    fn take_batch(&mut self) -> Batch {
        let mut txs = Vec::new();
        let mut bytes = 0;
        while let Some(tx) = self.mempool.front() {
            if txs.len() >= self.cfg.max_block_txs
                || (!txs.is_empty() && bytes + tx.payload.len() > self.cfg.max_block_bytes)
            {
                break;
            }
            let Some(tx) = self.mempool.pop_front() else {
                break;
            };
            self.mempool_ids.remove(&tx.id);
            if self.recent.contains(&tx.id) {
                continue;
            }
            bytes += tx.payload.len();
            txs.push(tx);
        }
        Batch::from(txs)
    }

    /// Re-examines proposals that waited for a parent, the high QC's chain
    /// and the commit target after blocks arrived.
    pub(crate) fn recheck(&mut self, now: Time, hint: NodeId) {
        let ready: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, w)| self.store.contains_key(&w.block.parent))
            .map(|(v, _)| *v)
            .collect();
        for v in ready {
            if let Some(w) = self.waiting.remove(&v) {
                self.accept_block(now, w.from, w.digest, w.block);
            }
        }
        let qc = self.high_qc.clone();
        self.update_qc(now, qc, hint);
        self.try_commit(now, hint);
        self.schedule_propose(now);
    }
}
