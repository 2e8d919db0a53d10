//! Entry points for cargo-fuzz (wired in the workspace's `fuzz/`): each
//! takes arbitrary bytes and must never panic.

use crate::batch::BatchWire;
use crate::compress::Codec;
use crate::linear::{AggMessage, LinearConfig, LinearPbft};
use crate::scheme::{BlsAggregate, BlsThreshold, MultiSig, MultiSigCert, Scheme, verify_quorum};
use dwcp_core::{Engine, NodeId, Time, WeightedCommittee, codec, rng};
use dwcp_crypto::{AggKeyring, AggregateCert, Certificate, Keyring, ThresholdSetup};
use dwcp_pbft::Request;
use std::sync::OnceLock;

struct Fixture {
    keys: Keyring,
    multisig: MultiSig,
    aggregate: BlsAggregate,
    threshold: BlsThreshold,
    committee: WeightedCommittee,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = Keyring::sr25519(4, 1);
        Fixture {
            multisig: MultiSig::new(keys.publics.clone(), b"fuzz"),
            aggregate: BlsAggregate::new(AggKeyring::bls(4, 1).publics, b"fuzz"),
            threshold: BlsThreshold::new(ThresholdSetup::generate(4, 3, 1).public, b"fuzz"),
            committee: WeightedCommittee::new(vec![1; 4], 1).unwrap_or_else(|e| panic!("{e}")),
            keys,
        }
    })
}

/// Decodes `data` as each certificate type and as a linear-mode message;
/// whatever decodes is verified (and the message handed to a replica).
pub fn certificate_decode(data: &[u8]) {
    let f = fixture();
    if let Ok(c) = codec::decode::<MultiSigCert>(data) {
        let _ = verify_quorum(&f.multisig, &f.committee, b"m", &c);
    }
    if let Ok(c) = codec::decode::<AggregateCert>(data) {
        let _ = verify_quorum(&f.aggregate, &f.committee, b"m", &c);
        let _ = f.aggregate.signers(&c);
    }
    if let Ok(c) = codec::decode::<Certificate>(data) {
        let _ = verify_quorum(&f.threshold, &f.committee, b"m", &c);
    }
    if let Ok(m) = codec::decode::<AggMessage>(data) {
        let mut cfg = match LinearConfig::new(4) {
            Ok(c) => c,
            Err(_) => return,
        };
        cfg.pbft.status_interval = None;
        let Ok(mut r) = LinearPbft::new(
            cfg,
            NodeId(1),
            f.keys.secrets[1].clone(),
            f.keys.publics.clone(),
            rng::seeded(0),
        ) else {
            return;
        };
        r.handle_message(Time::from_millis(1), NodeId(0), m);
        while r.poll_output().is_some() {}
        r.handle_timeout(Time::from_secs(1));
        while r.poll_output().is_some() {}
    }
}

/// Decodes `data` as a batch envelope and unpacks it, and decompresses it
/// with every codec.
pub fn batch_decode(data: &[u8]) {
    if let Ok(w) = BatchWire::from_bytes(data) {
        let _ = w.unpack::<Vec<u8>>(1024);
        let _ = w.unpack::<Request>(64);
    }
    for c in Codec::ALL {
        let _ = c.decompress(data, 1 << 16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng::RngCore;

    #[test]
    fn random_and_mutated_inputs_never_panic() {
        let mut rng = rng::seeded(7);
        let keys = &fixture().keys;
        let s = MultiSig::new(keys.publics.clone(), b"fuzz");
        let shares = (0..3)
            .map(|i| (NodeId(i), s.sign(&keys.secrets[i as usize], b"m")))
            .collect();
        let cert = s
            .assemble(b"m", &shares)
            .map(|a| a.cert)
            .unwrap_or_else(|e| panic!("{e}"));
        let seeds = [
            codec::encode(&cert),
            codec::encode(&BatchWire::pack(
                &[vec![1u8; 30], vec![2u8; 40]],
                Codec::Lz4,
            )),
            codec::encode(&BatchWire::pack(&[vec![3u8; 30]], Codec::Snappy)),
            codec::encode(&AggMessage::CheckpointCert {
                seq: 16,
                state: Default::default(),
                cert,
            }),
        ];
        for round in 0..400 {
            let mut data = if round % 2 == 0 {
                seeds[round % seeds.len()].clone()
            } else {
                let mut v = vec![0u8; (rng.next_u32() % 200) as usize];
                rng.fill_bytes(&mut v);
                v
            };
            for _ in 0..(rng.next_u32() % 4) {
                if data.is_empty() {
                    break;
                }
                let i = rng.next_u32() as usize % data.len();
                data[i] ^= 1 << (rng.next_u32() % 8);
            }
            certificate_decode(&data);
            batch_decode(&data);
        }
    }
}
