//! Request batching and deduplication by digest, with size and time limits,
//! and the compressed batch wire format.
//!
//! ```
//! use dwcp_aggregation::batch::{BatchConfig, Batcher, Pushed};
//! use dwcp_core::{Duration, Time};
//!
//! let cfg = BatchConfig { max_items: 2, max_bytes: 1 << 20, max_delay: Duration::from_millis(5), remember: 64 };
//! let mut b: Batcher<Vec<u8>> = Batcher::new(cfg);
//! assert_eq!(b.push(Time::ZERO, b"tx1".to_vec()), Pushed::Added);
//! assert_eq!(b.push(Time::ZERO, b"tx1".to_vec()), Pushed::Duplicate);
//! assert!(b.poll(Time::ZERO).is_none());                     // neither full nor due
//! assert_eq!(b.deadline(), Some(Time::from_millis(5)));
//! assert_eq!(b.poll(Time::from_millis(5)).unwrap().len(), 1); // due
//! assert_eq!(b.push(Time::from_millis(6), b"tx1".to_vec()), Pushed::Duplicate); // remembered
//! ```

use crate::compress::{Codec, CompressError};
use dwcp_core::codec::{self, CodecError, MAX_MESSAGE_SIZE};
use dwcp_core::{Digest, Duration, Time};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

/// Limits of a [`Batcher`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// A batch is emitted as soon as it holds this many items.
    pub max_items: usize,
    /// …or this many encoded bytes (an item larger than this alone is
    /// emitted alone).
    pub max_bytes: usize,
    /// …or when its oldest item has waited this long (zero: at the next
    /// [`Batcher::poll`]).
    pub max_delay: Duration,
    /// How many recently emitted digests are remembered to drop
    /// re-submissions (0: deduplicate within a batch only).
    pub remember: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_items: 256,
            max_bytes: 256 << 10,
            max_delay: Duration::from_millis(2),
            remember: 4096,
        }
    }
}

/// What [`Batcher::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Added,
    /// The same item (by digest) is queued or was recently emitted.
    Duplicate,
}

/// Collects items into batches. Deterministic: items keep arrival order.
#[derive(Clone, Debug)]
pub struct Batcher<T> {
    cfg: BatchConfig,
    items: Vec<T>,
    bytes: usize,
    oldest: Option<Time>,
    queued: BTreeSet<Digest>,
    recent: BTreeSet<Digest>,
    recent_order: VecDeque<Digest>,
}

impl<T: Serialize> Batcher<T> {
    /// An empty batcher.
    pub fn new(cfg: BatchConfig) -> Self {
        Batcher {
            cfg,
            items: Vec::new(),
            bytes: 0,
            oldest: None,
            queued: BTreeSet::new(),
            recent: BTreeSet::new(),
            recent_order: VecDeque::new(),
        }
    }

    /// Queues `item` unless a copy (same digest of its encoding) is queued
    /// or recently emitted.
    pub fn push(&mut self, now: Time, item: T) -> Pushed {
        let enc = codec::encode(&item);
        let d = Digest::of(&enc);
        if self.queued.contains(&d) || self.recent.contains(&d) {
            return Pushed::Duplicate;
        }
        self.queued.insert(d);
        self.bytes += enc.len();
        self.items.push(item);
        self.oldest.get_or_insert(now);
        Pushed::Added
    }

    /// Items queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether the queued batch is full (items or bytes).
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.cfg.max_items || self.bytes >= self.cfg.max_bytes
    }

    /// When the queued batch becomes due, if anything is queued.
    pub fn deadline(&self) -> Option<Time> {
        self.oldest.map(|t| t + self.cfg.max_delay)
    }

    /// The batch, if full or due at `now`.
    pub fn poll(&mut self, now: Time) -> Option<Vec<T>> {
        let due = self.deadline().is_some_and(|d| d <= now);
        (self.is_full() || due).then(|| self.take())
    }

    /// Takes whatever is queued (possibly nothing), remembering its digests.
    pub fn take(&mut self) -> Vec<T> {
        for d in std::mem::take(&mut self.queued) {
            if self.cfg.remember == 0 {
                break;
            }
            if self.recent.insert(d) {
                self.recent_order.push_back(d);
            }
            while self.recent_order.len() > self.cfg.remember {
                if let Some(old) = self.recent_order.pop_front() {
                    self.recent.remove(&old);
                }
            }
        }
        self.bytes = 0;
        self.oldest = None;
        std::mem::take(&mut self.items)
    }
}

/// The wire form of a batch: a codec, the uncompressed length, the
/// compressed bincode encoding of the items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchWire {
    /// How `body` is compressed.
    pub codec: Codec,
    /// Length of the uncompressed body.
    pub raw_len: u32,
    /// The compressed `Vec<T>` encoding.
    pub body: Vec<u8>,
}

