//! TCS-FEEL-style selection: the relay tree's invariants, and that each of
//! the three criteria (data similarity, user distribution / link time, D2D
//! relaying) changes the selection in the documented direction.

use dwcp_core::NodeId;
use dwcp_core::rng;
use dwcp_federated::data::{digits, dirichlet_partition, stratified_split};
use dwcp_federated::select::{RoundPlan, Selector, Uniform};
use dwcp_federated::tcs::{Radio, TcsSelector};

const N: usize = 20;
const M: usize = 8;
const BYTES: usize = 4 * 4810 + 16;

fn selector(mu: f64, pool_factor: usize) -> TcsSelector {
    let d = digits();
    let (train, _) = stratified_split(&d, 0.2, 2);
    let parts = dirichlet_partition(&d, &train, N, 0.5, 20, 2);
    let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
    TcsSelector {
        per_round: M,
        pool_factor,
        time_weight: mu,
        max_children: 3,
        update_bytes: BYTES,
        histograms: parts.iter().map(|p| d.subset(p).histogram()).collect(),
        radio: Radio::random(&sizes, 2, 500.0, 2),
        staleness_weight: 0.0,
        last_selected: vec![],
    }
}

fn plans(s: &mut dyn Selector, rounds: u64) -> Vec<RoundPlan> {
    let clients: Vec<NodeId> = (1..=N as u32).map(NodeId).collect();
    let mut r = rng::seeded(9);
    (1..=rounds).map(|k| s.plan(k, &clients, &mut r)).collect()
}

/// L1 distance between the label distribution of `plan`'s clients' union
/// and the global one.
fn label_gap(s: &TcsSelector, plan: &RoundPlan) -> f64 {
    let classes = s.histograms[0].len();
    let (mut sel, mut all) = (vec![0f64; classes], vec![0f64; classes]);
    for (c, h) in s.histograms.iter().enumerate() {
        let chosen = plan.participants.contains(&NodeId(c as u32 + 1));
        for (k, &x) in h.iter().enumerate() {
            all[k] += x as f64;
            if chosen {
                sel[k] += x as f64;
            }
        }
    }
    let (ts, ta): (f64, f64) = (sel.iter().sum(), all.iter().sum());
    sel.iter()
        .zip(&all)
        .map(|(a, b)| (a / ts - b / ta).abs())
        .sum()
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

#[test]
fn the_relay_tree_is_a_valid_depth_one_tree_over_real_d2d_links() {
    let mut s = selector(0.5, 2);
    let radio = s.radio.clone();
    let ps = plans(&mut s, 200);
    let mut relayed = 0;
    for p in &ps {
        assert_eq!(p.participants.len(), M);
        assert!(
            p.participants.windows(2).all(|w| w[0] < w[1]),
            "sorted, distinct"
        );
        let bw = radio.bs_bandwidth_hz / M as f64;
        for &(child, parent) in &p.relays {
            let (c, q) = (child.0 as usize - 1, parent.0 as usize - 1);
            assert!(p.participants.contains(&child) && p.participants.contains(&parent));
            assert_ne!(child, parent);
            assert!(
                !p.relays.iter().any(|(c2, _)| *c2 == parent),
                "a relay uploads directly (depth 1)"
            );
            let (a, b) = (radio.positions[c], radio.positions[q]);
            let dist = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
            assert!(
                dist <= radio.d2d_range_m,
                "relay edge beyond D2D range: {dist}"
            );
            assert!(
                radio.bs_rate(q, bw) > radio.bs_rate(c, bw),
                "relay is faster"
            );
        }
        for &q in &p.participants {
            assert!(p.relays.iter().filter(|(_, par)| *par == q).count() <= 3);
        }
        relayed += p.relays.len();
    }
    assert!(relayed > 0, "no round used a relay in a 500 m cell");
    // Every plan is also what the time model charges: a relayed child never
    // counts as a direct uploader.
    assert!(
        ps.iter()
            .all(|p| p.direct_uploaders().len() + p.relays.len() == M)
    );
}

#[test]
fn data_similarity_balances_the_selected_labels() {
    // μ = 0, pool = everyone: the greedy optimises label balance alone.
    let mut tcs = selector(0.0, 10);
    let reference = tcs.clone();
    let tcs_gap = mean(plans(&mut tcs, 50).iter().map(|p| label_gap(&reference, p)));
    let uni_gap = mean(
        plans(&mut Uniform { per_round: M }, 50)
            .iter()
            .map(|p| label_gap(&reference, p)),
    );
    assert!(
        tcs_gap < 0.5 * uni_gap,
        "label L1 gap: TCS {tcs_gap:.3} vs uniform {uni_gap:.3}"
    );
}

#[test]
fn the_time_term_picks_faster_clients_and_shortens_rounds() {
    let mut fast = selector(100.0, 2);
    let mut balance = selector(0.0, 2);
    let radio = fast.radio.clone();
    let t = |ps: Vec<RoundPlan>| mean(ps.iter().map(|p| radio.round_time(p, BYTES)));
    let (t_fast, t_balance, t_uni) = (
        t(plans(&mut fast, 100)),
        t(plans(&mut balance, 100)),
        t(plans(&mut Uniform { per_round: M }, 100)),
    );
    assert!(
        t_fast < t_balance && t_fast < t_uni,
        "s/round: μ=100 {t_fast:.3}, μ=0 {t_balance:.3}, uniform {t_uni:.3}"
    );
}
