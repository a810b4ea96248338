//! Rule files: every malformed file under tests/rules/invalid gives exactly
//! the message in its `.err` file (SLOGATE_BLESS=1 rewrites them) and is
//! rejected by `promtool check rules` too; the shipped rules are accepted by
//! both, with the same number of rules.

use std::path::Path;

use crate::support::{self, slogate};

#[test]
fn malformed_rule_files_are_rejected_like_promtool_does() {
    let promtool = support::require_tool("promtool", "prometheus");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml") && !is_unit_test_case(p))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{} files", files.len());
    let bless = std::env::var_os("SLOGATE_BLESS").is_some();
    let mut mismatches = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let source = std::fs::read_to_string(file).unwrap();
        // As `slogate check` reads them: no experimental PromQL enabled.
        let check = slogate::rules::ReadOptions {
            ignore_unknown: false,
            features: slogate::rules::Features::NONE,
        };
        let errors = match slogate::rules::resolve_with(relative, &source, check) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(errors) => errors,
        };
        let got: String = errors.iter().map(|e| format!("{e}\n")).collect();
        let expected_path = file.with_extension("err");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
        } else if std::fs::read_to_string(&expected_path).unwrap_or_default() != got {
            mismatches.push(format!("{}:\n{got}", file.display()));
        }
        if let Some(promtool) = &promtool {
            let output = std::process::Command::new(promtool)
                .args(["check", "rules"])
                .arg(file)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr);
            assert!(
                !output.status.success(),
                "promtool accepts {} but slogate rejects it:\n{got}",
                file.display()
            );
            assert!(text.contains("FAILED") || text.contains("error"), "{text}");
        }
    }
    assert!(
        mismatches.is_empty(),
        "messages differ:\n{}",
        mismatches.join("\n")
    );
}

/// The malformed unit-test files among tests/rules/invalid (their names
/// say `-unittest-`).
fn is_unit_test_case(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("-unittest-"))
}

/// Malformed unit-test files (bad native-histogram notation): `slogate
/// test-rules` fails each with exactly the `.err` file's text, which names
/// file:line:col and gives a hint where the fault is in the input series,
/// and promtool fails each too. `SLOGATE_BLESS=1` rewrites the `.err` files.
#[test]
fn malformed_unit_tests_fail_with_file_line_col() {
    let promtool = support::require_tool("promtool", "prometheus");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml") && is_unit_test_case(p))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{} files", files.len());
    let bless = std::env::var_os("SLOGATE_BLESS").is_some();
    let mut mismatches = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let output = support::slogate_in(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &["test-rules", relative.to_str().unwrap()],
        );
        support::assert_exit(&output, 1);
        let got = String::from_utf8_lossy(&output.stdout).to_string();
        let expected_path = file.with_extension("err");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
        } else if std::fs::read_to_string(&expected_path).unwrap_or_default() != got {
            mismatches.push(format!("{}:\n{got}", file.display()));
        }
        if let Some(promtool) = &promtool {
            let output = std::process::Command::new(promtool)
                .args(["test", "rules"])
                .arg(file)
                .output()
                .unwrap();
            assert!(
                !output.status.success(),
                "promtool passes {} but slogate fails it:\n{got}",
                file.display()
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "messages differ:\n{}",
        mismatches.join("\n")
    );
}

