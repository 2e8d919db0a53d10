//! Tampered, duplicate and out-of-protocol messages, and a malicious
//! server trying to unmask an individual input.

use dwcp_core::{Engine, Evidence, Fault, NodeId, Output, Time};
use dwcp_crypto::{Keyring, Signed};
use dwcp_privacy::secagg::{KeyAdvert, Round};
use dwcp_privacy::{
    ClientEvent, ClientInput, SecAggClient, SecAggConfig, SecAggMessage, SecAggServer,
    ServerOutcome, ServerRequest,
};
use std::collections::VecDeque;

type Packet = (NodeId, NodeId, SecAggMessage);

struct Net {
    cfg: SecAggConfig,
    keys: Keyring,
    server: SecAggServer,
    clients: Vec<SecAggClient>,
    queue: VecDeque<Packet>,
    evidence: Vec<(NodeId, Evidence)>,
    events: Vec<(NodeId, ClientEvent)>,
    outcome: Option<ServerOutcome>,
    /// Every message clients sent, for replay.
    sent: Vec<Packet>,
}

impl Net {
    fn new(n: usize, dim: usize) -> Net {
        let cfg = SecAggConfig::new(7, n, n * 2 / 3 + 1, dim, 24, 1.0, 100.0, 4).unwrap();
        let keys = Keyring::sr25519(n, 5);
        let server = SecAggServer::new(cfg.clone(), keys.publics.clone());
        let clients = (0..n)
            .map(|i| {
                SecAggClient::new(
                    cfg.clone(),
                    NodeId(i as u32),
                    keys.secrets[i].clone(),
                    keys.publics.clone(),
                    9,
                )
            })
            .collect();
        let mut net = Net {
            cfg,
            keys,
            server,
            clients,
            queue: VecDeque::new(),
            evidence: vec![],
            events: vec![],
            outcome: None,
            sent: vec![],
        };
        net.server.handle_request(Time(0), ServerRequest::Start);
        net.drain();
        for i in 0..n {
            let values = (0..dim)
                .map(|j| ((i * 7 + j) % 11) as f32 / 10.0 - 0.5)
                .collect();
            net.clients[i].handle_request(
                Time(0),
                ClientInput {
                    values,
                    weight: 1 + (i as u64 % 4),
                },
            );
        }
        net.drain();
        net
    }

    fn drain(&mut self) {
        let n = self.cfg.clients;
        let sid = self.cfg.server();
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::Send { to, msg } => {
                    to.for_each(n, |v| self.queue.push_back((sid, v, msg.clone())))
                }
                Output::Deliver(v) => self.outcome = Some(v),
                Output::Evidence(e) => self.evidence.push((sid, e)),
                Output::Persist(()) => {}
            }
        }
        for c in &mut self.clients {
            while let Some(o) = c.poll_output() {
                match o {
                    Output::Send { msg, .. } => {
                        self.sent.push((c.id(), sid, msg.clone()));
                        self.queue.push_back((c.id(), sid, msg));
                    }
                    Output::Deliver(v) => self.events.push((c.id(), v)),
                    Output::Evidence(e) => self.evidence.push((c.id(), e)),
                    Output::Persist(()) => {}
                }
            }
        }
    }

    fn deliver(&mut self, (from, to, msg): Packet) {
        if to == self.cfg.server() {
            self.server.handle_message(Time(0), from, msg);
        } else {
            self.clients[to.index()].handle_message(Time(0), from, msg);
        }
        self.drain();
    }

    /// Delivers everything; `hook` may rewrite a packet or return `None` to drop it.
    /// Round timeouts fire whenever the network goes quiet.
    fn run(&mut self, mut hook: impl FnMut(Packet) -> Option<Packet>) {
        loop {
            while let Some(p) = self.queue.pop_front() {
                if let Some(p) = hook(p) {
                    self.deliver(p);
                }
            }
            match self.server.next_deadline() {
                Some(d) if self.outcome.is_none() => {
                    self.server.handle_timeout(d);
                    self.drain();
                }
                _ => break,
            }
        }
    }

    /// Runs until the server has sent the `Unmask` request, which is held back.
    fn run_to_unmask(&mut self) -> Vec<Packet> {
        let mut held = vec![];
        while let Some(p) = self.queue.pop_front() {
            if matches!(p.2, SecAggMessage::Unmask { .. }) {
                held.push(p);
            } else {
                self.deliver(p);
            }
        }
        held
    }

    fn sends_of(&self, id: NodeId, kind: &str) -> usize {
        use dwcp_core::WireMessage;
        self.sent
            .iter()
            .filter(|p| p.0 == id && p.2.kind() == kind)
            .count()
    }

    fn blames(&self, observer: NodeId, culprit: NodeId) -> bool {
        self.evidence
            .iter()
            .any(|(o, e)| *o == observer && e.culprit == culprit)
    }
}

