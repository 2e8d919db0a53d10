use crate::epochs::{self, EpochReport, Protocol, RunConfig, Scenario};
use crate::timeliness::{Complaint, Monitor, Tally};
use dwcp_core::{Duration, NodeId, Time};
use dwcp_crypto::Keyring;
use dwcp_pbft::{PrePrepare, Request};

fn run(n: usize, scenario: Scenario, epochs: u64, complaints: bool) -> epochs::RunReport {
    let mut c = RunConfig::new(n, scenario, Protocol::TPbft, 11);
    c.epochs = epochs;
    c.per_epoch = 12;
    c.complaints = complaints;
    epochs::run(&c)
}

/// The primary of an epoch's first view.
fn leader(e: &EpochReport) -> NodeId {
    let g = e.primary_group.len().max(1) as u64;
    e.primary_group[(e.epoch % g) as usize]
}

fn summary(r: &epochs::RunReport) -> Vec<(NodeId, Vec<NodeId>, u64, Vec<NodeId>)> {
    r.epochs
        .iter()
        .map(|e| {
            (
                leader(e),
                e.primary_group.clone(),
                e.complaints,
                e.late_charged.clone(),
            )
        })
        .collect()
}

/// Whether the slow nodes were charged and fell below the group threshold,
/// every epoch a slow node led charged it when it closed and was followed
/// by at least three epochs it did not lead, and no honest node was
/// charged.
fn slow_excluded(r: &epochs::RunReport, slow: &[NodeId]) -> Result<(), String> {
    let tau = 0.5 / 7.0;
    let charged: Vec<NodeId> = r
        .epochs
        .iter()
        .flat_map(|e| e.late_charged.clone())
        .collect();
    if let Some(h) = charged.iter().find(|c| !slow.contains(c)) {
        return Err(format!("honest {h} charged"));
    }
    for &s in slow {
        if !charged.contains(&s) {
            return Err(format!("{s} never charged"));
        }
        if r.detected_after(s, tau).is_none() {
            return Err(format!("{s} never below the group threshold"));
        }
    }
    for (i, e) in r.epochs.iter().enumerate() {
        let s = leader(e);
        if !slow.contains(&s) {
            continue;
        }
        if !e.late_charged.contains(&s) {
            return Err(format!("{s} led epoch {} uncharged", e.epoch));
        }
        if let Some(again) = r.epochs[i + 1..].iter().take(3).find(|x| leader(x) == s) {
            return Err(format!("{s} leads epoch {} again", again.epoch));
        }
    }
    Ok(())
}

#[test]
fn slow_primaries_are_charged_and_stop_leading() {
    // Nodes 0 and 1 hold each pre-prepare for 4/5 of the request timeout
    // (no view times out) and lead epochs 0 and 1 under equal trust.
    let slow = [NodeId(0), NodeId(1)];
    let on = run(7, Scenario::SlowPrimaries, 8, true);
    assert!(on.safe());
    assert_eq!(on.decisions(), 8 * 12);
    assert_eq!(on.view_changes(), 0);
    assert_eq!(slow_excluded(&on, &slow), Ok(()), "{:?}", summary(&on));
    // Honest replicas' complaints were committed (5 honest replicas filed
    // one each about each slow view).
    assert!(on.epochs.iter().map(|e| e.complaints).sum::<u64>() >= 2 * 3);
    // Without complaints nothing charges them and they keep leading.
    let off = run(7, Scenario::SlowPrimaries, 8, false);
    assert!(off.safe());
    assert!(
        off.epochs
            .iter()
            .all(|e| e.complaints == 0 && e.late_charged.is_empty())
    );
    assert!(slow_excluded(&off, &slow).is_err());
    assert!(off.epochs[3..].iter().any(|e| slow.contains(&leader(e))));
}

#[test]
fn f_false_complainers_cannot_frame_an_honest_primary() {
    // Nodes 0 and 1 (f = 2) run the protocol correctly but file validly
    // signed complaints against the primary of views 0 and 1 of every
    // epoch; f + 1 = 3 distinct complainants are needed.
    let r = run(7, Scenario::FalseComplaints, 5, true);
    assert!(r.safe());
    assert_eq!(r.decisions(), 5 * 12);
    // The false complaints were committed and counted as valid...
    assert!(r.epochs.iter().map(|e| e.complaints).sum::<u64>() >= 5);
    // ...but nobody was charged, and trust stays equal (plain PBFT groups).
    assert!(
        r.epochs.iter().all(|e| e.late_charged.is_empty()),
        "{:?}",
        summary(&r)
    );
    for e in &r.epochs {
        assert_eq!(e.primary_group.len(), 7, "{:?}", summary(&r));
    }
    for h in 2..7 {
        assert_eq!(r.detected_after(NodeId(h), 0.5 / 7.0), None);
    }
}

fn pp(view: u64, seq: u64, primary: u32) -> PrePrepare {
    PrePrepare {
        view,
        seq,
        digest: dwcp_core::Digest::of_value(&seq),
        primary: NodeId(primary),
    }
}

