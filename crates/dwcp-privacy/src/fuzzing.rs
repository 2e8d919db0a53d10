//! Fuzz entry points, shared by the `fuzz/` targets and by the tests
//! (which run them on fixed and pseudo-random inputs).

use crate::fixed;
use crate::secagg::messages::{KeyAdvert, SharePlain};
use crate::secagg::{
    ClientInput, SecAggClient, SecAggConfig, SecAggMessage, SecAggServer, ServerRequest,
};
use crate::shamir::{self, Share};
use dwcp_core::fuzz::{ByteCursor, decode_roundtrip};
use dwcp_core::{Engine, NodeId, Output, Time, codec};
use dwcp_crypto::{Keyring, Signed};
use std::collections::VecDeque;

/// Arbitrary bytes into every decoder of the crate: the wire message, the
/// share plaintext, a signed advertisement, ring unpacking and share
/// recovery.
pub fn fuzz_decode(data: &[u8]) {
    let _ = decode_roundtrip::<SecAggMessage>(data);
    let _ = decode_roundtrip::<SharePlain>(data);
    let _ = decode_roundtrip::<Signed<KeyAdvert>>(data);
    if let Some(shares) = decode_roundtrip::<Vec<Share>>(data) {
        let t = shares.len().max(1);
        let _ = shamir::recover(&shares, t);
    }
    if let Some((&bits, rest)) = data.split_first() {
        let bits = u32::from(bits % 65);
        let len = rest.len() / fixed::bytes_per_element(bits).max(1);
        if let Some(v) = fixed::unpack(rest, bits, len) {
            assert_eq!(fixed::pack(&v, bits), rest, "unpack/pack must round-trip");
        }
    }
}

type Packet = (NodeId, NodeId, SecAggMessage);

/// A scripted session: five honest clients and the server, with the
/// fuzzer choosing, step by step, to deliver the next honest message,
/// drop it, corrupt one of its bytes, inject arbitrary bytes as a message
/// from any party to any party, replay an old message, or fire the
/// server's timeout. Nothing may panic, and a delivered sum must only
/// contain at least `threshold` clients. Returns whether a sum was delivered.
pub fn fuzz_session(data: &[u8]) -> bool {
    let mut cur = ByteCursor::new(data);
    let n = 5;
    let Ok(cfg) = SecAggConfig::new(1, n, 4, 3, 16, 1.0, 50.0, 3) else {
        return false;
    };
    let keys = Keyring::sr25519(n, 3);
    let mut server = SecAggServer::new(cfg.clone(), keys.publics.clone());
    let mut clients: Vec<SecAggClient> = (0..n)
        .filter_map(|i| {
            let sk = keys.secrets.get(i)?.clone();
            Some(SecAggClient::new(
                cfg.clone(),
                NodeId(i as u32),
                sk,
                keys.publics.clone(),
                4,
            ))
        })
        .collect();
    let sid = cfg.server();
    let mut queue: VecDeque<Packet> = VecDeque::new();
    let mut history: Vec<Packet> = vec![];
    let mut now = Time(0);
    server.handle_request(now, ServerRequest::Start);
    for (i, c) in clients.iter_mut().enumerate() {
        c.handle_request(
            now,
            ClientInput {
                values: vec![0.25 * i as f32; 3],
                weight: 1 + i as u64 % 3,
            },
        );
    }
    let mut outcome = None;
    let mut steps = 0;
    while !cur.is_empty() && steps < 400 {
        steps += 1;
        // Collect outputs.
        while let Some(o) = server.poll_output() {
            match o {
                Output::Send { to, msg } => {
                    to.for_each(n, |v| queue.push_back((sid, v, msg.clone())))
                }
                Output::Deliver(v) => outcome = Some(v),
                _ => {}
            }
        }
        for c in clients.iter_mut() {
            while let Some(o) = c.poll_output() {
                if let Output::Send { msg, .. } = o {
                    queue.push_back((c.id(), sid, msg));
                }
            }
        }
        let packet = match cur.below(8) {
            0..=3 => queue.pop_front(),
            4 => {
                queue.pop_front();
                None
            }
            5 => queue.pop_front().map(|(f, t, m)| {
                let mut bytes = codec::encode(&m);
                let at = cur.byte() as usize % bytes.len().max(1);
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= cur.byte() | 1;
                }
                (f, t, codec::decode(&bytes).unwrap_or(m))
            }),
            6 => {
                let from = NodeId(cur.below(n as u8 + 2) as u32);
                let to = NodeId(cur.below(n as u8 + 1) as u32);
                let len = cur.byte() as usize;
                codec::decode::<SecAggMessage>(cur.take(len))
                    .ok()
                    .map(|m| (from, to, m))
            }
            _ => {
                if cur.byte().is_multiple_of(2) {
                    let i = cur.byte() as usize;
                    history.get(i % history.len().max(1)).cloned()
                } else {
                    if let Some(d) = server.next_deadline() {
                        now = d;
                        server.handle_timeout(now);
                    }
                    None
                }
            }
        };
        if let Some((from, to, msg)) = packet {
            history.push((from, to, msg.clone()));
            if to == sid {
                server.handle_message(now, from, msg);
            } else if let Some(c) = clients.get_mut(to.index()) {
                c.handle_message(now, from, msg);
            }
        }
    }
    if let Some(crate::secagg::ServerOutcome::Sum(s)) = outcome {
        assert!(
            s.survivors.len() >= cfg.threshold,
            "sum over fewer than t clients"
        );
        assert_eq!(s.levels.len(), cfg.dim);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng::{self, RngCore};

    #[test]
    fn entry_points_survive_random_and_structured_inputs() {
        let mut r = rng::seeded(11);
        for len in [0usize, 1, 7, 40, 300, 2000] {
            for _ in 0..20 {
                let mut data = vec![0u8; len];
                r.fill_bytes(&mut data);
                fuzz_decode(&data);
                fuzz_session(&data);
            }
        }
        // All-zero script: delivers every honest message in order.
        assert!(fuzz_session(&[0u8; 400]));
        fuzz_decode(&codec::encode(&SecAggMessage::ConsistencyCheck(vec![
            NodeId(1),
        ])));
    }
}
