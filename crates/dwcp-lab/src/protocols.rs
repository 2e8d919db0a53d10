//! Protocols the `chaos` command can run.

use crate::chaos::{self, Item, Outcome, Strategy};
use dwcp_core::{Duration, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::adversary::Equivocator;
use dwcp_pbft::harness::{self, CryptoMode};
use dwcp_pbft::{PbftConfig, Request};
use dwcp_sim::{NetworkConfig, SimConfig};

/// Names accepted by `--protocol`.
pub const NAMES: &[&str] = &["pbft"];

/// Requests submitted per run.
const REQUESTS: u64 = 40;

/// One seeded chaos run of `protocol`.
pub fn chaos_run(
    protocol: &str,
    n: usize,
    seed: u64,
    items: &[Item],
    min: Time,
) -> Result<Outcome, String> {
    let heal = chaos::fault_horizon(items, min);
    let net = chaos::network_for(items, NetworkConfig::default(), heal);
    let crashed: Vec<_> = items
        .iter()
        .filter_map(|it| {
            if let Item::Crash(i, _) = it {
                Some(dwcp_core::NodeId(*i))
            } else {
                None
            }
        })
        .collect();
    match protocol {
        "pbft" => {
            let config = PbftConfig::new(n).map_err(|e| e.to_string())?;
            let crypto = CryptoMode::Keys(crypto_keys(n, seed));
            let mut sim =
                harness::cluster_with(config, SimConfig::new(n, seed).with_network(net), crypto);
            let keys = crypto_keys(n, seed);
            chaos::apply(&mut sim, items, n, &mut |sim, id, s| match s {
                Strategy::Equivocate => {
                    sim.make_byzantine(
                        id,
                        Equivocator::new(keys.secrets[id.index()].clone(), Time::ZERO),
                    );
                    true
                }
                _ => false,
            });
            // Each request goes to one honest, never-crashed replica, spread over the safety phase.
            let honest = chaos::entry_nodes(items, n);
            if honest.is_empty() {
                return Err("the SPEC leaves no honest, never-crashed replica for clients".into());
            }
            let step = Duration::from_nanos(heal.as_nanos() / (REQUESTS + 1));
            for i in 0..REQUESTS {
                sim.submit(
                    Time::ZERO + step * (i as u32),
                    honest[i as usize % honest.len()],
                    harness::request(i),
                );
            }
            Ok(chaos::two_phases(
                sim,
                seed,
                heal,
                &crashed,
                REQUESTS as usize,
                Duration::from_secs(60),
                |v: &Request, subs| subs.iter().any(|(_, _, r)| r == v),
            ))
        }
        other => Err(format!(
            "unknown protocol {other}; known: {}",
            NAMES.join(", ")
        )),
    }
}

/// Real sr25519 keys up to 64 nodes, the insecure mock beyond (speed only; counts and
/// safety logic are the same).
fn crypto_keys(n: usize, seed: u64) -> Keyring {
    if n <= 64 {
        Keyring::sr25519(n, seed)
    } else {
        Keyring::insecure_mock(n, seed)
    }
}
