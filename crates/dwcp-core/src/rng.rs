//! The seeded RNG every engine takes. No engine may use OS randomness.

pub use rand_chacha::ChaCha20Rng as Rng;
pub use rand_core::{RngCore, SeedableRng};

/// A ChaCha20 RNG from a 64-bit seed.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A per-node RNG derived from a master seed, so that nodes' streams are
/// independent and adding a node does not perturb the others.
pub fn derive(master: u64, stream: u64) -> Rng {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&master.to_le_bytes());
    seed[8..16].copy_from_slice(&stream.to_le_bytes());
    seed[16..24].copy_from_slice(b"dwcp-rng");
    Rng::from_seed(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        assert_eq!(seeded(7).next_u64(), seeded(7).next_u64());
        assert_eq!(derive(1, 2).next_u64(), derive(1, 2).next_u64());
        assert_ne!(derive(1, 2).next_u64(), derive(1, 3).next_u64());
    }
}
