//! Criterion benches for dwcp-crypto (being filled in).

fn main() {}
