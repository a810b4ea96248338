//! A test group's `input_series`: each series' labels and values, a series
//! given twice keeping its last definition (promtool's loader keys
//! definitions by label set), and the samples appended to the store only as
//! the evaluation reaches their time (promtool's `WithSamplesTill`).

use std::collections::HashMap;

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use super::Source;
use super::error::TestError;
use super::model::SeriesSpec;
use super::series::{Cursor, Item, Values};
use crate::metrics::store::{Labels, NAME, Store, StoreError};
use crate::promql;

/// The series as defined, last definition winning, in first-seen order.
pub(crate) struct Defined {
    series: Vec<(Labels, Values)>,
}

impl Defined {
    /// Reads every series; a value that does not parse is an error at its
    /// place in the test file.
    pub(crate) fn read(specs: &[SeriesSpec], source: Source<'_>) -> Result<Defined, TestError> {
        let mut series: Vec<(Labels, Values)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for spec in specs {
            let labels =
                parse_series(spec.series.as_str()).map_err(|source| TestError::Series {
                    series: spec.series.as_str().to_string(),
                    source,
                })?;
            let values = match &spec.values {
                None => Values::default(),
                Some(text) => Values::parse(text.value.as_str()).map_err(|e| {
                    source.error_in(
                        text,
                        e.offset,
                        format!("series {}: values: {}", spec.series.as_str(), e.message),
                        HINT,
                    )
                })?,
            };
            match index.get(&labels) {
                Some(&i) => series[i].1 = values,
                None => {
                    index.insert(labels.clone(), series.len());
                    series.push((labels, values));
                }
            }
        }
        Ok(Defined { series })
    }

    /// Readers of every series into `store`, position `i` at
    /// `start + i × interval` (ms).
    pub(crate) fn load<'a>(
        &'a self,
        store: &mut Store,
        start: i64,
        interval: i64,
    ) -> Result<Inputs<'a>, StoreError> {
        let mut series = Vec::new();
        for (labels, values) in &self.series {
            let id = store.series_id(labels)?;
            series.push((id, values.cursor()));
        }
        Ok(Inputs {
            series,
            start,
            interval,
        })
    }
}

/// The input series, each read only as far as the evaluation has come.
pub(crate) struct Inputs<'a> {
    /// Store id, the series' values, where reading them has got to.
    series: Vec<(usize, Cursor<'a>)>,
    start: i64,
    interval: i64,
}

impl Inputs<'_> {
    /// Appends every input sample at or before `t` (ms), as promtool's
    /// `WithSamplesTill`.
    pub(crate) fn load_till(&mut self, store: &mut Store, t: i64) -> Result<(), TestError> {
        if t < self.start {
            return Ok(());
        }
        let last = ((t - self.start) / self.interval) as u64;
        for (id, cursor) in &mut self.series {
            while let Some((position, item)) = cursor.next_until(last) {
                let at = (position as i64)
                    .checked_mul(self.interval)
                    .and_then(|offset| offset.checked_add(self.start))
                    .ok_or(TestError::TimeOutOfRange)?;
                match item {
                    Item::Float(v) => store.append(*id, at, v),
                    Item::Histogram(h) => store.append_histogram(*id, at, h),
                }?;
            }
        }
        Ok(())
    }
}

/// How values are written, for a hint.
const HINT: &str = "values are blank-separated: `1 2 3`, `0+10x5`, `_`, `stale`, or native histograms: `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}`, `{{...}}x3`, `{{...}}+{{...}}x3`";

/// Why a series' text (`metric{a="b"}`) does not name one series.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    #[error(transparent)]
    Parse(#[from] promql::Error),
    #[error("`{text}` is not a series (`metric{{label=\"value\"}}`)")]
    NotASelector { text: String },
    #[error("`{text}`: only `=` in a series' labels")]
    NotEqual { text: String },
}

/// `metric{a="b"}` (or `{__name__="m", a="b"}`) to labels.
pub fn parse_series(text: &str) -> Result<Labels, SeriesError> {
    if text.trim().is_empty() || text.trim() == "{}" {
        return Ok(Labels::empty());
    }
    let expr = promql::parse(text)?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(SeriesError::NotASelector {
            text: text.to_string(),
        });
    };
    let mut pairs = Vec::new();
    if let Some(name) = &vs.name {
        pairs.push((NAME.to_string(), name.clone()));
    }
    for m in &vs.matchers.matchers {
        if m.op != MatchOp::Equal {
            return Err(SeriesError::NotEqual {
                text: text.to_string(),
            });
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_labels() {
        assert_eq!(
            parse_series(r#"up{job="a", instance="b"}"#).unwrap(),
            Labels::from_pairs(&[("__name__", "up"), ("instance", "b"), ("job", "a")])
        );
        assert_eq!(parse_series("").unwrap(), Labels::empty());
        assert_eq!(
            parse_series(r#"up{job=~"a"}"#).unwrap_err().to_string(),
            r#"`up{job=~"a"}`: only `=` in a series' labels"#
        );
        assert_eq!(
            parse_series("up + 1").unwrap_err().to_string(),
            r#"`up + 1` is not a series (`metric{label="value"}`)"#
        );
    }
}
