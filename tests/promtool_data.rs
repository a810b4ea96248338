//! Prometheus's own promtool test data (tests/rules/promtool, copied byte
//! for byte; see its SOURCES): every rule file and unit-test file gives
//! the outcome Prometheus's Go tests expect of promtool 3
//! (`cmd/promtool/main_test.go`, `unittest_test.go`, `rules_test.go`), run
//! as the `promtool` binary runs them (it always enables `@` and negative
//! offsets); every rule and unit-test file is in that list. The rest of
//! the directory (Prometheus configs,
//! service-discovery files, TSDB dumps) is for promtool commands slogate
//! does not have, and is listed too, so every file is accounted for.

use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/promtool")
}

/// One run: a slogate command line, its files relative to [`dir`].
struct Case {
    /// `check` (accepted: exit 0, rejected: exit 2) or `test-rules` (pass:
    /// exit 0, fail: exit 1).
    command: &'static str,
    args: &'static [&'static str],
    /// What promtool 3 gives, per the Go test named in `why`.
    passes: bool,
    why: &'static str,
}

const CASES: &[Case] = &[
    // main_test.go TestCheckRules / TestCheckRulesWithRuleFiles.
    Case {
        command: "check",
        args: &["rules.yml"],
        passes: true,
        why: "TestCheckRules rules-good",
    },
    Case {
        command: "check",
        args: &["rules-bad.yml"],
        passes: false,
        why: "TestCheckRules rules-bad ($label is not defined)",
    },
    // Its duplicate rules fail only under --lint-fatal (lintErrExitCode);
    // without it, promtool accepts the file with a lint warning.
    Case {
        command: "check",
        args: &["prometheus-rules.lint.yml"],
        passes: true,
        why: "TestCheckRules rules-lint-fatal: valid, only lint finds the duplicates",
    },
    // TestCheckDuplicates / BenchmarkCheckDuplicates parse them with no error.
    Case {
        command: "check",
        args: &["rules_duplicates.yml"],
        passes: true,
        why: "TestCheckDuplicates parses it cleanly",
    },
    Case {
        command: "check",
        args: &["rules_large.yml"],
        passes: true,
        why: "BenchmarkCheckDuplicates parses it cleanly",
    },
    // Rule files the unit tests load: valid unless the test says syntax.
    Case {
        command: "check",
        args: &["at-modifier.yml"],
        passes: true,
        why: "loaded by the passing at-modifier test",
    },
    Case {
        command: "check",
        args: &["negative-offset.yml"],
        passes: true,
        why: "loaded by the passing negative-offset test",
    },
    Case {
        command: "check",
        args: &["bad-rules-error.yml"],
        passes: true,
        why: "valid; fails only when evaluated (Bad rules (error evaluating))",
    },
    Case {
        command: "check",
        args: &["bad-rules-syntax.yml"],
        passes: false,
        why: "Bad rules (syntax error)",
    },
    Case {
        command: "check",
        args: &["prometheus-config.rules.good.yml"],
        passes: true,
        why: "the good rule file of TestCheckConfigSyntax",
    },
    Case {
        command: "check",
        args: &["--ignore-unknown-fields", "rules_extrafields.yml"],
        passes: true,
        why: "check rules --ignore-unknown-fields",
    },
    Case {
        command: "check",
        args: &["rules_extrafields.yml"],
        passes: false,
        why: "strict by default: unknown key `namespace`",
    },
    // unittest_test.go TestRulesUnitTest (the binary's options: @ and
    // negative offsets on).
    Case {
        command: "test-rules",
        args: &["unittest.yml"],
        passes: true,
        why: "TestRulesUnitTest Passing Unit Tests (native histograms in input_series and exp_samples)",
    },
    Case {
        command: "test-rules",
        args: &["long-period.yml"],
        passes: true,
        why: "Long evaluation interval",
    },
    Case {
        command: "test-rules",
        args: &["bad-input-series.yml"],
        passes: false,
        why: "Bad input series",
    },
    Case {
        command: "test-rules",
        args: &["bad-promql.yml"],
        passes: false,
        why: "Bad PromQL",
    },
    Case {
        command: "test-rules",
        args: &["bad-rules-syntax-test.yml"],
        passes: false,
        why: "Bad rules (syntax error)",
    },
    Case {
        command: "test-rules",
        args: &["bad-rules-error-test.yml"],
        passes: false,
        why: "Bad rules (error evaluating)",
    },
    Case {
        command: "test-rules",
        args: &["failing.yml"],
        passes: false,
        why: "Simple failing test",
    },
    Case {
        command: "test-rules",
        args: &["at-modifier-test.yml"],
        passes: true,
        why: "Enabled feature (@ modifier)",
    },
    Case {
        command: "test-rules",
        args: &["negative-offset-test.yml"],
        passes: true,
        why: "Enabled feature (negative offset)",
    },
    Case {
        command: "test-rules",
        args: &["no-test-group-interval.yml"],
        passes: true,
        why: "No test group interval",
    },
    Case {
        command: "test-rules",
        args: &["start-time-test.yml"],
        passes: true,
        why: "Start time tests",
    },
    // TestRulesUnitTestRun.
    Case {
        command: "test-rules",
        args: &["rules_run.yml"],
        passes: false,
        why: "Test all without run arg",
    },
    Case {
        command: "test-rules",
        args: &["--run", "correct", "--run", "wrong", "rules_run.yml"],
        passes: false,
        why: "Test all with run arg",
    },
    Case {
        command: "test-rules",
        args: &["--run", "correct", "rules_run.yml"],
        passes: true,
        why: "Test correct",
    },
    Case {
        command: "test-rules",
        args: &["--run", "wrong", "rules_run.yml"],
        passes: false,
        why: "Test wrong",
    },
    Case {
        command: "test-rules",
        args: &["--ignore-unknown-fields", "rules_run_extrafields.yml"],
        passes: true,
        why: "Test all with extra fields",
    },
    Case {
        command: "test-rules",
        args: &["rules_run_extrafields.yml"],
        passes: false,
        why: "without the flag its rule file is read strictly",
    },
    Case {
        command: "test-rules",
        args: &["rules_run_no_fuzzy.yml"],
        passes: false,
        why: "Test precise floating point comparison expected failure",
    },
    Case {
        command: "test-rules",
        args: &["--run", "correct", "rules_run_fuzzy.yml"],
        passes: true,
        why: "Test fuzzy floating point comparison correct match",
    },
    Case {
        command: "test-rules",
        args: &["--run", "wrong", "rules_run_fuzzy.yml"],
        passes: false,
        why: "Test fuzzy floating point comparison wrong match",
    },
    // main_test.go TestCheckRulesWithFeatureFlag: a UTF-8 record name,
    // a duration expression, `anchored` and `fill(0)`.
    Case {
        command: "check",
        args: &[
            "--enable-feature=promql-experimental-functions",
            "--enable-feature=promql-extended-range-selectors",
            "--enable-feature=promql-binop-fill-modifiers",
            "features.yml",
        ],
        passes: true,
        why: "TestCheckRulesWithFeatureFlag",
    },
    // The same file without the flags: promtool 3 refuses
    // `sort_by_label`, `anchored` and `fill` (parse.go's "not enabled").
    Case {
        command: "check",
        args: &["features.yml"],
        passes: false,
        why: "features.yml without --enable-feature",
    },
];

