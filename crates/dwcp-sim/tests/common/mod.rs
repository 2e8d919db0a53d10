//! A scripted test engine: requests tell it what to output, and it records
//! every input it gets, so tests can see exactly what the host did.

#![allow(dead_code)] // each test binary uses a different part

use dwcp_core::rng::{Rng, RngCore};
use dwcp_core::{Engine, NodeId, Output, Target, Time, WireMessage};
use dwcp_sim::ByzantineMessage;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A test message whose wire size is whatever it claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    pub id: u64,
    pub size: u32,
    pub tag: u8,
}

impl Msg {
    pub fn new(id: u64) -> Msg {
        Msg {
            id,
            size: 100,
            tag: 0,
        }
    }
    pub fn sized(id: u64, size: u32) -> Msg {
        Msg { id, size, tag: 0 }
    }
}

impl WireMessage for Msg {
    fn kind(&self) -> &'static str {
        if self.id >= 1000 { "big" } else { "msg" }
    }
    fn wire_size(&self) -> usize {
        self.size as usize
    }
}

impl ByzantineMessage for Msg {
    fn equivocate(&self, _: &mut Rng) -> Option<Self> {
        Some(Msg {
            tag: self.tag ^ 1,
            ..self.clone()
        })
    }
    fn corrupt_signature(&self) -> Option<Self> {
        Some(Msg {
            tag: self.tag | 0x80,
            ..self.clone()
        })
    }
    fn mutate(&self, rng: &mut Rng) -> Option<Self> {
        Some(Msg {
            id: self.id ^ (1 + (rng.next_u64() % 1000)),
            ..self.clone()
        })
    }
}

/// What a request makes the engine do.
#[derive(Clone, Debug)]
pub enum Cmd {
    Send(Target, Msg),
    Persist(u64),
    Deliver(u64),
    Deadline(Option<Time>),
    Batch(Vec<Cmd>),
}

/// The scripted engine.
pub struct Script {
    pub id: NodeId,
    /// (local time, from, message)
    pub received: Vec<(Time, NodeId, Msg)>,
    pub requests: Vec<Time>,
    pub timeouts: Vec<Time>,
    pub restored: Option<(Time, Vec<u64>)>,
    /// Deliver the id of every received message.
    pub echo: bool,
    /// Broadcast `Msg::new(id)` at the first timeout (deadline 0).
    pub hello: bool,
    out: VecDeque<Output<Msg, u64, u64>>,
    deadline: Option<Time>,
}

impl Script {
    pub fn new(id: NodeId) -> Script {
        Script {
            id,
            received: vec![],
            requests: vec![],
            timeouts: vec![],
            restored: None,
            echo: false,
            hello: false,
            out: VecDeque::new(),
            deadline: None,
        }
    }

    pub fn echo(mut self) -> Script {
        self.echo = true;
        self
    }

    pub fn hello(mut self) -> Script {
        self.hello = true;
        self.deadline = Some(Time::ZERO);
        self
    }

    fn run(&mut self, c: Cmd) {
        match c {
            Cmd::Send(to, msg) => self.out.push_back(Output::Send { to, msg }),
            Cmd::Persist(r) => self.out.push_back(Output::Persist(r)),
            Cmd::Deliver(v) => self.out.push_back(Output::Deliver(v)),
            Cmd::Deadline(d) => self.deadline = d,
            Cmd::Batch(cs) => cs.into_iter().for_each(|c| self.run(c)),
        }
    }

    /// Arrival times of messages with this id.
    pub fn arrivals(&self, id: u64) -> Vec<Time> {
        self.received
            .iter()
            .filter(|(_, _, m)| m.id == id)
            .map(|(t, _, _)| *t)
            .collect()
    }
}

impl Engine for Script {
    type Message = Msg;
    type Request = Cmd;
    type Record = u64;
    type Value = u64;

    fn id(&self) -> NodeId {
        self.id
    }
    fn handle_message(&mut self, now: Time, from: NodeId, msg: Msg) {
        if self.echo {
            self.out.push_back(Output::Deliver(msg.id));
        }
        self.received.push((now, from, msg));
    }
    fn handle_request(&mut self, now: Time, req: Cmd) {
        self.requests.push(now);
        self.run(req);
    }
    fn handle_timeout(&mut self, now: Time) {
        self.timeouts.push(now);
        if self.hello && self.timeouts.len() == 1 {
            self.out.push_back(Output::Send {
                to: Target::all_but(self.id),
                msg: Msg::new(self.id.0 as u64),
            });
        }
        self.deadline = None;
    }
    fn poll_output(&mut self) -> Option<Output<Msg, u64, u64>> {
        self.out.pop_front()
    }
    fn next_deadline(&self) -> Option<Time> {
        self.deadline
    }
    fn restore(&mut self, now: Time, records: Vec<u64>) {
        self.restored = Some((now, records));
    }
}

pub fn ms(v: u64) -> Time {
    Time::from_millis(v)
}

pub fn id(i: u32) -> NodeId {
    NodeId(i)
}
