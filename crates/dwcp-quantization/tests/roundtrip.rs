//! Property tests: every scheme round-trips through the wire, the predicted
//! length is the real one, top-k keeps the k largest magnitudes, error
//! feedback conserves mass, and decoders refuse garbage without panicking.

mod common;

use dwcp_core::rng::seeded;
use dwcp_quantization::{
    Adaptive, Compress, Compressed, Compressor, Entropy, ErrorFeedback, Limits, Quantizer,
    Sparsifier, Support, Values, top_k_indices,
};
use proptest::prelude::*;

fn vec_strategy() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![
            4 => -100.0f32..100.0,
            1 => Just(0.0f32),
            1 => -1e-3f32..1e-3,
        ],
        0..300,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_scheme_round_trips(x in vec_strategy(), k in 0usize..320, seed in any::<u64>()) {
        let limits = Limits::new(1024);
        for mut comp in common::all(k, seed) {
            let c = comp.compress(&x, &mut seeded(seed)).unwrap();
            prop_assert_eq!(c.dim(), x.len());
            let raw = c.encode();
            prop_assert_eq!(raw.len(), c.encoded_len());
            prop_assert_eq!(Compressed::decode(&raw, &limits), Ok(c.clone()), "{:?}", comp);
            for e in [Entropy::Zstd, Entropy::Auto] {
                let z = c.encode_with(e);
                prop_assert_eq!(z.len(), c.encoded_len_with(e));
                prop_assert_eq!(Compressed::decode(&z, &limits), Ok(c.clone()));
            }
            prop_assert!(c.encoded_len_with(Entropy::Auto) <= c.encoded_len());
            // The decompressed vector is zero off the support and applies consistently.
            let mut dense = vec![1.0; x.len()];
            c.decompress_into(&mut dense).unwrap();
            prop_assert_eq!(&dense, &c.to_dense());
            let mut acc = vec![0.0; x.len()];
            c.add_scaled_into(&mut acc, 2.0).unwrap();
            for (a, d) in acc.iter().zip(&dense) {
                prop_assert_eq!(*a, 2.0 * d);
            }
            prop_assert!(c.decompress_into(&mut vec![0.0; x.len() + 1]).is_err());
        }
    }

    #[test]
    fn lossless_and_bounded_error_schemes(x in vec_strategy(), k in 0usize..320) {
        let mut r = seeded(1);
        let f32c = Compressor::new(Sparsifier::TopK { k }, Quantizer::F32).unwrap();
        let c = { let mut f = f32c; f.compress(&x, &mut r).unwrap() };
        c.for_each(|i, v| assert_eq!(v, x[i]));
        let mut near = Compressor::new(Sparsifier::Dense, Quantizer::Uniform { bits: 8, stochastic: false }).unwrap();
        let c = near.compress(&x, &mut r).unwrap();
        if let Values::Uniform { min, max, .. } = c.values() {
            let half = (max - min) / 255.0 / 2.0;
            c.for_each(|i, v| assert!((v - x[i]).abs() <= half * 1.001 + 1e-6));
        } else {
            prop_assert!(false, "uniform values expected");
        }
    }

    #[test]
    fn top_k_keeps_exactly_the_k_largest(x in vec_strategy(), k in 0usize..320) {
        let idx = top_k_indices(&x, k);
        prop_assert_eq!(idx.len(), k.min(x.len()));
        prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
        let mut kept = vec![false; x.len()];
        idx.iter().for_each(|&i| kept[i as usize] = true);
        let min_kept = idx.iter().map(|&i| x[i as usize].abs()).fold(f32::INFINITY, f32::min);
        let max_dropped = (0..x.len()).filter(|&i| !kept[i]).map(|i| x[i].abs()).fold(0.0, f32::max);
        prop_assert!(idx.is_empty() || idx.len() == x.len() || min_kept >= max_dropped);
    }

    #[test]
    fn error_feedback_conserves_the_input(
        rounds in prop::collection::vec(prop::collection::vec(-10.0f32..10.0, 40), 1..8),
        q in 0usize..9,
        k in 0usize..45,
    ) {
        let quant = common::quantizers()[q];
        for s in [Sparsifier::Dense, Sparsifier::TopK { k }, Sparsifier::RandK { k, seed: 3, rescale: false }] {
            let mut ef = ErrorFeedback::new(Compressor::new(s, quant).unwrap());
            let mut input = vec![0.0f64; 40];
            let mut sent = vec![0.0f64; 40];
            let mut r = seeded(5);
            for (t, x) in rounds.iter().enumerate() {
                ef.inner_mut().set_mask_seed(t as u64);
                let c = ef.compress(x, &mut r).unwrap();
                c.for_each(|i, v| sent[i] += f64::from(v));
                x.iter().enumerate().for_each(|(i, &v)| input[i] += f64::from(v));
            }
            // residual + transmitted == accumulated input, up to f32 rounding
            // (each round adds at most a few ulps of the running magnitudes).
            for i in 0..40 {
                let lhs = f64::from(ef.residual()[i]) + sent[i];
                let tol = 1e-5 * (1.0 + input[i].abs() + sent[i].abs()) * rounds.len() as f64 * 10.0;
                prop_assert!((lhs - input[i]).abs() <= tol, "{} vs {}", lhs, input[i]);
            }
        }
    }

    #[test]
    fn adaptive_meets_the_budget_with_the_largest_k(x in vec_strategy(), budget in 0u64..20_000) {
        let mut a = Adaptive::new(budget);
        let c = a.compress(&x, &mut seeded(2)).unwrap();
        let choice = a.last_choice().unwrap();
        let empty = Compressor::new(Sparsifier::TopK { k: 0 }, choice.quantizer()).unwrap()
            .compress(&x, &mut seeded(2)).unwrap();
        if (empty.encoded_len() as u64) * 8 <= budget {
            prop_assert!(c.encoded_len() as u64 * 8 <= budget);
        }
        if let Sparsifier::TopK { k } = choice.sparsifier() {
            prop_assert_eq!(c.len(), k);
            if k < x.len() {
                let mut more = Compressor::new(Sparsifier::TopK { k: k + 1 }, choice.quantizer()).unwrap();
                let bigger = more.compress(&x, &mut seeded(2)).unwrap();
                prop_assert!(bigger.encoded_len() as u64 * 8 > budget, "k = {} is not the largest", k);
            }
        }
    }

    #[test]
    fn decoder_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Compressed::decode(&bytes, &Limits::new(1 << 12));
        dwcp_quantization::fuzzing::decode(&bytes);
        dwcp_quantization::fuzzing::decode_entropy(&bytes);
        dwcp_quantization::fuzzing::compress(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_mutations(x in vec_strategy(), pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        for mut comp in common::all(x.len() / 3, 9) {
            let mut m = comp.compress(&x, &mut seeded(4)).unwrap().encode_with(Entropy::Auto);
            let p = pos % m.len();
            m[p] ^= byte | 1;
            dwcp_quantization::fuzzing::decode(&m);
            m.truncate(cut % (m.len() + 1));
            dwcp_quantization::fuzzing::decode(&m);
        }
    }
}

