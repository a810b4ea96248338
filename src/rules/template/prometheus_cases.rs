//! Prometheus's own template tests (`TestTemplateExpansion` in
//! `template/template_test.go` of Prometheus 3.14), ported case for case:
//! 81 of its 89 cases. Not ported: the 7 that expand in HTML mode (consoles,
//! never alert templates), and the one with the `missingkey=error` option
//! (Prometheus expands alert templates with `missingkey=zero` only).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::metrics::histogram::FloatHistogram;

use super::value::{QuerySample, Value};
use super::{Env, run};

fn list(elem: &'static str, items: Vec<Value>) -> Value {
    Value::List(Rc::new(items), elem)
}

fn floats(v: &[f64]) -> Value {
    list("float64", v.iter().map(|f| Value::Float(*f)).collect())
}

fn strings(v: &[&str]) -> Value {
    list("string", v.iter().map(|s| Value::str(s)).collect())
}

fn int64s(v: &[i64]) -> Value {
    list("int64", v.iter().map(|i| Value::Int64(*i)).collect())
}

fn ints(v: &[i64]) -> Value {
    list("int", v.iter().map(|i| Value::Int(*i)).collect())
}

fn uint64s(v: &[u64]) -> Value {
    list("uint64", v.iter().map(|u| Value::Uint64(*u)).collect())
}

fn sample(labels: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        value,
        histogram: None,
    }
}

struct Case {
    text: &'static str,
    input: Value,
    query: Vec<QuerySample>,
    /// The output, or the error Prometheus's `Expand` returns.
    want: Result<&'static str, &'static str>,
}

fn ok(text: &'static str, want: &'static str) -> Case {
    Case {
        text,
        input: Value::Invalid,
        query: Vec::new(),
        want: Ok(want),
    }
}

fn fails(text: &'static str, error: &'static str) -> Case {
    Case {
        text,
        input: Value::Invalid,
        query: Vec::new(),
        want: Err(error),
    }
}

fn on(input: Value, case: Case) -> Case {
    Case { input, ..case }
}

fn with_query(query: Vec<QuerySample>, case: Case) -> Case {
    Case { query, ..case }
}

/// A sample whose value is `FloatHistogram{Count: 3, Sum: 10}`.
fn histogram_sample(labels: &[(&str, &str)]) -> QuerySample {
    QuerySample {
        histogram: Some(Arc::new(FloatHistogram {
            count: 3.0,
            sum: 10.0,
            ..FloatHistogram::default()
        })),
        ..sample(labels, 0.0)
    }
}

