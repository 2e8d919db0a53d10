//! Update bytes on the wire: the `dwcp-quantization` encoding (a version
//! byte, flags, the dimension, the sparsifier's support — delta-coded
//! indices or a random-k seed — and bit-packed values), with exact byte
//! accounting, plus this crate's checks on top of its bounded decoder.

use dwcp_quantization::{Compressed, Limits, Support, Values};
use std::fmt;

/// A decoded update (re-exported from `dwcp-quantization`).
pub type Packed = Compressed;

/// Why update bytes were rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// More bytes than the configured limit.
    TooLarge(usize),
    /// The dimension differs from the model's.
    WrongDimension {
        /// The model's dimension.
        expected: usize,
        /// The encoded dimension.
        got: u64,
    },
    /// Anything else malformed; the string names it.
    Malformed(String),
    /// A value is NaN or infinite.
    NonFinite,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge(n) => write!(f, "update of {n} bytes is over the limit"),
            WireError::WrongDimension { expected, got } => {
                write!(f, "update has dimension {got}, the model {expected}")
            }
            WireError::Malformed(s) => write!(f, "malformed update: {s}"),
            WireError::NonFinite => write!(f, "update contains NaN or infinite values"),
        }
    }
}

impl std::error::Error for WireError {}

/// The encoding of `v` as a dense f32 update (full models, dense uplink).
/// Returns an empty vector (which every decoder rejects) if `v` has a NaN or
/// infinite entry or more than `u32::MAX` entries.
pub fn encode_dense(v: &[f32]) -> Vec<u8> {
    Compressed::new(v.len(), Support::Dense, Values::F32(v.to_vec()))
        .map(|c| c.encode())
        .unwrap_or_default()
}

/// Like [`encode_dense`] but writes non-finite floats as they are (for tests
/// and fuzzing of the decoder's rejection). Follows the `dwcp-quantization`
/// format: version 1, no flags, then an LSB-first bit stream of the varint
/// dimension, 2 support bits (dense), 3 value bits (f32) and 32 bits per value.
pub fn encode_dense_raw(v: &[f32]) -> Vec<u8> {
    let mut out = vec![1u8, 0];
    let (mut acc, mut used) = (0u64, 0u32);
    let mut put = |out: &mut Vec<u8>, value: u64, width: u32| {
        acc |= value << used;
        used += width;
        while used >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            used -= 8;
        }
    };
    let mut d = v.len() as u64;
    loop {
        let b = d & 0x7f;
        d >>= 7;
        put(&mut out, if d == 0 { b } else { b | 0x80 }, 8);
        if d == 0 {
            break;
        }
    }
    put(&mut out, 0, 5);
    for x in v {
        put(&mut out, u64::from(x.to_bits()), 32);
    }
    put(&mut out, 0, 7);
    out
}

/// Decodes untrusted bytes as an update of dimension `dim`, refusing more
/// than `max_bytes`. A successful result is finite and of length `dim`.
pub fn decode(bytes: &[u8], dim: usize, max_bytes: usize) -> Result<Compressed, WireError> {
    if bytes.len() > max_bytes {
        return Err(WireError::TooLarge(bytes.len()));
    }
    match Compressed::decode(bytes, &Limits::new(dim)) {
        Ok(p) if p.dim() == dim => Ok(p),
        Ok(p) => Err(WireError::WrongDimension {
            expected: dim,
            got: p.dim() as u64,
        }),
        Err(dwcp_quantization::Error::DimensionTooLarge { dim: got, .. }) => {
            Err(WireError::WrongDimension { expected: dim, got })
        }
        Err(dwcp_quantization::Error::NonFinite) => Err(WireError::NonFinite),
        Err(e) => Err(WireError::Malformed(e.to_string())),
    }
}
