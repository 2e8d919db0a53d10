//! Decentralised (SNAP-style) training on the vendored digits set: ten peers
//! on a ring with two neighbours per side, mixing weights chosen from the
//! topology (Metropolis–Hastings, the best constant edge weight and the
//! fastest-mixing chain), each peer sending only the parameters that moved
//! more than τ since its neighbours' copy.
//! Run with `cargo run --release --example decentralised_snap [rounds] [tau]`.
use dwcp::federated::data::{digits, dirichlet_partition, stratified_split};
use dwcp::federated::mixing::{best_constant, fastest_mixing, metropolis, spectral_gap};
use dwcp::federated::model::{LocalTraining, ModelSpec};
use dwcp::federated::snap::{ring, run_snap_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let tau: f32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.01);
    let (peers, seed) = (10, 1);

    let data = digits();
    let (train, test) = stratified_split(&data, 0.2, seed);
    let shards: Vec<_> = dirichlet_partition(&data, &train, peers, 0.5, 20, seed)
        .iter()
        .map(|p| data.subset(p))
        .collect();
    let test = data.subset(&test);
    let spec = ModelSpec {
        sizes: vec![64, 64, 10],
        seed,
    };

    // The topology: any undirected graph as adjacency lists.
    let adj = ring(peers, 2);
    for (name, w) in [
        ("Metropolis-Hastings", metropolis(&adj)),
        ("best constant", best_constant(&adj)),
        ("fastest mixing", fastest_mixing(&adj, 300)),
    ] {
        let r = run_snap_with(
            &spec,
            &shards,
            &test,
            &adj,
            &w,
            tau,
            &LocalTraining::default(),
            rounds,
            0.95,
            seed,
        );
        let (_, bytes, acc) = r.curve.last().copied().unwrap_or_default();
        println!(
            "{name:<20} spectral gap {:.3}  after {rounds} rounds: mean peer accuracy {:.2}%, {:.2} MB sent, 95% first at {:?}",
            spectral_gap(&w),
            100.0 * acc,
            bytes as f64 / 1e6,
            r.reached
                .map(|(round, b)| format!("round {round} ({:.2} MB)", b as f64 / 1e6)),
        );
    }
}
