//! Replay buffer, target networks, determinism, Gumbel-softmax properties
//! and policy save/load.

use dwcp_core::rng::{RngCore, seeded};
use dwcp_maddpg::space::{self, ActionSpace};
use dwcp_maddpg::train::{self, Controller};
use dwcp_maddpg::{Maddpg, MaddpgConfig, MultiAgentEnv, Policy, ReplayBuffer, SimpleSpread};
use dwcp_nn::ndarray::Array2;

#[test]
fn replay_keeps_joint_transitions_aligned_and_wraps_fifo() {
    let mut buf = ReplayBuffer::new(5, &[2, 3], &[1, 2]);
    for k in 0..8 {
        let v = k as f32;
        buf.push(
            &[vec![v, v], vec![v + 0.5; 3]],
            &[vec![-v], vec![-v, -v - 0.5]],
            &[v * 10.0, v * 20.0],
            &[vec![v + 1.0; 2], vec![v + 1.5; 3]],
            k == 7,
        );
    }
    assert_eq!(buf.len(), 5);
    let mut batch = buf.batch(64);
    buf.sample_into(&mut batch, &mut seeded(3));
    let mut seen = std::collections::BTreeSet::new();
    for r in 0..64 {
        let v = batch.obs[0][[r, 0]];
        seen.insert(v as i64);
        // Only the 5 newest transitions (3..=7) survive.
        assert!((3.0..=7.0).contains(&v), "stale transition {v}");
        assert_eq!(batch.obs[1][[r, 2]], v + 0.5);
        assert_eq!(batch.act[0][[r, 0]], -v);
        assert_eq!(batch.act[1][[r, 1]], -v - 0.5);
        assert_eq!(batch.rew[0][[r, 0]], v * 10.0);
        assert_eq!(batch.rew[1][[r, 0]], v * 20.0);
        assert_eq!(batch.next_obs[0][[r, 1]], v + 1.0);
        assert_eq!(batch.next_obs[1][[r, 0]], v + 1.5);
        assert_eq!(batch.done[[r, 0]], if v == 7.0 { 1.0 } else { 0.0 });
    }
    assert_eq!(seen.len(), 5, "64 uniform draws should hit all 5 slots");
}

#[test]
fn wide_gather_matches_the_batch_in_critic_input_order() {
    let (obs_dims, act_dims) = ([2, 3], [1, 2]);
    let mut buf = ReplayBuffer::new(10, &obs_dims, &act_dims);
    for k in 0..7 {
        let v = k as f32;
        buf.push(
            &[vec![v, v + 0.1], vec![v + 0.2; 3]],
            &[vec![-v], vec![-v - 0.3, -v - 0.4]],
            &[v, 2.0 * v],
            &[vec![v + 1.0; 2], vec![v + 1.5; 3]],
            false,
        );
    }
    assert_eq!(buf.joint_width(), 8);
    let idx: Vec<usize> = (0..20).map(|r| (r * 3) % 7).collect();
    let (mut a, mut b) = (buf.batch(20), buf.batch(20));
    buf.gather(&idx, &mut a);
    let mut x = Array2::zeros((20, 8));
    let mut x_next = Array2::from_elem((20, 8), 9.0f32);
    buf.gather_wide(&idx, &mut b, &mut x, &mut x_next);
    for r in 0..20 {
        let mut want = Vec::new();
        let mut want_next = Vec::new();
        for i in 0..2 {
            want.extend(a.obs[i].row(r).iter().copied());
            want_next.extend(a.next_obs[i].row(r).iter().copied());
        }
        for i in 0..2 {
            want.extend(a.act[i].row(r).iter().copied());
            assert_eq!(a.rew[i][[r, 0]], b.rew[i][[r, 0]]);
            assert_eq!(a.obs[i].row(r), b.obs[i].row(r));
            assert_eq!(a.next_obs[i].row(r), b.next_obs[i].row(r));
        }
        assert_eq!(x.row(r).to_vec(), want);
        assert_eq!(x_next.row(r).to_vec()[..5], want_next[..]);
        // The action columns of x_next are the caller's.
        assert!(x_next.row(r).iter().skip(5).all(|&v| v == 9.0));
    }
}

fn small_config() -> MaddpgConfig {
    MaddpgConfig {
        batch: 32,
        warmup: 64,
        update_every: 10,
        ..MaddpgConfig::default()
    }
}

#[test]
fn targets_move_by_tau_towards_the_online_networks() {
    let env = SimpleSpread::new();
    let mut m = Maddpg::for_env(&env, small_config(), 5).unwrap();
    let mut spread = SimpleSpread::new();
    train::train(&mut spread, &mut m, 4, 100, |_, _| {});
    assert!(m.updates() > 0);
    let before: Vec<(Vec<f32>, Vec<f32>)> = m
        .agents()
        .iter()
        .map(|a| (a.target_actor.params_flat(), a.target_critic.params_flat()))
        .collect();
    m.update();
    let tau = m.config().tau;
    for (a, (ta, tc)) in m.agents().iter().zip(&before) {
        for (new, (old, online)) in [
            (a.target_actor.params_flat(), (ta, a.actor.params_flat())),
            (a.target_critic.params_flat(), (tc, a.critic.params_flat())),
        ] {
            for ((n, o), s) in new.iter().zip(old.iter()).zip(online.iter()) {
                let want = tau * s + (1.0 - tau) * o;
                assert!(
                    (n - want).abs() <= 1e-6 * (1.0 + want.abs()),
                    "{n} vs {want}"
                );
            }
        }
        assert_ne!(a.target_actor.params_flat(), a.actor.params_flat());
    }
}

