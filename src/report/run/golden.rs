//! Golden tests of the text files of a results directory (`summary.md`,
//! `checks.csv`, `timeline.csv`, `junit.xml`): a run with fixed timings,
//! status codes and failures, and names that need escaping in every format,
//! rendered and compared byte for byte with `tests/golden/run/`.
//! `SLOGATE_BLESS=1 cargo test --lib golden` writes the files afresh (read
//! the diff before committing it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::{ARTIFACTS, Artifact as _, RunReport};
use crate::record::{
    ErrorKind, Outcome, Packed, PhaseResults, RequestSample, RunResults, Stats, TimelineRow,
};

const SCENARIO: &str = r#"
name: golden
targets:
  api: http://127.0.0.1:9
requests:
  - {name: home, url: "${api}/", weight: 3}
  - {name: 'search "q" | <b>, & more', url: "${api}/search", expect_status: [200, 404]}
phases:
  - name: warm
    duration: 2s
    load: {concurrency: 2}
    expect:
      - latency p95 < 50ms
      - {check: error_rate < 1%, request: home}
      - {check: latency p99 < 5ms, request: 'search "q" | <b>, & more'}
  - name: "peak | hot"
    duration: 2s
    load: {steps: [{rate: 5/s, duration: 1s}, {rate: 15/s, duration: 1s}]}
    expect:
      - error_rate < 1%
      - latency p99 < 20ms
expect:
  - requests >= 30
  - throughput >= 100/s
"#;

/// A request to `endpoint` that waited `wait_ms` to be sent and took
/// `service_ms`.
fn sample(endpoint: usize, outcome: Outcome, wait_ms: u64, service_ms: u64) -> RequestSample {
    let intended = Instant::now();
    let started = intended + Duration::from_millis(wait_ms);
    RequestSample {
        endpoint,
        intended,
        started,
        ended: started + Duration::from_millis(service_ms),
        outcome,
        bytes_received: 120,
    }
}

fn phase(
    name: &str,
    start_s: u64,
    samples: &[RequestSample],
    open: Option<crate::record::OpenModelStats>,
) -> PhaseResults {
    let mut per_endpoint = [Stats::default(), Stats::default()];
    let mut total = Stats::default();
    for s in samples {
        per_endpoint[s.endpoint].record(s);
        total.record(s);
    }
    PhaseResults {
        name: name.into(),
        per_endpoint: per_endpoint.iter().map(Packed::pack).collect(),
        total: Packed::pack(&total),
        start_offset: Duration::from_secs(start_s),
        elapsed: Duration::from_secs(2),
        scheduled: Some(Duration::from_secs(2)),
        cut_short: false,
        connections: 2,
        think: None,
        open,
        steps: Vec::new(),
    }
}

fn row(second: u64, endpoint: usize, requests: u64, ok: u64, p99: f64) -> TimelineRow {
    let mut errors = [0; ErrorKind::COUNT];
    errors[ErrorKind::ConnectionReset.index()] = requests - ok;
    TimelineRow {
        second,
        endpoint,
        requests,
        ok,
        status_classes: [0, ok, 0, 0, 0],
        errors,
        p50_ms: Some(p99 / 4.0),
        p95_ms: Some(p99 / 2.0),
        p99_ms: Some(p99),
        service_p50_ms: Some(p99 / 8.0),
        service_p95_ms: Some(p99 / 4.0),
        service_p99_ms: Some(p99 / 2.0),
        under: Vec::new(),
        buckets: None,
    }
}

