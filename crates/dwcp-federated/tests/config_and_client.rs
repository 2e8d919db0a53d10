//! Configuration compatibility checks and the client engine's own checks.

use dwcp_core::{Engine, Fault, NodeId, Output, Time};
use dwcp_federated::aggregate::Rule;
use dwcp_federated::client::Client;
use dwcp_federated::compress::Compression;
use dwcp_federated::config::{ConfigError, FlConfig};
use dwcp_federated::data::parse_csv;
use dwcp_federated::message::{FlMessage, RoundStart, Update};
use dwcp_federated::wire::encode_dense_raw;

#[test]
fn incompatible_combinations_are_rejected_with_a_clear_error() {
    let mut c = FlConfig::new(10);
    c.privacy.secure_aggregation = true;
    c.uplink = Compression::TopK {
        fraction: 0.01,
        bits: 8,
    };
    match c.validate() {
        Err(ConfigError::Incompatible(s)) => {
            assert!(s.contains("top-k") && s.contains("RandomK"), "{s}")
        }
        other => panic!("{other:?}"),
    }
    c.uplink = Compression::RandomK {
        fraction: 0.01,
        bits: 8,
    };
    c.rule = Rule::Krum { f: 2 };
    match c.validate() {
        Err(ConfigError::Incompatible(s)) => assert!(
            s.contains("krum") && s.contains("secure aggregation"),
            "{s}"
        ),
        other => panic!("{other:?}"),
    }
    // Shared random-k with FedAvg is the compatible compressed path.
    c.rule = Rule::FedAvg;
    assert_eq!(c.validate(), Ok(()));
    // Relays would see their children's updates; a ring too narrow for the
    // weights is refused with the width it needs.
    c.relays = true;
    assert!(matches!(c.validate(), Err(ConfigError::Incompatible(s)) if s.contains("relays")));
    c.relays = false;
    c.max_weight_per_client = u64::MAX >> 8;
    assert!(matches!(c.validate(), Err(ConfigError::Invalid(s)) if s.contains("bits")));
    c.max_weight_per_client = 1 << 20;
    // DP covers FedAvg only, and needs sane parameters.
    c.privacy.dp = Some(dwcp_federated::config::DpParams {
        clip: 1.0,
        noise_multiplier: 1.0,
        sampling_rate: 1.0,
        delta: 1e-5,
    });
    assert_eq!(c.validate(), Ok(()));
    c.rule = Rule::Median;
    assert!(matches!(c.validate(), Err(ConfigError::Incompatible(_))));
    c.rule = Rule::FedAvg;
    c.privacy.dp = c.privacy.dp.map(|d| dwcp_federated::config::DpParams {
        sampling_rate: 0.0,
        ..d
    });
    assert!(matches!(c.validate(), Err(ConfigError::Invalid(_))));
    let mut c = FlConfig::new(6);
    c.rule = Rule::Krum { f: 2 };
    assert!(matches!(c.validate(), Err(ConfigError::Invalid(_))));
    c.rule = Rule::Median;
    c.relays = true;
    assert!(matches!(c.validate(), Err(ConfigError::Incompatible(_))));
    c.rule = Rule::FedAvg;
    assert_eq!(c.validate(), Ok(()));
    c.uplink = Compression::TopK {
        fraction: 0.0,
        bits: 4,
    };
    assert!(matches!(c.validate(), Err(ConfigError::Invalid(_))));
    c.uplink = Compression::TopK {
        fraction: 0.1,
        bits: 20,
    };
    assert!(matches!(c.validate(), Err(ConfigError::Invalid(_))));
}

fn client() -> (Client, FlConfig) {
    let mut c = FlConfig::new(3);
    c.model.sizes = vec![2, 3, 2];
    let data = parse_csv("0,0,0\n1,1,1\n0,1,1\n1,0,0\n").unwrap();
    (Client::new(c.clone(), NodeId(1), data, 1).unwrap(), c)
}

fn faults(c: &mut Client) -> (Vec<&'static str>, usize) {
    let (mut f, mut sends) = (vec![], 0);
    while let Some(o) = c.poll_output() {
        match o {
            Output::Evidence(e) => {
                if let Fault::Protocol(r) = e.fault {
                    f.push(r)
                }
            }
            Output::Send { .. } => sends += 1,
            _ => {}
        }
    }
    (f, sends)
}

#[test]
fn the_client_checks_who_sends_what() {
    let (mut c, cfg) = client();
    let dim = cfg.model.num_params();
    let rs = |round| {
        FlMessage::RoundStart(RoundStart {
            round,
            version: 0,
            model: vec![],
            full: false,
            relays: vec![],
            secagg: vec![],
        })
    };
    c.handle_message(Time::ZERO, NodeId(2), rs(1));
    assert_eq!(
        faults(&mut c),
        (vec!["round start from a node that is not our parent"], 0)
    );
    c.handle_message(Time::ZERO, NodeId(0), rs(1));
    assert_eq!(faults(&mut c), (vec![], 1), "trains and uploads");
    c.handle_message(Time::ZERO, NodeId(0), rs(1));
    assert_eq!(faults(&mut c).0, vec!["stale round start"]);
    c.handle_message(
        Time::ZERO,
        NodeId(2),
        FlMessage::Update(Update {
            round: 1,
            weight: 1,
            contributors: 1,
            payload: vec![],
        }),
    );
    assert_eq!(
        faults(&mut c).0,
        vec!["update to a node that is not relaying"]
    );
    c.handle_message(
        Time::ZERO,
        NodeId(2),
        FlMessage::Model {
            version: 3,
            params: encode_dense_raw(&vec![0.0; dim]),
        },
    );
    assert_eq!(
        faults(&mut c).0,
        vec!["model from a node other than the server"]
    );
    c.handle_message(
        Time::ZERO,
        NodeId(0),
        FlMessage::Model {
            version: 3,
            params: vec![0, 1],
        },
    );
    assert_eq!(faults(&mut c).0, vec!["malformed model"]);
    // A delta for a version we do not hold triggers a resync request, not training.
    c.handle_message(
        Time::ZERO,
        NodeId(0),
        FlMessage::RoundStart(RoundStart {
            round: 2,
            version: 5,
            model: encode_dense_raw(&vec![0.0; dim]),
            full: false,
            relays: vec![],
            secagg: vec![],
        }),
    );
    let mut resync = false;
    while let Some(o) = c.poll_output() {
        if let Output::Send {
            msg: FlMessage::Resync { round: 2 },
            ..
        } = o
        {
            resync = true;
        }
    }
    assert!(resync);
    c.handle_message(
        Time::ZERO,
        NodeId(0),
        FlMessage::Model {
            version: 5,
            params: encode_dense_raw(&vec![0.5; dim]),
        },
    );
    assert_eq!(
        faults(&mut c),
        (vec![], 1),
        "trains after the full model arrived"
    );
    assert_eq!(c.model(), &vec![0.5; dim][..]);
}
