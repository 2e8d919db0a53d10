//! Fuzz entry points (used by `fuzz/fuzz_targets/federated_*.rs` and by the
//! tests below on fixed inputs).

use crate::config::FlConfig;
use crate::message::{FlMessage, Update};
use crate::server::{Server, ServerRequest};
use crate::wire::{decode, encode_dense_raw};
use dwcp_core::fuzz::ByteCursor;
use dwcp_core::{Duration, Engine, NodeId, Output, Time, codec};

/// Decodes `data[2..]` as an update of dimension `u16(data[0..2]) % 5000`;
/// whatever decodes must be finite, of that dimension, and re-encode to the
/// same value.
pub fn update_decoder(data: &[u8]) {
    let (head, rest) = data.split_at(data.len().min(2));
    let dim = head.iter().fold(0usize, |a, &b| a * 256 + usize::from(b)) % 5000;
    if let Ok(p) = decode(rest, dim, 1 << 20) {
        let d = p.to_dense();
        assert_eq!(d.len(), dim);
        assert!(d.iter().all(|x| x.is_finite()));
        assert_eq!(decode(&p.encode(), dim, 1 << 20).as_ref(), Ok(&p));
    }
}

/// Drives one server (4 clients, a tiny model) with a script read from
/// `data`: valid and corrupted updates, raw decoded messages, timeouts and
/// restarts. The server must never panic and its model must stay finite.
pub fn server_engine(data: &[u8]) {
    let mut cfg = FlConfig::new(4);
    cfg.model.sizes = vec![3, 2, 2];
    cfg.rounds = 20;
    cfg.max_update_bytes = 256;
    let dim = cfg.model.num_params();
    let Ok(mut s) = Server::new(cfg.clone(), 7) else {
        return;
    };
    let mut cur = ByteCursor::new(data);
    let mut now = Time::ZERO;
    let mut records = vec![];
    s.handle_request(now, ServerRequest::Start);
    while !cur.is_empty() {
        let from = NodeId(cur.below(6) as u32);
        match cur.below(5) {
            0 => {
                let v: Vec<f32> = (0..dim)
                    .map(|_| f32::from(cur.byte() as i8) / 16.0)
                    .collect();
                let msg = FlMessage::Update(Update {
                    round: s.round().saturating_sub(cur.below(2)),
                    weight: cur.below(50),
                    contributors: cur.below(3) as u32,
                    payload: encode_dense_raw(&v),
                });
                s.handle_message(now, from, msg);
            }
            1 => {
                let n = cur.below(64) as usize;
                let bytes = cur.take(n).to_vec();
                let msg = FlMessage::Update(Update {
                    round: s.round(),
                    weight: 1,
                    contributors: 1,
                    payload: bytes,
                });
                s.handle_message(now, from, msg);
            }
            2 => {
                let n = cur.below(128) as usize;
                if let Ok(msg) = codec::decode::<FlMessage>(cur.take(n)) {
                    s.handle_message(now, from, msg);
                }
            }
            3 => {
                now += Duration::from_secs(cur.below(20));
                s.handle_timeout(now);
            }
            _ => {
                if let Ok(mut t) = Server::new(cfg.clone(), 7) {
                    t.restore(now, std::mem::take(&mut records));
                    t.handle_request(now, ServerRequest::Start);
                    s = t;
                }
            }
        }
        while let Some(o) = s.poll_output() {
            if let Output::Persist(r) = o {
                records.push(r);
            }
        }
        assert!(s.model().iter().all(|x| x.is_finite()));
    }
}

/// Parses `data` as a user CSV file (plain or gzip): it must be an error
/// or a consistent dataset (every row `dim` finite features, labels below
/// `classes`), never a panic.
pub fn csv_loader(data: &[u8]) {
    if let Ok(d) = crate::data::parse_csv_bytes(data) {
        assert!(d.dim > 0 && d.classes > 0 && !d.is_empty());
        assert_eq!(d.x.len(), d.len() * d.dim);
        assert!(d.x.iter().all(|v| v.is_finite()));
        assert!(d.labels.iter().all(|&l| l < d.classes));
        assert_eq!(d.histogram().iter().sum::<usize>(), d.len());
    }
}

