//! What a test expects against what the rules did: firing alerts at an
//! `alert_rule_test`'s time, and a `promql_expr_test`'s samples. Compared
//! as promtool compares them: label sets and annotations exactly, the
//! expected alert's `alertname` set to the test's (whatever `exp_labels`
//! says), values exactly, or within one float step either way under
//! `fuzzy_compare` (so NaN never equals NaN), native histograms by their
//! text in the series notation (Prometheus's `TestExpression`, the
//! counter-reset hint included).

use std::time::Duration;

use promql_parser::parser::Expr;

use super::model::{AlertTest, ExprTest};
use super::series::{Item, Values, ValuesError};
use super::{SeriesError, parse_series};
use crate::metrics::histogram::notation::expression;
use crate::metrics::store::{Labels, Store};
use crate::promql::{self, Evaluator, Value, format_value};
use crate::rules::eval::RuleSet;

type AlertView = (Labels, Labels);

/// `eval_time` as written, for messages (`0` when it was left out).
fn shown_time(test_time: &Option<serde_saphyr::Spanned<crate::rules::nullable::Str>>) -> &str {
    test_time.as_ref().map_or("0s", |t| t.value.as_str())
}

/// A failure message, or None when the firing alerts are the expected ones.
pub(crate) fn alerts(set: &RuleSet, test: &AlertTest) -> Option<String> {
    let name = test.alertname.as_str();
    let mut got: Vec<AlertView> = set
        .firing(name)
        .into_iter()
        .map(|a| {
            let annotations = a
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (a.labels.clone(), Labels::new(annotations))
        })
        .collect();
    let mut expected: Vec<AlertView> = Vec::new();
    for exp in &test.exp_alerts {
        let mut labels = exp.exp_labels.clone();
        // promtool overwrites it: the rule adds `alertname`, the test names it.
        labels.insert("alertname".into(), test.alertname.clone());
        let labels = labels.into_iter().map(|(k, v)| (k, v.0)).collect();
        let annotations = exp
            .exp_annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        expected.push((Labels::new(labels), Labels::new(annotations)));
    }
    got.sort();
    expected.sort();
    if got == expected {
        return None;
    }
    let show = |(labels, annotations): &AlertView| format!("{labels} annotations {annotations}");
    let mut text = format!("alertname: {name}, time: {}", shown_time(&test.eval_time));
    for line in expected.iter().filter(|e| !got.contains(e)).map(show) {
        text.push_str(&format!("\n    - expected, not firing: {line}"));
    }
    for line in got.iter().filter(|g| !expected.contains(g)).map(show) {
        text.push_str(&format!("\n    + firing, not expected: {line}"));
    }
    Some(text)
}