/// Inputs of promtool commands slogate does not have (check config, check
/// service-discovery, check metrics, tsdb dump / create-blocks).
const NOT_RULES: &[&str] = &[
    "authorization_credentials_file.bad.yml",
    "authorization_credentials_file.good.yml",
    "bad-sd-file-extension.nonexistent",
    "bad-sd-file-format.yml",
    "config_with_rule_files.yml",
    "config_with_service_discovery_files.yml",
    "config_with_tls_files.yml",
    "dump-openmetrics-roundtrip-test.prom",
    "dump-openmetrics-test.prom",
    "dump-series-1.prom",
    "dump-series-2.prom",
    "dump-series-3.prom",
    "dump-test-1.prom",
    "dump-test-2.prom",
    "dump-test-3.prom",
    "good-sd-file.json",
    "good-sd-file.yaml",
    "good-sd-file.yml",
    "metrics-test.prom",
    "prometheus-aws-sd-empty-region.good.yml",
    "prometheus-config.bad.yml",
    "prometheus-config.good.yml",
    "prometheus-config.lint.too_long_scrape_interval.yml",
    "prometheus-config.lint.yml",
    "url_in_alert_targetgroup_with_relabel_config.bad.yml",
    "url_in_alert_targetgroup_with_relabel_config.good.yml",
    "url_in_scrape_targetgroup_with_relabel_config.bad.yml",
    "url_in_scrape_targetgroup_with_relabel_config.good.yml",
];