#[test]
fn honest_run_completes_without_evidence() {
    let mut net = Net::new(6, 5);
    net.run(Some);
    assert!(matches!(net.outcome, Some(ServerOutcome::Sum(_))));
    assert!(net.evidence.is_empty(), "{:?}", net.evidence);
}

#[test]
fn malicious_server_cannot_obtain_both_shares_of_a_client() {
    let n = 7;
    let mut net = Net::new(n, 4);
    let held = net.run_to_unmask();
    assert_eq!(held.len(), n);
    let sid = net.cfg.server();
    let (survivors, signatures) = match &held[0].2 {
        SecAggMessage::Unmask {
            survivors,
            signatures,
        } => (survivors.clone(), signatures.clone()),
        _ => unreachable!(),
    };
    // Client 0 answers the genuine request (seed shares of all survivors)...
    net.deliver(held[0].clone());
    assert_eq!(net.sends_of(NodeId(0), "unmask-shares"), 1);
    // ...then the server claims client 5 dropped, to get its mask-key share
    // too: refused, with evidence against the server.
    let fake: Vec<NodeId> = survivors
        .iter()
        .copied()
        .filter(|v| *v != NodeId(5))
        .collect();
    let forged = SecAggMessage::Unmask {
        survivors: fake.clone(),
        signatures: signatures.clone(),
    };
    net.deliver((sid, NodeId(0), forged.clone()));
    assert_eq!(net.sends_of(NodeId(0), "unmask-shares"), 1);
    assert!(net.blames(NodeId(0), sid));
    // A replay of the genuine request is refused as well.
    net.deliver(held[0].clone());
    assert_eq!(net.sends_of(NodeId(0), "unmask-shares"), 1);
    // Client 1 is asked first with the forged set it never signed: it
    // aborts and releases nothing.
    net.deliver((sid, NodeId(1), forged));
    assert_eq!(net.sends_of(NodeId(1), "unmask-shares"), 0);
    assert!(net.events.contains(&(
        NodeId(1),
        ClientEvent::Aborted("unmask for a survivor set we did not sign")
    )));
    // Client 2 gets the right set but too few signatures: refused.
    let few = SecAggMessage::Unmask {
        survivors: survivors.clone(),
        signatures: signatures[..2].to_vec(),
    };
    net.deliver((sid, NodeId(2), few));
    assert_eq!(net.sends_of(NodeId(2), "unmask-shares"), 0);
    assert!(net.blames(NodeId(2), sid));
    // Signatures on another set do not count either.
    let st = dwcp_privacy::secagg::SurvivorStatement {
        session: 7,
        signer: NodeId(3),
        survivors: fake,
    };
    let wrong = Signed::sign(st, &net.keys.secrets[3]).signature;
    let mut sigs = vec![(NodeId(3), wrong)];
    sigs.extend(signatures.iter().filter(|(s, _)| *s != NodeId(3)).cloned());
    sigs.truncate(net.cfg.threshold);
    net.deliver((
        sid,
        NodeId(4),
        SecAggMessage::Unmask {
            survivors,
            signatures: sigs,
        },
    ));
    assert_eq!(net.sends_of(NodeId(4), "unmask-shares"), 0);
}

