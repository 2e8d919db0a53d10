//! Runs one dense and one compressed federation on the digits set (timing aid).
use dwcp_federated::bench::{Method, Setup, run};
use dwcp_federated::data::digits;

fn main() {
    let d = digits();
    let mut setup = Setup::digits();
    let args: Vec<String> = std::env::args().collect();
    setup.rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    for m in [Method::dense(), Method::compressed()] {
        let t = std::time::Instant::now();
        let r = run(&d, &setup, &m, seed).expect("run");
        println!(
            "{} seed {seed}: final {:.4} bytes up {} down {} reached {:?} evidence {} [{:.2}s]",
            r.method,
            r.final_accuracy,
            r.traffic.up,
            r.traffic.down,
            r.reached,
            r.evidence,
            t.elapsed().as_secs_f64()
        );
    }
}
