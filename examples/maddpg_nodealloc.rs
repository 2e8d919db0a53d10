//! Train MADDPG briefly on NodeAlloc, compare it with the local-only
//! heuristic on held-out episodes, and deploy one node's policy from bytes.
//!
//! `cargo run --release --example maddpg_nodealloc`

use dwcp::maddpg::experiments::nodealloc::tuned_trainer;
use dwcp::maddpg::nodealloc::{Heuristic, HeuristicKind, NodeAllocConfig};
use dwcp::maddpg::{Maddpg, MaddpgConfig, NodeAlloc, Policy, train};

fn held_out<C: train::Controller + ?Sized>(ctrl: &mut C, rho: f32) -> f64 {
    let mut env = NodeAlloc::with_load(rho);
    let mut eff = 0.0;
    for seed in 0..20 {
        train::play(&mut env, ctrl, seed);
        eff += env.metrics().efficiency() / 20.0;
    }
    eff
}

fn main() {
    let rho = 0.9;
    let mut env = NodeAlloc::with_load(rho);
    // The lab's tuned NodeAlloc configuration (reference hyperparameters,
    // batch 512, one update round every 12 steps), halved batch for a short run.
    let cfg: MaddpgConfig = tuned_trainer(true);
    let mut trainer = Maddpg::for_env(&env, cfg, 1).expect("valid shapes");
    let log = train::train(&mut env, &mut trainer, 1_000, 1_000_000, |_, _| {});
    println!(
        "trained {} episodes, {} update rounds, last return {:.2}",
        log.returns.len(),
        trainer.updates(),
        log.returns.last().copied().unwrap_or(0.0)
    );
    let mut policies = trainer.policies();
    let mut local = Heuristic::new(HeuristicKind::LocalOnly, &NodeAllocConfig::new(rho), 0);
    println!(
        "held-out efficiency: MADDPG {:.3}, local-only {:.3}",
        held_out(&mut policies, rho),
        held_out(&mut local, rho)
    );
    // Each node ships only its own actor.
    let bytes = policies[0].to_bytes().expect("encodable");
    let node0 = Policy::from_bytes(&bytes).expect("decodable");
    println!(
        "node 0 policy: {} bytes, {} observations -> {} action values",
        bytes.len(),
        node0.obs_dim(),
        node0.space().action_dim()
    );
}
