use std::time::Duration;

use slogate::engine::{self, RunOptions};
use slogate::plan::{Arrivals, Model, Segment};
use slogate::units::Rate;

use crate::support::server::{Reply, Server};
use crate::support::{hit, hit_args};

#[test]
fn achieved_rate_is_within_one_percent_of_target() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let results = hit(&[&server.url("/"), "-q", "500/s", "-z", "3s", "-c", "10"]);
    let open = results.open.as_ref().expect("open model");
    assert_eq!(open.target_rate.as_per_second(), 500.0);
    assert_eq!(open.due, 1500);
    assert_eq!(open.started, 1500);
    assert_eq!(open.dropped, 0);
    assert_eq!(results.total.requests, 1500);
    let achieved = results.achieved_rate();
    assert!(
        (achieved / 500.0 - 1.0).abs() < 0.01,
        "achieved {achieved}/s"
    );
    // Each full second carries its share (±2 %: a scheduler stall of the
    // shared VM near a second's end moves a few completions to the next).
    for row in results.timeline.iter().filter(|r| r.second < 3) {
        assert!(
            (490..=510).contains(&row.requests),
            "second {}: {}",
            row.second,
            row.requests
        );
    }
    // Ten connections are plenty for 500/s of fast responses. Late starts
    // come only from scheduler stalls of this shared 2-core VM (a few ms, a
    // handful of due requests each; 25 seen under a loaded CI run): far
    // below the hundreds a saturated run shows (see the next test).
    assert!(
        results.total.late_starts <= 75,
        "late {}",
        results.total.late_starts
    );
}

#[test]
fn requests_wait_for_a_free_connection_and_that_wait_is_counted() {
    let _serial = crate::support::serial();
    // One connection, a 20 ms service, 100/s due: the connection can do 50/s,
    // so requests queue and start later and later.
    let server = Server::start(|_| Reply::delayed(200, Duration::from_millis(20)));
    let results = hit(&[&server.url("/"), "-q", "100", "-z", "2s", "-c", "1"]);
    let open = results.open.as_ref().unwrap();
    assert_eq!(open.due, 200);
    // About 100 sent in 2 s; the rest never got a connection.
    assert!(
        (90..=105).contains(&open.started),
        "started {}",
        open.started
    );
    assert_eq!(open.dropped, open.due - open.started);
    assert!(results.total.late_starts as f64 >= 0.8 * open.started as f64);
    let corrected_max = results.total.latency_us.max() as f64 / 1000.0;
    let service_max = results.total.service_us.max() as f64 / 1000.0;
    assert!(
        corrected_max > 900.0,
        "queued requests waited ~1 s: {corrected_max}"
    );
    assert!(
        service_max < 30.0,
        "each took 20 ms once sent: {service_max}"
    );
}

#[test]
fn a_ramp_changes_the_rate_over_time() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let mut plan = slogate::cli::hit_plan::plan(&hit_args(&[&server.url("/"), "-c", "8"])).unwrap();
    let rate = |r| Rate::per_second(r).unwrap();
    // 100/s → 300/s over 2 s, then 300/s for 1 s: 400 + 300 requests.
    plan.phases[0].model = Model::Open(Arrivals::new(vec![
        Segment::ramp(rate(100.0), rate(300.0), Duration::from_secs(2)),
        Segment::constant(rate(300.0), Duration::from_secs(1)),
    ]));
    plan.phases[0].max_requests = None;
    plan.phases[0].duration = Some(Duration::from_secs(3));
    let results = engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).unwrap();
    assert_eq!(results.total.requests, 700);
    assert_eq!(server.received(), 700);
    let per_second: Vec<u64> = results.timeline.iter().map(|r| r.requests).collect();
    // ∫ rate: second 0 → 150, second 1 → 250, second 2 → 300 (a few move
    // across a boundary when the VM stalls near it).
    let expected = [150, 250, 300];
    for (second, want) in expected.iter().enumerate() {
        let got = per_second.get(second).copied().unwrap_or(0);
        assert!(
            got.abs_diff(*want) <= 6,
            "second {second}: {got} (want {want}): {per_second:?}"
        );
    }
}

