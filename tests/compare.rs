//! `slogate compare` on a real run and edited copies of it: every value and
//! change with its unit, a warning (stderr and both files, exit code
//! unchanged) when the runs differ in scenario file or length, and a large
//! slowdown no limit covers flagged as a warning, a failure once a limit
//! covers it. The copies change only what each case needs, so the verdicts
//! do not depend on this machine's timing.

use crate::support::server::{Reply, Server};
use crate::support::{self, run_scenario};

const SCENARIO: &str = r#"
name: cmp
targets:
  api: "${API}"
requests:
  - {name: home, url: "${api}/"}
phases:
  - name: steady
    duration: 1s
    load: {rate: 40/s}
"#;

#[test]
fn compare_shows_units_and_warns_on_other_files_lengths_and_large_unlimited_slowdowns() {
    let _serial = support::serial();
    let server = Server::start(|_| Reply::delayed(200, std::time::Duration::from_millis(5)));
    let (dir, base, output) = run_scenario(SCENARIO, &[("API", server.url(""))]);
    support::assert_exit(&output, 0);
    // NEW: the same run, as if run from another file, three times as long, with
    // the phase's p99 twice as slow.
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("summary.json")).unwrap()).unwrap();
    summary["file"] = "moved/scenario.yaml".into();
    summary["duration_s"] = (summary["duration_s"].as_f64().unwrap() * 3.0).into();
    let p99 = &mut summary["phases"][0]["latency_ms"]["p99"];
    *p99 = (p99.as_f64().unwrap() * 2.0).into();
    let new = dir.path().join("new");
    std::fs::create_dir(&new).unwrap();
    std::fs::write(new.join("summary.json"), summary.to_string()).unwrap();
    let compare = |limits: &str| {
        support::slogate(&[
            "compare",
            base.to_str().unwrap(),
            new.to_str().unwrap(),
            "--max-regression",
            limits,
        ])
    };

    // No limit on p99: a warning, exit 0.
    let output = compare("p95=10%,error_rate=0.5pp");
    support::assert_exit(&output, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = format!(
        "BASE ran scenario file `{}`, NEW ran `moved/scenario.yaml`",
        dir.path().join("scenario.yaml").display()
    );
    assert!(stderr.contains(&format!("warning: {file}")), "{stderr}");
    assert!(
        stderr.contains("(+200.0%, more than 10% and 1 s apart)"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(new.join("compare.md")).unwrap();
    assert!(md.contains(&format!("**warning:** {file}")), "{md}");
    assert!(md.contains("— no regression, 3 warning(s)"), "{md}");
    let row = |metric: &str| {
        md.lines()
            .find(|l| l.contains("| phase steady |") && l.contains(&format!("`{metric}`")))
            .unwrap_or_else(|| panic!("{metric}: {md}"))
            .to_string()
    };
    let p99 = row("p99");
    assert!(
        p99.starts_with("| ⚠ |")
            && p99.contains(" ms (+100.0%) | more than 50% slower, no limit set |"),
        "{p99}"
    );
    // Every value and change with its unit: ms, %, /s.
    let cells = |row: &str| -> Vec<String> {
        row.split(" | ")
            .skip(3)
            .take(3)
            .map(str::to_string)
            .collect()
    };
    for (metric, unit) in [("p50", " ms"), ("max", " ms"), ("throughput", "/s")] {
        for cell in cells(&row(metric)) {
            assert!(cell.contains(unit), "{metric}: {cell}");
        }
    }
    let errors = cells(&row("error_rate"));
    assert!(
        errors[0] == "0.000%" && errors[1] == "0.000%" && errors[2] == "+0.00pp",
        "{errors:?}"
    );
    let html = std::fs::read_to_string(new.join("compare.html")).unwrap();
    assert!(html.contains("<p class=\"warn\">warning: BASE ran scenario file <code>"));
    assert!(html.contains("<td class=\"warn\">⚠ warning</td>") && !html.contains("<script"));
    assert!(html.contains(" ms (+100.0%)</td>"), "{html}");

    // A limit on p99 decides alone: the same slowdown fails.
    let output = compare("p99=20%");
    support::assert_exit(&output, 1);
    let md = std::fs::read_to_string(new.join("compare.md")).unwrap();
    assert!(md.contains("— 1 regression(s), 2 warning(s)"), "{md}");
}