#[test]
fn tampered_and_duplicate_client_messages_are_evidence_or_ignored() {
    let n = 6;
    let mut net = Net::new(n, 3);
    let sid = net.cfg.server();
    let adverts: Vec<Packet> = net.queue.iter().cloned().collect();
    // A duplicate advertisement is ignored; a conflicting one is equivocation.
    net.deliver(adverts[0].clone());
    net.deliver(adverts[0].clone());
    assert!(net.evidence.is_empty());
    let SecAggMessage::AdvertiseKeys(a) = &adverts[0].2 else {
        unreachable!()
    };
    let mut other = a.body.clone();
    other.mask_pk[0] ^= 1;
    let equivocation = Signed::sign(other.clone(), &net.keys.secrets[0]);
    net.deliver((NodeId(0), sid, SecAggMessage::AdvertiseKeys(equivocation)));
    assert!(matches!(
        net.evidence.last(),
        Some((
            _,
            Evidence {
                culprit: NodeId(0),
                fault: Fault::Equivocation { .. }
            }
        ))
    ));
    // A forged signature (client 1's keys signed by client 2) is rejected.
    let forged = Signed::sign(
        KeyAdvert {
            client: NodeId(1),
            ..other
        },
        &net.keys.secrets[2],
    );
    net.deliver((NodeId(1), sid, SecAggMessage::AdvertiseKeys(forged)));
    assert!(matches!(
        net.evidence.last(),
        Some((
            _,
            Evidence {
                culprit: NodeId(1),
                fault: Fault::InvalidSignature
            }
        ))
    ));
    // A message of a later round is out of order.
    net.deliver((NodeId(3), sid, SecAggMessage::MaskedInput(vec![0; 12])));
    assert!(net.blames(sid, NodeId(3)));
    let before = net.evidence.len();
    // The honest run then completes with every client counted once.
    net.queue.retain(|p| p.0 != NodeId(0));
    net.run(|(f, t, m)| match m {
        // Client 4's masked input arrives truncated: it counts as dropped.
        SecAggMessage::MaskedInput(ref b) if f == NodeId(4) && b.len() > 3 => {
            let bad = SecAggMessage::MaskedInput(b[..b.len() - 1].to_vec());
            Some((f, t, bad))
        }
        other => Some((f, t, other)),
    });
    assert!(net.blames(sid, NodeId(4)));
    assert!(net.evidence.len() > before);
    match net.outcome {
        Some(ServerOutcome::Sum(s)) => assert!(!s.survivors.contains(&NodeId(4))),
        ref o => panic!("{o:?}"),
    }
}

#[test]
fn tampered_relay_is_detected_by_clients() {
    // The server alters one advertised key: the signature check fails and
    // every client aborts with evidence against the server.
    let mut net = Net::new(5, 3);
    let sid = net.cfg.server();
    net.run(|(f, t, m)| match m {
        SecAggMessage::KeyList(mut l) => {
            l[1].body.cipher_pk[3] ^= 0x10;
            Some((f, t, SecAggMessage::KeyList(l)))
        }
        other => Some((f, t, other)),
    });
    assert!(net.blames(NodeId(0), sid));
    assert!(
        net.events
            .iter()
            .filter(|(_, e)| matches!(e, ClientEvent::Aborted(_)))
            .count()
            == 5
    );
    // Nobody shares keys, so the server aborts at that round's timeout.
    assert!(
        matches!(
            net.outcome,
            Some(ServerOutcome::Aborted {
                round: "share-keys",
                ..
            })
        ),
        "{:?}",
        net.outcome
    );
    assert_eq!(net.server.round(), Round::Finished);

    // A corrupted share ciphertext is blamed on its sender by the receiver;
    // the sum is still recovered from the other shares.
    let mut net = Net::new(7, 3);
    net.run(|(f, t, m)| match m {
        SecAggMessage::SharesFor(mut l) if t == NodeId(2) => {
            l[0].ciphertext[0] ^= 1;
            Some((f, t, SecAggMessage::SharesFor(l)))
        }
        other => Some((f, t, other)),
    });
    assert!(net.blames(NodeId(2), NodeId(0)));
    assert!(
        matches!(net.outcome, Some(ServerOutcome::Sum(_))),
        "{:?}",
        net.outcome
    );
}