/// A request counts in the step it was *due* in: step 1's last requests
/// end in step 2's time (they take 50 ms), and still count in step 1.
#[test]
fn each_step_has_its_own_histogram() {
    let _serial = crate::support::serial();
    // Step 1: 50/s for 1 s, each answer 50 ms late; step 2: 100/s for 1 s,
    // answered at once. The server tells them apart by arrival order: the
    // 51st request is due 20 ms after the 50th.
    let server = Server::start(|call| {
        if call.index < 50 {
            Reply::delayed(200, Duration::from_millis(50))
        } else {
            Reply::status(200)
        }
    });
    let mut plan =
        slogate::cli::hit_plan::plan(&hit_args(&[&server.url("/"), "-c", "16"])).unwrap();
    let rate = |r| Rate::per_second(r).unwrap();
    plan.phases[0].model = Model::Open(Arrivals::new(vec![
        Segment::constant(rate(50.0), Duration::from_secs(1)),
        Segment::constant(rate(100.0), Duration::from_secs(1)),
    ]));
    plan.phases[0].max_requests = None;
    plan.phases[0].duration = Some(Duration::from_secs(2));
    let results = engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).unwrap();
    let phase = &results.phases[0];
    assert_eq!(phase.open.as_ref().unwrap().dropped, 0);
    let steps = &phase.steps;
    assert_eq!(steps.len(), 2);
    let stats: Vec<_> = steps.iter().map(|s| s.total.unpack()).collect();
    // Counted by due time: exactly the schedule's rate × duration.
    assert_eq!(stats[0].requests, 50);
    assert_eq!(stats[1].requests, 100);
    assert_eq!(
        stats[0].requests + stats[1].requests,
        phase.total.requests,
        "the steps add up to the phase"
    );
    assert_eq!(
        (steps[0].start, steps[1].start),
        (Duration::ZERO, Duration::from_secs(1))
    );
    assert_eq!(steps[1].from.as_per_second(), 100.0);
    assert_eq!(steps[1].achieved_rate(phase), 100.0);
    let p50 = |i: usize| crate::support::ms(stats[i].latency_us.value_at_quantile(0.5));
    assert!(
        (50.0..100.0).contains(&p50(0)),
        "step 1 waits 50 ms: p50 {} ms",
        p50(0)
    );
    assert!(p50(1) < 20.0, "step 2 is fast: p50 {} ms", p50(1));
    // Disjoint: every request of step 1 took its 50 ms, and the phase's
    // median (of 150, 100 of them fast) says nothing of step 1.
    assert!(crate::support::ms(stats[0].latency_us.min()) >= 50.0);
    assert!(crate::support::ms(phase.total.unpack().latency_us.value_at_quantile(0.5)) < 20.0);
    assert_eq!((steps[0].failed, steps[1].failed), (0, 0));
}

/// Five 200 ms steps of 100/s against one connection and a 100 ms server:
/// the connection sends about 10 of the 100 due, the first ones; the
/// later steps' rows say their requests were dropped, and the steps' due
/// and dropped add up to the phase's schedule line.
#[test]
fn an_overloaded_step_says_what_it_dropped() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::delayed(200, Duration::from_millis(100)));
    let mut plan = slogate::cli::hit_plan::plan(&hit_args(&[&server.url("/"), "-c", "1"])).unwrap();
    let rate = |r| Rate::per_second(r).unwrap();
    let step = || Segment::constant(rate(100.0), Duration::from_millis(200));
    plan.phases[0].model = Model::Open(Arrivals::new(vec![step(), step(), step(), step(), step()]));
    plan.phases[0].max_requests = None;
    plan.phases[0].duration = Some(Duration::from_secs(1));
    let results = engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).unwrap();
    let phase = &results.phases[0];
    let open = phase.open.as_ref().unwrap();
    assert_eq!(open.due, 100);
    assert!(open.dropped >= 80, "dropped {}", open.dropped);
    let schedules: Vec<_> = phase.steps.iter().map(|s| s.schedule.unwrap()).collect();
    assert_eq!(schedules.len(), 5);
    assert!(
        schedules.iter().all(|s| s.due == 20 && !s.past_cap),
        "{schedules:?}"
    );
    assert_eq!(schedules.iter().map(|s| s.due).sum::<u64>(), open.due);
    assert_eq!(
        schedules.iter().map(|s| s.dropped).sum::<u64>(),
        open.dropped
    );
    // Requests are claimed in due order: the last step got none sent.
    assert_eq!(schedules[4].dropped, 20);
    assert_eq!(phase.steps[4].total.requests, 0);
    for (step, schedule) in phase.steps.iter().zip(&schedules) {
        assert_eq!(step.total.requests + schedule.dropped, schedule.due);
    }
}

/// A phase's `requests: 30` cap over five steps of 20 due each: the first
/// step is whole, the second has the cap's last 10, the rest were never
/// reached (due 0, past the cap) rather than fallen behind.
#[test]
fn steps_past_the_requests_cap_are_not_reached() {
    let _serial = crate::support::serial();
    let server = Server::start(|_| Reply::status(200));
    let mut plan = slogate::cli::hit_plan::plan(&hit_args(&[&server.url("/"), "-c", "4"])).unwrap();
    let rate = |r| Rate::per_second(r).unwrap();
    let step = || Segment::constant(rate(100.0), Duration::from_millis(200));
    plan.phases[0].model = Model::Open(Arrivals::new(vec![step(), step(), step(), step(), step()]));
    plan.phases[0].max_requests = Some(30);
    plan.phases[0].duration = Some(Duration::from_secs(1));
    let results = engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).unwrap();
    let phase = &results.phases[0];
    let open = phase.open.as_ref().unwrap();
    assert_eq!((open.due, open.dropped), (30, 0));
    let schedules: Vec<_> = phase.steps.iter().map(|s| s.schedule.unwrap()).collect();
    let due: Vec<u64> = schedules.iter().map(|s| s.due).collect();
    assert_eq!(due, vec![20, 10, 0, 0, 0]);
    let past: Vec<bool> = schedules.iter().map(|s| s.past_cap).collect();
    assert_eq!(past, vec![false, true, true, true, true]);
    assert!(schedules.iter().all(|s| s.dropped == 0), "{schedules:?}");
    assert_eq!(phase.total.requests, 30);
}
