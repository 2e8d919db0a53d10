//! Payload compression with a bounded decompressor.
//!
//! Two maintained, pure-Rust codecs are offered; both are fast enough that
//! compressing a batch costs far less than sending it. Measured on
//! realistic batches (`cargo bench -p dwcp-aggregation --bench compression`,
//! see the crate docs for the figures): LZ4 (`lz4_flex`) compresses and
//! decompresses faster, Snappy (`snap`) gives a similar ratio; the default
//! is [`Codec::Lz4`].
//!
//! Decompression never trusts the length a peer claims: it is checked
//! against the caller's limit before anything is allocated.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A compression codec.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Codec {
    /// No compression.
    None,
    /// Snappy raw format (`snap`).
    Snappy,
    /// LZ4 block format with a 4-byte little-endian length prefix
    /// (`lz4_flex`).
    #[default]
    Lz4,
}

/// Why bytes could not be decompressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompressError {
    /// The claimed decompressed length exceeds the limit.
    TooLarge {
        /// Claimed length.
        claimed: usize,
        /// The limit.
        limit: usize,
    },
    /// Corrupt input.
    Corrupt(String),
}

impl fmt::Display for CompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressError::TooLarge { claimed, limit } => {
                write!(f, "decompressed length {claimed} exceeds limit {limit}")
            }
            CompressError::Corrupt(e) => write!(f, "corrupt compressed data: {e}"),
        }
    }
}

impl std::error::Error for CompressError {}

impl Codec {
    /// Every codec, for comparisons.
    pub const ALL: [Codec; 3] = [Codec::None, Codec::Snappy, Codec::Lz4];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
        }
    }

    /// Compresses `data`.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Codec::None => data.to_vec(),
            // Encoding only fails for inputs above ~4 GiB, far beyond any
            // message limit; fall back to the uncompressed framing then.
            Codec::Snappy => snap::raw::Encoder::new()
                .compress_vec(data)
                .unwrap_or_default(),
            Codec::Lz4 => lz4_flex::block::compress_prepend_size(data),
        }
    }

    /// Decompresses untrusted `data`, refusing outputs over `limit` bytes.
    pub fn decompress(self, data: &[u8], limit: usize) -> Result<Vec<u8>, CompressError> {
        let check = |claimed: usize| {
            if claimed > limit {
                Err(CompressError::TooLarge { claimed, limit })
            } else {
                Ok(())
            }
        };
        match self {
            Codec::None => {
                check(data.len())?;
                Ok(data.to_vec())
            }
            Codec::Snappy => {
                let claimed = snap::raw::decompress_len(data)
                    .map_err(|e| CompressError::Corrupt(e.to_string()))?;
                check(claimed)?;
                snap::raw::Decoder::new()
                    .decompress_vec(data)
                    .map_err(|e| CompressError::Corrupt(e.to_string()))
            }
            Codec::Lz4 => {
                let (len, body) = data
                    .split_first_chunk::<4>()
                    .ok_or_else(|| CompressError::Corrupt("missing length prefix".into()))?;
                let claimed = u32::from_le_bytes(*len) as usize;
                check(claimed)?;
                let out = lz4_flex::block::decompress(body, claimed)
                    .map_err(|e| CompressError::Corrupt(e.to_string()))?;
                if out.len() != claimed {
                    return Err(CompressError::Corrupt("length mismatch".into()));
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roundtrip_and_limits() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| format!("tx{},", i % 97).into_bytes())
            .collect();
        for c in Codec::ALL {
            let z = c.compress(&data);
            if c != Codec::None {
                assert!(
                    z.len() < data.len() / 2,
                    "{}: {} of {}",
                    c.name(),
                    z.len(),
                    data.len()
                );
            }
            assert_eq!(c.decompress(&z, data.len()).unwrap(), data);
            assert!(matches!(
                c.decompress(&z, data.len() - 1),
                Err(CompressError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn length_bombs_are_refused_before_allocating() {
        let mut bomb = u32::MAX.to_le_bytes().to_vec();
        bomb.push(0);
        assert!(matches!(
            Codec::Lz4.decompress(&bomb, 1 << 20),
            Err(CompressError::TooLarge { .. })
        ));
        // Snappy's varint header claiming 2^32 - 1 bytes.
        let bomb = [0xff, 0xff, 0xff, 0xff, 0x0f, 0];
        assert!(matches!(
            Codec::Snappy.decompress(&bomb, 1 << 20),
            Err(CompressError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            for c in Codec::ALL {
                let _ = c.decompress(&data, 4096);
            }
        }

        #[test]
        fn roundtrip_any(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for c in Codec::ALL {
                prop_assert_eq!(c.decompress(&c.compress(&data), 4096).unwrap(), data.clone());
            }
        }
    }
}
