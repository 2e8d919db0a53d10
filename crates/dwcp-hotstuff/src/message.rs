//! Wire types: blocks, quorum and timeout certificates, the signed proposal
//! statement, [`Message`], [`Record`] and the delivered [`Committed`].

use crate::tx::{Batch, Tx};
use dwcp_core::{Digest, NodeId, WireMessage};
use dwcp_crypto::{Certificate, PartialSig, Signed, Statement};
use serde::{Deserialize, Serialize};

/// The signing context of every HotStuff statement.
pub const SIGNING_CONTEXT: &[u8] = b"dwcp-hotstuff";

/// The bytes a vote share signs: "this block is the one of `view`".
pub fn vote_bytes(view: u64, block: &Digest) -> Vec<u8> {
    let mut m = b"dwcp-hotstuff/vote\0".to_vec();
    m.extend_from_slice(&view.to_le_bytes());
    m.extend_from_slice(&block.0);
    m
}

/// The bytes a timeout share signs: "I give up on `view`".
pub fn timeout_bytes(view: u64) -> Vec<u8> {
    let mut m = b"dwcp-hotstuff/timeout\0".to_vec();
    m.extend_from_slice(&view.to_le_bytes());
    m
}

/// A quorum certificate: `2f + 1` vote shares on `(view, block)` combined
/// into one threshold signature. The genesis QC (view 0) has none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qc {
    /// The view of the certified block.
    pub view: u64,
    /// The certified block.
    pub block: Digest,
    /// The combined signature (`None` only for genesis).
    pub cert: Option<Certificate>,
}

/// A timeout certificate: `2f + 1` timeout shares for `view`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tc {
    /// The view given up on.
    pub view: u64,
    /// The combined signature.
    pub cert: Certificate,
}

/// A block of the chain. Its parent is always the block its `justify`
/// certifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The view it was proposed in.
    pub view: u64,
    /// Distance from genesis.
    pub height: u64,
    /// The parent's digest (= `justify.block`).
    pub parent: Digest,
    /// The QC the proposer extended.
    pub justify: Qc,
    /// The proposer.
    pub author: NodeId,
    /// The payload.
    pub txs: Batch,
}

impl Block {
    /// The genesis block every replica starts from.
    pub fn genesis() -> Block {
        Block {
            view: 0,
            height: 0,
            parent: Digest::default(),
            justify: Qc {
                view: 0,
                block: Digest::default(),
                cert: None,
            },
            author: NodeId(0),
            txs: Batch::default(),
        }
    }

    /// The block's identity: a hash over every header field and the
    /// payload digest.
    pub fn digest(&self) -> Digest {
        let justify = dwcp_core::codec::encode(&self.justify);
        Digest::of_parts(&[
            b"dwcp-hotstuff/block",
            &self.view.to_le_bytes(),
            &self.height.to_le_bytes(),
            &self.parent.0,
            &justify,
            &self.author.0.to_le_bytes(),
            &self.txs.digest().0,
        ])
    }

    /// Encoded size bound, computed without encoding.
    pub fn wire_size(&self) -> usize {
        9 + 9 + 32 + (9 + 32 + 110) + 5 + self.txs.wire_size()
    }
}

/// What a leader signs (sr25519) when it proposes: two of these for one view
/// with different blocks are transferable evidence of equivocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The view.
    pub view: u64,
    /// The proposed block's digest.
    pub block: Digest,
    /// The leader.
    pub author: NodeId,
}

impl Statement for Proposal {
    const CONTEXT: &'static [u8] = SIGNING_CONTEXT;
    const TAG: u8 = 1;
    fn signer(&self) -> NodeId {
        self.author
    }
}

/// A vote share for `block` of `view`, with the leader's signed proposal
/// statement it answers (so that whoever collects votes for two blocks of
/// one view holds transferable evidence against that leader).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The view.
    pub view: u64,
    /// The block.
    pub block: Digest,
    /// The threshold signature share on [`vote_bytes`].
    pub share: PartialSig,
    /// The proposal voted for.
    pub proposal: Signed<Proposal>,
}

/// Everything replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A leader's proposal: the signed statement, the block, and the timeout
    /// certificate that let it into the view if the previous view had no QC.
    Propose {
        /// The signed statement.
        proposal: Signed<Proposal>,
        /// The block.
        block: Block,
        /// The previous view's timeout certificate, if any.
        tc: Option<Tc>,
    },
    /// A vote, sent to the next view's leader.
    Vote(Vote),
    /// The sender gave up on `view`; carries its highest QC and its vote in
    /// `view`, if any (broadcast, so that a QC forms even when the next
    /// leader is silent).
    Timeout {
        /// The view.
        view: u64,
        /// The sender's highest QC.
        high_qc: Qc,
        /// The threshold signature share on [`timeout_bytes`].
        share: PartialSig,
        /// The sender's vote in `view`.
        vote: Option<Vote>,
    },
    /// A replica already past `view` answers a [`Message::Timeout`] for it:
    /// its high QC and a timeout share for `view`, so the laggard can catch
    /// up or complete a TC. Never answered itself.
    Help {
        /// The laggard's view.
        view: u64,
        /// The sender's highest QC.
        high_qc: Qc,
        /// The threshold signature share on [`timeout_bytes`].
        share: PartialSig,
    },
    /// Client transactions relayed to an upcoming leader.
    Forward(Vec<Tx>),
    /// Asks for a block and up to `max - 1` of its ancestors.
    Fetch {
        /// The wanted block.
        block: Digest,
        /// Most blocks in the answer.
        max: u32,
    },
    /// Blocks, each followed by its parent.
    Blocks(Vec<Block>),
}

