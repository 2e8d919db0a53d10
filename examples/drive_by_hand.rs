//! Drives four PBFT replicas by hand: no simulator, just the engine contract.
//! Run with `cargo run --example drive_by_hand`.
use dwcp::core::{Engine, NodeId, Output, Time, rng};
use dwcp::crypto::Keyring;
use dwcp::pbft::{Pbft, PbftConfig, Request};

fn main() {
    let (n, keys) = (4, Keyring::sr25519(4, 42));
    let mut config = PbftConfig::new(n).expect("4 replicas tolerate 1 fault");
    config.max_batch = 1; // propose at once instead of waiting for a batch timer
    let mut nodes: Vec<Pbft> = NodeId::all(n)
        .map(|id| {
            Pbft::new(
                config.clone(),
                id,
                keys.secrets[id.index()].clone(),
                keys.publics.clone(),
                rng::derive(42, id.0.into()),
            )
            .expect("valid config")
        })
        .collect();
    nodes[0].handle_request(Time::ZERO, Request::new(1, 1, b"hello".to_vec()));
    let mut wire = vec![]; // (to, from, message): your network goes here
    loop {
        for (i, node) in nodes.iter_mut().enumerate() {
            while let Some(out) = node.poll_output() {
                match out {
                    Output::Send { to, msg } => {
                        to.for_each(n, |t| wire.push((t, NodeId(i as u32), msg.clone())))
                    }
                    Output::Deliver(req) => println!(
                        "replica {i} delivered {:?}",
                        String::from_utf8_lossy(&req.payload)
                    ),
                    Output::Persist(_) | Output::Evidence(_) => {} // write to disk before later sends / alert
                }
            }
        }
        let Some((to, from, msg)) = wire.pop() else {
            break;
        };
        nodes[to.index()].handle_message(Time::ZERO, from, msg);
    }
}
