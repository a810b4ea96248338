//! The HTML report: written by every run, self-contained (one inline
//! script, no request leaves it), every chart and check present, untrusted
//! strings escaped, rendered again identically by `slogate report DIR`,
//! the target rate and the demo knobs' faults drawn; and in a real
//! headless Chromium: no console error, no network request, every chart
//! drawn with a size, at 900 and 1,400 px nothing wider than the window,
//! legends clear of the plots, the sections bar stuck to the top, a value
//! under the pointer on every chart, a screenshot saved, dark colors in a
//! dark theme.

use std::path::Path;

use crate::support::browser::{Browser, browser_tools};
use crate::support::server::{Reply, Server};
use crate::support::{self, run_scenario};

const SCENARIO: &str = r#"
name: report
targets:
  api: {demo: true}
  hostile: "${HOSTILE}"
metrics:
  scrape: ["${api}/metrics", {url: "${hostile}/metrics", job: hostile}]
requests:
  - {name: process, url: "${api}/data/process?records=5", weight: 3}
  - {name: "<script>alert('name')</script>", url: "${api}/health"}
expect:
  - {promql: 'sum(rate(http_requests_total[2s])) > 0', holds: 50%}
phases:
  - name: warm
    duration: 3s
    load: {rate: 100/s}
    expect:
      - error_rate < 1%
      - {promql: 'hostile_value > 5', holds: always}
  - name: "x\" onmouseover=\"alert(1)"
    duration: 3s
    load: {rate: 100/s}
    expect:
      - latency p99 < 1us
      - error_rate < 1%
"#;

/// A /metrics whose label values are markup.
const HOSTILE_METRICS: &str = "# TYPE hostile_value gauge\nhostile_value{name=\"<script>alert('label')</script>\",attr=\"x\\\" onmouseover=\\\"alert(2)\"} 1\n";

/// Runs [`SCENARIO`] with its hostile metrics server; the server must
/// outlive the run only.
fn run_report_scenario() -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let hostile = Server::start(|_| Reply::Respond {
        status: 200,
        delay: std::time::Duration::ZERO,
        body: HOSTILE_METRICS.as_bytes().to_vec(),
        chunked: false,
    });
    run_scenario(SCENARIO, &[("HOSTILE", hostile.url(""))])
}

fn page(out: &Path) -> String {
    std::fs::read_to_string(out.join("index.html")).unwrap()
}

