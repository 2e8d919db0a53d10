//! The sans-IO engine contract. See the crate docs for the numbered guide.

use crate::{NodeId, Time, WireMessage};
use std::fmt::Debug;

/// Where a [`Output::Send`] goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One node.
    One(NodeId),
    /// Each listed node once (the list is sorted and free of duplicates when
    /// built with [`Target::many`]).
    Many(Vec<NodeId>),
    /// Every committee member except the listed ones (usually the sender).
    AllBut(Vec<NodeId>),
}

impl Target {
    /// A `Many` target, sorted and deduplicated.
    pub fn many(mut nodes: Vec<NodeId>) -> Target {
        nodes.sort_unstable();
        nodes.dedup();
        Target::Many(nodes)
    }

    /// Everybody but `me`: the usual broadcast.
    pub fn all_but(me: NodeId) -> Target {
        Target::AllBut(vec![me])
    }

    /// Calls `f` for every recipient in a committee of `n` nodes, in ascending
    /// order. Ids outside `0..n` are skipped.
    pub fn for_each(&self, n: usize, mut f: impl FnMut(NodeId)) {
        match self {
            Target::One(to) if to.index() < n => f(*to),
            Target::One(_) => {}
            Target::Many(list) => list
                .iter()
                .filter(|to| to.index() < n)
                .for_each(|to| f(*to)),
            Target::AllBut(except) => NodeId::all(n).filter(|id| !except.contains(id)).for_each(f),
        }
    }

    /// How many recipients this target has in a committee of `n` nodes.
    pub fn count(&self, n: usize) -> usize {
        let mut c = 0;
        self.for_each(n, |_| c += 1);
        c
    }
}

/// What a peer did wrong, as observed by an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A signature, share or certificate did not verify.
    InvalidSignature,
    /// A VRF or other membership proof did not verify.
    InvalidProof,
    /// Two conflicting signed messages for the same slot. The encodings are
    /// transferable evidence: anyone holding the key can check both.
    Equivocation {
        /// The first message's wire encoding.
        first: Vec<u8>,
        /// The conflicting message's wire encoding.
        second: Vec<u8>,
    },
    /// A well-formed message the protocol forbids (wrong phase, wrong leader,
    /// outside the sender's sample, …); the string names the rule.
    Protocol(&'static str),
    /// The peer exceeded a resource bound (rate, buffered messages).
    Spam,
}

/// A fault attributed to a peer. Emitted as [`Output::Evidence`]; the message
/// that caused it has been dropped and was never counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Who misbehaved.
    pub culprit: NodeId,
    /// What they did.
    pub fault: Fault,
}

/// Everything an engine asks its host to do. Produced by
/// [`Engine::poll_output`], in order.
#[derive(Clone, Debug)]
pub enum Output<M, R, V> {
    /// Encode and send `msg` to `to`. Must wait for every earlier `Persist`.
    Send {
        /// Recipients.
        to: Target,
        /// The message.
        msg: M,
    },
    /// Append a record to durable storage; [`Engine::restore`] gets them back.
    Persist(R),
    /// A committed value, in the engine's total order.
    Deliver(V),
    /// A peer's fault; the offending input was dropped.
    Evidence(Evidence),
}

/// The output type of engine `E`.
pub type OutputOf<E> = Output<<E as Engine>::Message, <E as Engine>::Record, <E as Engine>::Value>;

/// A sans-IO protocol state machine. See the crate docs for how to drive one.
///
/// Implementations must be deterministic: given the same construction
/// arguments (including the RNG seed) and the same sequence of inputs, they
/// produce the same outputs. They must never panic on any input: bad peer
/// messages become [`Output::Evidence`], bad requests are ignored.
pub trait Engine {
    /// The wire message exchanged between replicas.
    type Message: WireMessage;
    /// A local request (for example a client transaction).
    type Request: Clone + Debug;
    /// A durable record, replayed by [`Engine::restore`].
    type Record: Clone + Debug;
    /// A committed value, delivered in total order.
    type Value: Clone + Debug + Ord;

    /// This replica's id.
    fn id(&self) -> NodeId;

    /// A message from peer `from` (authenticated by the transport).
    fn handle_message(&mut self, now: Time, from: NodeId, msg: Self::Message);

    /// A local request.
    fn handle_request(&mut self, now: Time, req: Self::Request);

    /// Called at or after [`Engine::next_deadline`].
    fn handle_timeout(&mut self, now: Time);

    /// The next output, or `None` when drained. Drain after every input.
    #[must_use = "outputs carry sends, persists and deliveries; drain them all"]
    fn poll_output(&mut self) -> Option<Output<Self::Message, Self::Record, Self::Value>>;

    /// When [`Engine::handle_timeout`] should next be called, if ever.
    #[must_use]
    fn next_deadline(&self) -> Option<Time>;

    /// Rebuilds state after a crash from every record persisted before it, in
    /// order. Called on a freshly constructed engine before any other input.
    /// Records that fail validation are skipped, never trusted blindly.
    fn restore(&mut self, now: Time, records: Vec<Self::Record>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_enumerate_recipients_in_order() {
        let mut seen = vec![];
        Target::all_but(NodeId(1)).for_each(4, |id| seen.push(id.0));
        assert_eq!(seen, vec![0, 2, 3]);
        assert_eq!(
            Target::many(vec![NodeId(3), NodeId(1), NodeId(3), NodeId(9)]).count(4),
            2
        );
        assert_eq!(Target::One(NodeId(7)).count(4), 0);
    }
}
