//! The unit-test file as promtool 3 reads it (`cmd/promtool/unittest.go`'s
//! `unitTestFile`, `testGroup`, `alertTestCase`, `promqlTestCase`): strict
//! about unknown keys, a null anywhere a list, map or string goes is
//! empty, string fields keep the scalar's literal text, `eval_time`
//! defaults to 0.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::rules::nullable::{Str, or_default};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestFile {
    #[serde(default, deserialize_with = "or_default")]
    pub rule_files: Vec<Str>,
    #[serde(default, deserialize_with = "or_default")]
    pub evaluation_interval: Option<Spanned<Str>>,
    #[serde(default, deserialize_with = "or_default")]
    pub group_eval_order: Vec<Str>,
    #[serde(default, deserialize_with = "or_default")]
    pub tests: Vec<GroupSpec>,
    /// Values equal when they are at most one float step apart.
    #[serde(default, deserialize_with = "or_default")]
    pub fuzzy_compare: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupSpec {
    #[serde(default, deserialize_with = "or_default")]
    pub interval: Option<Spanned<Str>>,
    #[serde(default, deserialize_with = "or_default")]
    pub input_series: Vec<SeriesSpec>,
    #[serde(default, deserialize_with = "or_default")]
    pub alert_rule_test: Vec<AlertTest>,
    #[serde(default, deserialize_with = "or_default")]
    pub promql_expr_test: Vec<ExprTest>,
    #[serde(default, deserialize_with = "or_default")]
    pub external_labels: BTreeMap<String, Str>,
    #[serde(default, deserialize_with = "or_default")]
    pub external_url: Str,
    #[serde(default, deserialize_with = "or_default")]
    pub name: Str,
    /// RFC 3339 or Unix seconds: the time of the first sample and of
    /// `eval_time: 0` (default: the Unix epoch).
    #[serde(default, deserialize_with = "or_default")]
    pub start_timestamp: Option<Spanned<Str>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeriesSpec {
    #[serde(default, deserialize_with = "or_default")]
    pub series: Str,
    #[serde(default, deserialize_with = "or_default")]
    pub values: Option<Spanned<Str>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertTest {
    #[serde(default, deserialize_with = "or_default")]
    pub eval_time: Option<Spanned<Str>>,
    #[serde(default, deserialize_with = "or_default")]
    pub alertname: Str,
    #[serde(default, deserialize_with = "or_default")]
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpAlert {
    #[serde(default, deserialize_with = "or_default")]
    pub exp_labels: BTreeMap<String, Str>,
    #[serde(default, deserialize_with = "or_default")]
    pub exp_annotations: BTreeMap<String, Str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExprTest {
    #[serde(default, deserialize_with = "or_default")]
    pub expr: Str,
    #[serde(default, deserialize_with = "or_default")]
    pub eval_time: Option<Spanned<Str>>,
    #[serde(default, deserialize_with = "or_default")]
    pub exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpSample {
    #[serde(default, deserialize_with = "or_default")]
    pub labels: Str,
    #[serde(default, deserialize_with = "or_default")]
    pub value: Number,
    /// A native histogram in the series notation (`{{count:4 sum:5
    /// buckets:[1 2 1]}}`); when given, the sample is that histogram.
    #[serde(default, deserialize_with = "or_default")]
    pub histogram: Str,
}

/// A sample's `value`, read as Go's YAML reads a number into a `float64`:
/// decimal and exponent forms, `0x` hexadecimal, `.inf`, `-.inf`, `.nan`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Str::deserialize(deserializer)?;
        parse_number(text.as_str())
            .map(Number)
            .ok_or_else(|| serde::de::Error::custom(format!("`{}` is not a number", text.as_str())))
    }
}

fn parse_number(text: &str) -> Option<f64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits {
        ".inf" | ".Inf" | ".INF" => f64::INFINITY,
        ".nan" | ".NaN" | ".NAN" if sign > 0.0 && !text.starts_with('+') => return Some(f64::NAN),
        _ => match digits.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16).ok()? as f64,
            // Rust's float parser also takes `inf` and `NaN`, which YAML does not.
            None if digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
                digits.parse().ok()?
            }
            None => return None,
        },
    };
    Some(sign * magnitude)
}

/// The format's keys, for "did you mean" on an unknown one.
pub(crate) const KEYS: &[&[&str]] = &[
    &[
        "rule_files",
        "evaluation_interval",
        "group_eval_order",
        "tests",
        "fuzzy_compare",
    ],
    &[
        "interval",
        "input_series",
        "alert_rule_test",
        "promql_expr_test",
        "external_labels",
        "external_url",
        "name",
        "start_timestamp",
    ],
    &["series", "values"],
    &["eval_time", "alertname", "exp_alerts"],
    &["exp_labels", "exp_annotations"],
    &["expr", "eval_time", "exp_samples"],
    &["labels", "value", "histogram"],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_as_go_reads_them() {
        assert_eq!(parse_number("3"), Some(3.0));
        assert_eq!(parse_number("-1.5e3"), Some(-1500.0));
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number(".inf"), Some(f64::INFINITY));
        assert_eq!(parse_number("-.inf"), Some(f64::NEG_INFINITY));
        assert!(parse_number(".nan").unwrap().is_nan());
        for bad in ["abc", "inf", "NaN", "", "1..2"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
