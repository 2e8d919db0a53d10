//! The safety-failure bound for `(n, f, o, l)`.
//!
//! # What the paper states, and what this module computes
//!
//! The paper (Avelãs et al., PODC '24, arXiv 2405.04606; abstract and
//! summary verified) proves agreement with probability
//! `1 − exp(−Θ(√n))` when fewer than a third of the replicas are faulty, by
//! bounding binomial tails of how many VRF-sampled messages a replica
//! receives. Its exact closed form could not be retrieved here, so this
//! module derives the bound for *this* implementation in the same way and
//! states every step, so that it can be checked by hand
//! ([`safety_analysis`] returns the intermediate figures).
//!
//! # The attack and the bound
//!
//! A faulty leader signs value `x` for a set `A` of `a` correct replicas and
//! `y` for a disjoint set `B` of `b` correct replicas (the others get
//! nothing). The `f` faulty replicas aim their votes: each sends `x` votes to
//! the members of `A` in its VRF sample and `y` votes to those of `B`. Let
//! `s = ⌈o√n⌉`, `q = ⌈l√n⌉`, `p = s/(n − 1)` (the chance that another
//! replica's sample holds a given replica) and `T(m) = P[Bin(m, p) ≥ q − 1]`.
//!
//! A correct `d ∈ A` decides `x` only if
//! 1. it is prepared: `q − 1` prepares for `x` besides its own, from
//!    replicas whose prepare sample holds `d`. Only `A ∖ {d}` and the faulty
//!    replicas send them, each sample drawn independently by the VRF, so
//!    their number is at most `Bin(a − 1 + f, p)`: probability `≤ T(a−1+f)`;
//! 2. it receives `q − 1` commits for `x` besides its own, likewise
//!    `≤ T(a−1+f)`, independent of 1 (commit samples use another VRF input);
//! 3. it saw no prepare of `B`: every prepare carries the leader's signed
//!    proposal, and two conflicting ones are proof of equivocation after
//!    which a replica neither commits nor decides in that view. No member of
//!    `B` may have `d` in its prepare sample: probability `(1 − p)^b`,
//!    independent of 1 and 2.
//!
//! By the union bound over `A`, `P[some d ∈ A decides x] ≤ a·T(a−1+f)²·(1−p)^b`;
//! disagreement needs this *and* the symmetric event for `B`, so it is at
//! most the smaller of the two. The adversary picks the split:
//!
//! ```text
//! safety_bound(n, f, o, l) = max over a, b ≥ 1, a + b ≤ n − f of
//!     min( a·T(a−1+f)²·(1−p)^b , b·T(b−1+f)²·(1−p)^a )      (capped at 1)
//! ```
//!
//! Every term decays like `exp(−Θ(√n))` for fixed `o`, `l` and `f/n < 1/3`
//! with `l` strictly between the faulty and the correct expected deliveries
//! (see [`crate::ProbftConfig::validate`]), which is the paper's rate.
//!
//! # Limits, stated plainly
//! - Step 3 needs the conflicting prepare to reach `d` before `d` decides:
//!   true when a view's prepares are delivered before its commits (a
//!   fixed-latency network, synchronous rounds). Against a scheduler that
//!   delays exactly those prepares only steps 1–2 remain:
//!   [`SafetyAnalysis::without_detection`].
//! - It bounds disagreement *within one view*. A value decided by few
//!   replicas in a faulty leader's view can also be lost at the next view
//!   change if none of the view-change quorum holds its certificate; the
//!   `probft-safety` experiment measures both together.
//! - At `f = ⌊(n−1)/3⌋` and the default `o = 2, l = 1` the bound is far from
//!   negligible at the sizes of the sweep (about 0.24 at `n = 100`, 0.02 at
//!   `n = 1024`): probabilistic quorums of `O(√n)` messages need `f/n`
//!   bounded away from 1/3, or larger `o`, to make it small.