#[test]
fn monitor_complains_once_per_late_view_and_restarts_on_view_change() {
    let ms = |m: u64| Time::from_millis(m);
    let req = |i: u64| Request::new(1, i, vec![]);
    let mut m = Monitor::new(3, Duration::from_millis(250), Time::ZERO, 16);
    m.on_request(ms(0), &req(1));
    m.on_request(ms(0), &req(2));
    m.on_request(ms(0), &req(3));
    // On time: no complaint.
    assert_eq!(m.on_proposal(ms(100), &pp(0, 1, 0), &[req(1)]), None);
    // Late: one complaint naming the view's primary.
    let c = m.on_proposal(ms(400), &pp(0, 2, 0), &[req(2)]);
    assert_eq!(
        c,
        Some(Complaint {
            epoch: 3,
            view: 0,
            seq: 2,
            primary: NodeId(0)
        })
    );
    // A second late proposal in the same view: no second complaint.
    m.on_request(ms(400), &req(4));
    assert_eq!(
        m.on_proposal(ms(900), &pp(0, 3, 0), &[req(3), req(4)]),
        None
    );
    // A view change restarts the clock: the new primary is not blamed for
    // its predecessor's delay.
    m.on_request(ms(900), &req(5));
    m.on_view(ms(1500), 1);
    assert_eq!(m.on_proposal(ms(1550), &pp(1, 4, 1), &[req(5)]), None);
    // Requests it never received do not count.
    assert_eq!(m.on_proposal(ms(9000), &pp(1, 5, 1), &[req(9)]), None);
}

#[test]
fn tally_needs_f_plus_one_distinct_valid_complaints() {
    let n = 7;
    let keys = Keyring::sr25519(n, 5);
    let base = 8u64;
    // The engine's client list: 8 clients, then the replicas.
    let mut clients = Keyring::sr25519(8, 6).publics;
    clients.extend(keys.publics.iter().cloned());
    let c = Complaint {
        epoch: 1,
        view: 0,
        seq: 1,
        primary: NodeId(6),
    };
    let signed = |r: u32| c.to_request(NodeId(r), &keys.secrets[r as usize], base);
    let mut t = Tally::new(2, 4);
    t.start_epoch(1);
    assert!(t.add(&signed(0), base, n, &clients));
    // Duplicates count once.
    assert!(!t.add(&signed(0), base, n, &clients));
    assert!(t.add(&signed(1), base, n, &clients));
    assert_eq!(t.newly_confirmed(), vec![]);
    // A complaint signed with another replica's key does not verify.
    let mut forged = c.to_request(NodeId(2), &keys.secrets[0], base);
    assert!(!t.add(&forged, base, n, &clients));
    forged.payload.push(0);
    assert!(!t.add(&forged, base, n, &clients));
    // A complaint about oneself does not count.
    let own = Complaint {
        primary: NodeId(3),
        ..c
    };
    assert!(!t.add(
        &own.to_request(NodeId(3), &keys.secrets[3], base),
        base,
        n,
        &clients
    ));
    // Ordinary client requests are not complaints.
    assert!(!t.add(&Request::new(0, 1, b"LATE".to_vec()), base, n, &clients));
    // The third distinct replica confirms it, once.
    assert!(t.add(&signed(2), base, n, &clients));
    assert_eq!(t.newly_confirmed(), vec![(1, 0, NodeId(6))]);
    assert_eq!(t.newly_confirmed(), vec![]);
    // Per-complainant cap: replica 4 may name at most 4 views per epoch.
    let counted = (0..10)
        .filter(|v| {
            let x = Complaint { view: *v, ..c };
            t.add(
                &x.to_request(NodeId(4), &keys.secrets[4], base),
                base,
                n,
                &clients,
            )
        })
        .count();
    assert_eq!(counted, 4);
    // Extreme or future epochs are refused (and do not overflow).
    let far = Complaint {
        epoch: u64::MAX,
        view: u64::MAX,
        ..c
    };
    let far = far.to_request(NodeId(5), &keys.secrets[5], base);
    assert!(!t.add(&far, base, n, &clients));
    // Epochs older than the previous one are dropped.
    t.start_epoch(3);
    assert_eq!(t.tracked(), 0);
    assert!(!t.add(&signed(5), base, n, &clients));
}

#[test]
fn fuzz_entry_never_charges_without_two_signers() {
    let keys = Keyring::sr25519(4, 1);
    dwcp_core::fuzz::random_inputs(21, 300, 160, |_, data| {
        let _ = crate::fuzzing::complaints(&keys, data);
    });
    // A script that does charge: replicas 1 and 2 sign complaints about
    // primary 0's view 0 in epoch 0 (op 1, fields chosen byte by byte).
    let script = [1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0];
    assert_eq!(crate::fuzzing::complaints(&keys, &script), 1);
    // The same two complaints, the second signed with the wrong key: none.
    let forged = [1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0];
    assert_eq!(crate::fuzzing::complaints(&keys, &forged), 0);
}