/// [`SCENARIO`] with names a user, a data file or a target could choose to
/// attack each format: a spreadsheet formula, Markdown links and images,
/// terminal escapes (ANSI colour, OSC window title, bell).
fn hostile() -> String {
    SCENARIO
        .replace("name: golden", r#"name: "hostile \e[31m""#)
        .replace(
            r#"'search "q" | <b>, & more'"#,
            r#""=cmd|' /C calc'!A0 [l](javascript:alert(1))""#,
        )
        .replace("name: warm", r#"name: "![x](https://evil.example/p.png)""#)
        .replace(r#""peak | hot""#, r#""\e]0;pwned\a`x`""#)
}

/// The report of a made-up run of [`SCENARIO`]: every number fixed;
/// `slower_ms` is added to every service time.
fn report(slower_ms: u64) -> RunReport {
    report_of(SCENARIO, slower_ms)
}

/// [`report`] of another scenario of the same shape (two requests, two
/// phases, the same checks).
fn report_of(source: &str, slower_ms: u64) -> RunReport {
    let scenario = crate::scenario::resolve(Path::new("golden.yaml"), source, &|_| None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let names: Vec<String> = scenario.phases.iter().map(|p| p.name.clone()).collect();
    let ok = Outcome::Response { status: 200 };
    let mut warm = Vec::new();
    for i in 0..18 {
        warm.push(sample(0, ok, 0, 2 + i + slower_ms));
    }
    warm.push(sample(1, Outcome::Response { status: 404 }, 0, 7));
    warm.push(sample(1, Outcome::Error(ErrorKind::ConnectionReset), 0, 1));
    let mut peak = Vec::new();
    for i in 0..12 {
        peak.push(sample(0, ok, i, 3 + slower_ms));
    }
    peak.push(sample(1, Outcome::Response { status: 500 }, 0, 40));
    let mut peak_phase = phase(
        &names[1],
        2,
        &peak,
        Some(crate::record::OpenModelStats {
            target_rate: crate::units::Rate::per_second(10.0).expect("a rate"),
            due: 20,
            started: 13,
            dropped: 7,
        }),
    );
    // Its steps: the first five requests were due in the first, the rest
    // (the 500 among them, a failure) in the second.
    let rate = |r: f64| crate::units::Rate::per_second(r).expect("a rate");
    // Of the phase's 20 due, 5 were due in the first and all started; its
    // 7 dropped were all of the second's 15.
    peak_phase.steps = [
        (0, 5.0, &peak[..5], 0, (5, 0)),
        (1, 15.0, &peak[5..], 1, (15, 7)),
    ]
    .into_iter()
    .map(|(start_s, target, samples, failed, (due, dropped))| {
        let mut total = Stats::default();
        for s in samples {
            total.record(s);
        }
        crate::record::StepResults {
            start: Duration::from_secs(start_s),
            scheduled: Duration::from_secs(1),
            from: rate(target),
            to: rate(target),
            total: Packed::pack(&total),
            failed,
            schedule: Some(crate::record::StepSchedule {
                due,
                dropped,
                past_cap: false,
            }),
        }
    })
    .collect();
    let phases = vec![phase(&names[0], 0, &warm, None), peak_phase];
    let mut per_endpoint = vec![Stats::default(), Stats::default()];
    let mut total = Stats::default();
    for p in &phases {
        for (sum, s) in per_endpoint.iter_mut().zip(&p.per_endpoint) {
            sum.merge(&s.unpack());
        }
        total.merge(&p.total.unpack());
    }
    let results = RunResults {
        endpoint_names: scenario.requests.iter().map(|r| r.name.clone()).collect(),
        endpoint_origins: vec!["http://127.0.0.1:9".into(); 2],
        per_endpoint,
        total,
        timeline: vec![
            row(0, 0, 9, 9, 12.0),
            row(0, 1, 1, 1, 7.0),
            row(1, 0, 9, 9, 19.0),
            row(1, 1, 1, 0, 1.0),
            row(2, 0, 6, 6, 3.0),
            row(3, 0, 6, 6, 14.0),
            row(3, 1, 1, 1, 40.0),
        ],
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        elapsed: Duration::from_secs(4),
        connections: 2,
        open: None,
        interrupted: false,
        aborted: None,
        phases,
        flows: Vec::new(),
        checks: Vec::new(),
    };
    let verdicts = crate::judge::client(&scenario, &results);
    RunReport::new(&scenario, &results, verdicts)
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/run")
}

#[test]
fn text_reports_match_their_golden_files() {
    assert_golden(&report(0), &golden_dir(), false);
}

/// Hostile names come out inert in every text file and on the terminal:
/// formulas quoted in CSV, links and images escaped in Markdown, escapes
/// entities in XML, control characters shown as `\x1b` on the terminal.
#[test]
fn hostile_names_are_escaped_in_every_text_report() {
    let report = report_of(&hostile(), 0);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hostile");
    assert_golden(&report, &dir, true);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("golden file");
    // The request name is a cell of its own in timeline.csv: quoted. In
    // checks.csv it is inside the scope cell, which starts with `phase`.
    assert!(read("timeline.csv").contains(",'=cmd|' /C calc'!A0"));
    for name in ["timeline.csv", "checks.csv"] {
        let text = read(name);
        assert!(
            !text.contains(",=") && !text.contains(",\"="),
            "{name}: {text}"
        );
    }
    let markdown = read("summary.md");
    assert!(
        !markdown.contains("](") && !markdown.contains("!["),
        "{markdown}"
    );
    for name in ["summary.md", "junit.xml", "terminal.txt"] {
        assert!(!read(name).contains('\u{1b}'), "{name} has a raw ESC");
        assert!(!read(name).contains('\u{7}'), "{name} has a raw BEL");
    }
    assert!(read("terminal.txt").contains("\\x1b]0;pwned\\x07"));
}

/// Compares every text artifact of `report` (and, with `terminal`, the
/// terminal report as `terminal.txt`) with the files in `dir`.
fn assert_golden(report: &RunReport, dir: &Path, terminal: bool) {
    let bless = std::env::var_os("SLOGATE_BLESS").is_some();
    let mut differ = Vec::new();
    let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
    let files = super::Contents::of(report);
    for artifact in ARTIFACTS.iter().filter(|a| a.present(&files)) {
        let name = artifact.file_name();
        // summary.json holds compressed histograms; its schema test covers it.
        if name.ends_with(".json") {
            continue;
        }
        let mut written = Vec::new();
        artifact.write(&files, &mut written).expect("renders");
        outputs.push((name, written));
    }
    if terminal {
        let mut written = Vec::new();
        super::write_terminal(report, &mut written).expect("renders");
        outputs.push(("terminal.txt", written));
    }
    for (name, written) in outputs {
        let written = String::from_utf8(written).expect("UTF-8");
        let path = dir.join(name);
        if bless {
            std::fs::create_dir_all(dir).expect("golden dir");
            std::fs::write(&path, &written).expect("golden file");
            continue;
        }
        let golden = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (SLOGATE_BLESS=1 writes it)", path.display()));
        if golden != written {
            differ.push(format!(
                "{name} differs from {}:\n--- golden\n{golden}\n--- now\n{written}",
                path.display()
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// `compare.md` of the run against itself made 5 ms slower: the same
/// layout, escaping and judgement every time.
#[test]
fn compare_markdown_matches_its_golden_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = |name: &str, report: &RunReport| {
        let path = dir.path().join(name);
        std::fs::create_dir(&path).expect("dir");
        let mut json = Vec::new();
        super::summary_json::SummaryJson
            .write(&super::Contents::of(report), &mut json)
            .expect("renders");
        std::fs::write(path.join("summary.json"), json).expect("written");
        super::saved::Saved::read(&path).expect("reads back")
    };
    let (base, new) = (saved("base", &report(0)), saved("new", &report(5)));
    let limits =
        crate::judge::compare::Limits::parse("p95=10%,p99=20%,error_rate=0.5pp,throughput=5%")
            .expect("limits");
    let comparison = crate::judge::compare::compare(
        &base.summary,
        &new.summary,
        &limits,
        Duration::from_millis(1),
    )
    .expect("comparable");
    let written = crate::report::compare::markdown(
        Path::new("base/"),
        Path::new("new/"),
        "golden",
        &comparison,
    );
    let path = golden_dir().join("compare.md");
    if std::env::var_os("SLOGATE_BLESS").is_some() {
        std::fs::write(&path, &written).expect("golden file");
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SLOGATE_BLESS=1 writes it)", path.display()));
    assert_eq!(
        golden,
        written,
        "compare.md differs from {}",
        path.display()
    );
}

/// A step's results read back from `summary.json` as they were (so
/// `merge` adds shards' steps), and a summary written before steps were
/// reported still reads, with none.
#[test]
fn steps_read_back_and_older_summaries_still_load() {
    let report = report(0);
    let mut json = Vec::new();
    super::summary_json::SummaryJson
        .write(&super::Contents::of(&report), &mut json)
        .expect("renders");
    let mut value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    let read = |value: &serde_json::Value| {
        let summary: super::saved::SavedSummary =
            serde::Deserialize::deserialize(value).expect("reads");
        RunResults::from_saved(&summary).expect("measurements")
    };
    let results = read(&value);
    let steps = &results.phases[1].steps;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].start, Duration::from_secs(1));
    assert_eq!(steps[1].scheduled, Duration::from_secs(1));
    assert_eq!(steps[1].from.as_per_second(), 15.0);
    assert_eq!((steps[0].failed, steps[1].failed), (0, 1));
    let second = steps[1].total.unpack();
    assert_eq!(second.requests, 8);
    assert_eq!(second.latency_us.max() / 1000, 40);
    assert!(results.phases[0].steps.is_empty());
    // Their schedule too: the steps' due and dropped add up to the phase's.
    let schedules: Vec<_> = steps.iter().map(|s| s.schedule.expect("saved")).collect();
    assert_eq!((schedules[1].due, schedules[1].dropped), (15, 7));
    let open = results.phases[1].open.as_ref().expect("open");
    assert_eq!(schedules.iter().map(|s| s.due).sum::<u64>(), open.due);
    assert_eq!(
        schedules.iter().map(|s| s.dropped).sum::<u64>(),
        open.dropped
    );

    // A summary whose steps predate due and dropped reads them as unknown.
    for step in value["phases"][1]["steps"].as_array_mut().expect("steps") {
        let step = step.as_object_mut().expect("a step");
        step.remove("due");
        step.remove("dropped");
    }
    let before = read(&value);
    assert_eq!(before.phases[1].steps.len(), 2);
    assert!(before.phases[1].steps.iter().all(|s| s.schedule.is_none()));

    for phase in value["phases"].as_array_mut().expect("phases") {
        phase.as_object_mut().expect("a phase").remove("steps");
    }
    let older = read(&value);
    assert!(older.phases.iter().all(|p| p.steps.is_empty()));
    assert_eq!(older.phases[1].total.requests, 13);
}

/// Shards of a `steps:` phase merge only when their steps are the same:
/// a step of another length refuses, as fewer steps does unless that
/// shard's phase was cut short (then they are a prefix and fit).
#[test]
fn shards_merge_only_with_the_same_steps() {
    let mut json = Vec::new();
    super::summary_json::SummaryJson
        .write(&super::Contents::of(&report(0)), &mut json)
        .expect("renders");
    let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    let read = |value: &serde_json::Value| -> super::saved::SavedSummary {
        serde::Deserialize::deserialize(value).expect("reads")
    };
    let agree = |other: &serde_json::Value| {
        let (a, b) = (read(&value), read(other));
        super::shards::agree(&[(Path::new("a"), &a), (Path::new("b"), &b)])
            .map_err(|e| e.to_string())
    };
    assert!(agree(&value).is_ok());

    let mut longer = value.clone();
    longer["phases"][1]["steps"][1]["scheduled_s"] = serde_json::json!(2.0);
    let error = agree(&longer).expect_err("another length");
    assert!(
        error.contains("phase `peak | hot`: a and b ran different steps: step 2 lasts 1s in the first, 2s in the other"),
        "{error}"
    );

    let mut later = value.clone();
    let start = later["phases"][1]["steps"][1]["start_s"]
        .as_f64()
        .expect("a start");
    later["phases"][1]["steps"][1]["start_s"] = serde_json::json!(start + 0.5);
    let error = agree(&later).expect_err("another start");
    assert!(
        error.contains("step 2 starts 1s into the phase in the first, 1.5s in the other"),
        "{error}"
    );

    let mut fewer = value.clone();
    fewer["phases"][1]["steps"]
        .as_array_mut()
        .expect("steps")
        .pop();
    fewer["phases"][1]["cut_short"] = serde_json::json!(false);
    let error = agree(&fewer).expect_err("fewer steps, run to its end");
    assert!(
        error.contains("the first has 2 steps, the other 1"),
        "{error}"
    );
    fewer["phases"][1]["cut_short"] = serde_json::json!(true);
    assert!(agree(&fewer).is_ok(), "a shard stopped early ran a prefix");
}

const FLOW_SCENARIO: &str = r#"
name: golden-flow
targets:
  api: http://127.0.0.1:9
flows:
  - name: checkout
    setup:
      - name: login
        method: POST
        url: "${api}/login"
        capture: {token: {json: "$.token"}}
        check: [{status: 200}]
    steps:
      - name: cart
        url: "${api}/cart"
        headers: {Authorization: "Bearer {{ token }}"}
        check: [{json: "$.items", length: 2}]
      - name: pay
        method: POST
        url: "${api}/pay"
        check:
          - {status: 201}
          - {body_contains: paid, name: "pay | says <paid>"}
phases:
  - name: shop
    duration: 2s
    load: {concurrency: 2}
    expect:
      - {check: latency p95 < 50ms, flow: checkout, step: pay}
expect:
  - checks passed >= 99%
  - {check: error_rate < 20%, flow: checkout}
"#;

/// A made-up run of [`FLOW_SCENARIO`]: two users logged in once, ten
/// iterations, one of which paid with the wrong body.
fn flow_report() -> RunReport {
    let scenario =
        crate::scenario::resolve(Path::new("golden-flow.yaml"), FLOW_SCENARIO, &|_| None)
            .unwrap_or_else(|e| panic!("{e:?}"));
    let ok = Outcome::Response { status: 200 };
    let created = Outcome::Response { status: 201 };
    let mut samples = vec![sample(0, ok, 0, 4), sample(0, ok, 0, 5)];
    for i in 0..10 {
        samples.push(sample(1, ok, 0, 2 + i));
        let paid = if i == 7 {
            Outcome::Error(ErrorKind::CheckFailed)
        } else {
            created
        };
        samples.push(sample(2, paid, 0, 10 + i));
    }
    let mut per_endpoint = vec![Stats::default(); 3];
    let mut total = Stats::default();
    for s in &samples {
        per_endpoint[s.endpoint].record(s);
        // Setup's requests are not the phase's.
        if s.endpoint != 0 {
            total.record(s);
        }
    }
    let mut iterations = Stats::default();
    for i in 0..10 {
        iterations.record(&sample(
            0,
            if i == 7 {
                Outcome::Error(ErrorKind::CheckFailed)
            } else {
                created
            },
            0,
            14 + 2 * i,
        ));
    }
    let check = |step: &str, name: &str, passed, failed| crate::record::CheckResults {
        flow: "checkout".into(),
        step: format!("checkout/{step}"),
        name: name.into(),
        passed,
        failed,
    };
    let results = RunResults {
        endpoint_names: ["login", "cart", "pay"]
            .map(|s| format!("checkout/{s}"))
            .to_vec(),
        endpoint_origins: vec!["http://127.0.0.1:9".into(); 3],
        per_endpoint: per_endpoint.clone(),
        total: total.clone(),
        timeline: vec![
            row(0, 1, 5, 5, 6.0),
            row(0, 2, 5, 5, 14.0),
            row(1, 2, 5, 4, 19.0),
        ],
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        elapsed: Duration::from_secs(2),
        connections: 2,
        open: None,
        interrupted: false,
        aborted: None,
        phases: vec![PhaseResults {
            name: "shop".into(),
            per_endpoint: per_endpoint.iter().map(Packed::pack).collect(),
            total: Packed::pack(&total),
            start_offset: Duration::ZERO,
            elapsed: Duration::from_secs(2),
            scheduled: Some(Duration::from_secs(2)),
            cut_short: false,
            connections: 2,
            think: None,
            open: None,
            steps: Vec::new(),
        }],
        flows: vec![crate::record::FlowResults {
            name: "checkout".into(),
            around: None,
            totals: crate::record::FlowTotals {
                iterations,
                failed: 1,
                setups: 2,
                setups_failed: 0,
            },
        }],
        checks: vec![
            check("login", "status 200", 2, 0),
            check("cart", "$.items length 2", 10, 0),
            check("pay", "status 201", 10, 0),
            check("pay", "pay | says <paid>", 9, 1),
        ],
    };
    let verdicts = crate::judge::client(&scenario, &results);
    RunReport::new(&scenario, &results, verdicts)
}

/// A flow run's text files: its flow, steps (setup apart) and checks in
/// `summary.md`, `flows.csv`, `junit.xml` and on the terminal.
#[test]
fn a_flow_run_matches_its_golden_files() {
    let report = flow_report();
    // The expectations saw what the checks counted.
    let outcomes: Vec<_> = report
        .checks
        .iter()
        .map(|c| (c.check.clone(), c.outcome.label()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("latency p95 < 50ms".to_string(), "PASS"),
            ("checks passed >= 99%".to_string(), "FAIL"),
            ("error_rate < 20%".to_string(), "PASS"),
        ]
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/flow");
    assert_golden(&report, &dir, true);
}