/// `P[Bin(m, p) ≥ k]`, summed in log space (stable for `m` in the
/// thousands). `1` when `k = 0`, `0` when `k > m`.
pub fn binomial_tail(m: u64, p: f64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > m || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // ln C(m, i) built incrementally from ln C(m, k).
    let mut ln_choose = ln_factorial(m) - ln_factorial(k) - ln_factorial(m - k);
    let mut sum = 0.0;
    for i in k..=m {
        sum += (ln_choose + i as f64 * lp + (m - i) as f64 * lq).exp();
        if i < m {
            ln_choose += ((m - i) as f64).ln() - ((i + 1) as f64).ln();
        }
    }
    sum.min(1.0)
}

fn ln_factorial(x: u64) -> f64 {
    (2..=x).map(|i| (i as f64).ln()).sum()
}

/// The figures behind [`safety_bound`], for reports and hand checks.
#[derive(Clone, Debug, PartialEq)]
pub struct SafetyAnalysis {
    /// Committee size.
    pub n: usize,
    /// Faulty replicas.
    pub f: usize,
    /// Sample size `s = ⌈o√n⌉`.
    pub sample: usize,
    /// Quorum `q = ⌈l√n⌉`.
    pub quorum: usize,
    /// `p = s / (n − 1)`.
    pub p: f64,
    /// The bound (see the module docs), capped at 1.
    pub bound: f64,
    /// The split `(a, b)` of correct replicas that attains it.
    pub worst_split: (usize, usize),
    /// The same maximisation without the equivocation check (step 3
    /// dropped): what is left against a scheduler that delays the
    /// conflicting prepares.
    pub without_detection: f64,
    /// `P[Bin(f, p) ≥ q − 1]`: the chance that the faulty replicas alone
    /// complete one given correct replica's quorum in one phase.
    pub faulty_only_quorum: f64,
}

