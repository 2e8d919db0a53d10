//! Helpers for fuzz entry points: a round-trip check for decoders and a byte
//! cursor for turning arbitrary bytes into a script of engine inputs.

use crate::codec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Decodes untrusted `data` as a `T` with the bounded codec; whatever decodes
/// must re-encode to bytes that decode to the same value (panics otherwise:
/// that is the bug a fuzzer looks for). Returns the decoded value.
pub fn decode_roundtrip<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    data: &[u8],
) -> Option<T> {
    let value = codec::decode::<T>(data).ok()?;
    let again = codec::decode::<T>(&codec::encode(&value));
    assert_eq!(again.as_ref(), Ok(&value), "re-encoding changed the value");
    Some(value)
}

/// Reads choices from fuzzer-supplied bytes; yields zeros once exhausted, so
/// every input is a valid script.
#[derive(Clone, Debug)]
pub struct ByteCursor<'a>(&'a [u8]);

impl<'a> ByteCursor<'a> {
    /// A cursor over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        ByteCursor(data)
    }

    /// The next byte, or 0 when exhausted.
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// A number in `0..n` (`0` when `n` is zero).
    pub fn below(&mut self, n: u8) -> u64 {
        u64::from(self.byte() % n.max(1))
    }

    /// Up to `n` raw bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Calls `f(i, bytes)` for `count` seeded random byte strings with lengths
/// below `max_len`: the smoke test that every crate's fuzz entry points run
/// as a unit test (the real fuzzing is `cargo fuzz`). Deterministic in
/// `seed`.
pub fn random_inputs(seed: u64, count: usize, max_len: u32, mut f: impl FnMut(usize, &[u8])) {
    use rand_core::RngCore;
    let mut r = crate::rng::seeded(seed);
    let mut data = Vec::new();
    for i in 0..count {
        data.resize((r.next_u32() % max_len.max(1)) as usize, 0);
        r.fill_bytes(&mut data);
        f(i, &data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_accepts_valid_and_ignores_garbage() {
        let bytes = codec::encode(&(7u32, vec![1u8, 2]));
        assert_eq!(
            decode_roundtrip::<(u32, Vec<u8>)>(&bytes),
            Some((7, vec![1, 2]))
        );
        assert_eq!(decode_roundtrip::<(u32, Vec<u8>)>(&[0xff; 3]), None);
    }

    #[test]
    fn reads_then_yields_zeros() {
        let mut c = ByteCursor::new(&[7, 200, 1, 2, 3]);
        assert_eq!(c.byte(), 7);
        assert_eq!(c.below(3), 200 % 3);
        assert_eq!(c.take(5), &[1, 2, 3]);
        assert!(c.is_empty());
        assert_eq!((c.byte(), c.below(0), c.take(2).len()), (0, 0, 0));
    }
}
