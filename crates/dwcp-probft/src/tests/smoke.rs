use crate::experiment::*;
use dwcp_crypto::Keyring;

#[test]
fn smoke_experiments() {
    let t = std::time::Instant::now();
    let r = messages_rows(true, 1, Keyring::insecure_mock);
    for (p, b) in &r.pairs {
        println!(
            "n={} probft {:.0} ({:.0} B) pbft {:.0} ({:.0} B) ratio {:.3} {:?}",
            p.n,
            p.messages,
            p.bytes,
            b.messages,
            b.bytes,
            p.messages / b.messages,
            p.by_kind
        );
    }
    println!("slope {:.3} time {:?}", r.slope, t.elapsed());
    let t = std::time::Instant::now();
    for row in safety_rows(true, 1, Keyring::insecure_mock) {
        println!("{row:?}");
    }
    println!("time {:?}", t.elapsed());
}