/// The full analysis for `(n, f, o, l)`; see the module docs.
pub fn safety_analysis(n: usize, f: usize, o: f64, l: f64) -> SafetyAnalysis {
    let sample = crate::config::sample_size(n, o);
    let quorum = crate::config::quorum_size(n, l);
    let p = if n > 1 {
        sample as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let correct = n.saturating_sub(f);
    let need = quorum.saturating_sub(1) as u64;
    // t[a] = T(a − 1 + f) for a in 1..=correct.
    let t: Vec<f64> = (0..=correct)
        .map(|a| binomial_tail((a + f).saturating_sub(1) as u64, p, need))
        .collect();
    let miss: Vec<f64> = (0..=correct).map(|b| (1.0 - p).powi(b as i32)).collect();
    let side = |a: usize, b: usize, detect: bool| -> f64 {
        let ta = t.get(a).copied().unwrap_or(1.0);
        let undetected = if detect {
            miss.get(b).copied().unwrap_or(1.0)
        } else {
            1.0
        };
        a as f64 * ta * ta * undetected
    };
    let mut best = (0.0f64, (0usize, 0usize));
    let mut plain = 0.0f64;
    for a in 1..correct {
        for b in 1..=a.min(correct - a) {
            let v = side(a, b, true).min(side(b, a, true)).min(1.0);
            if v > best.0 {
                best = (v, (a, b));
            }
            plain = plain.max(side(a, b, false).min(side(b, a, false)).min(1.0));
        }
    }
    SafetyAnalysis {
        n,
        f,
        sample,
        quorum,
        p,
        bound: best.0,
        worst_split: best.1,
        without_detection: plain,
        faulty_only_quorum: binomial_tail(f as u64, p, need),
    }
}

/// The probability bound on an agreement violation within one view for
/// `n` replicas, `f` of them Byzantine, sample factor `o` and quorum factor
/// `l`; see the module docs for the derivation and its limits.
pub fn safety_bound(n: usize, f: usize, o: f64, l: f64) -> f64 {
    safety_analysis(n, f, o, l).bound
}

/// The probability that a correct receiver reaches `q` matching messages
/// (its own included) when `senders` other replicas send to their samples:
/// `P[Bin(senders, p) ≥ q − 1]`. With `senders = n − f − 1` it is the
/// per-phase liveness of one replica when the faulty ones are silent.
pub fn reach_probability(n: usize, o: f64, l: f64, senders: usize) -> f64 {
    let sample = crate::config::sample_size(n, o);
    let p = if n > 1 {
        sample as f64 / (n - 1) as f64
    } else {
        0.0
    };
    binomial_tail(
        senders as u64,
        p,
        crate::config::quorum_size(n, l).saturating_sub(1) as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn binomial_tails_by_hand() {
        // P[Bin(4, 1/2) ≥ 2] = 11/16.
        assert!(close(binomial_tail(4, 0.5, 2), 11.0 / 16.0));
        // P[Bin(6, 8/15) ≥ 3] = 1 − (7⁶ + 6·8·7⁵ + 15·8²·7⁴)/15⁶ = 1632256/2278125.
        assert!(close(
            binomial_tail(6, 8.0 / 15.0, 3),
            1_632_256.0 / 2_278_125.0
        ));
        assert_eq!(binomial_tail(3, 0.3, 0), 1.0);
        assert_eq!(binomial_tail(3, 0.3, 4), 0.0);
        assert_eq!(binomial_tail(3, 0.0, 1), 0.0);
        assert_eq!(binomial_tail(3, 1.0, 3), 1.0);
        // Large m stays finite and sums to ~1 from k = 0 … 1.
        let t = binomial_tail(5_000, 0.01, 1);
        assert!(close(t, 1.0 - 0.99f64.powi(5_000)));
    }

    #[test]
    fn bound_at_n16_by_hand() {
        // n = 16, f = 5, o = 2, l = 1: s = 8, q = 4, p = 8/15. The worst
        // split is a = b = 2: 2·T(6)²·(7/15)² with T(6) = 1632256/2278125.
        let a = safety_analysis(16, 5, 2.0, 1.0);
        assert_eq!((a.sample, a.quorum, a.worst_split), (8, 4, (2, 2)));
        let t6: f64 = 1_632_256.0 / 2_278_125.0;
        let by_hand = 2.0 * t6 * t6 * (7.0f64 / 15.0).powi(2);
        assert!(close(a.bound, by_hand), "{} vs {by_hand}", a.bound);
        assert!(close(safety_bound(16, 5, 2.0, 1.0), by_hand));
        // Without the equivocation check the same split already reaches 1.
        assert_eq!(a.without_detection, 1.0);
        // P[Bin(5, 8/15) ≥ 3].
        let f5 = (10.0 * 512.0 * 49.0 + 5.0 * 4096.0 * 7.0 + 32768.0) / 759_375.0;
        assert!(close(a.faulty_only_quorum, f5));
    }

    #[test]
    fn no_faults_no_risk_and_the_bound_shrinks_with_n() {
        // Without faulty voters both sides need many correct supporters, who
        // then see each other's prepares.
        assert!(safety_bound(100, 0, 2.0, 1.0) < 1e-3);
        let b100 = safety_bound(100, 33, 2.0, 1.0);
        let b1024 = safety_bound(1024, 341, 2.0, 1.0);
        assert!(b1024 < b100 / 5.0, "{b100} -> {b1024}");
        // A larger quorum helps safety.
        assert!(safety_bound(256, 85, 2.0, 1.2) < safety_bound(256, 85, 2.0, 1.0));
        // Fewer faults help a lot.
        assert!(safety_bound(256, 25, 2.0, 1.0) < safety_bound(256, 85, 2.0, 1.0) / 100.0);
    }

    #[test]
    fn reach_probability_matches_the_tail() {
        // n = 100, o = 2, l = 1: P[Bin(66, 20/99) ≥ 9].
        assert!(close(
            reach_probability(100, 2.0, 1.0, 66),
            binomial_tail(66, 20.0 / 99.0, 9)
        ));
    }
}