impl WireMessage for Message {
    fn kind(&self) -> &'static str {
        match self {
            Message::Propose { .. } => "propose",
            Message::Vote(_) => "vote",
            Message::Timeout { .. } => "timeout",
            Message::Help { .. } => "help",
            Message::Forward(_) => "forward",
            Message::Fetch { .. } => "fetch",
            Message::Blocks(_) => "blocks",
        }
    }

    /// An upper bound computed without encoding: the simulator charges
    /// bandwidth with it.
    fn wire_size(&self) -> usize {
        const QC: usize = 9 + 32 + 110;
        const SHARE: usize = 110;
        const VOTE: usize = 9 + 32 + SHARE + (9 + 32 + 5 + 80);
        1 + match self {
            Message::Propose { block, tc, .. } => {
                (9 + 32 + 5 + 80) + block.wire_size() + tc.as_ref().map_or(1, |_| 1 + 9 + 110)
            }
            Message::Vote(_) => VOTE,
            Message::Timeout { vote, .. } => 9 + QC + SHARE + 1 + vote.as_ref().map_or(0, |_| VOTE),
            Message::Help { .. } => 9 + QC + SHARE,
            Message::Forward(txs) => 9 + txs.iter().map(Tx::wire_size).sum::<usize>(),
            Message::Fetch { .. } => 32 + 5,
            Message::Blocks(bs) => 9 + bs.iter().map(Block::wire_size).sum::<usize>(),
        }
    }
}

/// A committed block as delivered to the application: its height, view,
/// digest and transaction ids (payloads are not kept once committed).
/// Empty blocks are not delivered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Committed {
    /// Height in the chain.
    pub height: u64,
    /// The view it was proposed in.
    pub view: u64,
    /// The block digest.
    pub block: Digest,
    /// Transaction ids, in block order.
    pub txs: Vec<u64>,
}

/// A durable record; see [`crate::persist`] for which record guards which
/// message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// About to vote in `view` (never vote again in it or below).
    Voted(u64),
    /// About to propose `block` in `view` (never propose another in it).
    Proposed {
        /// The view.
        view: u64,
        /// The block.
        block: Digest,
    },
    /// The lock moved to this QC (never vote for a block whose justify is
    /// older).
    Locked(Qc),
    /// Committed every block up to `block` at `height`.
    Committed {
        /// The height.
        height: u64,
        /// The block.
        block: Digest,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::codec;
    use dwcp_crypto::{Keyring, ThresholdSetup};

    fn samples() -> Vec<Message> {
        let keys = Keyring::sr25519(4, 3);
        let th = ThresholdSetup::generate(4, 3, 3);
        let g = Block::genesis();
        let block = Block {
            view: 1,
            height: 1,
            parent: g.digest(),
            justify: Qc {
                view: 0,
                block: g.digest(),
                cert: None,
            },
            author: NodeId(1),
            txs: Batch::from(vec![Tx::new(7, vec![1u8; 40]), Tx::new(u64::MAX, vec![])]),
        };
        let d = block.digest();
        let proposal = Signed::sign(
            Proposal {
                view: 1,
                block: d,
                author: NodeId(1),
            },
            &keys.secrets[1],
        );
        let share = th.shares[2].sign(&vote_bytes(1, &d));
        let shares = (0..3u32)
            .map(|i| (NodeId(i), th.shares[i as usize].sign(&timeout_bytes(1))))
            .collect();
        let cert = th.public.combine(&timeout_bytes(1), &shares).unwrap();
        let vote = Vote {
            view: 1,
            block: d,
            share: share.clone(),
            proposal: proposal.clone(),
        };
        vec![
            Message::Propose {
                proposal,
                block: block.clone(),
                tc: Some(Tc { view: 1, cert }),
            },
            Message::Vote(vote.clone()),
            Message::Timeout {
                view: 1,
                high_qc: block.justify.clone(),
                share: share.clone(),
                vote: Some(vote),
            },
            Message::Help {
                view: 1,
                high_qc: block.justify.clone(),
                share,
            },
            Message::Forward(block.txs.txs().to_vec()),
            Message::Fetch { block: d, max: 3 },
            Message::Blocks(vec![block, g]),
        ]
    }

    #[test]
    fn roundtrip_and_size_bound() {
        for m in samples() {
            let bytes = codec::encode(&m);
            assert_eq!(codec::decode::<Message>(&bytes).unwrap(), m);
            assert!(m.wire_size() >= bytes.len(), "{}", m.kind());
            assert!(m.wire_size() <= 2 * bytes.len() + 128, "{}", m.kind());
        }
    }

    #[test]
    fn digests_bind_every_field() {
        let g = Block::genesis();
        let mut b = g.clone();
        b.view = 1;
        assert_ne!(b.digest(), g.digest());
        let mut c = g.clone();
        c.txs = Batch::from(vec![Tx::new(1, vec![])]);
        assert_ne!(c.digest(), g.digest());
        assert_ne!(vote_bytes(1, &g.digest()), vote_bytes(2, &g.digest()));
        assert_ne!(
            timeout_bytes(1)[..],
            vote_bytes(1, &g.digest())[..timeout_bytes(1).len()]
        );
    }

    #[test]
    fn golden_encodings() {
        let enc: Vec<Vec<u8>> = samples().iter().map(codec::encode).collect();
        assert_eq!(
            codec::golden_hash(&enc),
            "69723592c2b1ee921bd88a4fe64245323ba6202ce4e1417d710f0630283c5d06"
        );
    }
}
