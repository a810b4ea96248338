//! A real Prometheus, asked over `/api/v1/query` and `/api/v1/query_range`.
//! Values arrive as strings (`"0.25"`, `"NaN"`, `"+Inf"`) and are parsed
//! as such.

use std::time::Duration;

use serde_json::Value as Json;

use super::{Answer, BackendError, QueryBackend};
use crate::metrics::store::Labels;
use crate::promql::{self, Point};

pub struct Prometheus {
    base: String,
    client: reqwest::blocking::Client,
}

impl Prometheus {
    /// `base` is the server's URL, e.g. `http://127.0.0.1:9090`.
    pub fn new(base: &str) -> anyhow::Result<Prometheus> {
        Ok(Prometheus {
            base: base.trim_end_matches('/').to_string(),
            client: super::http_client(Duration::from_secs(30))?,
        })
    }

    pub(super) fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Json, BackendError> {
        let url = format!("{}{path}", self.base);
        let unavailable =
            |why: String| BackendError::Unavailable(format!("Prometheus at {}: {why}", self.base));
        let response = self
            .client
            .get(&url)
            .query(query)
            .send()
            .map_err(|e| unavailable(e.to_string()))?;
        let status = response.status();
        let body: Json = response
            .json()
            .map_err(|e| unavailable(format!("HTTP {status}, not a JSON answer: {e}")))?;
        if body["status"] == "success" {
            return Ok(body["data"].clone());
        }
        let error = body["error"]
            .as_str()
            .unwrap_or("no error message")
            .to_string();
        match body["errorType"].as_str() {
            Some("bad_data") | Some("execution") => Err(BackendError::Query(error)),
            _ => Err(unavailable(format!("HTTP {status}: {error}"))),
        }
    }
}

/// Seconds with milliseconds, as the API takes times.
pub(crate) fn api_time(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:03}",
        ms.unsigned_abs() / 1000,
        ms.unsigned_abs() % 1000
    )
}

pub(super) fn bad(what: &str) -> BackendError {
    BackendError::Unavailable(format!("Prometheus answered an unexpected shape: {what}"))
}

fn labels(metric: &Json) -> Result<Labels, BackendError> {
    let map = metric
        .as_object()
        .ok_or_else(|| bad("`metric` is not an object"))?;
    Ok(Labels::new(
        map.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
    ))
}

/// `[1700000000.123, "0.5"]`.
fn point(pair: &Json) -> Result<Point, BackendError> {
    let t = pair[0]
        .as_f64()
        .ok_or_else(|| bad("a time that is not a number"))?;
    let v = pair[1]
        .as_str()
        .and_then(promql::parse_value)
        .ok_or_else(|| bad("a value that is not a number in a string"))?;
    Ok(Point {
        t: (t * 1000.0).round() as i64,
        v,
    })
}

/// A matrix answer's series, sorted by labels.
fn matrix(data: &Json) -> Result<Vec<promql::Series>, BackendError> {
    let result = data["result"]
        .as_array()
        .ok_or_else(|| bad("`result` is not a list"))?;
    let mut series = result
        .iter()
        .map(|s| {
            let points = s["values"]
                .as_array()
                .ok_or_else(|| bad("`values` is not a list"))?
                .iter()
                .map(point)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(promql::Series {
                labels: labels(&s["metric"])?,
                points,
            })
        })
        .collect::<Result<Vec<_>, BackendError>>()?;
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(series)
}

impl Prometheus {
    /// The raw samples of `selector` over `(t - range_ms, t]`: an instant
    /// query of `selector[range_ms]`, which Prometheus answers with the
    /// stored samples at their own timestamps (for a rule's series, the
    /// group's evaluation timestamps) rather than on a grid.
    pub fn samples(
        &self,
        selector: &str,
        t: i64,
        range_ms: i64,
    ) -> Result<Vec<promql::Series>, BackendError> {
        let expr = format!("{selector}[{}ms]", range_ms.max(1));
        let data = self.get(
            "/api/v1/query",
            &[("query", expr.clone()), ("time", api_time(t))],
        )?;
        match data["resultType"].as_str() {
            Some("matrix") => matrix(&data),
            Some(other) => Err(BackendError::Query(format!(
                "`{expr}` gave a {other}, not the range vector asked for"
            ))),
            None => Err(bad("no resultType")),
        }
    }
}

impl QueryBackend for Prometheus {
    fn instant(&self, expr: &str, t: i64) -> Result<Answer, BackendError> {
        let data = self.get(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", api_time(t))],
        )?;
        match data["resultType"].as_str() {
            Some("scalar") => Ok(vec![(Labels::empty(), point(&data["result"])?.v)]),
            Some("vector") => data["result"]
                .as_array()
                .ok_or_else(|| bad("`result` is not a list"))?
                .iter()
                .map(|s| Ok((labels(&s["metric"])?, point(&s["value"])?.v)))
                .collect(),
            Some(other) => Err(BackendError::Query(format!(
                "`{expr}` gives a {other}; an expectation needs a scalar or an instant vector"
            ))),
            None => Err(bad("no resultType")),
        }
    }

    fn range(
        &self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<promql::Series>, BackendError> {
        let data = self.get(
            "/api/v1/query_range",
            &[
                ("query", expr.to_string()),
                ("start", api_time(start)),
                ("end", api_time(end)),
                ("step", api_time(step)),
            ],
        )?;
        matrix(&data)
    }

    fn describe(&self) -> String {
        format!("Prometheus at {}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_times_keep_milliseconds() {
        assert_eq!(api_time(1_700_000_000_005), "1700000000.005");
        assert_eq!(api_time(-1), "-0.001");
    }
}
