//! Where PromQL is answered: the embedded evaluator over scraped data, or a
//! real Prometheus over its HTTP API. One trait, two implementations; the
//! expectations do not know which they talk to.

pub(crate) mod alertmanager;
mod prometheus;
pub mod prometheus_state;
pub(crate) mod receiver;

use std::time::Duration;

pub use prometheus::Prometheus;

use crate::metrics::loss::Loss;
use crate::metrics::store::{Labels, Store};
use crate::promql::{self, Evaluator, Value};

/// What watched the paging chain during a live run: the Alertmanager's
/// alerts, and slogate's webhook receiver.
#[derive(Default)]
pub(crate) struct Paging {
    pub alertmanager: Option<alertmanager::Watch>,
    pub receiver: Option<receiver::Receiver>,
}

/// An instant query's answer: labelled values (a scalar is one value with
/// no labels).
pub type Answer = Vec<(Labels, f64)>;

/// Answers PromQL.
pub trait QueryBackend {
    /// Evaluates `expr` at `t` (ms since the epoch).
    fn instant(&self, expr: &str, t: i64) -> Result<Answer, BackendError>;
    /// Evaluates `expr` at each step from `start` to `end`.
    fn range(
        &self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<promql::Series>, BackendError>;
    /// For reports: `embedded` or the server's URL.
    fn describe(&self) -> String;
    /// What limits kept out of the data an evaluation from `start` to
    /// `end` (ms) reads; a real Prometheus keeps its own account.
    fn losses(&self, _start: i64, _end: i64) -> Vec<Loss> {
        Vec::new()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The expression itself is at fault (bad syntax, unsupported).
    #[error("{0}")]
    Query(String),
    /// The server could not be asked, or answered nonsense.
    #[error("{0}")]
    Unavailable(String),
}

/// The embedded evaluator over a store.
pub struct Embedded<'s> {
    pub store: &'s Store,
    pub lookback: Duration,
    /// Subquery step when none is written.
    pub default_step: Duration,
}

impl<'s> Embedded<'s> {
    pub fn new(store: &'s Store) -> Embedded<'s> {
        Embedded {
            store,
            lookback: Duration::from_secs(300),
            default_step: Duration::from_secs(60),
        }
    }

    fn evaluator(&self) -> Evaluator<'s> {
        Evaluator::new(self.store)
            .with_lookback(self.lookback)
            .with_default_step(self.default_step)
    }
}

impl QueryBackend for Embedded<'_> {
    fn instant(&self, expr: &str, t: i64) -> Result<Answer, BackendError> {
        let parsed = promql::parse(expr).map_err(|e| BackendError::Query(e.to_string()))?;
        match self.evaluator().instant(&parsed, t) {
            Ok(Value::Scalar(v)) => Ok(vec![(Labels::empty(), v)]),
            Ok(Value::Vector(samples)) => {
                Ok(samples.into_iter().map(|s| (s.labels, s.v)).collect())
            }
            Ok(other) => Err(BackendError::Query(format!(
                "`{expr}` gives a {}; an expectation needs a scalar or an instant vector",
                other.kind()
            ))),
            Err(e) => Err(BackendError::Query(e.to_string())),
        }
    }

    fn range(
        &self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<promql::Series>, BackendError> {
        let parsed = promql::parse(expr).map_err(|e| BackendError::Query(e.to_string()))?;
        self.evaluator()
            .range(&parsed, start, end, step)
            .map_err(|e| BackendError::Query(e.to_string()))
    }

    fn describe(&self) -> String {
        "embedded".into()
    }

    /// Losses from a lookback before `start` to `end`: an instant selector
    /// at `start` reads that far back. (A range such as `[1h]` reads
    /// further; a series limit, though, drops again at every scrape while
    /// it holds, so its loss reaches into the window too.)
    fn losses(&self, start: i64, end: i64) -> Vec<Loss> {
        let from = start.saturating_sub(self.lookback.as_millis() as i64);
        self.store
            .losses()
            .iter()
            .filter(|loss| loss.overlaps(from, end))
            .cloned()
            .collect()
    }
}

pub use crate::net::http_client;