/// Evaluates the test's expression at `t` (ms) and compares; a failure
/// message, or None when it matches.
pub(crate) fn expr(
    store: &Store,
    test: &ExprTest,
    t: i64,
    eval_interval_ms: i64,
    fuzzy: bool,
    features: crate::promql::features::Features,
) -> Option<String> {
    let head = format!(
        "expr: {:?}, time: {}",
        test.expr.as_str(),
        shown_time(&test.eval_time)
    );
    let got = match promql::parse(test.expr.as_str()).and_then(|expr: Expr| {
        if let Some(refused) = features.refuse(&expr) {
            return Err(promql::Error::Parse(refused.message));
        }
        let mut evaluator =
            Evaluator::new(store).with_default_step(Duration::from_millis(eval_interval_ms as u64));
        let value = evaluator.instant(&expr, t)?;
        let got = |v: f64| Got {
            // promtool's `s.F`: 0 for a histogram.
            value: if evaluator.histogram(v).is_some() {
                0.0
            } else {
                v
            },
            histogram: evaluator.histogram(v).map(|h| expression(&h)),
        };
        Ok(match value {
            Value::Vector(samples) => Ok(samples
                .iter()
                .map(|s| (s.labels.clone(), got(s.v)))
                .collect()),
            Value::Scalar(v) => Ok(vec![(Labels::empty(), got(v))]),
            // The value's kind, for promtool's message below.
            other => Err(other.kind()),
        })
    }) {
        Ok(Ok(samples)) => samples,
        Ok(Err(kind)) => {
            return Some(format!(
                "{head}, err: rule result is not a vector or scalar: {kind}"
            ));
        }
        Err(e) => return Some(format!("{head}, err: {e}")),
    };
    let mut expected: Vec<(Labels, Got)> = Vec::new();
    for sample in &test.exp_samples {
        let parsed = parse_series(sample.labels.as_str())
            .map_err(ExpectedError::from)
            .and_then(|labels| {
                let histogram = match sample.histogram.as_str() {
                    "" => None,
                    text => Some(expected_histogram(text)?),
                };
                Ok((
                    labels,
                    Got {
                        value: sample.value.0,
                        histogram,
                    },
                ))
            });
        match parsed {
            Ok(sample) => expected.push(sample),
            Err(e) => {
                return Some(format!(
                    "{head}, err: labels {:?}: {e}",
                    sample.labels.as_str()
                ));
            }
        }
    }
    let mut got: Vec<(Labels, Got)> = got;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let same = got.len() == expected.len()
        && got.iter().zip(&expected).all(|(g, e)| {
            g.0 == e.0
                && g.1.histogram == e.1.histogram
                && values_equal(g.1.value, e.1.value, fuzzy)
        });
    if same {
        return None;
    }
    let show = |samples: &[(Labels, Got)]| {
        if samples.is_empty() {
            "(nothing)".to_string()
        } else {
            samples
                .iter()
                .map(|(l, v)| match &v.histogram {
                    Some(h) => format!("{l} {h}"),
                    None => format!("{l} {}", format_value(v.value)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    Some(format!(
        "{head}\n    expected: {}\n    got:      {}",
        show(&expected),
        show(&got)
    ))
}

/// A sample as promtool compares it: the float, and a histogram's text.
#[derive(Debug, Clone, PartialEq)]
struct Got {
    value: f64,
    histogram: Option<String>,
}

/// An expected `histogram:`, read as promtool reads it (one value of the
/// series notation, which must be a histogram), as its text.
fn expected_histogram(text: &str) -> Result<String, ExpectedError> {
    let values = Values::parse(text).map_err(|source| ExpectedError::Histogram {
        text: text.to_string(),
        source,
    })?;
    let mut cursor = values.cursor();
    let mut items = Vec::new();
    while let Some((_, item)) = cursor.next_until(1) {
        items.push(item);
    }
    match (items.pop(), values.len()) {
        (Some(Item::Histogram(h)), 1) => Ok(expression(&h)),
        (Some(Item::Float(v)), 1) => Err(ExpectedError::Float {
            shown: format_value(v),
        }),
        (_, count) => Err(ExpectedError::Count { count }),
    }
}

/// Why an `exp_samples` entry does not read: its labels, or its
/// `histogram:` as the series notation.
#[derive(Debug, thiserror::Error)]
enum ExpectedError {
    #[error(transparent)]
    Labels(#[from] SeriesError),
    #[error("histogram {text:?}: {source}")]
    Histogram { text: String, source: ValuesError },
    #[error("expected histogram, got {shown}")]
    Float { shown: String },
    #[error("expected 1 value, got {count}")]
    Count { count: u64 },
}

/// promtool's comparison: `==`, or under `fuzzy_compare` also the next
/// float down or up (`math.Nextafter`).
fn values_equal(got: f64, want: f64, fuzzy: bool) -> bool {
    got == want || (fuzzy && (got.next_down() == want || got.next_up() == want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_allows_one_float_step_and_no_more() {
        assert!(values_equal(3.0, 3.0, false));
        assert!(!values_equal(2.9999999999999996, 3.0, false));
        assert!(values_equal(2.9999999999999996, 3.0, true));
        assert!(values_equal(3.0000000000000004, 3.0, true));
        assert!(!values_equal(2.9999999999999987, 3.0, true));
        assert!(!values_equal(3.0000000000000013, 3.0, true));
        assert!(!values_equal(f64::NAN, f64::NAN, true));
    }
}