#[test]
fn fuzz_regressions() {
    // Stochastic uniform rounding over a subnormal range overflowed a code.
    dwcp_quantization::fuzzing::compress(&[
        0x2a, 0x3d, 0x0, 0x6f, 0x6f, 0x2a, 0x3b, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2a,
    ]);
}

#[test]
fn decoder_refuses_what_it_must() {
    let x = common::gaussian(100, 1);
    let mut comp = Compressor::new(Sparsifier::TopK { k: 10 }, Quantizer::F32).unwrap();
    let c = comp.compress(&x, &mut seeded(1)).unwrap();
    let bytes = c.encode();
    assert_eq!(Compressed::decode(&bytes, &Limits::new(100)), Ok(c.clone()));
    assert!(matches!(
        Compressed::decode(&bytes, &Limits::new(99)),
        Err(dwcp_quantization::Error::DimensionTooLarge { .. })
    ));
    assert_eq!(Compressed::decode_for(&bytes, 100), Ok(c.clone()));
    assert!(matches!(
        Compressed::decode_for(&bytes, 101),
        Err(dwcp_quantization::Error::DimensionMismatch {
            expected: 101,
            got: 100
        })
    ));
    assert!(Compressed::decode_for(&bytes, 99).is_err());
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Compressed::decode(&trailing, &Limits::default()).is_err());
    assert!(Compressed::decode(&bytes[..bytes.len() - 1], &Limits::default()).is_err());
    assert!(Compressed::decode(&[], &Limits::default()).is_err());
    assert!(Compressed::decode(&[2, 0, 0], &Limits::default()).is_err());
    // A NaN in the input is refused by the receiver.
    let mut dense = Compressor::new(Sparsifier::Dense, Quantizer::F32).unwrap();
    let with_nan = dense.compress(&[1.0, f32::NAN], &mut seeded(0)).unwrap();
    assert_eq!(
        Compressed::decode(&with_nan.encode(), &Limits::default()),
        Err(dwcp_quantization::Error::NonFinite)
    );
    // A dimension claimed huge with no data behind it allocates nothing.
    let huge = [1u8, 0, 0xff, 0xff, 0xff, 0x1f, 0];
    assert!(Compressed::decode(&huge, &Limits::new(usize::MAX)).is_err());
    // Constructor invariants.
    assert!(
        Compressed::new(
            3,
            Support::Sparse {
                indices: vec![2, 1],
                seed: None
            },
            Values::F32(vec![0.0; 2])
        )
        .is_err()
    );
    assert!(
        Compressed::new(
            3,
            Support::Sparse {
                indices: vec![0, 3],
                seed: None
            },
            Values::F32(vec![0.0; 2])
        )
        .is_err()
    );
    let mask = dwcp_quantization::random_k_indices(5, 10, 2);
    let seeded_support = |indices: Vec<u32>| Support::Sparse {
        indices,
        seed: Some(5),
    };
    assert!(Compressed::new(10, seeded_support(mask.clone()), Values::F32(vec![0.0; 2])).is_ok());
    let other = if mask == [0, 1] {
        vec![0, 2]
    } else {
        vec![0, 1]
    };
    assert!(Compressed::new(10, seeded_support(other), Values::F32(vec![0.0; 2])).is_err());
    assert!(
        Compressed::new(
            3,
            Support::Dense,
            Values::Ternary {
                scale: 1.0,
                codes: vec![0, 2, 0]
            }
        )
        .is_err()
    );
}

#[test]
fn random_k_masks_agree_across_clients() {
    let (d, k, seed) = (1000, 50, dwcp_quantization::round_seed(42, 7));
    let mut a = Compressor::new(
        Sparsifier::RandK {
            k,
            seed,
            rescale: false,
        },
        Quantizer::F32,
    )
    .unwrap();
    let mut b = a;
    let ca = a.compress(&common::gaussian(d, 1), &mut seeded(1)).unwrap();
    let cb = b.compress(&common::gaussian(d, 2), &mut seeded(2)).unwrap();
    assert_eq!(ca.indices(), cb.indices());
    assert_ne!(
        dwcp_quantization::round_seed(42, 7),
        dwcp_quantization::round_seed(42, 8)
    );
    // Only the seed and k go on the wire: about 32 bits per value plus 10 bytes.
    assert!(ca.encoded_len() <= 4 * k + 16);
}
