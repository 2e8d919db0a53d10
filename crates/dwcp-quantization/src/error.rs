//! The crate's error type.

use std::fmt;

/// Why a configuration, a compressed update or a wire message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A compressor configuration is out of range (e.g. `bits` outside `1..=16`).
    Config(&'static str),
    /// A dimension is larger than the limit (`u32::MAX` for inputs, the
    /// caller's [`crate::Limits`] for decoding).
    DimensionTooLarge {
        /// The dimension asked for.
        dim: u64,
        /// The largest allowed.
        max: u64,
    },
    /// An output slice does not have the update's dimension.
    DimensionMismatch {
        /// The update's dimension.
        expected: usize,
        /// The slice's length.
        got: usize,
    },
    /// The message ended early.
    Truncated,
    /// A float on the wire (or in an update) is NaN or infinite.
    NonFinite,
    /// The message is not a valid encoding.
    Malformed(&'static str),
    /// The entropy-coded body could not be decoded.
    Entropy(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid compressor configuration: {m}"),
            Error::DimensionTooLarge { dim, max } => {
                write!(f, "dimension {dim} exceeds the limit {max}")
            }
            Error::DimensionMismatch { expected, got } => {
                write!(
                    f,
                    "output has length {got}, the update has dimension {expected}"
                )
            }
            Error::Truncated => write!(f, "message truncated"),
            Error::NonFinite => write!(f, "non-finite float"),
            Error::Malformed(m) => write!(f, "malformed message: {m}"),
            Error::Entropy(m) => write!(f, "entropy stage: {m}"),
        }
    }
}

impl std::error::Error for Error {}
