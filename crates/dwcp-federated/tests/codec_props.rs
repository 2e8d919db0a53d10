//! Property tests of the compact update codec and the compressors.

use dwcp_federated::compress::{Compression, Compressor, FeedbackCompressor, compress_once};
use dwcp_federated::wire::{Packed, decode};
use proptest::prelude::*;

fn mode() -> impl Strategy<Value = Compression> {
    let bits = prop_oneof![Just(1u8), 2u8..=16, Just(32u8)];
    prop_oneof![
        Just(Compression::Dense),
        (0.001f32..=1.0, bits.clone())
            .prop_map(|(fraction, bits)| Compression::TopK { fraction, bits }),
        (0.001f32..=1.0, bits).prop_map(|(fraction, bits)| Compression::RandomK { fraction, bits }),
    ]
}

proptest! {
    #[test]
    fn encode_decode_round_trips(v in prop::collection::vec(-100f32..100.0, 1..600), m in mode(), round in 0u64..1000, seed: u64) {
        let p = compress_once(m, &v, round, seed);
        let bytes = p.encode();
        let back = decode(&bytes, v.len(), usize::MAX).unwrap();
        prop_assert_eq!(&back, &p);
        let dense = back.to_dense();
        prop_assert_eq!(dense.len(), v.len());
        prop_assert!(dense.iter().all(|x| x.is_finite()));
        // Kept entries are within half a quantisation step (b ≥ 2) or exact (32 bits).
        if let Packed::Sparse { indices, bits, scale, .. } = &p {
            prop_assert_eq!(indices.len(), m.kept(v.len()));
            for &i in indices {
                let (x, q) = (v[i as usize], dense[i as usize]);
                match bits {
                    32 => prop_assert_eq!(x, q),
                    1 => prop_assert!((q.abs() - scale).abs() <= 1e-4 * scale.max(1.0)),
                    _ => prop_assert!((x - q).abs() <= 0.5 * scale + 1e-4 * x.abs().max(1.0)),
                }
            }
        }
        // A wrong expected dimension or any truncation is rejected.
        prop_assert!(decode(&bytes, v.len() + 1, usize::MAX).is_err());
        prop_assert!(decode(&bytes[..bytes.len() - 1], v.len(), usize::MAX).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(decode(&longer, v.len(), usize::MAX).is_err());
        prop_assert!(decode(&bytes, v.len(), bytes.len() - 1).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), dim in 0usize..400) {
        if let Ok(p) = decode(&bytes, dim, 1 << 16) {
            let d = p.to_dense();
            prop_assert_eq!(d.len(), dim);
            prop_assert!(d.iter().all(|x| x.is_finite()));
            prop_assert_eq!(decode(&p.encode(), dim, 1 << 16).unwrap(), p);
        }
    }

    #[test]
    fn error_feedback_conserves_the_signal(v in prop::collection::vec(-1f32..1.0, 10..200), steps in 1usize..6) {
        // sum(sent) + residual == sum(inputs), exactly up to float rounding.
        let mut c = FeedbackCompressor::new(Compression::TopK { fraction: 0.1, bits: 32 }, 0, true);
        let mut sent = vec![0f32; v.len()];
        for r in 0..steps {
            let (_, d) = c.compress(&v, r as u64);
            sent.iter_mut().zip(&d).for_each(|(s, x)| *s += x);
        }
        for ((s, r), x) in sent.iter().zip(c.residual()).zip(&v) {
            prop_assert!((s + r - steps as f32 * x).abs() < 1e-4);
        }
    }
}

#[test]
fn shared_mask_is_the_same_for_every_client() {
    let a = compress_once(
        Compression::RandomK {
            fraction: 0.1,
            bits: 8,
        },
        &[1.0; 100],
        7,
        42,
    );
    let b = compress_once(
        Compression::RandomK {
            fraction: 0.1,
            bits: 8,
        },
        &[-3.0; 100],
        7,
        42,
    );
    let nz = |p: &Packed| p.to_dense().iter().map(|x| *x != 0.0).collect::<Vec<_>>();
    assert_eq!(nz(&a), nz(&b));
    let c = compress_once(
        Compression::RandomK {
            fraction: 0.1,
            bits: 8,
        },
        &[1.0; 100],
        8,
        42,
    );
    assert_ne!(nz(&a), nz(&c));
}

#[test]
fn top_half_percent_of_the_digits_model_fits_the_budget() {
    // 4,810 parameters, top-0.5% (24 entries), 4-bit values: at most
    // 11 header bytes + 24 × (13-bit index gap + 4 bits).
    let v: Vec<f32> = (0..4810)
        .map(|i| ((i * 7919) % 1000) as f32 - 500.0)
        .collect();
    let p = compress_once(
        Compression::TopK {
            fraction: 0.005,
            bits: 4,
        },
        &v,
        0,
        0,
    );
    let n = p.encode().len();
    assert!(n <= 11 + (24 * 17usize).div_ceil(8), "{n}");
    assert_eq!(Packed::Dense(v).encode().len(), 3 + 4 * 4810);
}
