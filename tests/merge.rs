//! `run --shard i/N` and `slogate merge`: three shards run side by side
//! against a deterministic server (each request's delay is its CSV row's)
//! merge to the percentiles of one run of the whole load, with the
//! client-side expectations and SLOs judged again on the merged data; bad
//! merges and splits are refused with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::server::{Reply, Server};
use crate::support::{self, assert_exit};

/// 60 requests, one per CSV row; row k asks for a delay of 5·k ms.
const SCENARIO: &str = r#"
name: sharded
targets:
  api: "URL"
data:
  delays: {csv: delays.csv, order: sequential}
requests:
  - {name: delayed, url: "${api}/delay/{{ csv delays.ms }}"}
phases:
  - name: all
    requests: 60
    load: {concurrency: 6}
expect:
  - requests >= 60
  - latency p50 < 1s
slos:
  - name: fast
    objective: 50%
    sli: {client: latency < 150ms}
"#;

fn slogate(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slogate"));
    command.args(args);
    command
}

fn run(scenario: &Path, out: &Path, shard: Option<&str>) -> Command {
    let mut command = slogate(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-progress",
    ]);
    if let Some(shard) = shard {
        command.args(["--shard", shard]);
    }
    command
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn setup() -> (tempfile::TempDir, Server, PathBuf) {
    let server = Server::start(|call| {
        let ms: u64 = call
            .path
            .strip_prefix("/delay/")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0);
        Reply::delayed(200, Duration::from_millis(ms))
    });
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (1..=60).map(|k| format!("{}\n", 5 * k)).collect();
    std::fs::write(dir.path().join("delays.csv"), format!("ms\n{rows}")).unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, SCENARIO.replace("URL", &server.url(""))).unwrap();
    (dir, server, scenario)
}

fn ok(output: &Output, code: i32) -> String {
    assert_exit(output, code);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn three_shards_merge_to_the_percentiles_of_one_run() {
    let _serial = support::serial();
    let (dir, _server, scenario) = setup();
    let whole = dir.path().join("whole");
    ok(&run(&scenario, &whole, None).output().unwrap(), 0);

    // The shards run at the same time, as the pods of a Job would.
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| dir.path().join(format!("shard{i}")))
        .collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, out)| {
            run(&scenario, out, Some(&format!("{}/3", i + 1)))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        // Each shard sent its third: `requests >= 60` fails there.
        let text = ok(&output, 1);
        assert!(text.contains("requests >= 60"), "shard {}: {text}", i + 1);
        let s = summary(&shards[i]);
        assert_eq!(s["run"]["requests"], 20);
        assert_eq!(s["shard"], serde_json::json!({"index": i + 1, "count": 3}));
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["--out".into(), merged.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = ok(&slogate(&args).output().unwrap(), 0);
    assert!(
        text.contains("merged 3 results directories (shard 1/3, shard 2/3, shard 3/3)"),
        "{text}"
    );

    let (one, all) = (summary(&whole), summary(&merged));
    assert_eq!(all["run"]["requests"], 60);
    assert_eq!(all["run"]["status_codes"], serde_json::json!({"200": 60}));
    assert_eq!(all["merged_from"].as_array().unwrap().len(), 3);
    assert!(all.get("shard").is_none());
    support::check_schema(&all, include_str!("../reports/run.schema.json"));
    let timeline: u64 = all["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(timeline, 60);
    // Delays 5 ms apart: the same percentiles to within the scheduling noise
    // of a shared machine (2 ms) and HdrHistogram's precision (0.1 %).
    for stat in ["p50", "p90", "p95", "p99", "max"] {
        let a = one["run"]["latency_ms"][stat].as_f64().unwrap();
        let b = all["run"]["latency_ms"][stat].as_f64().unwrap();
        eprintln!("{stat}: one run {a:.3} ms, three shards merged {b:.3} ms");
        assert!(
            (a - b).abs() <= 2.0 + a * 0.001,
            "{stat}: one run {a} ms, merged {b} ms"
        );
    }
    // Judged again on the merged data: every check passes, as in one run.
    let rows = support::checks(&merged);
    assert_eq!(support::outcome_of(&rows, "requests >= 60").1, "PASS");
    assert_eq!(support::outcome_of(&rows, "requests >= 60").3, "60");
    // The client latency SLO counts good events per second across shards:
    // rows 1..=29 (5..145 ms) are under 150 ms in every run.
    let slos = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("slos.json")).unwrap()).unwrap()
    };
    let (a, b) = (slos(&whole), slos(&merged));
    assert_eq!(a[0]["total"], 60.0, "{a}");
    assert_eq!(a[0]["bad"], 31.0, "{a}");
    assert_eq!(b[0]["total"], a[0]["total"], "{b}");
    assert_eq!(b[0]["bad"], a[0]["bad"], "{b}");
    assert!(merged.join("index.html").exists());
}

#[test]
fn merges_and_splits_that_do_not_fit_are_refused() {
    let _serial = support::serial();
    let (dir, _server, scenario) = setup();
    let shard = dir.path().join("s1");
    ok(&run(&scenario, &shard, Some("1/3")).output().unwrap(), 1);
    let out = dir.path().join("m");
    let s = shard.to_str().unwrap();
    let output = slogate(&["merge", s, s, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("are both shard 1/3: its load would count twice"),
        "{stderr}"
    );

    // Six virtual users cannot be split seven ways.
    let output = run(&scenario, &dir.path().join("s7"), Some("1/7"))
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--shard 1/7: phase `all`: concurrency 6 cannot be split into 7 shards"),
        "{stderr}"
    );
    let output = run(&scenario, &dir.path().join("s0"), Some("4/3"))
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("expected i/N with 1 <= i <= N"), "{stderr}");

    // Not a results directory.
    let output = slogate(&[
        "merge",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a results directory of `slogate run`?"),
        "{stderr}"
    );
}
