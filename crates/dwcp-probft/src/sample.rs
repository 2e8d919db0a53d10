//! VRF-selected samples: who receives a replica's prepare or commit.
//!
//! Replica `i`'s sample for `(phase, view, slot)` is
//! `sortition::sample(VRF_i(phase ‖ view ‖ slot), n, s, exclude = [i])`,
//! with the VRF evaluated under [`VRF_CONTEXT`] by `i`'s own key.
//!
//! - **Not grindable.** The input is fixed by the protocol position alone:
//!   no nonce, no proposal digest, no free field. The VRF output is unique
//!   for a key and input, so a replica has exactly one sample per phase,
//!   view and slot, and cannot pick its recipients. (A faulty replica does
//!   know its own future samples; what it can still do is try to steer which
//!   view a slot is decided in, by stalling as leader; each attempt costs a
//!   view-change timeout.)
//! - **Checked by receivers.** A vote carries the VRF proof; a receiver
//!   verifies it against the voter's public key, recomputes the sample and
//!   refuses the vote unless it is a member ([`check_membership`]).

use crate::message::Phase;
use dwcp_core::{Fault, NodeId};
use dwcp_crypto::{PublicKey, SecretKey, VrfOutput, VrfProof, sortition};

/// The VRF context (domain separator) of every ProBFT sample.
pub const VRF_CONTEXT: &[u8] = b"dwcp-probft/sample";

/// The protocol position a sample is drawn for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Draw {
    /// Prepare or commit.
    pub phase: Phase,
    /// The view.
    pub view: u64,
    /// The slot.
    pub slot: u64,
}

impl Draw {
    /// The VRF input: a phase byte, then the view and slot as little-endian
    /// `u64`s.
    pub fn input(&self) -> [u8; 17] {
        let mut input = [0u8; 17];
        input[0] = match self.phase {
            Phase::Prepare => b'P',
            Phase::Commit => b'C',
        };
        input[1..9].copy_from_slice(&self.view.to_le_bytes());
        input[9..17].copy_from_slice(&self.slot.to_le_bytes());
        input
    }
}

impl crate::message::Vote {
    /// The draw this vote's sample comes from.
    pub fn draw(&self) -> Draw {
        Draw {
            phase: self.phase,
            view: self.view,
            slot: self.slot,
        }
    }
}

/// The sample drawn from a VRF output: `size` distinct replicas other than
/// `voter`, sorted.
pub fn sample_from(output: &VrfOutput, n: usize, size: usize, voter: NodeId) -> Vec<NodeId> {
    sortition::sample(output, n, size, &[voter])
}

/// This replica's own sample for `draw` and the proof to attach to its vote.
pub fn own_sample(
    key: &SecretKey,
    me: NodeId,
    n: usize,
    size: usize,
    draw: Draw,
) -> (Vec<NodeId>, VrfProof) {
    let (output, proof) = key.vrf_prove(VRF_CONTEXT, &draw.input());
    (sample_from(&output, n, size, me), proof)
}

/// Verifies `voter`'s proof for `draw` and returns its sample (`n` is the
/// number of public keys), or [`Fault::InvalidProof`].
pub fn verified_sample(
    publics: &[PublicKey],
    voter: NodeId,
    size: usize,
    draw: Draw,
    proof: &VrfProof,
) -> Result<Vec<NodeId>, Fault> {
    let pk = publics.get(voter.index()).ok_or(Fault::InvalidProof)?;
    let output = pk
        .vrf_verify(VRF_CONTEXT, &draw.input(), proof)
        .ok_or(Fault::InvalidProof)?;
    Ok(sample_from(&output, publics.len(), size, voter))
}

/// Checks that `receiver` is in `voter`'s verified sample for `draw`:
/// [`Fault::InvalidProof`] for a bad proof, [`Fault::Protocol`] when the
/// receiver is not a member.
pub fn check_membership(
    publics: &[PublicKey],
    voter: NodeId,
    receiver: NodeId,
    size: usize,
    draw: Draw,
    proof: &VrfProof,
) -> Result<(), Fault> {
    let sample = verified_sample(publics, voter, size, draw, proof)?;
    if sample.binary_search(&receiver).is_ok() {
        Ok(())
    } else {
        Err(Fault::Protocol("vote sent outside the sender's VRF sample"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_crypto::Keyring;

    #[test]
    fn samples_are_verifiable_and_bound_to_their_input() {
        let keys = Keyring::sr25519(16, 5);
        let me = NodeId(3);
        let d = |phase, view, slot| Draw { phase, view, slot };
        let (sample, proof) = own_sample(&keys.secrets[3], me, 16, 8, d(Phase::Prepare, 2, 7));
        assert_eq!(sample.len(), 8);
        assert!(!sample.contains(&me));
        assert!(sample.windows(2).all(|w| w[0] < w[1]));
        let again = verified_sample(&keys.publics, me, 8, d(Phase::Prepare, 2, 7), &proof).unwrap();
        assert_eq!(again, sample);
        for id in NodeId::all(16) {
            let r = check_membership(&keys.publics, me, id, 8, d(Phase::Prepare, 2, 7), &proof);
            assert_eq!(r.is_ok(), sample.contains(&id));
            if id != me && !sample.contains(&id) {
                assert!(matches!(r, Err(Fault::Protocol(_))));
            }
        }
        // The same proof fails for another phase, view, slot or voter.
        for (phase, view, slot, voter) in [
            (Phase::Commit, 2, 7, me),
            (Phase::Prepare, 3, 7, me),
            (Phase::Prepare, 2, 8, me),
            (Phase::Prepare, 2, 7, NodeId(4)),
        ] {
            assert_eq!(
                verified_sample(&keys.publics, voter, 8, d(phase, view, slot), &proof),
                Err(Fault::InvalidProof)
            );
        }
        assert_eq!(
            verified_sample(
                &keys.publics,
                NodeId(99),
                8,
                d(Phase::Prepare, 2, 7),
                &proof
            ),
            Err(Fault::InvalidProof)
        );
        // Different inputs give different samples (overwhelmingly).
        let (other, _) = own_sample(&keys.secrets[3], me, 16, 8, d(Phase::Commit, 2, 7));
        let (third, _) = own_sample(&keys.secrets[3], me, 16, 8, d(Phase::Prepare, 3, 7));
        assert!(other != sample || third != sample);
    }

    #[test]
    fn membership_frequency_is_s_over_n_minus_one() {
        // Over many slots, replica 0 is in replica 1's sample about s/(n-1)
        // of the time: 8/15 here.
        let keys = Keyring::insecure_mock(16, 9);
        let hits = (0..3_000u64)
            .filter(|&slot| {
                let draw = Draw {
                    phase: Phase::Prepare,
                    view: 0,
                    slot,
                };
                own_sample(&keys.secrets[1], NodeId(1), 16, 8, draw)
                    .0
                    .contains(&NodeId(0))
            })
            .count();
        let freq = hits as f64 / 3_000.0;
        assert!((freq - 8.0 / 15.0).abs() < 0.04, "{freq}");
    }
}
