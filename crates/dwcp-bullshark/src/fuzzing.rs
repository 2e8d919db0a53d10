//! Fuzzing entry point for the Bullshark engine, wired into the
//! `bullshark_engine` cargo-fuzz target.

/// Arbitrary bytes as a script of inputs to one Bullshark node (see
/// `dwcp_narwhal::fuzzing::fuzz_engine` for the script and the checks).
/// An odd first byte selects the reputation-based leader schedule (with a
/// short window, so it changes often), an even one round-robin leaders.
pub fn fuzz_engine(data: &[u8]) {
    let reputation = data.first().is_some_and(|b| b & 1 == 1);
    dwcp_narwhal::fuzzing::fuzz_engine(data, move || {
        if reputation {
            let rep = crate::Reputation {
                window: 3,
                min_history: 1,
            };
            crate::Bullshark::with_reputation(4, 1, 4, rep)
        } else {
            crate::Bullshark::new(4, 1, 4)
        }
    });
}

#[cfg(test)]
mod tests {
    use dwcp_core::rng::{self, RngCore};

    #[test]
    fn random_scripts_hold_the_invariants() {
        let mut r = rng::seeded(4);
        for len in [32usize, 256, 2048] {
            for _ in 0..12 {
                let mut bytes = vec![0u8; len];
                r.fill_bytes(&mut bytes);
                super::fuzz_engine(&bytes);
            }
        }
    }
}
