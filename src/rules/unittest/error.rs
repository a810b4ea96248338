//! Why a unit-test file, or one of its test groups, cannot run: each case
//! is something the user fixes in the test file or its rule files.

use super::inputs::SeriesError;
use crate::diag::ScenarioError;
use crate::metrics::store::StoreError;
use crate::rules::eval::BadExpr;
use crate::rules::glob::BadPattern;

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TestError {
    /// Errors at their places in the test file or a rule file, one a line.
    #[error("{}", lines(.0))]
    At(Vec<ScenarioError>),
    #[error(transparent)]
    Pattern(#[from] BadPattern),
    #[error("group name repeated in evaluation order: {name}")]
    RepeatedGroup { name: String },
    #[error("input series {series:?}: {source}")]
    Series { series: String, source: SeriesError },
    /// The store's limits refused an input sample or series.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("input series: a sample's time is past what a timestamp holds")]
    TimeOutOfRange,
    #[error(
        "an item under alert_rule_test misses required attribute alertname at eval_time {eval_time}{in_group}"
    )]
    NoAlertname {
        /// As promtool shows it (`5m`).
        eval_time: String,
        /// ` (in TestGroup NAME)`, or empty for an unnamed group.
        in_group: String,
    },
    #[error(transparent)]
    Rules(#[from] BadExpr),
}

impl From<ScenarioError> for TestError {
    fn from(e: ScenarioError) -> TestError {
        TestError::At(vec![e])
    }
}

fn lines(errors: &[ScenarioError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