#[test]
fn every_run_writes_a_self_contained_page_with_every_chart_and_check() {
    let _serial = support::serial();
    let (_dir, out, output) = run_report_scenario();
    support::assert_exit(&output, 1);
    let html = page(&out);
    // Self-contained: one inline script (allowed by its hash alone),
    // nothing fetched.
    assert_eq!(html.matches("<script").count(), 1, "scripts in the page");
    assert!(html.contains("<script>(function") || html.contains("<script>// slogate"));
    assert!(
        html.contains("script-src 'sha256-"),
        "no script hash in the CSP"
    );
    for attribute in ["src=", "href=\"http", "href='http", "url("] {
        assert!(!html.contains(attribute), "{attribute} in the page");
    }
    // A sections bar; a palette for a dark theme.
    assert!(html.contains("<nav class=\"sections\""), "no sections bar");
    for id in [
        "checks",
        "over-time",
        "distribution",
        "server",
        "phases",
        "reproduce",
    ] {
        assert!(
            html.contains(&format!("<a href=\"#{id}\">")),
            "no link to {id}"
        );
    }
    assert!(html.contains("@media (prefers-color-scheme: dark)"));
    // The throughput chart draws the phases' target rate (100/s, open
    // model) and names it in its legend; the legends are HTML beside the
    // plots, dashed lines with dashed swatches.
    let at = html.find("<figure id=\"throughput\"").unwrap();
    let throughput = &html[at..at + html[at..].find("</figure>").unwrap()];
    assert!(
        throughput.contains("</svg>target rate</li>"),
        "no target rate in the legend"
    );
    let target = regex::Regex::new(
        r"&quot;l&quot;:&quot;target rate&quot;,&quot;c&quot;:&quot;currentColor&quot;,&quot;p&quot;:\[\[0(\.\d+)?,100\],\[3(\.\d+)?,100\]",
    )
    .unwrap();
    assert!(
        target.is_match(throughput),
        "no target-rate line at 100/s from the start"
    );
    assert!(
        throughput.contains("stroke-dasharray=\"6 4\"/></svg>ok</li>"),
        "{throughput}"
    );
    // Latency: a small chart per request name.
    let at = html.find("<figure id=\"latency-over-time\"").unwrap();
    let latency = &html[at..at + html[at..].find("</figure>").unwrap()];
    assert_eq!(latency.matches("<div class=\"multiple\">").count(), 2);
    // Every chart, each an inline SVG: the PromQL checks' too.
    for id in [
        "throughput",
        "latency-over-time",
        "service-time-over-time",
        "errors-over-time",
        "distribution-phases",
        "distribution-requests",
        "promql-0",
        "promql-1",
    ] {
        let at = html
            .find(&format!("<figure id=\"{id}\""))
            .unwrap_or_else(|| panic!("no chart {id}"));
        let figure = &html[at..at + html[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "chart {id} has no SVG");
    }
    // Every check listed, the failing one first and linked to its chart.
    let rows = support::checks(&out);
    assert_eq!(html.matches("<tr class=\"check\">").count(), rows.len());
    let first = html.find("<tr class=\"check\">").unwrap();
    let first_row = &html[first..first + html[first..].find("</tr>").unwrap()];
    assert!(first_row.contains("✘ FAIL"), "{first_row}");
    assert!(
        first_row
            .contains("<a href=\"#latency-over-time\"><code>latency p99 &lt; 1.00µs</code></a>")
            || first_row.contains("href=\"#latency-over-time\""),
        "{first_row}"
    );
    // The failing PromQL check links to its own chart, which draws its
    // threshold.
    assert!(
        html.contains("<a href=\"#promql-0\"><code>promql: hostile_value &gt; 5</code></a>"),
        "the PromQL check is not linked to its chart"
    );
    let at = html.find("<figure id=\"promql-0\"").unwrap();
    assert!(html[at..].contains("threshold &gt; 5"), "no threshold line");
    assert!(html.contains("<figure id=\"promql-1\""));
    assert!(html.contains("✔ PASS"));
    // The reproduce box has the command as typed; the header the targets.
    let at = html
        .find("<h2 id=\"reproduce\">Reproduce</h2><pre>")
        .expect("no reproduce box");
    let reproduce = &html[at..at + html[at..].find("</pre>").unwrap()];
    assert!(
        reproduce.contains("slogate run ")
            && reproduce.contains(" --out ")
            && reproduce.contains(" --no-progress"),
        "{reproduce}"
    );
    assert!(
        html.contains("targets: api <code>http://127.0.0.1:"),
        "no targets in the header"
    );
    // The hostile names arrive as text.
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"));
    assert!(!html.contains("\" onmouseover=\""));
    // Label values from a hostile /metrics, in the checks table and in the
    // chart's legend.
    assert!(!html.contains("onmouseover=\"alert(2)"));
    assert!(html.contains("&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt;"));
    assert!(html.contains("x&quot; onmouseover=&quot;alert(1)"));
}

#[test]
fn slogate_report_renders_the_same_page_again_from_the_saved_data() {
    let _serial = support::serial();
    let (_dir, out, output) = run_report_scenario();
    support::assert_exit(&output, 1);
    let first = page(&out);
    std::fs::remove_file(out.join("index.html")).unwrap();
    let output = support::slogate(&["report", out.to_str().unwrap()]);
    support::assert_exit(&output, 0);
    assert_eq!(page(&out), first);
    // A demo knob's fault, as alerts.json holds the knobs' changes: set as
    // `warm` starts, cleared as the next phase does. The charts draw its
    // strip and name it above the plot.
    assert!(!first.contains("⚡"), "a fault strip without a fault");
    let knobs = |phase: &str, ratio: f64, status: u16| {
        serde_json::json!({"phase": phase, "target": "api", "error": null,
            "knobs": {"error_ratio": ratio, "error_status": status, "latency_ms": 0.0, "jitter_ms": 0.0}})
    };
    let alerts = serde_json::json!({"evaluated_by": "embedded", "alerts": [], "expected": [],
        "faults": [knobs("warm", 0.2, 503), knobs("x\" onmouseover=\"alert(1)", 0.0, 500)]});
    std::fs::write(out.join("alerts.json"), alerts.to_string()).unwrap();
    let output = support::slogate(&["report", out.to_str().unwrap()]);
    support::assert_exit(&output, 0);
    let html = page(&out);
    let at = html.find("<figure id=\"throughput\"").unwrap();
    let throughput = &html[at..at + html[at..].find("</figure>").unwrap()];
    assert!(
        throughput.contains("⚡ api: 20% answered 503"),
        "no fault name above the plot"
    );
    // The strip: vermillion, along the bottom of the plot; and a row of
    // the fault windows' table.
    assert!(throughput.contains("fill=\"#D55E00\""), "no fault strip");
    assert!(
        html.contains("<tr><td>demo api</td><td>warm</td><td class=\"num\">0.00"),
        "no row for the knobs' window"
    );
    let empty = tempfile::tempdir().unwrap();
    let output = support::slogate(&["report", empty.path().to_str().unwrap()]);
    support::assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no summary.json; is this a results directory of `slogate run`?"),
        "{stderr}"
    );
}

