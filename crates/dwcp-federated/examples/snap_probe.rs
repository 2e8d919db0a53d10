//! SNAP vs TernGrad on digits at one setting (timing aid).
use dwcp_federated::bench::Setup;
use dwcp_federated::data::{digits, dirichlet_partition, stratified_split};
use dwcp_federated::model::{LocalTraining, ModelSpec};
use dwcp_federated::snap::{ring, run_snap, run_terngrad};

fn main() {
    let d = digits();
    let s = Setup::digits();
    let args: Vec<String> = std::env::args().collect();
    let tau: f32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0.01);
    let seed = 1;
    let (tr, te) = stratified_split(&d, 0.2, seed);
    let parts = dirichlet_partition(&d, &tr, 10, 0.5, 20, seed);
    let shards: Vec<_> = parts.iter().map(|p| d.subset(p)).collect();
    let test = d.subset(&te);
    let spec = ModelSpec {
        sizes: vec![64, 64, 10],
        seed,
    };
    let t = std::time::Instant::now();
    let a = run_snap(
        &spec,
        &shards,
        &test,
        &ring(10, 2),
        tau,
        &LocalTraining::default(),
        300,
        0.95,
        seed,
    );
    println!(
        "snap tau {tau}: final {:?} reached {:?} [{:.1}s]",
        a.curve.last(),
        a.reached,
        t.elapsed().as_secs_f64()
    );
    let t = std::time::Instant::now();
    let b = run_terngrad(&spec, &shards, &test, 32, 0.1, 3000, 10, 0.95, seed);
    println!(
        "terngrad: final {:?} reached {:?} [{:.1}s]",
        b.curve.last(),
        b.reached,
        t.elapsed().as_secs_f64()
    );
    let _ = s;
}