fn cases() -> Vec<Case> {
    let metric_a = || vec![sample(&[("__name__", "metric"), ("instance", "a")], 11.0)];
    let max_i = i64::MAX;
    let max_u = u64::MAX;
    vec![
        ok("plain text", "plain text"),
        ok("{{ 1 }}", "1"),
        // Native histogram value: Go's `FloatHistogram.String()`.
        on(
            Value::Sample(Rc::new(histogram_sample(&[]))),
            ok("{{ . | value }}", "{count:3, sum:10}"),
        ),
        fails(
            "{{\u{a0}}}",
            "error parsing template test: template: test:1: unrecognized character in action: U+00A0",
        ),
        ok("{{ \"<b>\" }}", "<b>"),
        ok(
            "{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}",
            "1 2",
        ),
        with_query(
            vec![sample(&[], 1.5)],
            ok("{{ query \"1.5\" | first | value }}", "1.5"),
        ),
        with_query(
            metric_a(),
            ok("{{ query \"metric{instance='a'}\" | first | value }}", "11"),
        ),
        // Get value of a native histogram from query.
        with_query(
            vec![histogram_sample(&[
                ("__name__", "metric"),
                ("instance", "a"),
            ])],
            ok(
                "{{ query \"metric{instance='a'}\" | first | value }}",
                "{count:3, sum:10}",
            ),
        ),
        with_query(
            metric_a(),
            ok(
                "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}",
                "a",
            ),
        ),
        with_query(
            vec![sample(&[("__name__", "metric"), ("__value__", "a")], 11.0)],
            ok(
                "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
                "a",
            ),
        ),
        with_query(
            metric_a(),
            ok(
                "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}",
                "",
            ),
        ),
        with_query(
            metric_a(),
            ok(
                "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
                "",
            ),
        ),
        with_query(
            vec![
                sample(&[("__name__", "metric"), ("instance", "b")], 21.0),
                sample(&[("__name__", "metric"), ("instance", "a")], 11.0),
            ],
            ok(
                "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}",
                "a:11: b:21: ",
            ),
        ),
        ok("{{ \"foo.example.com\" | stripPort }}", "foo.example.com"),
        ok(
            "{{ \"foo.example.com:12345\" | stripPort }}",
            "foo.example.com",
        ),
        ok("{{ \"192.0.2.1\" | stripPort }}", "192.0.2.1"),
        ok("{{ \"192.0.2.1:12345\" | stripPort }}", "192.0.2.1"),
        ok("{{ \"2001:0DB8::1\" | stripPort }}", "2001:0DB8::1"),
        ok("{{ \"[2001:0DB8::1]:12345\" | stripPort }}", "2001:0DB8::1"),
        ok(
            "{{ \"[2001:0DB8::1]::12345\" | stripPort }}",
            "[2001:0DB8::1]::12345",
        ),
        ok("{{ .Foo }}", "<no value>"),
        ok("{{ .Foo }}", "<no value>"),
        fails(
            "{{",
            "error parsing template test: template: test:1: unclosed action",
        ),
        fails(
            "{{ query \"missing\" | first }}",
            "error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: first() called on vector with no elements",
        ),
        fails(
            "{{ (query \"missing\").banana }}",
            "error executing template test: template: test:1:10: executing \"test\" at <\"missing\">: can't evaluate field banana in type template.queryResult",
        ),
        ok("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", "xa"),
        on(
            floats(&[0.0, 1.0, 1234567.0, 0.12]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ end }}",
                "0:1:1.235M:120m:",
            ),
        ),
        on(
            strings(&["0.0", "1.0", "1234567.0", ".12"]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ end }}",
                "0:1:1.235M:120m:",
            ),
        ),
        fails(
            "{{ humanize \"one\" }}",
            "error executing template test: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax",
        ),
        on(
            int64s(&[0, -1, 1, 1234567, max_i]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ end }}",
                "0:-1:1:1.235M:9.223E:",
            ),
        ),
        on(
            uint64s(&[0, 1, 1234567, max_u]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ end }}",
                "0:1:1.235M:18.45E:",
            ),
        ),
        on(
            floats(&[0.0, 1.0, 1048576.0, 0.12]),
            ok(
                "{{ range . }}{{ humanize1024 . }}:{{ end }}",
                "0:1:1Mi:0.12:",
            ),
        ),
        on(
            strings(&["0.0", "1.0", "1048576.0", ".12"]),
            ok(
                "{{ range . }}{{ humanize1024 . }}:{{ end }}",
                "0:1:1Mi:0.12:",
            ),
        ),
        fails(
            "{{ humanize1024 \"one\" }}",
            "error executing template test: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax",
        ),
        on(
            int64s(&[0, -1, 1, 1234567, max_i]),
            ok(
                "{{ range . }}{{ humanize1024 . }}:{{ end }}",
                "0:-1:1:1.177Mi:8Ei:",
            ),
        ),
        on(
            uint64s(&[0, 1, 1234567, max_u]),
            ok(
                "{{ range . }}{{ humanize1024 . }}:{{ end }}",
                "0:1:1.177Mi:16Ei:",
            ),
        ),
        on(
            floats(&[
                0.0,
                1.0,
                60.0,
                3600.0,
                86400.0,
                86400.0 + 3600.0,
                -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
                899.99,
            ]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
            ),
        ),
        on(
            strings(&["0", "1", "60", "3600", "86400"]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
            ),
        ),
        on(
            floats(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
            ),
        ),
        on(
            strings(&[".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
            ),
        ),
        fails(
            "{{ humanizeDuration \"one\" }}",
            "error executing template test: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax",
        ),
        on(
            ints(&[0, -1, 1, 1234567]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "0s:-1s:1s:14d 6h 56m 7s:",
            ),
        ),
        on(
            uint64s(&[0, 1, 1234567]),
            ok(
                "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
                "0s:1s:14d 6h 56m 7s:",
            ),
        ),
        on(
            floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}",
                "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
            ),
        ),
        on(
            strings(&["+Inf", "-Inf", "NaN"]),
            ok(
                "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}",
                "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
            ),
        ),
        ok(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
            "-22.22%:0%:12.35%:123.5%",
        ),
        on(
            int64s(&[0, -1, 1, 1234567, max_i]),
            ok(
                "{{ range . }}{{ humanizePercentage . }}:{{ end }}",
                "0%:-100%:100%:1.235e+08%:9.223e+20%:",
            ),
        ),
        on(
            uint64s(&[0, 1, 1234567, max_u]),
            ok(
                "{{ range . }}{{ humanizePercentage . }}:{{ end }}",
                "0%:100%:1.235e+08%:1.845e+21%:",
            ),
        ),
        ok(
            "{{ \"-0.22222\" | humanizePercentage }}:{{ \"0.0\" | humanizePercentage }}:{{ \"0.1234567\" | humanizePercentage }}:{{ \"1.23456\" | humanizePercentage }}",
            "-22.22%:0%:12.35%:123.5%",
        ),
        fails(
            "{{ \"one\" | humanizePercentage }}",
            "error executing template test: template: test:1:11: executing \"test\" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax",
        ),
        on(
            int64s(&[0, -1, 1, 1234567, 9223372036]),
            ok(
                "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
                "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
            ),
        ),
        on(
            uint64s(&[0, 1, 1234567, 9223372036]),
            ok(
                "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
                "1970-01-01 00:00:00 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
            ),
        ),
        on(
            int64s(&[i64::MIN, i64::MAX]),
            fails(
                "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
                "error executing template test: template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64",
            ),
        ),
        on(
            uint64s(&[u64::MAX]),
            fails(
                "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
                "error executing template test: template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling humanizeTimestamp: 1.8446744073709552e+19 cannot be represented as a nanoseconds timestamp since it overflows int64",
            ),
        ),
        ok(
            "{{ 1435065584.128 | humanizeTimestamp }}",
            "2015-06-23 13:19:44.128 +0000 UTC",
        ),
        ok(
            "{{ \"1435065584.128\" | humanizeTimestamp }}",
            "2015-06-23 13:19:44.128 +0000 UTC",
        ),
        ok("{{ (1435065584.128 | toTime).Format \"2006\" }}", "2015"),
        ok(
            "{{ (\"1435065584.128\" | toTime).Format \"2006\" }}",
            "2015",
        ),
        ok("{{ (1800 | toDuration).String }}", "30m0s"),
        ok("{{ (\"1800\" | toDuration).String }}", "30m0s"),
        ok("{{ now }}", "1.353755652e+09"),
        ok(
            "{{ (now | toTime).Format \"Mon Jan 2 15:04:05 2006\" }}",
            "Sat Nov 24 11:14:12 2012",
        ),
        ok(
            "{{ (\"-30m\" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}",
            "1353753852000",
        ),
        ok("{{ \"aa bb CC\" | title }}", "Aa Bb CC"),
        ok("{{ \"aa bb CC\" | toUpper }}", "AA BB CC"),
        ok("{{ \"aA bB CC\" | toLower }}", "aa bb cc"),
        ok(
            "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}",
            "true false",
        ),
        ok("{{ graphLink \"up\" }}", "/graph?g0.expr=up&g0.tab=0"),
        ok("{{ tableLink \"up\" }}", "/graph?g0.expr=up&g0.tab=1"),
        ok("{{ pathPrefix }}", "/path/prefix"),
        ok("{{ externalURL }}", "http://testhost:9090/path/prefix"),
        ok(
            "{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}",
            "3720.01",
        ),
        ok(
            "{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}",
            "-3720.01",
        ),
        ok("{{ \"foo.example.com\" | stripDomain }}", "foo"),
        ok("{{ \"foo.example.com:12345\" | stripDomain }}", "foo:12345"),
        ok("{{ \"192.0.2.1\" | stripDomain }}", "192.0.2.1"),
        ok("{{ \"192.0.2.1:12345\" | stripDomain }}", "192.0.2.1:12345"),
        ok("{{ \"2001:0DB8::1\" | stripDomain }}", "2001:0DB8::1"),
        ok(
            "{{ \"[2001:0DB8::1]:12345\" | stripDomain }}",
            "[2001:0DB8::1]:12345",
        ),
        ok(
            "{{ \"[2001:0DB8::1]::12345\" | stripDomain }}",
            "[2001:0DB8::1]::12345",
        ),
    ]
}

#[test]
fn prometheus_template_expansion_cases() {
    let all = cases();
    assert_eq!(all.len(), 81, "ported cases");
    let mut failures = Vec::new();
    for case in &all {
        let results = case.query.clone();
        let query = move |_: &str| Ok(results.clone());
        let env = Env {
            query: &query,
            now_ms: 1_353_755_652_000,
            external_url: Some("http://testhost:9090/path/prefix"),
        };
        let got = run("test", case.text, case.input.clone(), &env);
        let got = got.map_err(|e| e.to_string());
        let got = got.as_deref().map_err(String::as_str);
        if got != case.want {
            failures.push(format!(
                "{:?}\n   want {:?}\n    got {:?}",
                case.text, case.want, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