#[test]
fn in_headless_chromium_the_page_renders_every_chart_and_fetches_nothing() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let _serial = support::serial();
    let (_dir, out, output) = run_report_scenario();
    support::assert_exit(&output, 1);
    let browser = Browser::start(&chromium, &chromedriver);
    browser.open(&out.join("index.html"));
    let sizes = browser.run(
        "return Array.from(document.querySelectorAll('figure.chart .plot svg')).map(s => { const r = s.getBoundingClientRect(); return [s.closest('figure').id, r.width, r.height]; })",
    );
    let sizes = sizes.as_array().unwrap();
    // Throughput, errors, two PromQL checks; two request names' small
    // charts for latency, service time and their distribution; three
    // phases' distribution... two phases here.
    assert_eq!(sizes.len(), 12, "{sizes:?}");
    for size in sizes {
        assert!(
            size[1].as_f64().unwrap() > 100.0 && size[2].as_f64().unwrap() > 100.0,
            "chart drawn without a size: {size}"
        );
    }
    // Nothing fetched, nothing executed, nothing complained about.
    assert_eq!(
        browser.run("return performance.getEntriesByType('resource').length"),
        0
    );
    assert_eq!(
        browser.run("return Array.from(document.scripts).filter(s => !s.src).length"),
        1
    );
    let handlers = browser.run(
        "return Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length",
    );
    assert_eq!(handlers, 0, "an element carries an event handler attribute");
    let log = browser.call(
        reqwest::Method::POST,
        "/se/log",
        serde_json::json!({"type": "browser"}),
    );
    let complaints: Vec<&serde_json::Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["level"] == "SEVERE" || entry["level"] == "WARNING")
        .collect();
    assert!(complaints.is_empty(), "console: {complaints:?}");
    let load_ms = browser.run(
        "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;",
    );
    assert!(load_ms.as_f64().unwrap() < 2000.0, "loaded in {load_ms} ms");
    for width in [900, 1400] {
        assert_layout(&browser, width);
    }
    // A screenshot of the whole page, kept with the test output.
    let height = browser
        .run("return document.documentElement.scrollHeight")
        .as_u64()
        .unwrap();
    browser.call(
        reqwest::Method::POST,
        "/window/rect",
        serde_json::json!({"width": 1280, "height": height.min(16_000)}),
    );
    let saved = browser.screenshot("report-screenshot.png");
    // In a dark theme the page and the charts' backgrounds and ink turn.
    browser.call(
        reqwest::Method::POST,
        "/goog/cdp/execute",
        serde_json::json!({"cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}}),
    );
    let dark = browser.run(
        "const bg = document.querySelector('.plot svg .bg'); const ink = document.querySelector('.plot svg text.ink'); \
         return [getComputedStyle(document.body).backgroundColor, getComputedStyle(bg).fill, getComputedStyle(ink).fill]",
    );
    assert_eq!(
        dark,
        serde_json::json!(["rgb(22, 24, 28)", "rgb(22, 24, 28)", "rgb(227, 227, 227)"]),
        "not dark"
    );
    eprintln!(
        "screenshot: {} (page loaded in {load_ms} ms)",
        saved.display()
    );
}

/// At `width` px: nothing wider than the window, the checks table within
/// it and no cell's content spilling, every legend below its plot, the
/// sections bar at the top after scrolling, a value under the pointer on
/// every chart.
fn assert_layout(browser: &Browser, width: u64) {
    browser.call(
        reqwest::Method::POST,
        "/window/rect",
        serde_json::json!({"width": width, "height": 900}),
    );
    let fits = browser.run("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(
        fits[0].as_f64().unwrap() <= fits[1].as_f64().unwrap(),
        "{width} px: the page is {} px wide in a {} px window",
        fits[0],
        fits[1]
    );
    let table = browser.run(
        "const t = document.querySelector('#checks + table'); const r = t.getBoundingClientRect();          const spilled = Array.from(t.querySelectorAll('td, th')).filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent);          return [r.right <= window.innerWidth, t.scrollWidth <= t.clientWidth + 1, spilled]",
    );
    assert_eq!(
        table[0], true,
        "{width} px: the checks table runs past the window"
    );
    assert_eq!(table[1], true, "{width} px: the checks table overflows");
    assert_eq!(table[2], serde_json::json!([]), "{width} px: cells spill");
    let legends = browser.run(
        "return Array.from(document.querySelectorAll('.legend')).map(l => { const p = l.previousElementSibling.getBoundingClientRect(); const r = l.getBoundingClientRect();          return [l.previousElementSibling.className, r.top >= p.bottom - 0.5, r.left >= p.left - 0.5 && r.right <= p.right + 0.5]; })",
    );
    let legends = legends.as_array().unwrap();
    assert!(legends.len() >= 12, "{legends:?}");
    for legend in legends {
        assert_eq!(
            legend,
            &serde_json::json!(["plot", true, true]),
            "{width} px: a legend over its plot"
        );
    }
    let bar = browser.run(
        "window.scrollTo(0, 1500); const n = document.querySelector('nav.sections');          return [getComputedStyle(n).position, n.getBoundingClientRect().top, window.scrollY > 0, n.querySelectorAll('a').length]",
    );
    assert_eq!(bar[0], "sticky", "{width} px: {bar}");
    assert_eq!(
        bar[1].as_f64(),
        Some(0.0),
        "{width} px: the bar left the top: {bar}"
    );
    assert_eq!(bar[2], true, "{width} px: the page did not scroll");
    assert!(bar[3].as_u64().unwrap() >= 6, "{bar}");
    // The pointer at the middle of each chart: its tip shows x and values.
    let tips = browser.run(
        "return Array.from(document.querySelectorAll('.plot')).map(p => { const r = p.getBoundingClientRect();          p.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.55, clientY: r.top + r.height * 0.5, bubbles: true}));          const tip = p.querySelector('.tip'); return [p.closest('figure').id, !!tip && !tip.hidden, tip ? tip.textContent : '']; })",
    );
    let tips = tips.as_array().unwrap();
    assert_eq!(tips.len(), 12, "{tips:?}");
    let value = regex::Regex::new(r"^(t = \d+\.\d s|p\d[\d.]*).*: -?\d").unwrap();
    for tip in tips {
        assert_eq!(tip[1], true, "{width} px: no tip on {}", tip[0]);
        let text = tip[2].as_str().unwrap();
        assert!(value.is_match(text), "{width} px: {}: {text}", tip[0]);
    }
    // The pointer leaving: no tip stays.
    let left = browser.run(
        "document.querySelectorAll('.plot').forEach(p => p.dispatchEvent(new MouseEvent('mouseleave'))); \
         window.scrollTo(0, 0); return Array.from(document.querySelectorAll('.tip')).filter(t => !t.hidden).length",
    );
    assert_eq!(left, 0, "{width} px: tips left after the pointer left");
}

fn timed_scenario(name: &str) -> String {
    format!(
        r#"
name: {name}
targets:
  api: "${{API}}"
requests:
  - {{name: home, url: "${{api}}/"}}
phases:
  - name: steady
    duration: 3s
    load: {{rate: 50/s}}
"#
    )
}

#[test]
fn compare_flags_a_latency_regression_and_refuses_different_scenarios() {
    use crate::support::server::{Reply, Server};
    let _serial = support::serial();
    let fast = Server::start(|_| Reply::delayed(200, std::time::Duration::from_millis(20)));
    // Fifteen times as slow: a regression no scheduling noise of a busy
    // machine hides (20 ms against 40 ms once measured p95 59.6 against
    // 43.5 under load).
    let slow = Server::start(|_| Reply::delayed(200, std::time::Duration::from_millis(300)));
    let (_a, base, output) = run_scenario(&timed_scenario("cmp"), &[("API", fast.url(""))]);
    support::assert_exit(&output, 0);
    let (_b, same, output) = run_scenario(&timed_scenario("cmp"), &[("API", fast.url(""))]);
    support::assert_exit(&output, 0);
    let (_c, worse, output) = run_scenario(&timed_scenario("cmp"), &[("API", slow.url(""))]);
    support::assert_exit(&output, 0);
    // The same server twice: within 150 % at p95 (this VM's noise under
    // load), no regression.
    let output = support::slogate(&[
        "compare",
        base.to_str().unwrap(),
        same.to_str().unwrap(),
        "--max-regression",
        "p95=150%,error_rate=0.5pp",
    ]);
    support::assert_exit(&output, 0);
    // Far slower: p95 well over +100 % breaks the default 10 %.
    let output = support::slogate(&["compare", base.to_str().unwrap(), worse.to_str().unwrap()]);
    support::assert_exit(&output, 1);
    let md = std::fs::read_to_string(worse.join("compare.md")).unwrap();
    let row = md
        .lines()
        .find(|l| l.contains("| phase steady |") && l.contains("`p95`"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        row.starts_with("| ✘ |") && row.contains("more than 10% slower"),
        "{row}"
    );
    let html = std::fs::read_to_string(worse.join("compare.html")).unwrap();
    assert!(html.contains("✘ regression") && !html.contains("<script"));
    // Another scenario: a clear error, exit 2.
    let (_d, other, output) = run_scenario(&timed_scenario("other"), &[("API", fast.url(""))]);
    support::assert_exit(&output, 0);
    let output = support::slogate(&["compare", base.to_str().unwrap(), other.to_str().unwrap()]);
    support::assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "BASE ran scenario `cmp`, NEW ran `other`: compare two runs of the same scenario"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_thirty_minute_report_stays_small_and_loads_fast_in_chromium() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let _serial = support::serial();
    let (_dir, out, output) = run_report_scenario();
    support::assert_exit(&output, 1);
    // Stretch the saved run to 30 minutes: the timeline's rows repeated
    // second after second (two request names, 3,600 rows), as a 30-minute
    // run would save them; the page is then rendered from that data.
    let path = out.join("summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rows = summary["timeline"].as_array().unwrap().clone();
    let mut stretched = Vec::new();
    for second in 0..1800u64 {
        for row in rows.iter().filter(|r| r["second"] == second % 6) {
            let mut row = row.clone();
            row["second"] = second.into();
            stretched.push(row);
        }
    }
    summary["timeline"] = stretched.into();
    summary["duration_s"] = 1800.0.into();
    summary["phases"][1]["duration_s"] = 1797.0.into();
    std::fs::write(&path, serde_json::to_string(&summary).unwrap()).unwrap();
    // The PromQL checks' series as a 30-minute run saves them: at most 600
    // points each (the step grows to 3 s).
    let path = out.join("promql.json");
    let mut promql: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for check in promql.as_array_mut().unwrap() {
        check["step_s"] = 3.0.into();
        for line in check["series"].as_array_mut().unwrap() {
            let values: Vec<f64> = line["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p[1].as_f64().unwrap())
                .collect();
            line["points"] = (0..600)
                .map(|i| serde_json::json!([i as f64 * 3.0, values[i % values.len()]]))
                .collect();
        }
    }
    std::fs::write(&path, serde_json::to_string(&promql).unwrap()).unwrap();
    let output = support::slogate(&["report", out.to_str().unwrap()]);
    support::assert_exit(&output, 0);
    let bytes = std::fs::metadata(out.join("index.html")).unwrap().len();
    assert!(bytes < 2_000_000, "index.html is {bytes} bytes");
    let browser = Browser::start(&chromium, &chromedriver);
    browser.open(&out.join("index.html"));
    let load_ms = browser.run(
        "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;",
    );
    let load_ms = load_ms.as_f64().unwrap();
    assert!(load_ms < 2000.0, "loaded in {load_ms} ms");
    eprintln!("30-minute report: {bytes} bytes, loaded in {load_ms:.0} ms");
}
