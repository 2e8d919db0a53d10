//! Certificate assembly (optimistic combine-then-verify, all shares valid)
//! and verification for n = 4..1000, quorum `2f + 1` shares, real crypto.
//!
//! `cargo bench -p dwcp-aggregation --bench certificates -- --quick`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dwcp_aggregation::scheme::{BlsAggregate, BlsThreshold, MultiSig, Scheme, verify_quorum};
use dwcp_core::{Committee, NodeId, WeightedCommittee};
use dwcp_crypto::{AggKeyring, Keyring, ThresholdSetup};
use std::collections::BTreeMap;

const SIZES: [usize; 5] = [4, 16, 64, 256, 1000];
const MSG: &[u8] = b"dwcp-bench: commit (view 3, seq 1042, digest 9f2c...)";

fn bench_scheme<S: Scheme>(c: &mut Criterion, s: &S, signers: &[S::Signer], n: usize) {
    let c0 = Committee::new(n).unwrap();
    let committee = WeightedCommittee::new(vec![1; n], c0.f() as u64).unwrap();
    let shares: BTreeMap<NodeId, S::Share> = (0..c0.quorum())
        .map(|i| (NodeId(i as u32), s.sign(&signers[i], MSG)))
        .collect();
    let cert = s.assemble(MSG, &shares).unwrap().cert;
    assert!(verify_quorum(s, &committee, MSG, &cert));
    let size = dwcp_core::codec::encoded_len(&cert);
    eprintln!("{} n={n}: certificate {size} bytes", s.name());
    c.benchmark_group(format!("assemble/{}", s.name()))
        .sample_size(10)
        .bench_with_input(BenchmarkId::from_parameter(n), &shares, |b, sh| {
            b.iter(|| s.assemble(MSG, sh).unwrap())
        });
    c.benchmark_group(format!("verify/{}", s.name()))
        .sample_size(10)
        .bench_with_input(BenchmarkId::from_parameter(n), &cert, |b, cert| {
            b.iter(|| verify_quorum(s, &committee, MSG, cert))
        });
}

fn certificates(c: &mut Criterion) {
    for n in SIZES {
        let k = Keyring::sr25519(n, 1);
        bench_scheme(
            c,
            &MultiSig::new(k.publics.clone(), b"bench"),
            &k.secrets,
            n,
        );
        let k = AggKeyring::bls(n, 1);
        bench_scheme(
            c,
            &BlsAggregate::new(k.publics.clone(), b"bench"),
            &k.secrets,
            n,
        );
        let q = Committee::new(n).unwrap().quorum();
        let t = ThresholdSetup::generate(n, q, 1);
        bench_scheme(
            c,
            &BlsThreshold::new(t.public.clone(), b"bench"),
            &t.shares,
            n,
        );
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, certificates);
}
criterion_main!(group::benches);
