//! Property tests of the update codec as this crate uses it (compression
//! modes, bounded decoding with the model's dimension, error feedback).

use dwcp_federated::compress::{Compression, Compressor, FeedbackCompressor, compress_once};
use dwcp_federated::wire::{WireError, decode, encode_dense, encode_dense_raw};
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
        let (bytes, sent) = FeedbackCompressor::new(m, seed, false).compress(&v, round);
        let back = decode(&bytes, v.len(), usize::MAX).unwrap();
        prop_assert_eq!(back.to_dense(), sent.clone());
        prop_assert_eq!(back.len(), m.kept(v.len()));
        prop_assert!(sent.iter().all(|x| x.is_finite()));
        // 32-bit values are exact at the kept coordinates.
        if let Compression::TopK { bits: 32, .. } | Compression::Dense = m {
            for (x, q) in v.iter().zip(&sent) {
                prop_assert!(*q == 0.0 || x == q);
            }
        }
        // A wrong expected dimension, truncation, padding or a tight byte limit is rejected.
        prop_assert!(decode(&bytes, v.len() + 1, usize::MAX).is_err());
        prop_assert!(decode(&bytes[..bytes.len() - 1], v.len(), usize::MAX).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(decode(&longer, v.len(), usize::MAX).is_err());
        prop_assert_eq!(decode(&bytes, v.len(), bytes.len() - 1), Err(WireError::TooLarge(bytes.len())));
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
        // sum(sent) + residual == steps · v, up to float rounding.
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
fn non_finite_values_are_rejected() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let bytes = encode_dense_raw(&[1.0, bad, 2.0]);
        assert_eq!(decode(&bytes, 3, 1 << 10), Err(WireError::NonFinite));
    }
    assert!(encode_dense(&[f32::NAN]).is_empty());
    assert_eq!(encode_dense_raw(&[1.0, 2.0]), encode_dense(&[1.0, 2.0]));
}

#[test]
fn shared_mask_is_the_same_for_every_client() {
    let m = Compression::RandomK {
        fraction: 0.1,
        bits: 8,
    };
    let nz = |b: Vec<u8>| {
        decode(&b, 100, 1 << 12)
            .unwrap()
            .to_dense()
            .iter()
            .map(|x| *x != 0.0)
            .collect::<Vec<_>>()
    };
    let a = nz(compress_once(m, &[1.0; 100], 7, 42));
    let b = nz(compress_once(
        m,
        &(0..100).map(|i| i as f32 + 1.0).collect::<Vec<_>>(),
        7,
        42,
    ));
    assert_eq!(a, b);
    assert_ne!(a, nz(compress_once(m, &[1.0; 100], 8, 42)));
}

#[test]
fn top_half_percent_of_the_digits_model_is_tiny_on_the_wire() {
    // 4,810 parameters, top-0.5% (24 entries), 4-bit values.
    let v: Vec<f32> = (0..4810)
        .map(|i| ((i * 7919) % 1000) as f32 - 500.0)
        .collect();
    let m = Compression::TopK {
        fraction: 0.005,
        bits: 4,
    };
    let n = compress_once(m, &v, 0, 0).len();
    assert!(n < 80, "{n}");
    assert!(encode_dense(&v).len() >= 4 * 4810);
}