/// Why a batch could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The envelope or the items did not decode.
    Codec(CodecError),
    /// The body did not decompress.
    Compress(CompressError),
    /// More items than allowed.
    TooManyItems(usize),
    /// The same item twice.
    Duplicate,
    /// The declared and actual uncompressed lengths differ.
    LengthMismatch,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Codec(e) => write!(f, "{e}"),
            BatchError::Compress(e) => write!(f, "{e}"),
            BatchError::TooManyItems(n) => write!(f, "{n} items exceed the limit"),
            BatchError::Duplicate => write!(f, "duplicate item"),
            BatchError::LengthMismatch => write!(f, "declared length does not match"),
        }
    }
}

impl std::error::Error for BatchError {}

impl BatchWire {
    /// Encodes and compresses `items`.
    pub fn pack<T: Serialize>(items: &[T], codec: Codec) -> BatchWire {
        let raw = codec::encode(items);
        BatchWire {
            codec,
            raw_len: raw.len() as u32,
            body: codec.compress(&raw),
        }
    }

    /// Decompresses (at most [`MAX_MESSAGE_SIZE`] bytes) and decodes at most
    /// `max_items` distinct items.
    pub fn unpack<T: DeserializeOwned + Serialize>(
        &self,
        max_items: usize,
    ) -> Result<Vec<T>, BatchError> {
        let limit = (self.raw_len as usize).min(MAX_MESSAGE_SIZE);
        let raw = self
            .codec
            .decompress(&self.body, limit)
            .map_err(BatchError::Compress)?;
        if raw.len() != self.raw_len as usize {
            return Err(BatchError::LengthMismatch);
        }
        // Decoding is bounded by the (limited) raw length.
        let items: Vec<T> = codec::decode(&raw).map_err(BatchError::Codec)?;
        if items.len() > max_items {
            return Err(BatchError::TooManyItems(items.len()));
        }
        let mut seen = BTreeSet::new();
        for it in &items {
            if !seen.insert(Digest::of_value(it)) {
                return Err(BatchError::Duplicate);
            }
        }
        Ok(items)
    }

    /// Encodes the envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes an envelope from untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<BatchWire, BatchError> {
        codec::decode(bytes).map_err(BatchError::Codec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(items: usize, bytes: usize, delay_ms: u64, remember: usize) -> BatchConfig {
        BatchConfig {
            max_items: items,
            max_bytes: bytes,
            max_delay: Duration::from_millis(delay_ms),
            remember,
        }
    }

    #[test]
    fn size_time_and_byte_limits() {
        let mut b: Batcher<Vec<u8>> = Batcher::new(cfg(3, 1000, 10, 2));
        for i in 0..3u8 {
            assert_eq!(b.push(Time::from_millis(i as u64), vec![i]), Pushed::Added);
        }
        assert_eq!(b.poll(Time::from_millis(3)).unwrap().len(), 3, "full");
        assert!(b.poll(Time::from_secs(9)).is_none(), "empty");
        b.push(Time::from_millis(20), vec![9; 2000]);
        assert!(b.is_full(), "bytes");
        assert_eq!(b.take().len(), 1);
        // Remembered digests expire after `remember` newer ones.
        assert_eq!(b.push(Time::ZERO, vec![9; 2000]), Pushed::Duplicate);
        b.push(Time::ZERO, vec![7]);
        b.push(Time::ZERO, vec![8]);
        b.take();
        assert_eq!(b.push(Time::ZERO, vec![0]), Pushed::Added, "forgotten");
    }

    #[test]
    fn wire_roundtrip_and_rejections() {
        let items: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 40]).collect();
        for c in Codec::ALL {
            let w = BatchWire::pack(&items, c);
            let back = BatchWire::from_bytes(&w.to_bytes()).unwrap();
            assert_eq!(back.unpack::<Vec<u8>>(50).unwrap(), items);
            assert_eq!(
                back.unpack::<Vec<u8>>(49),
                Err(BatchError::TooManyItems(50))
            );
        }
        let dup = BatchWire::pack(&[vec![1u8], vec![1u8]], Codec::Lz4);
        assert_eq!(dup.unpack::<Vec<u8>>(9), Err(BatchError::Duplicate));
        let mut lie = BatchWire::pack(&items, Codec::Snappy);
        lie.raw_len -= 1;
        assert!(lie.unpack::<Vec<u8>>(50).is_err());
    }

    proptest! {
        #[test]
        fn batches_preserve_order_and_drop_duplicates(xs in proptest::collection::vec(0u8..20, 0..100)) {
            let mut b: Batcher<u8> = Batcher::new(cfg(7, 1 << 20, 1, 0));
            let mut out = vec![];
            for (i, x) in xs.iter().enumerate() {
                b.push(Time::from_millis(i as u64), *x);
                if let Some(batch) = b.poll(Time::from_millis(i as u64)) {
                    prop_assert!(batch.len() <= 7);
                    let set: BTreeSet<u8> = batch.iter().copied().collect();
                    prop_assert_eq!(set.len(), batch.len());
                    out.extend(batch);
                }
            }
            out.extend(b.take());
            // Nothing invented, nothing lost: every value appears, never
            // more often than it was pushed.
            for x in 0..20u8 {
                let pushed = xs.iter().filter(|y| **y == x).count();
                let emitted = out.iter().filter(|y| **y == x).count();
                prop_assert!(emitted <= pushed);
                prop_assert_eq!(pushed > 0, emitted > 0);
            }
        }
    }
}