/// Drives one client (id 1 of 5, relays on, a tiny model) with a script
/// read from `data`: round starts (full models or compressed deltas, valid,
/// non-finite or arbitrary bytes, random relay edges and senders), full
/// models, children's updates, raw decoded messages and timeouts. The
/// client must never panic and its model must stay finite.
pub fn client_engine(data: &[u8]) {
    use crate::client::Client;
    use crate::message::RoundStart;
    let mut cfg = FlConfig::new(5);
    cfg.model.sizes = vec![3, 2, 2];
    cfg.relays = true;
    cfg.max_update_bytes = 256;
    let dim = cfg.model.num_params();
    let Ok(shard) = crate::data::parse_csv("0.1,0.2,0.3,0\n0.3,0.2,0.1,1\n0.5,0.5,0.5,1\n") else {
        return;
    };
    let Ok(mut c) = Client::new(cfg, NodeId(1), shard, 3) else {
        return;
    };
    let mut cur = ByteCursor::new(data);
    let mut now = Time::ZERO;
    let values = |cur: &mut ByteCursor| -> Vec<u8> {
        match cur.below(3) {
            0 => encode_dense_raw(
                &(0..dim)
                    .map(|_| f32::from(cur.byte() as i8) / 16.0)
                    .collect::<Vec<_>>(),
            ),
            1 => encode_dense_raw(
                &(0..dim)
                    .map(|_| {
                        f32::from_bits(u32::from_le_bytes([
                            cur.byte(),
                            cur.byte(),
                            cur.byte(),
                            cur.byte(),
                        ]))
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => {
                let n = cur.below(96) as usize;
                cur.take(n).to_vec()
            }
        }
    };
    while !cur.is_empty() {
        let from = NodeId(cur.below(6) as u32);
        let msg = match cur.below(5) {
            0 => FlMessage::RoundStart(RoundStart {
                round: cur.below(8),
                version: cur.below(8),
                full: cur.below(2) == 0,
                model: values(&mut cur),
                relays: (0..cur.below(4))
                    .map(|_| (cur.below(6) as u32, cur.below(6) as u32))
                    .collect(),
                secagg: vec![],
            }),
            1 => FlMessage::Update(Update {
                round: cur.below(8),
                weight: cur.below(50),
                contributors: cur.below(3) as u32,
                payload: values(&mut cur),
            }),
            2 => FlMessage::Model {
                version: cur.below(8),
                params: values(&mut cur),
            },
            3 => {
                let n = cur.below(128) as usize;
                match codec::decode::<FlMessage>(cur.take(n)) {
                    Ok(m) => m,
                    Err(_) => continue,
                }
            }
            _ => {
                now += Duration::from_secs(cur.below(20));
                c.handle_timeout(now);
                while c.poll_output().is_some() {}
                continue;
            }
        };
        c.handle_message(now, from, msg);
        while c.poll_output().is_some() {}
        assert!(c.model().iter().all(|x| x.is_finite()));
    }
}

/// Runs a secure-aggregation federation (4 clients, threshold 3, a tiny
/// model) while a script read from `data` injects forged secure-aggregation
/// messages (decoded from the script, or masked inputs of random bytes) from
/// any node to any node, crashes clients and advances rounds. No engine may
/// panic and the server's model must stay finite.
pub fn secure_federation(data: &[u8]) {
    use crate::client::Client;
    use crate::data::Dataset;
    use crate::message::SecAggEnvelope;
    use crate::sim::Federation;
    use dwcp_privacy::SecAggMessage;
    let mut cfg = FlConfig::new(4);
    cfg.model.sizes = vec![2, 2];
    cfg.rounds = 6;
    cfg.privacy.secure_aggregation = true;
    cfg.max_weight_per_client = 16;
    let shard = Dataset {
        x: vec![0.0, 1.0, 1.0, 0.0],
        labels: vec![0, 1],
        dim: 2,
        classes: 2,
    };
    let Ok(server) = Server::new(cfg.clone(), 3) else {
        return;
    };
    let clients: Option<Vec<Client>> = (1..=4)
        .map(|i| Client::new(cfg.clone(), NodeId(i), shard.clone(), 3).ok())
        .collect();
    let Some(clients) = clients else { return };
    let mut fed = Federation::new(server, clients, 3);
    fed.install_secagg_keys(9);
    let mut cur = ByteCursor::new(data);
    while !cur.is_empty() && !fed.server.is_done() {
        let from = NodeId(cur.below(6) as u32);
        let to = NodeId(cur.below(5) as u32);
        let round = fed.server.round().saturating_sub(cur.below(2));
        match cur.below(4) {
            0 => {
                let n = cur.below(160) as usize;
                if let Ok(msg) = codec::decode::<SecAggMessage>(cur.take(n)) {
                    fed.inject(from, to, FlMessage::SecAgg(SecAggEnvelope { round, msg }));
                }
            }
            1 => {
                let n = cur.below(64) as usize;
                let msg = SecAggMessage::MaskedInput(cur.take(n).to_vec());
                fed.inject(from, to, FlMessage::SecAgg(SecAggEnvelope { round, msg }));
            }
            2 => {
                let kinds = ["advertise-keys", "share-keys", "masked-input"];
                let k = kinds
                    .get(cur.below(3) as usize)
                    .copied()
                    .unwrap_or("share-keys");
                fed.crash_after.insert(to, k);
            }
            _ => fed.run(1, |_, _, _| {}),
        }
        assert!(fed.server.model().iter().all(|x| x.is_finite()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_survive_fixed_scripts() {
        for seed in 0u8..50 {
            let data: Vec<u8> = (0..400u32)
                .map(|i| (i.wrapping_mul(31).wrapping_add(u32::from(seed) * 97) % 251) as u8)
                .collect();
            update_decoder(&data);
            server_engine(&data);
            client_engine(&data);
            csv_loader(&data);
            secure_federation(&data);
        }
        dwcp_core::fuzz::random_inputs(12, 300, 600, |_, d| client_engine(d));
        for text in ["1,2,0\n3,4,1\n", "# c\n0.5,1,2\n", "1,2\n1,x\n", "1e39,0\n"] {
            csv_loader(text.as_bytes());
        }
        dwcp_core::fuzz::random_inputs(11, 100, 600, |_, d| secure_federation(d));
        let v = crate::wire::encode_dense(&[1.0; 3]);
        update_decoder(&[0, 3].iter().chain(&v).copied().collect::<Vec<_>>());
    }
}
