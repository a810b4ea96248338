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

/// Runs the scenario's `count` shards at the same time, as the pods of a
/// Job would, into `dir/shard1`, `dir/shard2`, ...; their directories and
/// what each printed.
fn run_shards(scenario: &Path, dir: &Path, count: usize) -> (Vec<PathBuf>, Vec<Output>) {
    let shards: Vec<PathBuf> = (1..=count).map(|i| dir.join(format!("shard{i}"))).collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, out)| {
            run(scenario, out, Some(&format!("{}/{count}", i + 1)))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    (shards, outputs)
}

/// `slogate merge INPUTS... --out OUT`, run to its end.
fn merge(inputs: &[&Path], out: &Path) -> Output {
    let mut args = vec!["merge"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--out", out.to_str().unwrap()]);
    slogate(&args).output().unwrap()
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

    let (shards, outputs) = run_shards(&scenario, dir.path(), 3);
    for (i, output) in outputs.into_iter().enumerate() {
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
    // The merged histogram's maximum is the shards' largest, exactly.
    let shard_max = shards
        .iter()
        .map(|s| summary(s)["run"]["latency_ms"]["max"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(all["run"]["latency_ms"]["max"].as_f64().unwrap(), shard_max);
    // Delays 5 ms apart: the same percentiles as one run to within two of
    // those steps (a busy shared machine once put one run's p99 4.1 ms off)
    // and HdrHistogram's precision (0.1 %).
    for stat in ["p50", "p90", "p95", "p99", "max"] {
        let a = one["run"]["latency_ms"][stat].as_f64().unwrap();
        let b = all["run"]["latency_ms"][stat].as_f64().unwrap();
        eprintln!("{stat}: one run {a:.3} ms, three shards merged {b:.3} ms");
        assert!(
            (a - b).abs() <= 10.0 + a * 0.001,
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
    // The page says what it is and how it was made.
    let page = std::fs::read_to_string(merged.join("index.html")).unwrap();
    assert!(page.contains(" · 3 shards merged"), "no merge mark");
    // The shards' command, then the merge as it was typed.
    let at = page
        .find("--shard i/3 --out DIR\n# then\n")
        .expect("no shard command");
    let merge_line = page[at..].lines().nth(2).unwrap_or_default();
    assert!(
        merge_line.contains("slogate merge ") && merge_line.contains(" --out "),
        "{merge_line}"
    );
}

/// A `steps:` phase's steps merge as its totals do: counts, rates and
/// histograms added, step by step.
#[test]
fn the_steps_of_shards_merge_step_by_step() {
    let _serial = support::serial();
    // Requests alternate between 1 ms and 20 ms answers, so each step's
    // histogram has a spread to merge.
    let server =
        Server::start(|call| Reply::delayed(200, Duration::from_millis(1 + 19 * (call.index % 2))));
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name: stepped
targets:
  api: "{}"
requests:
  - {{name: x, url: "${{api}}/x"}}
phases:
  - name: stairs
    load: {{steps: [{{rate: 20/s, duration: 1s}}, {{rate: 40/s, duration: 1s}}]}}
"#,
            server.url("")
        ),
    )
    .unwrap();
    let (shards, outputs) = run_shards(&scenario, dir.path(), 2);
    for output in &outputs {
        ok(output, 0);
    }
    let merged = dir.path().join("merged");
    ok(&merge(&[&shards[0], &shards[1]], &merged), 0);
    let all = summary(&merged);
    support::check_schema(&all, include_str!("../reports/run.schema.json"));
    let parts: Vec<serde_json::Value> = shards.iter().map(|s| summary(s)).collect();
    let step = |s: &serde_json::Value, i: usize, key: &str| s["phases"][0]["steps"][i][key].clone();
    for (i, (requests, rate)) in [(20, 20.0), (40, 40.0)].into_iter().enumerate() {
        // Each shard sent half of each step.
        for part in &parts {
            assert_eq!(step(part, i, "requests"), requests / 2);
            assert_eq!(step(part, i, "target_rate"), rate / 2.0);
        }
        assert_eq!(step(&all, i, "requests"), requests);
        assert_eq!(step(&all, i, "target_rate"), rate);
        assert_eq!(step(&all, i, "requests_per_second"), rate);
        let latency = step(&all, i, "latency_ms");
        assert_eq!(latency["count"], requests);
        // The merged histogram's extremes are the shards' own, exactly.
        let shards_max = parts
            .iter()
            .map(|p| step(p, i, "latency_ms")["max"].as_f64().unwrap())
            .fold(f64::MIN, f64::max);
        let shards_min = parts
            .iter()
            .map(|p| step(p, i, "latency_ms")["min"].as_f64().unwrap())
            .fold(f64::MAX, f64::min);
        assert_eq!(latency["max"].as_f64().unwrap(), shards_max);
        assert_eq!(latency["min"].as_f64().unwrap(), shards_min);
    }
    let markdown = std::fs::read_to_string(merged.join("summary.md")).unwrap();
    assert!(
        markdown.contains("| ↳ step 2 (1s) (40 due) | 40/s | 40 | 40.0 | 0 |"),
        "{markdown}"
    );
    // Each step's due and dropped add up over the shards, as the phase's.
    for i in 0..2 {
        let sum = |key: &str| {
            parts
                .iter()
                .map(|p| step(p, i, key).as_u64().unwrap())
                .sum::<u64>()
        };
        assert_eq!(step(&all, i, "due").as_u64(), Some(sum("due")));
        assert_eq!(step(&all, i, "dropped").as_u64(), Some(sum("dropped")));
    }
    assert_eq!(step(&all, 1, "due"), 40);
}

/// Shards of two schedules under one scenario name do not merge: the
/// error names the phase and the first step that differs.
#[test]
fn shards_whose_steps_differ_are_refused() {
    let _serial = support::serial();
    let server = Server::start(|_| Reply::status(200));
    let dir = tempfile::tempdir().unwrap();
    let scenario = |file: &str, steps: &str| {
        let path = dir.path().join(file);
        let text = format!(
            "name: stepped\ntargets:\n  api: \"{}\"\nrequests:\n  - {{name: x, url: \"${{api}}/x\"}}\nphases:\n  - name: stairs\n    load: {{steps: [{steps}]}}\n",
            server.url("")
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let step = |ms: u32| format!("{{rate: 20/s, duration: {ms}ms}}");
    let two = scenario("two.yaml", &[step(300), step(300)].join(", "));
    let shorter = scenario("shorter.yaml", &[step(300), step(200)].join(", "));
    let three = scenario("three.yaml", &[step(300), step(300), step(300)].join(", "));
    let shard = |scenario: &Path, name: &str, shard: &str| {
        let out = dir.path().join(name);
        ok(&run(scenario, &out, Some(shard)).output().unwrap(), 0);
        out
    };
    let first = shard(&two, "two", "1/2");
    let refused = |other: &Path| {
        let out = dir.path().join("merged");
        let output = merge(&[&first, other], &out);
        assert_exit(&output, 2);
        assert!(!out.exists(), "nothing merged");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = refused(&shard(&shorter, "shorter", "2/2"));
    assert!(
        stderr.contains("phase `stairs`:")
            && stderr.contains("step 2 lasts 0.3s in the first, 0.2s in the other"),
        "{stderr}"
    );
    // Three steps against two, neither shard stopped early.
    let stderr = refused(&shard(&three, "three", "2/2"));
    assert!(
        stderr.contains("phase `stairs`:")
            && stderr.contains("the first has 2 steps, the other 3")
            && stderr.contains("step 3 is in one only"),
        "{stderr}"
    );
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

    // Merging into a shard would overwrite it.
    let output = slogate(&["merge", s, "--out", s]).output().unwrap();
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is one of the shards: merge into a new directory"),
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

/// The YAML documents of a manifest file.
fn manifest(path: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    text.split("\n---\n")
        .map(|doc| serde_saphyr::from_str(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn of_kind<'a>(docs: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// The container's shell script and environment.
fn script(job: &serde_json::Value) -> (String, Vec<(String, String)>) {
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    let env = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (container["args"][0].as_str().unwrap().to_string(), env)
}

/// ci/k8s as a cluster would run it, each pod's script run here with the
/// environment Kubernetes gives it (JOB_COMPLETION_INDEX, the manifest's
/// env), paths moved into a temporary directory and the target a demo.
#[test]
fn the_kubernetes_jobs_scripts_shard_and_merge() {
    let _serial = support::serial();
    let shards = manifest("ci/k8s/slogate-shards.yaml");
    let merge = manifest("ci/k8s/slogate-merge.yaml");
    let job = of_kind(&shards, "Job");
    let (shard_script, shard_env) = script(job);
    let count = job["spec"]["completions"].as_u64().unwrap();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["parallelism"].as_u64(), Some(count));
    assert!(
        shard_env.contains(&("SHARDS".into(), count.to_string())),
        "SHARDS must be {count}: {shard_env:?}"
    );
    let (merge_script, _) = script(of_kind(&merge, "Job"));

    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    let configmap = of_kind(&shards, "ConfigMap");
    std::fs::write(
        &scenario,
        configmap["data"]["scenario.yaml"].as_str().unwrap(),
    )
    .unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_slogate")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let pod = |script: &str, index: Option<u64>| {
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", script])
            .envs(shard_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PATH", &path)
            .env("SCENARIO", &scenario)
            .env("RESULTS", &results)
            .env("SLOGATE_TARGET", demo.url())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(index) = index {
            command.env("JOB_COMPLETION_INDEX", index.to_string());
        }
        command.spawn().unwrap()
    };
    let pods: Vec<_> = (0..count).map(|i| pod(&shard_script, Some(i))).collect();
    for (i, pod) in pods.into_iter().enumerate() {
        let output = pod.wait_with_output().unwrap();
        // The pod succeeds although its third of the throughput failed.
        assert_exit(&output, 0);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("FAIL     throughput >= 140/s"),
            "pod {i}: {text}"
        );
        let s = summary(&results.join(format!("shard-{i}")));
        assert_eq!(s["shard"]["index"], i + 1);
    }
    let output = pod(&merge_script, None).wait_with_output().unwrap();
    let text = ok(&output, 0);
    assert!(text.contains("PASS     throughput >= 140/s"), "{text}");
    // summary.md printed to the Job's log.
    assert!(text.contains("## slogate"), "{text}");
    let merged = summary(&results.join("merged"));
    let requests = merged["run"]["requests"].as_u64().unwrap();
    assert!((2_900..=3_000).contains(&requests), "{requests} requests");
}

/// Two shards that scraped the demo and judged a PromQL check: the merged
/// directory holds the first shard's server-side files unchanged and its
/// server-side verdict.
#[test]
fn server_side_files_and_verdicts_come_from_the_first_shard() {
    let demo = slogate::demo::Demo::start(([127, 0, 0, 1], 0).into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name: watched
targets:
  api: "{url}"
metrics:
  scrape:
    - {{url: "${{api}}/metrics", interval: 500ms, job: demo}}
requests:
  - {{name: ok, url: "${{api}}/data/process?records=10"}}
phases:
  - name: all
    duration: 2s
    load: {{concurrency: 2}}
expect:
  - requests >= 1
  - {{promql: 'up{{job="demo"}} == 1', holds: always}}
"#,
            url = demo.url()
        ),
    )
    .unwrap();
    let (shards, outputs) = run_shards(&scenario, dir.path(), 2);
    for output in &outputs {
        ok(output, 0);
    }
    let merged = dir.path().join("merged");
    let text = ok(&merge(&[&shards[0], &shards[1]], &merged), 0);
    assert!(
        text.contains(&format!("server-side checks from {}", shards[0].display())),
        "{text}"
    );
    for name in ["metrics.jsonl", "promql.json"] {
        let read = |d: &Path| std::fs::read(d.join(name)).ok();
        assert!(read(&shards[0]).is_some(), "shard 1 wrote no {name}");
        assert_eq!(read(&merged), read(&shards[0]), "{name}");
    }
    let rows = support::checks(&merged);
    assert_eq!(
        support::outcome_of(&rows, r#"up{job="demo"} == 1"#).1,
        "PASS"
    );
}

/// `{phase: {request: count}}` of a results directory's summary.
fn per_request(dir: &Path) -> std::collections::BTreeMap<String, Vec<(String, u64)>> {
    summary(dir)["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|phase| {
            let rows = support::request_rows(phase)
                .into_iter()
                .map(|(name, requests, _)| (name, requests))
                .collect();
            (phase["name"].as_str().unwrap().to_string(), rows)
        })
        .collect()
}

/// Shards of a weighted mix send what one run sends, request by request:
/// each shard takes its own positions of the weighted cycle (when each
/// started the cycle at its beginning, four shards of 8 requests 1:3 sent
/// a:4 b:4, one run a:2 b:6).
#[test]
fn shards_send_one_runs_shares_of_a_mix() {
    let _serial = support::serial();
    let server = Server::start(|_| Reply::status(200));
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name: mixed
targets:
  api: "{}"
requests:
  - {{name: a, url: "${{api}}/a", weight: 2}}
  - {{name: b, url: "${{api}}/b"}}
phases:
  - name: mix
    requests: 8
    load: {{concurrency: 4}}
    mix: [a, {{request: b, weight: 3}}]
  - name: weights
    requests: 5
    load: {{concurrency: 4}}
"#,
            server.url("")
        ),
    )
    .unwrap();
    let whole = dir.path().join("whole");
    ok(&run(&scenario, &whole, None).output().unwrap(), 0);
    let one = per_request(&whole);
    let row = |phase: &str| one[phase].clone();
    assert_eq!(row("mix"), [("a".to_string(), 2), ("b".to_string(), 6)]);
    assert_eq!(row("weights"), [("a".to_string(), 3), ("b".to_string(), 2)]);

    let (shards, outputs) = run_shards(&scenario, dir.path(), 4);
    for output in &outputs {
        ok(output, 0);
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["--out".into(), merged.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&slogate(&args).output().unwrap(), 0);
    assert_eq!(per_request(&merged), one);
}
