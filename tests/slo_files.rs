//! SLO files of other tools (Sloth, OpenSLO, Pyrra), read unchanged from
//! `scenarios/slos/`, judged on one run of the demo beside the same SLI
//! written in the scenario: the same figures, the same page.

use std::path::Path;

use crate::support::{self, run_scenario};

#[test]
fn sloth_openslo_and_pyrra_files_measure_what_the_scenarios_own_slo_does() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slos");
    let file = |name: &str| slos.join(name).display().to_string();
    let yaml = format!(
        r#"name: slo-files
targets:
  api: {{demo: true}}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 1s, job: demo}}]
requests:
  - {{name: process, url: "${{api}}/data/process"}}
phases:
  - {{name: healthy, duration: 4s, load: {{rate: 50/s}}}}
  - name: inject
    duration: 6s
    load: {{rate: 50/s}}
    faults: [{{demo: {{error_ratio: 50%, error_status: 503}}}}]
  - {{name: recover, duration: 2s, load: {{rate: 50/s}}}}
slos:
  - name: written
    objective: 99.5%
    sli:
      errors: 'http_requests_total{{endpoint="/data/process",status=~"5.."}}'
      total: 'http_requests_total{{endpoint="/data/process"}}'
    expect: [page fires]
  - {{file: "{sloth}", expect: [page fires, compliance >= 99%]}}
  - {{file: "{openslo}", expect: [page fires]}}
  - {{file: "{pyrra}", slo: process-errors, expect: [page fires]}}
  - {{file: "{pyrra}", slo: process-latency, expect: [compliance >= 99%]}}
"#,
        sloth = file("sloth.yaml"),
        openslo = file("openslo.yaml"),
        pyrra = file("pyrra.yaml"),
    );
    let (_dir, out, output) = run_scenario(&yaml, &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    // Only the Sloth SLO's `compliance >= 99%` fails: a quarter of the run
    // failed.
    support::assert_exit(&output, 1);
    let reports: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("slos.json")).unwrap()).unwrap();
    let by_name = |name: &str| {
        reports
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no SLO {name} in {reports}"))
    };
    let written = by_name("written");
    let number = |r: &serde_json::Value, key: &str| {
        r[key]
            .as_f64()
            .unwrap_or_else(|| panic!("no {key} in {r}\n{text}"))
    };
    // Pyrra's selectors are the scenario's own queries: the same figures
    // exactly, the period aside. OpenSLO counts good events: bad is total
    // less good, so to rounding.
    let pyrra = by_name("process-errors");
    for key in ["compliance", "bad", "total", "burn_rate", "page_at"] {
        assert_eq!(
            pyrra[key], written[key],
            "{key}: {pyrra}\nwritten: {written}"
        );
    }
    let openslo = by_name("process-availability");
    for key in ["compliance", "bad", "total"] {
        let (a, b) = (number(openslo, key), number(written, key));
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{key}: openslo {a}, written {b}"
        );
    }
    assert_eq!(openslo["page_at"], written["page_at"], "{openslo}");
    assert_eq!(
        number(by_name("process-errors"), "period_seconds"),
        28.0 * 86_400.0
    );
    // Sloth's rate queries are counts once multiplied by the window:
    // increase() is rate() times the range, so to rounding.
    let sloth = by_name("demo-process-availability");
    assert_eq!(number(sloth, "period_seconds"), 30.0 * 86_400.0);
    for key in ["compliance", "bad", "total"] {
        let (a, b) = (number(sloth, key), number(written, key));
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{key}: sloth {a}, written {b}"
        );
    }
    assert_eq!(sloth["page_at"], written["page_at"], "{sloth}\n{written}");
    // The raw ratio: the same compliance, no event counts.
    let raw = by_name("demo-process-error-ratio");
    let (a, b) = (number(raw, "compliance"), number(written, "compliance"));
    assert!((a - b).abs() < 1e-9, "raw {a}, written {b}");
    assert!(raw["bad"].is_null() && raw["total"].is_null(), "{raw}");
    assert_eq!(raw["page_at"], written["page_at"], "{raw}\n{written}");
    // Half of 6 s of 50/s failed, of about 12 s: the page fires in
    // `inject`, compliance well under 99%.
    let page_at = number(written, "page_at");
    assert!((4.0..=10.0).contains(&page_at), "{written}");
    assert!(number(written, "compliance") < 0.9, "{written}");
    // The latency SLO from Pyrra's buckets: every request under 250 ms.
    assert!(number(by_name("process-latency"), "compliance") > 0.999);
    // Verdicts name the file's SLOs; the terminal says where they come from.
    let rows = support::checks(&out);
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 == "FAIL")
        .map(|r| r.0.as_str())
        .collect();
    // An entry's expectations hold for each SLO of its file: Sloth's two.
    assert_eq!(failed, ["compliance >= 99%", "compliance >= 99%"], "{text}");
    assert_eq!(rows.len(), 8, "{text}");
    assert!(
        text.contains("SLO demo-process-error-ratio: 99.5% of 1 - (sum(rate(http_requests_total{endpoint=\"/data/process\",status=~\"5..\"}[{{.window}}])) / sum("),
        "{text}"
    );
    assert!(text.contains("(an error ratio: no event counts)"), "{text}");
}

#[test]
fn check_refuses_what_a_file_cannot_map_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let slo = dir.path().join("slo.yaml");
    std::fs::write(
        &slo,
        "version: prometheus/v1\nservice: api\nslos:\n  - name: a\n    objective: 99\n    sli:\n      plugin: {id: sloth-common/availability}\n",
    )
    .unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(
        &scenario,
        "name: x\ntargets: {api: {demo: true}}\nmetrics: {scrape: ['${api}/metrics']}\nrequests: [{name: root, url: '${api}/'}]\nphases: [{name: p, duration: 1s, load: {rate: 1/s}}]\nslos: [{file: slo.yaml}]\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args(["check", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    support::assert_exit(&output, 2);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("slo.yaml:7:15") && said.contains("an SLI plugin (`sli.plugin`)"),
        "{said}"
    );
}
