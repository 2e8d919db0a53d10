//! Serde for compressed BLS12-381 points as fixed-size tuples (48 bytes for
//! G1, 96 for G2, no length prefix under bincode). Decoding checks that the
//! bytes are a point on the curve *and in the prime-order subgroup*
//! (blstrs' `from_compressed`), and returns an error, never a panic.

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserializer, Serializer};
use std::fmt;

fn serialize_fixed<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let mut t = s.serialize_tuple(bytes.len())?;
    for b in bytes {
        t.serialize_element(b)?;
    }
    t.end()
}

struct Fixed<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for Fixed<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes of a compressed curve point")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(i, &self))?;
        }
        Ok(out)
    }
}

fn deserialize_fixed<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    d.deserialize_tuple(N, Fixed::<N>)
}

/// G1 points (public keys).
pub(crate) mod g1 {
    use super::*;
    use blsttc::G1Affine;

    pub(crate) fn serialize<S: Serializer>(p: &G1Affine, s: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&p.to_compressed(), s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<G1Affine, D::Error> {
        let bytes: [u8; 48] = deserialize_fixed(d)?;
        Option::from(G1Affine::from_compressed(&bytes))
            .ok_or_else(|| D::Error::custom("invalid G1 point"))
    }
}

/// G2 points (signatures).
pub(crate) mod g2 {
    use super::*;
    use blsttc::G2Affine;

    pub(crate) fn serialize<S: Serializer>(p: &G2Affine, s: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&p.to_compressed(), s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<G2Affine, D::Error> {
        let bytes: [u8; 96] = deserialize_fixed(d)?;
        Option::from(G2Affine::from_compressed(&bytes))
            .ok_or_else(|| D::Error::custom("invalid G2 point"))
    }
}

pub(crate) fn short_hex(bytes: &[u8]) -> String {
    bytes.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// True if `e(pk, h) == e(g1, sig)`, i.e. `sig` is the BLS signature of the
/// message hashed to `h` under `pk`. Computed as one multi-Miller loop over
/// `(pk, h), (-g1, sig)` and a single final exponentiation.
pub(crate) fn pairing_check(
    pk: &blsttc::G1Affine,
    h: &blsttc::G2Affine,
    sig: &blsttc::G2Affine,
) -> bool {
    use blsttc::blstrs::{Bls12, G2Prepared, Gt};
    use blsttc::group::Group;
    use blsttc::group::prime::PrimeCurveAffine;
    use pairing::{MillerLoopResult, MultiMillerLoop};
    let neg_g1 = -blsttc::G1Affine::generator();
    let terms = [
        (pk, &G2Prepared::from(*h)),
        (&neg_g1, &G2Prepared::from(*sig)),
    ];
    Bls12::multi_miller_loop(&terms).final_exponentiation() == Gt::identity()
}
