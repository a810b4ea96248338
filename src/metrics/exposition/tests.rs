//! The exposition parser's tests: UTF-8 names and values, OpenMetrics
//! float formatting, and parsing both formats (samples, metadata, errors by
//! line and column).

mod utf8 {
    use super::super::*;

    struct Collect(Vec<(String, Vec<(String, String)>)>, Vec<String>);

    impl Visitor for Collect {
        fn metadata(&mut self, m: &Metadata<'_>) {
            if let Metadata::Type { family, .. } = m {
                self.1.push(family.to_string());
            }
        }
        fn sample(&mut self, s: &SampleLine<'_>) {
            let labels = s
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            self.0.push((s.name.to_string(), labels));
        }
    }

    #[test]
    fn quoted_names_as_prometheus_3_writes_them() {
        let input = "# TYPE \"my.metric\" counter\n{\"my.metric\", \"label.x\"=\"v\", a=\"b\"} 1\n\
                     plain{\"k.y\"=\"1\"} 2\n{\"only.name\"} 3\n";
        let mut got = Collect(Vec::new(), Vec::new());
        assert_eq!(parse(input, Format::Text, &mut got), Ok(3));
        assert_eq!(got.1, ["my.metric"]);
        let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert_eq!(
            got.0,
            [
                (
                    "my.metric".into(),
                    vec![pair("label.x", "v"), pair("a", "b")]
                ),
                ("plain".into(), vec![pair("k.y", "1")]),
                ("only.name".into(), vec![]),
            ]
        );
        for (bad, column, message) in [
            ("{\"a\"=\"b\"} 1\n", 1, "expected a metric name"),
            ("{\"a\", \"b\"} 1\n", 7, "a second metric name"),
            ("{\"a\\\"b\"} 1\n", 4, "escapes in a quoted name"),
            ("{\"a} 1\n", 2, "unterminated quoted name"),
        ] {
            let err = parse(bad, Format::Text, &mut Collect(Vec::new(), Vec::new())).unwrap_err();
            assert_eq!(err.column, column, "{bad:?}: {err}");
            assert!(err.message.starts_with(message), "{bad:?}: {err}");
        }
    }
}

mod float {
    use super::super::openmetrics_float;

    #[test]
    fn floats_print_as_go_formats_openmetrics_floats() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (10.0, "10.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456.0"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, text) in cases {
            assert_eq!(openmetrics_float(v), text, "{v}");
        }
        assert_eq!(openmetrics_float(f64::NAN), "NaN");
    }
}

mod parse {
    use super::super::*;

    /// Name, labels, value and timestamp of a sample, owned.
    type Owned = (String, Vec<(String, String)>, f64, Option<i64>);

    #[derive(Debug, Default)]
    struct Collect {
        samples: Vec<Owned>,
        metadata: Vec<String>,
    }

    impl Visitor for Collect {
        fn metadata(&mut self, metadata: &Metadata<'_>) {
            self.metadata.push(format!("{metadata:?}"));
        }
        fn sample(&mut self, s: &SampleLine<'_>) {
            let labels = s
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            self.samples
                .push((s.name.to_string(), labels, s.value, s.timestamp_ms));
        }
    }

    fn parse_all(input: &str, format: Format) -> Result<Collect, ParseError> {
        let mut collect = Collect::default();
        parse(input, format, &mut collect)?;
        Ok(collect)
    }

    #[test]
    fn classic_text_with_everything() {
        let input = "# HELP http_requests_total Requests, with a \\ and a\\nnewline.\n\
# TYPE http_requests_total counter\n\
http_requests_total{method=\"GET\",path=\"/a\\\"b\\\\c\\nd\"} 1027 1395066363000\n\
http_requests_total{method=\"POST\",} 3\n\
# a plain comment\n\
\n\
   \n\
metric_without_labels\t+Inf\n\
nan_metric NaN\n\
neg{a=\"1\"} -Inf\n\
sci 1.5e-3\n";
        // Blank lines, even of spaces, are skipped (as Prometheus does).
        let parsed = parse_all(input, Format::Text).unwrap();
        assert_eq!(parsed.samples.len(), 6);
        let (name, labels, value, ts) = &parsed.samples[0];
        assert_eq!(name, "http_requests_total");
        assert_eq!(labels[1], ("path".to_string(), "/a\"b\\c\nd".to_string()));
        assert_eq!((*value, *ts), (1027.0, Some(1_395_066_363_000)));
        assert_eq!(
            parsed.samples[1].1,
            vec![("method".to_string(), "POST".to_string())]
        );
        assert_eq!(parsed.samples[2].2, f64::INFINITY);
        assert!(parsed.samples[3].2.is_nan());
        assert_eq!(parsed.samples[4].2, f64::NEG_INFINITY);
        assert_eq!(parsed.samples[5].2, 0.0015);
        assert!(
            parsed.metadata[0].contains("Requests, with a \\\\ and a\\nnewline."),
            "{:?}",
            parsed.metadata
        );
        assert!(parsed.metadata[1].contains("Counter"));
    }

