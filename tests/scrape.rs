//! The embedded scraper's limits end to end: a series limit that truncates
//! what a real /metrics server exposes, and scrapes refused for their body
//! size, their sample count or invalid UTF-8. Truncated data must never
//! pass a check: the verdict is marked and fails, and every report says
//! what was lost.

use std::time::Duration;

use crate::support::assert_exit;
use crate::support::server::{Reply, Server};

fn respond(body: Vec<u8>) -> Reply {
    Reply::Respond {
        status: 200,
        delay: Duration::ZERO,
        body,
        chunked: false,
    }
}

/// 300 series of `m`; the last one, which the series limit drops, is the
/// only one that fails `max(m) < 100`.
fn many_series() -> Vec<u8> {
    let mut body: String = (0..299).map(|i| format!("m{{i=\"{i}\"}} 1\n")).collect();
    body.push_str("m{i=\"299\"} 1000\n");
    body.into_bytes()
}

#[test]
fn a_series_limit_that_truncates_a_scrape_fails_the_check_that_read_it() {
    let _serial = crate::support::serial();
    let server = Server::start(|call| match call.path.as_str() {
        "/metrics" => respond(many_series()),
        _ => Reply::status(200),
    });
    let yaml = format!(
        r#"
name: truncated
targets:
  api: {}
metrics:
  scrape: [{{url: "${{api}}/metrics", interval: 500ms}}]
  max_series: 50
requests:
  - {{name: ok, url: "${{api}}/ok"}}
phases:
  - name: steady
    duration: 1500ms
    load: {{rate: 10/s}}
    expect:
      - promql: max(m) < 100
slos:
  - name: server
    objective: 99%
    sli: {{errors: 'm{{i="299"}}', total: m}}
    expect: [compliance >= 99%]
  - name: client
    objective: 99%
    sli: {{client: availability}}
    expect: [compliance >= 99%]
"#,
        server.url("")
    );
    let (_dir, out, output) = crate::support::run_scenario(&yaml, &[]);
    assert_exit(&output, 1);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let check = &summary["checks"][0];
    assert_eq!(check["outcome"], "FAIL", "{check}");
    assert_eq!(check["truncated"], true);
    // On what was stored it would have passed: the failing series is lost.
    assert_eq!(check["measured"], 1.0);
    let measured = check["measured_text"].as_str().unwrap();
    assert!(
        measured.contains("TRUNCATED DATA") && measured.contains("series limit"),
        "{measured}"
    );
    // An SLO over the scraped counters read the loss too; the client's did not.
    let slo = |name: &str| {
        summary["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scope"] == format!("slo {name}"))
            .unwrap_or_else(|| panic!("no slo {name}: {summary}"))
            .clone()
    };
    let server_slo = slo("server");
    assert_eq!(server_slo["truncated"], true, "{server_slo}");
    assert_ne!(server_slo["outcome"], "PASS", "{server_slo}");
    let client_slo = slo("client");
    assert_eq!(
        (&client_slo["truncated"], &client_slo["outcome"]),
        (&false.into(), &"PASS".into()),
        "{client_slo}"
    );
    let loss = &summary["scrape_losses"][0];
    assert_eq!(loss["kind"], "series_limit");
    assert_eq!(loss["target"], server.url("/metrics"));
    // 50 series stored in all: 5 of them `up` and `scrape_*`, 45 of `m`.
    assert_eq!(loss["series_dropped"], 255);
    assert!(loss["scrapes"].as_u64().unwrap() >= 3, "{loss}");
    assert_eq!(
        loss["samples_dropped"].as_u64().unwrap(),
        255 * loss["scrapes"].as_u64().unwrap()
    );
    crate::support::check_schema(&summary, include_str!("../reports/run.schema.json"));
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("**Scraped data lost**"), "{markdown}");
    assert!(markdown.contains("TRUNCATED DATA"), "{markdown}");
    for file in ["junit.xml", "checks.csv"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(text.contains("TRUNCATED DATA"), "{file}: {text}");
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("id=\"losses\"") && page.contains(">TRUNCATED</a>"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("scraped data lost"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("series limit (metrics.max_series) reached"),
        "{stderr}"
    );
}

#[test]
fn scrapes_over_their_limits_fail_and_mark_the_checks_over_them() {
    let _serial = crate::support::serial();
    let server = Server::start(|call| match call.path.as_str() {
        "/big" => respond(vec![b'#'; 4096]),
        "/many" => respond(many_series()),
        "/utf8" => respond(b"a{x=\"caf\xe9\"} 1\n".to_vec()),
        "/dups" => respond(b"d 1\nd 2\nd 3\n".to_vec()),
        _ => Reply::status(200),
    });
    let yaml = format!(
        r#"
name: limits
targets:
  api: {}
metrics:
  scrape:
    - {{url: "${{api}}/big", interval: 500ms, job: big, body_size_limit: 1KiB}}
    - {{url: "${{api}}/many", interval: 500ms, job: many, sample_limit: 100}}
    - {{url: "${{api}}/utf8", interval: 500ms, job: utf8}}
    - {{url: "${{api}}/dups", interval: 500ms, job: dups}}
requests:
  - {{name: ok, url: "${{api}}/ok"}}
phases:
  - name: steady
    duration: 1s
    load: {{rate: 10/s}}
    expect:
      - promql: sum(up) >= 0
"#,
        server.url("")
    );
    let (_dir, out, output) = crate::support::run_scenario(&yaml, &[]);
    assert_exit(&output, 1);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let check = &summary["checks"][0];
    assert_eq!(
        (&check["outcome"], &check["truncated"]),
        (&"FAIL".into(), &true.into())
    );
    let mut kinds: Vec<(&str, &str)> = summary["scrape_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["job"].as_str().unwrap(), l["kind"].as_str().unwrap()))
        .collect();
    // Each target scrapes on its own thread: in whichever order.
    kinds.sort();
    assert_eq!(
        kinds,
        [("big", "body_size_limit"), ("many", "sample_limit")]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "/big failed: body size limit exceeded: the body reached 1.00 KiB",
        "/many failed: sample limit exceeded: more than 100 samples",
        "/utf8 failed: invalid exposition: line 1, column 9: invalid UTF-8 in a label value",
        "/dups: 2 duplicate samples dropped",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    // The saved scrapes: nothing of the refused ones but `up` = 0; of the
    // duplicates, the first sample of each scrape (as Prometheus keeps it).
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let series: Vec<serde_json::Value> = saved
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |name: &str, job: &str| {
        series
            .iter()
            .filter(|s| s["labels"]["__name__"] == name && s["labels"]["job"] == job)
            .collect::<Vec<_>>()
    };
    assert!(of("a", "utf8").is_empty() && of("m", "many").is_empty());
    let d = of("d", "dups");
    assert_eq!(d.len(), 1);
    let values = d[0]["v"].as_array().unwrap();
    assert!(values.iter().all(|v| v == 1.0), "{values:?}");
    for job in ["big", "many", "utf8"] {
        let up = of("up", job);
        assert!(
            up[0]["v"].as_array().unwrap().iter().all(|v| v == 0.0),
            "{job}"
        );
    }
    assert!(
        of("up", "dups")[0]["v"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v == 1.0)
    );
}
