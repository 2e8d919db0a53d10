//! A compressed update: which coordinates are sent ([`Support`]) and how
//! their values are represented ([`Values`]).

use crate::Error;
use crate::sparsify::random_k_indices;

/// Which coordinates a [`Compressed`] update carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Support {
    /// Every coordinate `0..dim`, in order.
    Dense,
    /// The listed coordinates, strictly increasing and `< dim`.
    Sparse {
        /// Coordinates carried, strictly increasing.
        indices: Vec<u32>,
        /// `Some(seed)` when `indices == random_k_indices(seed, dim, k)`:
        /// the wire then carries only the seed and `k`, not the indices.
        seed: Option<u64>,
    },
}

/// The transmitted values, one per coordinate of the [`Support`], in the
/// support's order.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Raw `f32` (32 bits each).
    F32(Vec<f32>),
    /// `b`-bit uniform codes over `[min, max]`: value `min + code·(max−min)/(2^b−1)`.
    Uniform {
        /// Bits per code, `1..=16`.
        bits: u8,
        /// Lower end of the range.
        min: f32,
        /// Upper end of the range (`>= min`).
        max: f32,
        /// Codes, each `< 2^bits`.
        codes: Vec<u16>,
    },
    /// QSGD: value `code · norm / levels`, `|code| <= levels`.
    Qsgd {
        /// Number of levels `s`, `1..=32767`.
        levels: u16,
        /// The Euclidean norm of the quantized vector.
        norm: f32,
        /// Signed levels in `-levels..=levels`.
        codes: Vec<i16>,
    },
    /// TernGrad: value `code · scale`, `code ∈ {−1, 0, 1}`.
    Ternary {
        /// The largest magnitude of the quantized vector.
        scale: f32,
        /// Codes in `{−1, 0, 1}`.
        codes: Vec<i8>,
    },
    /// Sign: value `−scale` or `+scale`.
    Sign {
        /// The magnitude every coordinate decodes to (mean absolute value).
        scale: f32,
        /// `true` where the value is negative.
        negative: Vec<bool>,
    },
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::Uniform { codes, .. } => codes.len(),
            Values::Qsgd { codes, .. } => codes.len(),
            Values::Ternary { codes, .. } => codes.len(),
            Values::Sign { negative, .. } => negative.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f(j, value_j)` for every value, in order.
    pub fn for_each(&self, mut f: impl FnMut(usize, f32)) {
        match self {
            Values::F32(v) => v.iter().enumerate().for_each(|(j, &x)| f(j, x)),
            Values::Uniform {
                bits,
                min,
                max,
                codes,
            } => {
                let step = (max - min) / ((1u32 << bits) - 1) as f32;
                codes
                    .iter()
                    .enumerate()
                    .for_each(|(j, &c)| f(j, min + f32::from(c) * step));
            }
            Values::Qsgd {
                levels,
                norm,
                codes,
            } => {
                let unit = norm / f32::from(*levels);
                codes
                    .iter()
                    .enumerate()
                    .for_each(|(j, &c)| f(j, f32::from(c) * unit));
            }
            Values::Ternary { scale, codes } => codes
                .iter()
                .enumerate()
                .for_each(|(j, &c)| f(j, f32::from(c) * scale)),
            Values::Sign { scale, negative } => negative
                .iter()
                .enumerate()
                .for_each(|(j, &n)| f(j, if n { -scale } else { *scale })),
        }
    }

    /// Checks every invariant documented on the variants.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let finite = |v: f32| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::NonFinite)
            }
        };
        match self {
            Values::F32(v) => v.iter().try_for_each(|&x| finite(x)),
            Values::Uniform {
                bits,
                min,
                max,
                codes,
            } => {
                finite(*min)?;
                finite(*max)?;
                if !(1..=16).contains(bits) {
                    return Err(Error::Malformed("uniform bits outside 1..=16"));
                }
                if min > max {
                    return Err(Error::Malformed("uniform min > max"));
                }
                let top = (1u32 << bits) - 1;
                if codes.iter().any(|&c| u32::from(c) > top) {
                    return Err(Error::Malformed("uniform code out of range"));
                }
                Ok(())
            }
            Values::Qsgd {
                levels,
                norm,
                codes,
            } => {
                finite(*norm)?;
                if *levels == 0 || *levels > MAX_QSGD_LEVELS {
                    return Err(Error::Malformed("qsgd levels outside 1..=32767"));
                }
                if *norm < 0.0 {
                    return Err(Error::Malformed("negative qsgd norm"));
                }
                if codes.iter().any(|c| c.unsigned_abs() > *levels) {
                    return Err(Error::Malformed("qsgd code out of range"));
                }
                Ok(())
            }
            Values::Ternary { scale, codes } => {
                finite(*scale)?;
                if codes.iter().any(|c| !(-1..=1).contains(c)) {
                    return Err(Error::Malformed("ternary code out of range"));
                }
                Ok(())
            }
            Values::Sign { scale, .. } => finite(*scale),
        }
    }
}

/// The largest QSGD level count (codes fit an `i16`, the wire width is at most 16 bits).
pub const MAX_QSGD_LEVELS: u16 = 32767;

/// A compressed update of a `dim`-dimensional vector.
///
/// Produced by a [`crate::Compress`]or or by [`Compressed::decode`]; both
/// guarantee the invariants, so applying it never panics.
#[derive(Clone, Debug, PartialEq)]
pub struct Compressed {
    pub(crate) dim: u32,
    pub(crate) support: Support,
    pub(crate) values: Values,
}

impl Compressed {
    /// Builds an update from parts, checking every invariant (indices strictly
    /// increasing and `< dim`, one value per coordinate, codes in range,
    /// finite floats, seeded supports matching their seed).
    pub fn new(dim: usize, support: Support, values: Values) -> Result<Self, Error> {
        let dim32 = u32::try_from(dim).map_err(|_| Error::DimensionTooLarge {
            dim: dim as u64,
            max: u64::from(u32::MAX),
        })?;
        let n = match &support {
            Support::Dense => dim,
            Support::Sparse { indices, seed } => {
                if indices.len() > dim {
                    return Err(Error::Malformed("more indices than coordinates"));
                }
                if indices.windows(2).any(|w| w[0] >= w[1])
                    || indices.last().is_some_and(|&l| l >= dim32)
                {
                    return Err(Error::Malformed("indices not increasing or out of range"));
                }
                if let Some(seed) = seed
                    && *indices != random_k_indices(*seed, dim, indices.len())
                {
                    return Err(Error::Malformed("indices do not match their seed"));
                }
                indices.len()
            }
        };
        if values.len() != n {
            return Err(Error::Malformed("value count differs from support size"));
        }
        values.validate()?;
        Ok(Compressed {
            dim: dim32,
            support,
            values,
        })
    }

    /// The dimension of the full vector.
    pub fn dim(&self) -> usize {
        self.dim as usize
    }

    /// Which coordinates are carried.
    pub fn support(&self) -> &Support {
        &self.support
    }

    /// The carried values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The carried coordinates for a sparse support (`None` when dense).
    pub fn indices(&self) -> Option<&[u32]> {
        match &self.support {
            Support::Dense => None,
            Support::Sparse { indices, .. } => Some(indices),
        }
    }

    /// Number of coordinates carried.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no coordinate is carried.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Calls `f(coordinate, value)` for every carried coordinate, increasing.
    pub fn for_each(&self, mut f: impl FnMut(usize, f32)) {
        match &self.support {
            Support::Dense => self.values.for_each(f),
            Support::Sparse { indices, .. } => self.values.for_each(|j, v| {
                // Invariant: indices.len() == values.len().
                if let Some(&i) = indices.get(j) {
                    f(i as usize, v);
                }
            }),
        }
    }

    fn check_len(&self, out: &[f32]) -> Result<(), Error> {
        if out.len() == self.dim() {
            Ok(())
        } else {
            Err(Error::DimensionMismatch {
                expected: self.dim(),
                got: out.len(),
            })
        }
    }

    /// Writes the decompressed vector into `out` (zeros off the support).
    pub fn decompress_into(&self, out: &mut [f32]) -> Result<(), Error> {
        self.check_len(out)?;
        if !matches!(self.support, Support::Dense) {
            out.fill(0.0);
        }
        match &self.support {
            Support::Dense => self.values.for_each(|j, v| out[j] = v),
            _ => self.for_each(|i, v| out[i] = v),
        }
        Ok(())
    }

    /// Adds the decompressed vector to `out`.
    pub fn add_into(&self, out: &mut [f32]) -> Result<(), Error> {
        self.check_len(out)?;
        self.for_each(|i, v| out[i] += v);
        Ok(())
    }

    /// Adds `weight ×` the decompressed vector to `out` (weighted averaging).
    pub fn add_scaled_into(&self, out: &mut [f32], weight: f32) -> Result<(), Error> {
        self.check_len(out)?;
        self.for_each(|i, v| out[i] += weight * v);
        Ok(())
    }

    /// The decompressed vector.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.dim()];
        self.for_each(|i, v| out[i] = v);
        out
    }
}