fn trained_weights(seed: u64, cfg: MaddpgConfig) -> Vec<Vec<f32>> {
    let mut env = SimpleSpread::new();
    let mut m = Maddpg::for_env(&env, cfg, seed).unwrap();
    train::train(&mut env, &mut m, 12, 7, |_, _| {});
    assert!(m.updates() >= 10);
    m.agents()
        .iter()
        .flat_map(|a| {
            [
                a.actor.params_flat(),
                a.critic.params_flat(),
                a.target_critic.params_flat(),
            ]
        })
        .collect()
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    assert_eq!(
        trained_weights(9, small_config()),
        trained_weights(9, small_config())
    );
    assert_ne!(
        trained_weights(9, small_config()),
        trained_weights(10, small_config())
    );
    let iddpg = MaddpgConfig {
        critic: dwcp_maddpg::CriticMode::Local,
        ..small_config()
    };
    assert_eq!(trained_weights(9, iddpg.clone()), trained_weights(9, iddpg));
}

#[test]
fn local_critics_see_only_their_agent() {
    let env = SimpleSpread::new();
    let m = Maddpg::for_env(&env, MaddpgConfig::iddpg(), 1).unwrap();
    assert_eq!(m.agents()[0].critic.input_dim(), 18 + 5);
    let m = Maddpg::for_env(&env, MaddpgConfig::default(), 1).unwrap();
    assert_eq!(m.agents()[0].critic.input_dim(), 3 * (18 + 5));
}

#[test]
fn gumbel_softmax_is_a_simplex_and_its_argmax_follows_the_softmax() {
    let space = ActionSpace::Categorical { groups: 1, size: 4 };
    let logits = [1.0f32, 0.0, -1.0, 0.5];
    let n = 20_000;
    let params = Array2::from_shape_fn((n, 4), |(_, j)| logits[j]);
    let mut action = Array2::zeros((n, 4));
    let mut noise = Array2::zeros((n, 4));
    space::sample_into(
        space,
        params.view(),
        action.view_mut(),
        noise.view_mut(),
        &mut seeded(4),
    );
    let mut counts = [0usize; 4];
    for row in action.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5);
        assert!(row.iter().all(|&v| v > 0.0 && v < 1.0));
        let k = (0..4).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        counts[k] += 1;
    }
    // Gumbel-max: the argmax of logits + Gumbel noise is distributed as softmax(logits).
    let mut p = logits;
    space::softmax_groups(&mut p, 4);
    for k in 0..4 {
        let freq = counts[k] as f32 / n as f32;
        assert!((freq - p[k]).abs() < 0.015, "class {k}: {freq} vs {}", p[k]);
    }
    // Temperature 1 and no straight-through: samples are soft, not one-hot.
    assert!(action.iter().any(|&v| v > 0.05 && v < 0.95));
    // The mean of the Gumbel noise is the Euler–Mascheroni constant.
    let mean = noise.mean().unwrap();
    assert!((mean - 0.5772).abs() < 0.02, "gumbel mean {mean}");
}

#[test]
fn policies_round_trip_through_json_and_bytes_and_reject_garbage() {
    let env = SimpleSpread::new();
    let m = Maddpg::for_env(&env, MaddpgConfig::default(), 2).unwrap();
    let policies = m.policies();
    let obs: Vec<f32> = (0..18).map(|k| k as f32 * 0.1 - 0.9).collect();
    for p in &policies {
        let json = serde_json::to_string(p).unwrap();
        let back: Policy = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, p);
        let bytes = p.to_bytes().unwrap();
        let again = Policy::from_bytes(&bytes).unwrap();
        assert_eq!(again.act(&obs).unwrap(), p.act(&obs).unwrap());
        let a = p.act(&obs).unwrap();
        assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(p.act(&obs[..5]).is_err());
        assert!(Policy::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    }
    // A policy whose actor does not fit its action space is refused.
    let bad = serde_json::to_string(&policies[0])
        .unwrap()
        .replace("\"size\":5", "\"size\":6");
    assert!(serde_json::from_str::<Policy>(&bad).is_err());
    // Decentralised execution drives the environment without the trainer.
    let mut env = SimpleSpread::new();
    let mut ctrl = policies;
    let ret = train::play(&mut env, &mut ctrl, 1);
    assert!(ret.is_finite() && ret < 0.0);
    let mut acts = vec![vec![0.0; 5]; 3];
    let (mut o, _, _) = dwcp_maddpg::buffers(&env);
    env.reset(1, &mut o);
    ctrl.act(0, &o, &mut acts);
    assert!(
        acts.iter()
            .all(|a| (a.iter().sum::<f32>() - 1.0).abs() < 1e-5)
    );
}

#[test]
fn continuous_policies_sample_around_their_mean() {
    let mut rng = seeded(8);
    let actor = dwcp_nn::Mlp::new(
        &[3, 8, 4],
        dwcp_nn::Activation::Relu,
        dwcp_nn::Activation::Identity,
        &mut rng,
    )
    .unwrap();
    let p = Policy::new(actor, ActionSpace::Continuous { dim: 2 }).unwrap();
    let obs = [0.3f32, -0.2, 0.9];
    let mean = p.act(&obs).unwrap();
    let n = 4000;
    let mut avg = [0.0f32; 2];
    for _ in 0..n {
        let s = p.act_sample(&obs, &mut rng).unwrap();
        avg[0] += s[0] / n as f32;
        avg[1] += s[1] / n as f32;
    }
    assert!(
        (avg[0] - mean[0]).abs() < 0.1 && (avg[1] - mean[1]).abs() < 0.1,
        "{avg:?} vs {mean:?}"
    );
    let _ = rng.next_u32();
}
