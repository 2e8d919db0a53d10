//! Runs the robust and TCS experiments at a given size (timing aid).
use dwcp_federated::bench::Setup;
use dwcp_federated::data::digits;
use dwcp_federated::experiments::{TcsSetup, robust, tcs};

fn main() {
    let d = digits();
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("tcs");
    let rounds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let seeds: Vec<u64> = (1..=args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1)).collect();
    let t = std::time::Instant::now();
    if which == "robust" {
        let mut s = Setup::digits();
        s.rounds = rounds;
        for r in robust(&d, &s, 2, &seeds).expect("robust") {
            println!(
                "{:>10} {:>13} seed {} acc {:.4}",
                r.attack, r.rule, r.seed, r.accuracy
            );
        }
    } else {
        let mut s = Setup::digits();
        s.rounds = rounds;
        s.clients = 20;
        let ts = TcsSetup {
            setup: s,
            per_round: 8,
            radius_m: 500.0,
            time_weights: vec![0.5, 0.0],
            staleness_variants: vec![],
        };
        for r in tcs(&d, &ts, &seeds).expect("tcs") {
            println!("{r:?}");
        }
    }
    println!("[{:.1}s]", t.elapsed().as_secs_f64());
}