    #[test]
    fn openmetrics_with_units_exemplars_and_eof() {
        let input = "# TYPE foo histogram\n# UNIT foo seconds\n# HELP foo Foo.\n\
foo_bucket{le=\"0.5\"} 3 # {trace_id=\"abc\"} 0.4 1520879607.789\n\
foo_bucket{le=\"+Inf\"} 4\nfoo_count 4 1520879607.789\nfoo_sum 1.5\n# EOF\n";
        let parsed = parse_all(input, Format::OpenMetrics).unwrap();
        assert_eq!(parsed.samples.len(), 4);
        assert_eq!(parsed.samples[2].3, Some(1_520_879_607_789));
        assert!(parsed.metadata[1].contains("seconds"));
        assert_eq!(
            parse_all(&input.replace("# EOF\n", ""), Format::OpenMetrics)
                .unwrap_err()
                .message,
            "missing `# EOF` at the end"
        );
        let after = format!("{input}x 1\n");
        assert_eq!(
            parse_all(&after, Format::OpenMetrics).unwrap_err().message,
            "nothing may follow `# EOF`"
        );
        assert!(parse_all("# TYPE x untyped\n# EOF\n", Format::OpenMetrics).is_err());
        assert!(parse_all("# TYPE x unknown\n# EOF\n", Format::OpenMetrics).is_ok());
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("x{a=\"1\" 2\n", 1, 9, "expected `,` or `}`"),
            ("ok 1\nx{a=1} 2\n", 2, 5, "expected `\"` to open"),
            ("x{a=\"1} 2\n", 1, 5, "unterminated label value"),
            ("x 1 2 3\n", 1, 7, "unexpected `3`"),
            ("x abc\n", 1, 3, "`abc` is not a number"),
            ("x 1 1.5\n", 1, 5, "not a timestamp"),
            ("9x 1\n", 1, 1, "expected a metric name"),
            ("x{a=\"1\",a=\"2\"} 1\n", 1, 9, "appears twice"),
            ("x{a=\"\\q\"} 1\n", 1, 6, "invalid escape"),
            ("# TYPE x countr\n", 1, 10, "unknown type `countr`"),
            ("x\n", 1, 2, "expected a space and a value"),
            ("x{\n", 1, 3, "unterminated label set"),
            ("  x 1 abc\n", 2 - 1, 7, "not a timestamp"),
        ];
        for (input, line, column, message) in cases {
            let error = parse_all(input, Format::Text)
                .err()
                .unwrap_or_else(|| panic!("{input:?} parsed"));
            assert!(error.message.contains(message), "{input:?}: {error}");
            assert_eq!(
                (error.line, error.column),
                (line, column),
                "{input:?}: {error}"
            );
        }
    }

    #[test]
    fn mangled_input_never_panics() {
        let valid = "# HELP a A.\n# TYPE a counter\na_total{x=\"1\",y=\"a\\\"b\"} 1 123\n\
# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2 # {t=\"x\"} 1.0 12.5\nh_sum NaN\n# EOF\n";
        let alphabet = b"{}=\",\\# \n\tabcE+-.019NIfaxn";
        let mut state: u64 = 0x1234_5678;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut bytes = valid.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let text = String::from_utf8(bytes).expect("ASCII stays UTF-8");
            for format in [Format::Text, Format::OpenMetrics] {
                let _ = parse_all(&text, format);
            }
        }
    }
}
