use super::*;

/// The SLOs of `text` as a file, or its errors as `line:col message`.
fn read_text(text: &str) -> Result<Vec<Imported>, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slo.yaml");
    std::fs::write(&path, text).unwrap();
    read(&path).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let p = e.position.unwrap_or_default();
                format!("{}:{} {}", p.line, p.column, e.message)
            })
            .collect()
    })
}

fn refused(text: &str) -> String {
    match read_text(text) {
        Ok(slos) => panic!("accepted: {slos:?}"),
        Err(errors) => errors.join("\n"),
    }
}

const SLOTH: &str = r#"version: "prometheus/v1"
service: "api"
labels: {owner: sre}
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "5xx"
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: ApiHighErrorRate
      page_alert: {labels: {severity: critical}}
  - name: "ratio"
    objective: "99"
    sli:
      raw:
        error_ratio_query: |
          sum(increase(e_total[{{.window}}])) / sum(increase(t_total[{{.window}}]))
"#;

#[test]
fn sloth_events_and_raw() {
    let slos = read_text(SLOTH).unwrap();
    assert_eq!(slos.len(), 2);
    assert_eq!(slos[0].name, "api-requests-availability");
    assert_eq!(slos[0].objective, 0.999);
    assert_eq!(slos[0].period, None);
    assert_eq!(
        slos[0].sli,
        Sli::Windowed {
            errors: r#"sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))"#.into(),
            total: "sum(rate(http_requests_total[{{.window}}]))".into(),
            counts: Counts::Rate,
        }
    );
    assert!(
        slos[0].source.ends_with("slo.yaml:5:5"),
        "{}",
        slos[0].source
    );
    assert_eq!(slos[1].name, "api-ratio");
    assert_eq!(slos[1].objective, 0.99);
    assert_eq!(
        slos[1].sli,
        Sli::ErrorRatio(
            "sum(increase(e_total[{{.window}}])) / sum(increase(t_total[{{.window}}]))".into()
        )
    );
}

#[test]
fn sloth_resources() {
    let text = r#"apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: api}
spec:
  service: api
  slos:
    - name: latency
      objective: 99.5
      sli:
        events:
          error_query: sum(increase(d_count[{{.window}}])) - sum(increase(d_bucket{le="0.5"}[{{.window}}]))
          total_query: sum(increase(d_count[{{.window}}]))
"#;
    let slos = read_text(text).unwrap();
    assert_eq!(slos[0].name, "api-latency");
    assert!(matches!(
        slos[0].sli,
        Sli::Windowed {
            counts: Counts::Increase,
            ..
        }
    ));
}

#[test]
fn sloth_refusals_name_the_key() {
    let plugin = SLOTH.replace(
        "      raw:\n",
        "      plugin: {id: sloth-common/availability}\n      raw:\n",
    );
    assert_eq!(
        refused(&plugin),
        "18:15 an SLI plugin (`sli.plugin`) is Sloth's own Go code"
    );
    let no_window = SLOTH.replace("[{{ .window }}]", "[5m]");
    assert_eq!(
        refused(&no_window),
        "11:22 `total_query` has no `{{.window}}`"
    );
    let other = SLOTH.replace("[{{ .window }}]", "[{{.window}}] offset {{.offset}}");
    assert!(
        refused(&other).contains("uses a template other than `{{.window}}`: `{{.offset}}`"),
        "{}",
        refused(&other)
    );
    let broken = SLOTH.replace(
        "sum(rate(http_requests_total[",
        "sum(rate(http_requests_total{[",
    );
    assert!(refused(&broken).starts_with("11:22 `total_query` with a 5m window:"));
    let objective = SLOTH.replace("objective: 99.9", "objective: 100");
    assert_eq!(
        refused(&objective),
        "6:16 objective `100` is not a percentage between 0 and 100"
    );
}

const PYRRA: &str = r#"apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: api-errors
  namespace: monitoring
  labels: {prometheus: k8s, role: alert-rules}
spec:
  target: "99.5"
  window: 2w
  description: API errors.
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="api",code=~"5.."}
      total:
        metric: http_requests_total{job="api"}
---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api-latency}
spec:
  target: '99'
  window: 28d
  indicator:
    latency:
      success:
        metric: d_bucket{job="api",le="0.25"}
      total:
        metric: d_count{job="api"}
"#;

#[test]
fn pyrra_ratio_and_latency() {
    let slos = read_text(PYRRA).unwrap();
    assert_eq!(slos[0].name, "api-errors");
    assert_eq!(slos[0].objective, 0.995);
    assert_eq!(slos[0].period, Some(Duration::from_secs(14 * 86_400)));
    assert_eq!(
        slos[0].sli,
        Sli::Promql {
            events: r#"http_requests_total{job="api",code=~"5.."}"#.into(),
            good: false,
            total: r#"http_requests_total{job="api"}"#.into(),
        }
    );
    assert_eq!(slos[1].name, "api-latency");
    assert_eq!(slos[1].period, Some(Duration::from_secs(28 * 86_400)));
    assert!(matches!(slos[1].sli, Sli::Promql { good: true, .. }));
}

