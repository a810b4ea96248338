//! Test helpers: real HTTP servers on 127.0.0.1:0, and running `hit` in process.

pub mod browser;
pub mod journey;
pub mod process;
pub mod server;

use slogate::cli::{Cli, Command};
use slogate::engine::{self, RunOptions};
use slogate::record::RunResults;

/// Serializes the tests that measure time: on a 2-core machine, two load
/// runs side by side would each measure the other. Every test that runs load
/// holds this for its duration.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `slogate hit ARGS...` in process and returns what it measured.
pub fn hit(args: &[&str]) -> RunResults {
    let plan = slogate::cli::hit_plan::plan(&hit_args(args)).expect("valid arguments");
    engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).expect("the run starts")
}

/// Parses `slogate hit ARGS...` into its arguments.
pub fn hit_args(args: &[&str]) -> slogate::cli::HitArgs {
    let argv = ["slogate", "hit"].iter().chain(args).copied();
    match <Cli as clap::Parser>::try_parse_from(argv)
        .expect("arguments parse")
        .command
    {
        Command::Hit(args) => args,
        other => panic!("not a hit command: {other:?}"),
    }
}

/// Runs the slogate binary with `args` to its end.
pub fn slogate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(args)
        .output()
        .expect("slogate runs")
}

/// Runs the slogate binary with `args` in `dir`, to its end.
pub fn slogate_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("slogate runs")
}

/// An HTTP/1.0 request with a Content-Length and `headers` (`Name: value`).
pub fn http_request(method: &str, path: &str, headers: &[&str], body: &str) -> String {
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    request
}

/// A plain HTTP/1.0 exchange with extra header lines (`Name: value`);
/// returns the status and the body.
pub fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(http_request(method, path, headers, body).as_bytes())
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// Runs `program` with `args`, writing `input` to its standard input.
pub fn run_with_input(
    program: &std::path::Path,
    args: &[&str],
    input: &str,
) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Asserts a process's exit code, showing what it printed otherwise.
pub fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Milliseconds of a microsecond histogram value.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Finds an external tool the test needs. Under CI (CI=true) a missing tool
/// fails the test; elsewhere the test says how to install it and is skipped.
pub fn require_tool(name: &str, debian_package: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        let hint = format!(
            "`{name}` is missing: install it with `apt-get install {debian_package}` (.ci/run does)"
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{hint}");
        }
        eprintln!("skipped: {hint}");
    }
    found
}

/// Checks JSON against a JSON Schema of ours: every required property
/// present, no property the schema does not describe, types as declared,
/// `$ref` and `anyOf` followed. (The subset our schemas use.)
pub fn check_schema(json: &serde_json::Value, schema: &str) {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    if let Err(error) = check_against(json, &schema, &schema, "$") {
        panic!("the JSON report does not match its schema: {error}");
    }
}

fn check_against(
    value: &serde_json::Value,
    schema: &serde_json::Value,
    root: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return check_against(value, &root["$defs"][name], root, path);
    }
    if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
        let errors: Vec<String> = alternatives
            .iter()
            .filter_map(|alternative| check_against(value, alternative, root, path).err())
            .collect();
        return if errors.len() < alternatives.len() {
            Ok(())
        } else {
            Err(errors.join(" / "))
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let type_ok = types.is_empty()
        || types.contains(&actual)
        || (actual == "integer" && types.contains(&"number"));
    if !type_ok {
        return Err(format!("{path}: {actual} where the schema says {types:?}"));
    }
    if let Value::Object(map) = value {
        for required in schema["required"].as_array().into_iter().flatten() {
            let key = required.as_str().unwrap();
            if !map.contains_key(key) {
                return Err(format!("{path}: missing required `{key}`"));
            }
        }
        for (key, child) in map {
            let child_schema = schema["properties"]
                .get(key)
                .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()))
                .ok_or_else(|| format!("{path}.{key}: not in the schema"))?;
            check_against(child, child_schema, root, &format!("{path}.{key}"))?;
        }
    }
    if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            check_against(item, &schema["items"], root, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

/// Runs a scenario given as YAML text, with extra environment variables;
/// returns the temporary directory (keep it alive), the results directory
/// and what the binary did.
pub fn run_scenario(
    yaml: &str,
    env: &[(&str, String)],
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    run_scenario_with(yaml, env, &[])
}

/// [`run_scenario`] with more arguments for `slogate run`.
pub fn run_scenario_with(
    yaml: &str,
    env: &[(&str, String)],
    args: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, yaml).unwrap();
    let out = dir.path().join("out");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-progress",
        ])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    (dir, out, output)
}

/// checks.csv rows as (check, outcome, measured text, measured value).
/// `(name, requests, origin)` of each request row of a summary.json phase
/// (origin "" where the summary has none).
pub fn request_rows(phase: &serde_json::Value) -> Vec<(String, u64, String)> {
    phase["per_request"]
        .as_array()
        .expect("a phase lists its requests")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["requests"].as_u64().unwrap(),
                r["origin"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn checks(dir: &std::path::Path) -> Vec<(String, String, String, String)> {
    let mut reader = csv::Reader::from_path(dir.join("checks.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[5].to_string(),
                r[2].to_string(),
                r[3].to_string(),
            )
        })
        .collect()
}

pub fn outcome_of<'a>(
    rows: &'a [(String, String, String, String)],
    check: &str,
) -> &'a (String, String, String, String) {
    rows.iter()
        .find(|r| r.0.contains(check))
        .unwrap_or_else(|| panic!("no check with {check}: {rows:?}"))
}

/// The demo's fault knobs as it reports them (`GET /admin/faults`).
pub fn demo_knobs(demo: &slogate::demo::Demo) -> serde_json::Value {
    let (status, body) = http(demo.addr(), "GET", "/admin/faults", &[], "");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}
