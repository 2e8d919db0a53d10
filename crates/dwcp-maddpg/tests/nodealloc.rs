//! NodeAlloc: conservation of jobs and work, determinism, robustness to
//! malformed actions, and the heuristics' basic behaviour.

use dwcp_core::rng::{RngCore, seeded};
use dwcp_maddpg::nodealloc::{Heuristic, HeuristicKind, NodeAllocConfig, OBS_DIM};
use dwcp_maddpg::train::{self, Controller};
use dwcp_maddpg::{MultiAgentEnv, NodeAlloc, buffers};

fn check_conservation(env: &NodeAlloc) {
    let m = env.metrics();
    assert_eq!(
        m.arrived,
        m.served + m.dropped + env.pending(),
        "jobs lost or created: {m:?}, pending {}",
        env.pending()
    );
    let offered: f64 = m.offered_work.iter().sum();
    let completed: f64 = m.completed_work.iter().sum();
    assert!(completed + m.dropped_work <= offered + 1e-6);
}

/// Random (sometimes malformed) actions.
struct Chaos(dwcp_core::rng::Rng);

impl Controller for Chaos {
    fn act(&mut self, _t: usize, _obs: &[Vec<f32>], actions: &mut [Vec<f32>]) {
        for a in actions.iter_mut() {
            for v in a.iter_mut() {
                *v = match self.0.next_u32() % 6 {
                    0 => f32::NAN,
                    1 => -1.0,
                    2 => f32::INFINITY,
                    _ => (self.0.next_u32() % 100) as f32 / 50.0,
                };
            }
        }
    }
}

#[test]
fn jobs_are_served_dropped_or_still_queued_never_lost() {
    for rho in [0.3f32, 0.9, 1.5] {
        let mut env = NodeAlloc::with_load(rho);
        let cfg = env.config().clone();
        let mut ctrls: Vec<Box<dyn Controller>> = vec![
            Box::new(Heuristic::new(HeuristicKind::Random, &cfg, 1)),
            Box::new(Heuristic::new(HeuristicKind::LocalOnly, &cfg, 1)),
            Box::new(Heuristic::new(
                HeuristicKind::ProportionalShare {
                    exponent: 1.0,
                    local_bias: 1.0,
                    floor: 0.1,
                },
                &cfg,
                1,
            )),
            Box::new(Heuristic::new(
                HeuristicKind::JoinShortestQueue { margin: 0.5 },
                &cfg,
                1,
            )),
            Box::new(Chaos(seeded(9))),
        ];
        let (mut obs, mut act, mut rew) = buffers(&env);
        for (c, ctrl) in ctrls.iter_mut().enumerate() {
            for ep in 0..5u64 {
                env.reset(ep * 31 + c as u64, &mut obs);
                for t in 0..env.episode_len() {
                    ctrl.act(t, &obs, &mut act);
                    env.step(&act, &mut obs, &mut rew);
                    check_conservation(&env);
                    assert!(
                        obs.iter()
                            .all(|o| o.len() == OBS_DIM && o.iter().all(|v| v.is_finite()))
                    );
                    assert!(rew.iter().all(|r| r.is_finite() && *r == rew[0]));
                }
                assert!(env.metrics().arrived > 0);
                let e = env.metrics().efficiency();
                assert!((0.0..=1.0).contains(&e));
            }
        }
    }
}

#[test]
fn episodes_are_deterministic_in_their_seed() {
    let cfg = NodeAllocConfig::new(0.9);
    let run = |seed: u64| {
        let mut env = NodeAlloc::new(cfg.clone());
        let mut h = Heuristic::new(HeuristicKind::Random, &cfg, 4);
        let ret = train::play(&mut env, &mut h, seed);
        (ret, env.metrics().clone())
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3).1, run(4).1);
}

#[test]
fn local_only_never_forwards_and_load_scales_arrivals() {
    let mut arrived = vec![];
    for rho in [0.6f32, 1.1] {
        let cfg = NodeAllocConfig::new(rho);
        let mut env = NodeAlloc::new(cfg.clone());
        let mut h = Heuristic::new(HeuristicKind::LocalOnly, &cfg, 0);
        let mut total = 0;
        for ep in 0..20 {
            train::play(&mut env, &mut h, ep);
            assert_eq!(env.metrics().forwarded, 0);
            assert_eq!(env.metrics().transfer_bw, 0.0);
            total += env.metrics().arrived;
        }
        arrived.push(total as f64);
    }
    let ratio = arrived[1] / arrived[0];
    assert!((ratio - 1.1 / 0.6).abs() < 0.15, "arrivals ratio {ratio}");
}

#[test]
fn forwarding_spends_sender_bandwidth_and_helps_under_imbalance() {
    let cfg = NodeAllocConfig::new(0.9);
    let eff = |kind: HeuristicKind| {
        let mut env = NodeAlloc::new(cfg.clone());
        let mut h = Heuristic::new(kind, &cfg, 0);
        let mut e = 0.0;
        let mut fwd_bw = 0.0;
        for ep in 0..20 {
            train::play(&mut env, &mut h, 1000 + ep);
            e += env.metrics().efficiency() / 20.0;
            fwd_bw += env.metrics().transfer_bw;
            assert!(
                (env.metrics().transfer_bw
                    - env.metrics().forwarded as f64 * f64::from(cfg.transfer_bw))
                .abs()
                    < 1e-6
            );
        }
        (e, fwd_bw)
    };
    let (local, local_bw) = eff(HeuristicKind::LocalOnly);
    let (share, share_bw) = eff(HeuristicKind::ProportionalShare {
        exponent: 2.0,
        local_bias: 2.0,
        floor: 0.3,
    });
    assert_eq!(local_bw, 0.0);
    assert!(share_bw > 0.0);
    assert!(
        share > local,
        "proportional-share {share} vs local-only {local}"
    );
}

#[test]
fn heuristic_grids_cover_their_parameters() {
    assert_eq!(HeuristicKind::Random.grid().len(), 1);
    assert!(
        HeuristicKind::ProportionalShare {
            exponent: 1.0,
            local_bias: 1.0,
            floor: 0.0
        }
        .grid()
        .len()
            > 100
    );
    assert!(
        HeuristicKind::JoinShortestQueue { margin: 0.0 }
            .grid()
            .len()
            >= 5
    );
}