/// Native histograms end to end in a unit test: input series in the
/// `{{...}}` notation, recording rules that sum and scale them (stored as
/// histograms, read back with the counter-reset hint promtool's storage
/// gives), `histogram_count` of a recorded one, and an alert over
/// histogram samples whose annotations print `$value` and its fields. A
/// copy expecting the wrong hint and the wrong `$value.Sum` fails on both.
#[test]
fn test_rules_reads_and_records_native_histograms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/unit");
    let test = dir.join("native-histograms-test.yml");
    let ours = slogate(&["test-rules", test.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ours.stdout);
    support::assert_exit(&ours, 0);
    assert!(
        text.contains("SUCCESS (7 checks in 1 test groups)"),
        "{text}"
    );

    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("native-histograms.yml"),
        copy.path().join("native-histograms.yml"),
    )
    .unwrap();
    let wrong = std::fs::read_to_string(&test)
        .unwrap()
        .replace(
            "{{count:8 sum:7 counter_reset_hint:not_reset buckets:[3 4 1]}}",
            "{{count:8 sum:7 buckets:[3 4 1]}}",
        )
        .replace("4 of sum 5", "4 of sum 6");
    let wrong_test = copy.path().join("wrong-test.yml");
    std::fs::write(&wrong_test, wrong).unwrap();
    let ours = slogate(&["test-rules", wrong_test.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ours.stdout);
    support::assert_exit(&ours, 1);
    assert!(
        text.contains("got:      request_duration_seconds{instance=\"a\", job=\"api\"} {{count:8 sum:7 counter_reset_hint:not_reset buckets:[3 4 1]}}"),
        "{text}"
    );
    assert!(text.contains(r#"count="4 of sum 5""#), "{text}");
    assert_eq!(text.matches("unnamed#0:").count(), 2, "{text}");
}

/// A group's `limit`: the recording rule with more series and the alerting
/// rule with more alerts each fail their evaluation, with promtool's words
/// (Debian's promtool 2.42, where installed, prints the same two errors).
#[test]
fn test_rules_enforces_group_limit() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/unit/23-group-limit.yml");
    let ours = slogate(&["test-rules", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ours.stdout);
    support::assert_exit(&ours, 1);
    let errors = [
        "rule: job:up:sum, time: 2m, err: exceeded limit of 1 with 2 series",
        "rule: InstanceUp, time: 2m, err: exceeded limit of 1 with 2 alerts",
    ];
    for error in errors {
        assert_eq!(text.matches(error).count(), 1, "{text}");
    }
    if let Some(promtool) = support::require_tool("promtool", "prometheus") {
        let theirs = std::process::Command::new(promtool)
            .args(["test", "rules"])
            .arg(&file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&theirs.stdout).to_string()
            + &String::from_utf8_lossy(&theirs.stderr);
        assert!(!theirs.status.success(), "{said}");
        // promtool prints Go's `2m0s` for the time.
        for error in errors {
            assert!(said.contains(&error.replace("2m,", "2m0s,")), "{said}");
        }
    }
}

/// Experimental PromQL in a unit test's `expr` fails without
/// `--enable-feature`, as promtool 3's parser options make it fail, and
/// passes with it.
#[test]
fn test_rules_takes_enable_feature_as_promtool_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sorted.test.yml");
    std::fs::write(
        &file,
        "tests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"b\"}'\n        values: '1'\n      - series: 'up{job=\"a\"}'\n        values: '1'\n    promql_expr_test:\n      - expr: sort_by_label(up, \"job\")\n        eval_time: 0m\n        exp_samples:\n          - labels: 'up{job=\"a\"}'\n            value: 1\n          - labels: 'up{job=\"b\"}'\n            value: 1\n",
    )
    .unwrap();
    let without = slogate(&["test-rules", file.to_str().unwrap()]);
    support::assert_exit(&without, 1);
    let text = String::from_utf8_lossy(&without.stdout);
    assert!(
        text.contains("function \"sort_by_label\" is not enabled"),
        "{text}"
    );
    let with = slogate(&[
        "test-rules",
        "--enable-feature=promql-experimental-functions",
        file.to_str().unwrap(),
    ]);
    support::assert_exit(&with, 0);
    let unknown = slogate(&[
        "test-rules",
        "--enable-feature=anchored",
        file.to_str().unwrap(),
    ]);
    support::assert_exit(&unknown, 2);
}

/// `slogate check` and `promtool check rules` both accept a shipped rule
/// file, counting its rules alike.
fn shipped_rules_pass_both_checks(file: &str, ours: &str, promtools: &str) {
    let output = slogate(&["check", file]);
    support::assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(ours), "{stdout}");
    let Some(promtool) = support::require_tool("promtool", "prometheus") else {
        return;
    };
    let output = std::process::Command::new(promtool)
        .args(["check", "rules", file])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(promtools), "{text}");
}

#[test]
fn shipped_alert_rules_pass_both_checks() {
    shipped_rules_pass_both_checks(
        "scenarios/rules/demo-alerts.yml",
        "(rules: 3 groups, 2 recording and 5 alerting rules)",
        "SUCCESS: 7 rules found",
    );
}

