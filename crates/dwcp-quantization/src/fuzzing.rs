//! Entry points for the fuzz targets in `fuzz/fuzz_targets/quantization_*.rs`.
//!
//! Each takes arbitrary bytes, must never panic, and checks that whatever
//! decodes re-encodes (with and without the entropy stage) to a message that
//! decodes to the same update, whose predicted length is its real length.

use crate::{Compressed, Entropy, Limits};

/// The limits the fuzz targets decode with (small, so that a fuzzer explores
/// structure rather than allocation).
pub const FUZZ_LIMITS: Limits = Limits { max_dim: 1 << 16 };

fn check(c: &Compressed) {
    let raw = c.encode();
    assert_eq!(
        raw.len(),
        c.encoded_len(),
        "encoded_len differs from the encoding"
    );
    let again = Compressed::decode(&raw, &FUZZ_LIMITS);
    assert_eq!(again.as_ref(), Ok(c), "raw re-encoding changed the update");
    let mut out = vec![0.0; c.dim()];
    c.decompress_into(&mut out).expect("dimension matches");
    c.add_scaled_into(&mut out, 0.5).expect("dimension matches");
}

/// Arbitrary bytes into [`Compressed::decode`] (raw and entropy-coded
/// messages alike: the flags byte selects).
pub fn decode(data: &[u8]) {
    if let Ok(c) = Compressed::decode(data, &FUZZ_LIMITS) {
        check(&c);
    }
}

/// Arbitrary bytes as a body wrapped in a zstd-flagged message, plus a
/// round trip of whatever decodes through the entropy stage.
pub fn decode_entropy(data: &[u8]) {
    let mut msg = vec![crate::FORMAT_VERSION, 1];
    msg.extend_from_slice(data);
    if let Ok(c) = Compressed::decode(&msg, &FUZZ_LIMITS) {
        check(&c);
        let z = c.encode_with(Entropy::Zstd);
        assert_eq!(Compressed::decode(&z, &FUZZ_LIMITS).as_ref(), Ok(&c));
    }
}

/// Arbitrary bytes as an input vector and a compressor configuration: every
/// compressor's output must encode, decode and apply without panicking.
pub fn compress(data: &[u8]) {
    use crate::{Adaptive, Compress, Compressor, Quantizer, Sparsifier};
    use dwcp_core::fuzz::ByteCursor;
    let mut cur = ByteCursor::new(data);
    let (s, q, k, seed) = (cur.below(3), cur.below(6), cur.byte() as usize, cur.byte());
    let x: Vec<f32> = cur
        .take(4 * 4096)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .filter(|v| v.is_finite())
        .collect();
    let quant = match q {
        0 => Quantizer::F32,
        1 => Quantizer::Uniform {
            bits: (seed % 16) + 1,
            stochastic: seed & 1 == 1,
        },
        2 => Quantizer::Qsgd {
            levels: u16::from(seed) + 1,
        },
        3 => Quantizer::Ternary,
        4 => Quantizer::Sign,
        _ => {
            let mut a = Adaptive::new(u64::from(seed) * 64);
            if let Ok(c) = a.compress(&x, &mut dwcp_core::rng::seeded(7)) {
                assert!(
                    c.encoded_len() as u64 * 8 <= a.budget_bits().max(8 * c.encoded_len() as u64)
                );
                check(&c);
            }
            return;
        }
    };
    let sp = match s {
        0 => Sparsifier::Dense,
        1 => Sparsifier::TopK { k },
        _ => Sparsifier::RandK {
            k,
            seed: u64::from(seed),
            rescale: seed & 2 == 2,
        },
    };
    let mut comp = Compressor::new(sp, quant).expect("valid configuration");
    let c = comp
        .compress(&x, &mut dwcp_core::rng::seeded(u64::from(seed)))
        .expect("small input");
    // Finite inputs may still overflow (e.g. a QSGD norm or a rescale) to
    // non-finite scales; those must be refused by the decoder, not panic.
    match Compressed::decode(&c.encode(), &FUZZ_LIMITS) {
        Ok(d) => {
            assert_eq!(d, c);
            check(&d);
        }
        Err(e) => assert_eq!(e, crate::Error::NonFinite),
    }
}