/// Runs a case in the data directory; whether it passed, and its output.
fn run(case: &Case) -> (bool, String) {
    let mut args = vec![case.command];
    args.extend(case.args);
    let output = crate::support::slogate_in(&dir(), &args);
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    let failed = if case.command == "check" {
        Some(2)
    } else {
        Some(1)
    };
    assert!(
        code == Some(0) || code == failed,
        "{} {:?}: exit {code:?} (a crash or a usage error?)\n{text}",
        case.command,
        case.args
    );
    (code == Some(0), text)
}

#[test]
fn every_rule_and_unit_test_file_gives_promtools_outcome() {
    let mut wrong = Vec::new();
    for case in CASES {
        let (passed, text) = run(case);
        if passed != case.passes {
            wrong.push(format!(
                "{} {:?} ({}): promtool {}, slogate {}\n{text}",
                case.command,
                case.args,
                case.why,
                if case.passes { "passes" } else { "fails" },
                if passed { "passes" } else { "fails" },
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// promtool's own JUnit test (`Junit xml output`): the four files it reuses
/// give one testsuite each, every suite with a testcase.
#[test]
fn junit_has_a_suite_per_file_and_a_case_per_suite() {
    let files = [
        "at-modifier-test.yml",
        "negative-offset-test.yml",
        "no-test-group-interval.yml",
        "start-time-test.yml",
    ];
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("junit.xml");
    let mut args = vec!["test-rules", "--junit", junit.to_str().unwrap()];
    args.extend(files);
    let output = crate::support::slogate_in(&dir(), &args);
    crate::support::assert_exit(&output, 0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
    assert_eq!(suites.len(), files.len(), "{xml}");
    for (suite, file) in suites.iter().zip(files) {
        assert!(suite.starts_with(&format!("name=\"{file}\"")), "{suite}");
        assert!(suite.contains("<testcase name="), "{suite}");
        assert!(suite.contains(r#"failures="0" errors="0""#), "{suite}");
    }
    assert!(
        xml.contains(r#"<testcase name="rfc3339_start_timestamp">"#),
        "{xml}"
    );
}

#[test]
fn every_file_of_the_directory_is_accounted_for() {
    let named = |file: &str| {
        CASES.iter().any(|c| c.args.contains(&file))
            || NOT_RULES.contains(&file)
            // Loaded by the unit-test files above, checked through them.
            || ["rules_run.yml", "rules_run_fuzzy.yml"].contains(&file)
    };
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "SOURCES" && !named(&name) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "not in any list: {missing:?}");
    // SOURCES names every file it holds.
    let sources = std::fs::read_to_string(dir().join("SOURCES")).unwrap();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "SOURCES" {
            assert!(
                sources.contains(&format!("cmd/promtool/testdata/{name} ")),
                "{name} not in SOURCES"
            );
        }
    }
}