#[test]
fn shipped_burn_rate_rules_pass_both_checks() {
    shipped_rules_pass_both_checks(
        "scenarios/rules/demo-slo-alerts.yml",
        "(rules: 3 groups, 8 recording and 2 alerting rules)",
        "SUCCESS: 10 rules found",
    );
}

/// The unit-test corpus (tests/rules/unit: passing and failing files,
/// alerts and expressions, chained recording rules, group order, templates,
/// gaps and staleness markers): `slogate test-rules` gives the verdict the
/// file's header states (`# Fails:` or not), and Debian's `promtool test
/// rules` gives the same one.
#[test]
fn test_rules_gives_promtools_verdicts() {
    let promtool = support::require_tool("promtool", "prometheus");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/unit");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{} files", files.len());
    let (mut passing, mut failing) = (0, 0);
    for file in &files {
        let designed_to_fail = std::fs::read_to_string(file)
            .unwrap()
            .starts_with("# Fails:");
        let ours = slogate(&["test-rules", file.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&ours.stdout);
        assert_eq!(
            ours.status.success(),
            !designed_to_fail,
            "{}:\n{text}",
            file.display()
        );
        if let Some(promtool) = &promtool {
            let theirs = std::process::Command::new(promtool)
                .args(["test", "rules"])
                .arg(file)
                .output()
                .unwrap();
            assert_eq!(
                theirs.status.success(),
                ours.status.success(),
                "{}: promtool and slogate disagree\npromtool:\n{}{}\nslogate:\n{text}",
                file.display(),
                String::from_utf8_lossy(&theirs.stdout),
                String::from_utf8_lossy(&theirs.stderr)
            );
        }
        if designed_to_fail {
            failing += 1;
        } else {
            passing += 1;
        }
    }
    assert!(
        passing >= 5 && failing >= 5,
        "{passing} pass, {failing} fail"
    );
}

/// `--junit` writes promtool 3's shape: one testsuite per file, one
/// testcase per test group, one `<failure>` element per failure.
#[test]
fn test_rules_writes_junit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/unit");
    let junit = std::env::temp_dir().join(format!("slogate-junit-{}.xml", std::process::id()));
    let output = slogate(&[
        "test-rules",
        dir.join("19-no-alert-expected.yml").to_str().unwrap(),
        dir.join("04-recording-chain.yml").to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    support::assert_exit(&output, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    std::fs::remove_file(&junit).ok();
    assert!(xml.starts_with("<testsuites><testsuite name="), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert!(
        xml.contains(r#"<testcase name="healthy traffic">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"tests="2" failures="1" errors="0" skipped="0" timestamp="20"#),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure>").count(), 1, "{xml}");
    assert!(xml.contains("firing, not expected"), "{xml}");
}

/// Template constructs of Prometheus 3 that Debian's promtool 2.42 refuses
/// (`else with`, `range` over an integer, `now`, `toDuration`,
/// `urlQueryEscape`): slogate expands them as Prometheus 3.14's source
/// does, and promtool 2.42, where installed, still refuses them.
#[test]
fn test_rules_expands_prometheus_3_templates() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/unit/templates-v3-test.yml");
    let ours = slogate(&["test-rules", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ours.stdout);
    support::assert_exit(&ours, 0);
    assert!(text.contains("SUCCESS (1 checks"), "{text}");
    if let Some(promtool) = support::require_tool("promtool", "prometheus") {
        let theirs = std::process::Command::new(&promtool)
            .args(["test", "rules"])
            .arg(&file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&theirs.stdout).to_string()
            + &String::from_utf8_lossy(&theirs.stderr);
        let version = std::process::Command::new(&promtool)
            .arg("--version")
            .output()
            .unwrap();
        let version = String::from_utf8_lossy(&version.stdout).to_string()
            + &String::from_utf8_lossy(&version.stderr);
        if version.contains("version 2.") {
            assert!(!theirs.status.success(), "{said}");
            assert!(
                said.contains("function \"toDuration\" not defined"),
                "{said}"
            );
        } else {
            assert!(theirs.status.success(), "{version}{said}");
        }
    }
}
