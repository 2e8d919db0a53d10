//! Derandomised nonces for schnorrkel.
//!
//! schnorrkel derives each Schnorr/DLEQ witness from a transcript holding the
//! secret nonce seed, the public key, the context and the message, and then
//! mixes in extra bytes from an RNG (by default the operating system's). This
//! crate must be deterministic, so it supplies an "RNG" that contributes
//! nothing: the witness becomes a pseudo-random function of (secret, message),
//! exactly the Ed25519 construction, which never reuses a nonce for two
//! different messages.

use rand_core::{CryptoRng, RngCore};

/// An RNG that contributes no extra randomness (always zero bytes). Only used
/// as the hedging input of schnorrkel's witness derivation, see module docs.
pub(crate) struct NoExtraRandomness;

impl RngCore for NoExtraRandomness {
    fn next_u32(&mut self) -> u32 {
        0
    }

    fn next_u64(&mut self) -> u64 {
        0
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}

// Sound only because schnorrkel keys the witness with the secret nonce seed.
impl CryptoRng for NoExtraRandomness {}
