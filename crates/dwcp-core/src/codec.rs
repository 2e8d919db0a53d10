//! The wire codec: serde + bincode 2.0.1 with an explicit size limit.
//!
//! Every byte from the network is untrusted. [`decode`] refuses inputs longer
//! than [`MAX_MESSAGE_SIZE`], caps every allocation a length prefix can claim
//! at the same limit (bincode's `with_limit`), rejects trailing bytes, and
//! returns a [`CodecError`] instead of panicking.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt::{self, Debug};

/// The largest encoded message any dwcp engine accepts: 8 MiB.
pub const MAX_MESSAGE_SIZE: usize = 8 << 20;

type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_MESSAGE_SIZE>,
>;

fn config() -> Config {
    bincode::config::standard().with_limit::<MAX_MESSAGE_SIZE>()
}

/// Why bytes could not be decoded (or a value encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The input is longer than the limit.
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The bytes are not a valid encoding (truncated, bad tag, over-long
    /// length prefix, …).
    Malformed(String),
    /// A valid value was followed by extra bytes.
    TrailingBytes(usize),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::TooLarge { len, limit } => {
                write!(f, "message of {len} bytes exceeds limit {limit}")
            }
            CodecError::Malformed(e) => write!(f, "malformed message: {e}"),
            CodecError::TrailingBytes(n) => write!(f, "{n} trailing bytes after message"),
        }
    }
}

impl std::error::Error for CodecError {}

/// A message that crosses the wire between replicas.
pub trait WireMessage: Clone + Debug + Serialize + DeserializeOwned + 'static {
    /// A short static name for the message type, used by counters
    /// ("prepare", "commit", …).
    fn kind(&self) -> &'static str;

    /// The encoded size in bytes; the simulator charges bandwidth with it.
    /// Override when it can be computed without encoding.
    fn wire_size(&self) -> usize {
        encoded_len(self)
    }
}

/// Encodes a value. Encoding our own values cannot exceed the limit for any
/// well-formed engine; if it does, the error says so rather than panicking.
pub fn try_encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| CodecError::Malformed(e.to_string()))
}

/// Encodes a value; values over [`MAX_MESSAGE_SIZE`] encode to an empty vector,
/// which every decoder rejects.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    try_encode(value).unwrap_or_default()
}

/// The encoded length of a value, without keeping the bytes.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut w = bincode::enc::write::SizeWriter::default();
    match bincode::serde::encode_into_writer(value, &mut w, config()) {
        Ok(()) => w.bytes_written,
        Err(_) => usize::MAX,
    }
}

/// Decodes untrusted bytes with the default limit.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    decode_bounded(bytes, MAX_MESSAGE_SIZE)
}

/// Decodes untrusted bytes, refusing inputs longer than `limit` (which is
/// itself capped at [`MAX_MESSAGE_SIZE`]).
pub fn decode_bounded<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    let limit = limit.min(MAX_MESSAGE_SIZE);
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

/// A SHA-256 digest: of a batch, a message, an encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// The digest of several byte strings, each length-prefixed so that
    /// different splits never collide.
    pub fn of_parts(parts: &[&[u8]]) -> Digest {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Digest(h.finalize().into())
    }

    /// The digest of a value's wire encoding.
    pub fn of_value<T: Serialize + ?Sized>(value: &T) -> Digest {
        Digest::of(&encode(value))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", &self.to_hex()[..12])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..12])
    }
}

/// The golden hash of a list of sample encodings: protocol crates pin it in a
/// test so that any change of wire format is a deliberate, visible change.
pub fn golden_hash(encodings: &[Vec<u8>]) -> String {
    let parts: Vec<&[u8]> = encodings.iter().map(Vec::as_slice).collect();
    Digest::of_parts(&parts).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NodeId, Time};
    use proptest::prelude::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    enum Sample {
        Vote {
            from: NodeId,
            at: Time,
            digest: Digest,
        },
        Batch(Vec<Vec<u8>>),
    }

    fn samples() -> Vec<Sample> {
        vec![
            Sample::Vote {
                from: NodeId(3),
                at: Time::from_millis(5),
                digest: Digest::of(b"x"),
            },
            Sample::Batch(vec![b"tx1".to_vec(), vec![0u8; 300]]),
        ]
    }

    #[test]
    fn roundtrip_and_len() {
        for s in samples() {
            let bytes = encode(&s);
            assert_eq!(bytes.len(), encoded_len(&s));
            assert_eq!(decode::<Sample>(&bytes).unwrap(), s);
        }
    }

    #[test]
    fn golden_encodings() {
        // Changing this hash means changing the wire format: bump the
        // protocol version and say so in the changelog.
        let enc: Vec<Vec<u8>> = samples().iter().map(encode).collect();
        assert_eq!(
            golden_hash(&enc),
            "5a24193e194f3c96a1195f838b90dda111478b18791486714ed25304e634ae12"
        );
    }

    #[test]
    fn rejects_oversized_and_trailing_and_truncated() {
        let bytes = encode(&samples()[1]);
        assert!(matches!(
            decode::<Sample>(&bytes[..bytes.len() - 1]),
            Err(CodecError::Malformed(_))
        ));
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(decode::<Sample>(&extra), Err(CodecError::TrailingBytes(1)));
        assert!(matches!(
            decode_bounded::<Sample>(&bytes, 10),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn length_bomb_is_refused_without_allocating() {
        // Variant 1 (Batch) followed by a varint claiming 2^60 elements.
        let mut bomb = vec![1u8, 0xfd];
        bomb.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(decode::<Sample>(&bomb).is_err());
        // A byte string claiming 4 GiB.
        let mut bomb = vec![1u8, 1, 0xfc];
        bomb.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode::<Sample>(&bomb).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Sample>(&bytes);
        }
    }
}