#[test]
fn pyrra_refusals_name_the_key() {
    let grouped = PYRRA.replace(
        "        metric: http_requests_total{job=\"api\"}\n",
        "        metric: http_requests_total{job=\"api\"}\n      grouping: [handler]\n",
    );
    assert_eq!(
        refused(&grouped),
        "17:17 `grouping` makes one SLO per group, which slogate does not judge"
    );
    let native = PYRRA.replace(
        "    latency:\n      success:\n        metric: d_bucket{job=\"api\",le=\"0.25\"}\n",
        "    latencyNative:\n      latency: 250ms\n",
    );
    assert!(
        refused(&native).starts_with("26:7 a `latencyNative` indicator"),
        "{}",
        refused(&native)
    );
    let expression = PYRRA.replace(
        "metric: http_requests_total{job=\"api\"}",
        "metric: sum(rate(http_requests_total{job=\"api\"}[5m]))",
    );
    assert_eq!(
        refused(&expression),
        "16:17 `sum(rate(http_requests_total{job=\"api\"}[5m]))` is not a series selector"
    );
    let window = PYRRA.replace("window: 2w", "window: 1M");
    assert_eq!(
        refused(&window),
        "9:11 `1M` is not a window slogate can use"
    );
}

const OPENSLO: &str = r#"apiVersion: openslo/v1
kind: Service
metadata: {name: api}
spec: {description: The API}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: api-good-requests}
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: sum(http_requests_total{code!~"5.."})
    total:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  displayName: API availability
spec:
  service: api
  indicatorRef: api-good-requests
  timeWindow:
    - duration: 1w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      target: 0.995
    - displayName: Great
      targetPercent: 99.9
"#;

#[test]
fn openslo_ratio_metric_by_reference_and_inline() {
    let slos = read_text(OPENSLO).unwrap();
    let names: Vec<&str> = slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api-availability/Good", "api-availability/Great"]);
    assert_eq!(slos[0].objective, 0.995);
    assert_eq!(slos[1].objective, 0.999);
    assert_eq!(slos[0].period, Some(Duration::from_secs(7 * 86_400)));
    assert_eq!(
        slos[0].sli,
        Sli::Promql {
            events: r#"http_requests_total{code!~"5.."}"#.into(),
            good: true,
            total: "http_requests_total".into(),
        }
    );
    let inline = r#"apiVersion: openslo/v1
kind: SLO
metadata: {name: errors}
spec:
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: prometheus, spec: {query: 'e_total'}}}
        total: {metricSource: {type: Prometheus, spec: {query: t_total}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
"#;
    let slos = read_text(inline).unwrap();
    assert_eq!(slos[0].name, "errors");
    assert!(matches!(&slos[0].sli, Sli::Promql { good: false, events, .. } if events == "e_total"));
}

#[test]
fn openslo_refusals_name_the_key() {
    let slices = OPENSLO.replace(
        "budgetingMethod: Occurrences",
        "budgetingMethod: Timeslices",
    );
    assert_eq!(
        refused(&slices),
        "34:20 `budgetingMethod: Timeslices` is not judged by slogate"
    );
    let missing = OPENSLO.replace("indicatorRef: api-good-requests", "indicatorRef: api-good");
    assert_eq!(
        refused(&missing),
        "30:17 no `kind: SLI` named `api-good` in this file"
    );
    let datadog = OPENSLO.replacen("type: Prometheus", "type: Datadog", 1);
    assert_eq!(
        refused(&datadog),
        "14:15 a `Datadog` metric source, which slogate cannot query"
    );
    let gauge = OPENSLO.replace("counter: true", "counter: false");
    assert!(refused(&gauge).starts_with("11:14 `counter: false` SLIs are gauges"));
    let grouped = OPENSLO.replace(
        "sum(http_requests_total{code!~\"5..\"})",
        "sum by (code) (http_requests_total)",
    );
    assert!(
        refused(&grouped).contains("is grouped"),
        "{}",
        refused(&grouped)
    );
    let version = OPENSLO.replace("openslo/v1", "openslo/v1alpha");
    assert_eq!(
        refused(&version),
        "1:13 OpenSLO `openslo/v1alpha` is not a version slogate reads"
    );
}

#[test]
fn files_that_are_no_slo_file_say_what_is_read() {
    assert_eq!(
        refused("groups: []\n"),
        "0:0 not an SLO file slogate reads: no `version` or `apiVersion`"
    );
    assert_eq!(
        refused("version: prometheus/v2\n"),
        "1:10 `version: prometheus/v2` is not an SLO format slogate reads"
    );
    assert_eq!(
        refused("version: prometheus/v1\nservice: x\n"),
        "0:0 the file holds no SLO"
    );
    assert_eq!(
        refused(&SLOTH.replace("objective: 99.9", "objective: 0.999")),
        "6:16 objective `0.999` means 0.999%, which almost any run meets"
    );
    assert!(
        refused("version: prometheus/v1\nslos: [\n").starts_with("2:"),
        "{}",
        refused("version: prometheus/v1\nslos: [\n")
    );
}

#[test]
fn placeholders_and_counts() {
    assert_eq!(
        normalize_placeholder("rate(x[{{ .window }}]) {{.window}} {{.other}}"),
        "rate(x[{{.window}}]) {{.window}} {{.other}}"
    );
    let c = |q: &str| counts_of(&[q]);
    assert_eq!(
        c("sum(rate(a[{{.window}}])) - sum(rate(b[{{.window}}]))"),
        Counts::Rate
    );
    assert_eq!(c("sum(increase(a[{{.window}}]))"), Counts::Increase);
    assert_eq!(c("sum(irate(a[{{.window}}]))"), Counts::RatioOnly);
    assert_eq!(c("sum(rate(a[{{.window}}])) * 2"), Counts::RatioOnly);
    assert_eq!(c("max(rate(a[{{.window}}]))"), Counts::RatioOnly);
    assert_eq!(
        counts_of(&["sum(rate(a[{{.window}}]))", "sum(increase(b[{{.window}}]))"]),
        Counts::RatioOnly
    );
}
