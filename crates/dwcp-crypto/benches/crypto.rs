//! Criterion benches for dwcp-crypto.
//!
//! Quick figures: `cargo bench -p dwcp-crypto --bench crypto -- --warm-up-time 1 --measurement-time 2`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dwcp_core::NodeId;
use dwcp_crypto::sortition::sample;
use dwcp_crypto::{
    AggKeyring, Keyring, PublicKey, Signature, ThresholdSetup, aggregate, verify_aggregate,
    verify_batch,
};
use std::collections::BTreeMap;
use std::hint::black_box;

const CTX: &[u8] = b"dwcp-bench";
const MSG: &[u8] = b"a 32-byte digest of some block..";

fn sr25519(c: &mut Criterion) {
    let ring = Keyring::sr25519(256, 1);
    let sig = ring.secrets[0].sign(CTX, MSG);
    c.bench_function("sr25519/sign", |b| {
        b.iter(|| ring.secrets[0].sign(CTX, black_box(MSG)))
    });
    c.bench_function("sr25519/verify", |b| {
        b.iter(|| ring.publics[0].verify(CTX, black_box(MSG), &sig))
    });
    let msgs: Vec<Vec<u8>> = (0..256u32).map(|i| i.to_le_bytes().repeat(8)).collect();
    let sigs: Vec<Signature> = ring
        .secrets
        .iter()
        .zip(&msgs)
        .map(|(sk, m)| sk.sign(CTX, m))
        .collect();
    for n in [64usize, 256] {
        let items: Vec<(&PublicKey, &[u8], &Signature)> = ring
            .publics
            .iter()
            .zip(&msgs)
            .zip(&sigs)
            .take(n)
            .map(|((pk, m), s)| (pk, m.as_slice(), s))
            .collect();
        c.bench_with_input(
            BenchmarkId::new("sr25519/verify_batch", n),
            &items,
            |b, items| b.iter(|| verify_batch(CTX, items)),
        );
        c.bench_with_input(
            BenchmarkId::new("sr25519/verify_each", n),
            &items,
            |b, items| b.iter(|| items.iter().all(|(pk, m, s)| pk.verify(CTX, m, s))),
        );
    }
}

fn vrf_and_sortition(c: &mut Criterion) {
    let ring = Keyring::sr25519(1, 2);
    let (out, proof) = ring.secrets[0].vrf_prove(CTX, MSG);
    c.bench_function("vrf/prove", |b| {
        b.iter(|| ring.secrets[0].vrf_prove(CTX, black_box(MSG)))
    });
    c.bench_function("vrf/verify", |b| {
        b.iter(|| ring.publics[0].vrf_verify(CTX, black_box(MSG), &proof))
    });
    for (n, k) in [(100usize, 10usize), (1000, 100), (10_000, 100)] {
        let exclude = [NodeId(3)];
        c.bench_function(&format!("sortition/sample/n={n},k={k}"), |b| {
            b.iter(|| sample(black_box(&out), n, k, &exclude))
        });
    }
}

fn threshold(c: &mut Criterion) {
    for n in [4usize, 16, 64] {
        let t = 2 * ((n - 1) / 3) + 1;
        let setup = ThresholdSetup::generate(n, t, 3);
        let shares: BTreeMap<NodeId, _> = setup
            .shares
            .iter()
            .take(t)
            .map(|s| (s.node(), s.sign(MSG)))
            .collect();
        let cert = setup.public.combine(MSG, &shares).expect("combine");
        c.bench_function(&format!("threshold/combine_optimistic/n={n},t={t}"), |b| {
            b.iter(|| setup.public.combine(black_box(MSG), &shares))
        });
        if n >= 16 {
            let mut one_bad = shares.clone();
            one_bad.insert(NodeId(0), setup.shares[0].sign(b"wrong"));
            one_bad.extend(setup.shares.iter().skip(t).map(|s| (s.node(), s.sign(MSG))));
            c.bench_function(&format!("threshold/combine_one_bad/n={n},t={t}"), |b| {
                b.iter(|| setup.public.combine(black_box(MSG), &one_bad))
            });
        }
        if n == 16 {
            c.bench_function("threshold/share_sign", |b| {
                b.iter(|| setup.shares[1].sign(black_box(MSG)))
            });
            let share = &shares[&NodeId(1)];
            c.bench_function("threshold/verify_share_cached", |b| {
                b.iter(|| setup.public.verify_share(NodeId(1), black_box(MSG), share))
            });
            c.bench_function("threshold/verify_cert", |b| {
                b.iter(|| setup.public.verify(black_box(MSG), &cert))
            });
        }
    }
}

fn aggregate_certs(c: &mut Criterion) {
    for n in [4usize, 16, 64] {
        let q = 2 * ((n - 1) / 3) + 1;
        let ring = AggKeyring::bls(n, 4);
        let sigs: BTreeMap<NodeId, _> = (0..q)
            .map(|i| (NodeId(i as u32), ring.secrets[i].sign(MSG)))
            .collect();
        let cert = aggregate(&ring.publics, MSG, &sigs).cert;
        c.bench_function(
            &format!("aggregate/aggregate_optimistic/n={n},q={q}"),
            |b| b.iter(|| aggregate(&ring.publics, black_box(MSG), &sigs)),
        );
        c.bench_function(&format!("aggregate/verify/n={n},q={q}"), |b| {
            b.iter(|| verify_aggregate(&ring.publics, black_box(MSG), &cert))
        });
        if n >= 16 {
            let mut one_bad = sigs.clone();
            one_bad.insert(NodeId(2), ring.secrets[2].sign(b"wrong"));
            c.bench_function(&format!("aggregate/aggregate_one_bad/n={n},q={q}"), |b| {
                b.iter(|| aggregate(&ring.publics, black_box(MSG), &one_bad))
            });
        }
        if n == 16 {
            c.bench_function("aggregate/sign", |b| {
                b.iter(|| ring.secrets[0].sign(black_box(MSG)))
            });
        }
    }
}

#[cfg(feature = "insecure-mock-crypto")]
fn mock(c: &mut Criterion) {
    let ring = Keyring::insecure_mock(1, 5);
    let sig = ring.secrets[0].sign(CTX, MSG);
    c.bench_function("insecure_mock/sign", |b| {
        b.iter(|| ring.secrets[0].sign(CTX, black_box(MSG)))
    });
    c.bench_function("insecure_mock/verify", |b| {
        b.iter(|| ring.publics[0].verify(CTX, black_box(MSG), &sig))
    });
}

#[cfg(not(feature = "insecure-mock-crypto"))]
fn mock(_: &mut Criterion) {}

criterion_group!(
    benches,
    sr25519,
    vrf_and_sortition,
    threshold,
    aggregate_certs,
    mock
);
criterion_main!(benches);
