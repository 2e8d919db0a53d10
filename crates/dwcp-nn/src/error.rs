//! The crate's error type.

use dwcp_core::codec::CodecError;
use std::fmt;

/// Why an operation on a network, its gradients or its weights failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NnError {
    /// A layer list is not a valid network (empty, mismatched widths, a bias
    /// whose length differs from the weight matrix's output width, or layer
    /// and activation lists of different lengths).
    InvalidArchitecture(String),
    /// Two networks (or a network and a gradient / optimiser state) do not
    /// have the same shapes.
    ShapeMismatch(String),
    /// A flat parameter vector has the wrong length.
    LengthMismatch {
        /// The number of parameters the network has.
        expected: usize,
        /// The length that was supplied.
        got: usize,
    },
    /// A class label is not below the number of logits.
    LabelOutOfRange {
        /// The row of the batch.
        row: usize,
        /// The label.
        label: usize,
        /// The number of classes (logit columns).
        classes: usize,
    },
    /// Weight bytes could not be encoded or decoded.
    Codec(CodecError),
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::InvalidArchitecture(s) => write!(f, "invalid architecture: {s}"),
            NnError::ShapeMismatch(s) => write!(f, "shape mismatch: {s}"),
            NnError::LengthMismatch { expected, got } => {
                write!(
                    f,
                    "flat parameter vector has {got} entries, expected {expected}"
                )
            }
            NnError::LabelOutOfRange {
                row,
                label,
                classes,
            } => {
                write!(
                    f,
                    "label {label} in row {row} is out of range for {classes} classes"
                )
            }
            NnError::Codec(e) => write!(f, "weights codec: {e}"),
        }
    }
}

impl std::error::Error for NnError {}

impl From<CodecError> for NnError {
    fn from(e: CodecError) -> Self {
        NnError::Codec(e)
    }
}
