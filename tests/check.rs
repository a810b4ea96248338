//! Scenario validation: every malformed file under tests/scenarios/invalid
//! gives exactly the message in its `.err` file (run with SLOGATE_BLESS=1 to
//! rewrite them after a deliberate change, then review the diff), and none
//! panics. Valid shipped scenarios pass `slogate check`.

use std::path::Path;

use crate::support::slogate;

/// The environment the corpus is checked with: only what a test sets.
fn env(name: &str) -> Option<String> {
    match name {
        "SLOGATE_TEST_TOKEN" => Some("t0ken".to_string()),
        // A value that would split a request on the wire.
        "SLOGATE_TEST_CRLF" => Some("a\r\nInjected: yes".to_string()),
        _ => None,
    }
}

#[test]
fn every_malformed_scenario_gives_its_exact_message() {
    let dir = Path::new("tests/scenarios/invalid");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "the corpus holds {} files", files.len());
    let bless = std::env::var_os("SLOGATE_BLESS").is_some();
    let mut mismatches = Vec::new();
    for file in &files {
        // Read as `check` and `run` read it: a file that is not UTF-8 is
        // one of the cases.
        let errors = match slogate::scenario::read(file)
            .and_then(|source| slogate::scenario::resolve(file, &source, &env))
        {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(errors) => errors,
        };
        let got: String = errors.iter().map(|e| format!("{e}\n")).collect();
        let expected_path = file.with_extension("err");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            mismatches.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                file.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn shipped_scenarios_are_valid() {
    let mut files: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    files.sort();
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let output = slogate(&args);
    crate::support::assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Every kind of expectation counted, in the singular where there is one.
    assert!(stdout.contains("ok: scenarios/smoke.yaml (smoke: 1 phase, 2 requests, 5 expectations, 2 PromQL checks, 1 abort condition)"), "{stdout}");
    assert!(stdout.contains("ok: scenarios/gameday.yaml (gameday: 5 phases, 1 request, 1 flow (2 steps), 7 expectations, 7 alert expectations, 2 steady-state checks, 2 SLOs, 1 rule file, 1 stop condition)\n  server side: judged by slogate's embedded evaluator over its own 1 scrape (every 1s), rules evaluated every 1s unless a group sets its interval\n"), "{stdout}");
}

/// `check` says who judges: with a Prometheus, that Prometheus (slogate's
/// own scrapes beside it are not judged), and what watches the paging
/// chain; and counts notification expectations.
#[test]
fn check_says_which_backend_judges_and_counts_notifications() {
    let file = "tests/scenarios/paging.yaml";
    let output = slogate(&["check", file]);
    crate::support::assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout,
        "ok: tests/scenarios/paging.yaml (paging: 2 phases, 1 request, 1 alert expectation, 4 notification expectations, 1 rule file)\n  \
         server side: judged by the Prometheus at http://127.0.0.1:9090 (its own scrapes and rule evaluations); \
         slogate's own 1 scrape saved in metrics.jsonl, not judged; Alertmanager at http://127.0.0.1:9093 watched; \
         notifications checked at slogate's webhook receiver http://127.0.0.1:9097/\n"
    );
}

#[test]
fn check_exits_2_and_names_file_line_and_column() {
    let output = slogate(&["check", "tests/scenarios/invalid/02-unknown-phase-key.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: tests/scenarios/invalid/02-unknown-phase-key.yaml:"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `duration`?"), "{stderr}");
}

/// A request no phase sends is refused by `check` and by `run` alike, with
/// the same message, before `run` resolves its origin (which does not
/// resolve) or sends anything.
#[test]
fn check_and_run_refuse_a_request_no_phase_sends_alike() {
    let file = "tests/scenarios/invalid/123-mix-request-sent-by-no-phase.yaml";
    let out = tempfile::tempdir().unwrap();
    let check = slogate(&["check", file]);
    let run = slogate(&[
        "run",
        file,
        "--out",
        out.path().join("r").to_str().unwrap(),
        "--no-progress",
    ]);
    assert_eq!(check.status.code(), Some(2));
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("6:12: request `gone` is sent by no phase"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot resolve"), "{stderr}");
    assert_eq!(stderr, String::from_utf8_lossy(&check.stderr));
}