#[test]
fn bad_unmask_shares_and_strangers_are_evidence() {
    let mut net = Net::new(6, 3);
    let sid = net.cfg.server();
    net.run(|(f, t, m)| match m {
        // Client 1 sends a key share for a survivor: refused.
        SecAggMessage::UnmaskShares { seed_shares, .. } if f == NodeId(1) => {
            let key_shares = seed_shares.clone();
            Some((
                f,
                t,
                SecAggMessage::UnmaskShares {
                    seed_shares,
                    key_shares,
                },
            ))
        }
        other => Some((f, t, other)),
    });
    assert!(net.blames(sid, NodeId(1)));
    assert!(matches!(net.outcome, Some(ServerOutcome::Sum(_))));
    // A non-member talking to the server, and a client talking to a client.
    net.server
        .handle_message(Time(0), NodeId(99), SecAggMessage::ConsistencyCheck(vec![]));
    net.clients[0].handle_message(Time(0), NodeId(3), SecAggMessage::ConsistencyCheck(vec![]));
    net.drain();
    assert!(net.blames(sid, NodeId(99)));
    assert!(net.blames(NodeId(0), NodeId(3)));
}

#[test]
fn requests_are_validated() {
    let cfg = SecAggConfig::new(1, 4, 3, 3, 16, 1.0, 10.0, 2).unwrap();
    let keys = Keyring::sr25519(4, 1);
    let mut c = SecAggClient::new(
        cfg,
        NodeId(0),
        keys.secrets[0].clone(),
        keys.publics.clone(),
        1,
    );
    c.handle_request(
        Time(0),
        ClientInput {
            values: vec![0.0; 2],
            weight: 1,
        },
    );
    c.handle_request(
        Time(0),
        ClientInput {
            values: vec![0.0; 3],
            weight: 3,
        },
    );
    c.handle_request(
        Time(0),
        ClientInput {
            values: vec![0.0; 3],
            weight: 2,
        },
    );
    c.handle_request(
        Time(0),
        ClientInput {
            values: vec![0.0; 3],
            weight: 2,
        },
    );
    let mut refused = 0;
    let mut sends = 0;
    while let Some(o) = c.poll_output() {
        match o {
            Output::Deliver(ClientEvent::InputRefused(_)) => refused += 1,
            Output::Send { .. } => sends += 1,
            _ => {}
        }
    }
    assert_eq!((refused, sends), (3, 1));
}

#[test]
fn small_order_keys_are_refused() {
    let mut net = Net::new(5, 3);
    let sid = net.cfg.server();
    // Client 2 advertises the identity point as its mask key (validly signed).
    net.queue.retain(|p| p.0 != NodeId(2));
    let bad = KeyAdvert {
        session: 7,
        client: NodeId(2),
        cipher_pk: [9u8; 32],
        mask_pk: [0u8; 32],
    };
    let signed = Signed::sign(bad, &net.keys.secrets[2]);
    net.deliver((NodeId(2), sid, SecAggMessage::AdvertiseKeys(signed)));
    assert!(net.blames(sid, NodeId(2)));
    // The others proceed without it.
    net.run(Some);
    match net.outcome {
        Some(ServerOutcome::Sum(s)) => assert!(!s.survivors.contains(&NodeId(2))),
        ref o => panic!("{o:?}"),
    }
}
