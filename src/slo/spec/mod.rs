//! SLO files as teams write them for other tools, read unchanged: Sloth
//! (`version: prometheus/v1`, or its `PrometheusServiceLevel` resource),
//! OpenSLO v1 (`kind: SLO`, with its `SLI` documents) and Pyrra
//! (`kind: ServiceLevelObjective`). Each SLO becomes one of ours; what
//! slogate cannot judge the way the tool means it (grouped SLIs, plugins,
//! time slices, native histograms, ...) is refused by name, at its line.
//!
//! Keys the readers do not use (labels, alerting, annotations,
//! descriptions) are read past: they shape the tool's own rules, not what
//! the SLO measures.

mod openslo;
mod pyrra;
mod sloth;

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use super::{Counts, Sli, WINDOW_PLACEHOLDER};
use crate::diag::{Position, ScenarioError};

/// A string (or any scalar, as written) with where it was written.
type Text = Spanned<String>;

/// One SLO read from a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Imported {
    pub name: String,
    /// As a fraction: 0.999.
    pub objective: f64,
    /// None: the file has no period (Sloth's default is 30 days).
    pub period: Option<Duration>,
    pub sli: Sli,
    /// `file:line:col` of the SLO in its file.
    pub source: String,
}

/// The SLOs of the file at `path`, in the order written.
pub(crate) fn read(path: &Path) -> Result<Vec<Imported>, Vec<ScenarioError>> {
    let source = crate::diag::read(path)?;
    let mut reader = Reader {
        path,
        source: &source,
        errors: Vec::new(),
    };
    let slos = reader.read();
    match (slos, reader.errors.is_empty()) {
        (Some(slos), true) if !slos.is_empty() => Ok(slos),
        (Some(_), true) => Err(vec![reader.error_at(None, "the file holds no SLO")]),
        _ => Err(reader.errors),
    }
}

/// The first document's keys that tell the formats apart.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    version: Option<Spanned<String>>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<Spanned<String>>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
}

const FORMATS_HINT: &str = "slogate reads Sloth (`version: prometheus/v1`), OpenSLO (`apiVersion: openslo/v1`) and Pyrra (`apiVersion: pyrra.dev/v1alpha1`) files; or write the SLO in the scenario";

struct Reader<'a> {
    path: &'a Path,
    source: &'a str,
    errors: Vec<ScenarioError>,
}

impl Reader<'_> {
    fn read(&mut self) -> Option<Vec<Imported>> {
        let heads: Vec<Option<Head>> = match serde_saphyr::from_str_multiple(self.source) {
            Ok(heads) => heads,
            Err(e) => {
                self.yaml(&e);
                return None;
            }
        };
        let Some(head) = heads.into_iter().flatten().next() else {
            self.errors.push(self.error_at(None, "the file is empty"));
            return None;
        };
        let value = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.value.clone());
        let (version, kind) = (value(&head.version), value(&head.kind));
        let api = value(&head.api_version).unwrap_or_default();
        match (version.as_deref(), api.as_str(), kind.as_deref()) {
            (Some("prometheus/v1"), _, _) => self.sloth(),
            (_, "sloth.slok.dev/v1", Some("PrometheusServiceLevel")) => self.sloth_resources(),
            (_, "openslo/v1", _) => self.openslo(),
            (_, "pyrra.dev/v1alpha1", _) => self.pyrra(),
            _ => {
                let (at, message) = match (&head.version, &head.api_version) {
                    (Some(v), _) => (
                        Some(v),
                        format!("`version: {}` is not an SLO format slogate reads", v.value),
                    ),
                    (None, Some(a)) if a.value.to_ascii_lowercase().contains("openslo") => (
                        Some(a),
                        format!("OpenSLO `{}` is not a version slogate reads", a.value),
                    ),
                    (None, Some(a)) => (
                        Some(a),
                        format!(
                            "`apiVersion: {}` is not an SLO format slogate reads",
                            a.value
                        ),
                    ),
                    (None, None) => (
                        None,
                        "not an SLO file slogate reads: no `version` or `apiVersion`".to_string(),
                    ),
                };
                let at = at.map(|s| Position::from(s.referenced));
                let e = self.error_at(at, message);
                self.errors.push(e.hint(FORMATS_HINT));
                None
            }
        }
    }

    fn error_at(&self, at: Option<Position>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.path, self.source, at, message)
    }

    /// An error at `spanned`, with a hint.
    fn refuse<T>(&mut self, spanned: &Spanned<T>, message: impl Into<String>, hint: &str) {
        let e = self.error_at(Some(Position::from(spanned.referenced)), message);
        self.errors.push(e.hint(hint));
    }

    fn yaml(&mut self, e: &serde_saphyr::Error) {
        self.errors.push(crate::diag::yaml::error_with_keys(
            self.path,
            self.source,
            e,
            &[],
        ));
    }

    /// Every document of the file as `T`.
    fn documents<T: for<'de> Deserialize<'de>>(&mut self) -> Option<Vec<Spanned<T>>> {
        let docs: Result<Vec<Option<Spanned<T>>>, _> = serde_saphyr::from_str_multiple(self.source);
        match docs {
            Ok(docs) => Some(docs.into_iter().flatten().collect()),
            Err(e) => {
                self.yaml(&e);
                None
            }
        }
    }

    fn source_of<T>(&self, spanned: &Spanned<T>) -> String {
        let p = Position::from(spanned.referenced);
        format!("{}:{}:{}", self.path.display(), p.line, p.column)
    }

    /// A percentage written bare (`99.9`, as Sloth and Pyrra write it).
    fn percent(&mut self, text: &Text) -> Option<f64> {
        match format!("{}%", text.value.trim()).parse::<crate::units::Ratio>() {
            // Legal in Sloth and Pyrra, but an objective under 1% is a
            // fraction written where a percentage belongs (`0.999` for
            // 99.9%), and judged as written it passes almost any run.
            Ok(r) if r.fraction() > 0.0 && r.fraction() < 0.01 => {
                let message = format!(
                    "objective `{}` means {}%, which almost any run meets",
                    text.value.trim(),
                    text.value.trim()
                );
                let meant = (r.fraction() * 1e10).round() / 1e6;
                let hint =
                    format!("this format writes objectives as percentages: `{meant}` for {meant}%");
                self.refuse(text, message, &hint);
                None
            }
            Ok(r) if r.fraction() > 0.0 && r.fraction() < 1.0 => Some(r.fraction()),
            _ => {
                let message = format!(
                    "objective `{}` is not a percentage between 0 and 100",
                    text.value
                );
                self.refuse(text, message, "e.g. `99.9` for 99.9%");
                None
            }
        }
    }

    /// A Prometheus duration (`28d`, `2w`).
    fn window(&mut self, text: &Text) -> Option<Duration> {
        match promql_parser::util::parse_duration(text.value.trim()) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                let message = format!("`{}` is not a window slogate can use", text.value);
                self.refuse(text, message, "a duration such as `28d`, `4w` or `30d`; calendar months, quarters and years have no fixed length: give `period:` in the scenario's entry");
                None
            }
        }
    }

    /// A counter selector (Pyrra's and OpenSLO's metrics): `name{..}`, or
    /// for OpenSLO `sum(name{..})` without grouping.
    fn selector(&mut self, text: &Text, sum_allowed: bool) -> Option<String> {
        use promql_parser::parser::Expr;
        let refuse = |r: &mut Self, why: &str| {
            let message = format!("`{}` {why}", text.value.trim());
            r.refuse(text, message, "slogate counts events with counter selectors (`http_requests_total{code=~\"5..\"}`) and applies `increase` over each window itself");
            None
        };
        match crate::promql::parse(text.value.trim()) {
            Ok(Expr::VectorSelector(_)) => Some(text.value.trim().to_string()),
            Ok(Expr::Aggregate(a))
                if sum_allowed
                    && a.op.to_string() == "sum"
                    && a.modifier.is_none()
                    && a.param.is_none() =>
            {
                match *a.expr {
                    Expr::VectorSelector(v) => Some(v.to_string()),
                    _ => refuse(self, "is not a sum of one selector"),
                }
            }
            Ok(Expr::Aggregate(a)) if a.modifier.is_some() => refuse(
                self,
                "is grouped: one SLO per group is not something slogate judges",
            ),
            Ok(_) => refuse(self, "is not a series selector"),
            Err(e) => {
                let message = format!("`{}`: {e}", text.value.trim());
                self.refuse(text, message, "the query must parse as PromQL");
                None
            }
        }
    }

    /// A Sloth query with `{{.window}}` (spaced or not) in it: written with
    /// the one placeholder, checked to parse with a window in its place.
    fn templated(&mut self, text: &Text, key: &str) -> Option<String> {
        let query = normalize_placeholder(text.value.trim());
        if !query.contains(WINDOW_PLACEHOLDER) {
            let message = format!("`{key}` has no `{{{{.window}}}}`");
            self.refuse(text, message, "Sloth queries take their window from `{{.window}}`, e.g. `sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))`");
            return None;
        }
        let concrete = query.replace(WINDOW_PLACEHOLDER, "5m");
        if let Some(at) = concrete.find("{{") {
            let rest = &concrete[at..];
            let end = rest.find("}}").map_or(rest.len(), |e| e + 2);
            let rest: String = rest[..end].chars().take(40).collect();
            let message = format!("`{key}` uses a template other than `{{{{.window}}}}`: `{rest}`");
            self.refuse(text, message, "slogate fills in `{{.window}}` only");
            return None;
        }
        if let Err(e) = crate::promql::parse(&concrete) {
            let message = format!("`{key}` with a 5m window: {e}");
            self.refuse(
                text,
                message,
                "the query must parse as PromQL once `{{.window}}` is a duration",
            );
            return None;
        }
        Some(query)
    }
}

/// `{{ .window }}` and `{{.window}}` as one placeholder.
fn normalize_placeholder(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find("}}") {
            Some(end) if after[..end].trim() == ".window" => {
                out.push_str(WINDOW_PLACEHOLDER);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the values of a templated query are: rates, increases, or neither
/// (then only the error/total ratio is used).
fn counts_of(queries: &[&str]) -> Counts {
    let kinds: Vec<Counts> = queries.iter().map(|q| counts_of_one(q)).collect();
    match kinds.first() {
        Some(&first) if kinds.iter().all(|&k| k == first) => first,
        _ => Counts::RatioOnly,
    }
}

fn counts_of_one(query: &str) -> Counts {
    use promql_parser::parser::Expr;
    use promql_parser::util::{ExprVisitor, walk_expr};
    #[derive(Default)]
    struct Scan {
        calls: Vec<&'static str>,
        other: bool,
    }
    impl ExprVisitor for Scan {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            match e {
                Expr::Call(c) => self.calls.push(c.func.name),
                Expr::Aggregate(a) if a.op.to_string() != "sum" => self.other = true,
                Expr::Binary(b) if !matches!(b.op.to_string().as_str(), "+" | "-") => {
                    self.other = true
                }
                Expr::Subquery(_) | Expr::NumberLiteral(_) => self.other = true,
                _ => {}
            }
            Ok(true)
        }
    }
    let concrete = query.replace(WINDOW_PLACEHOLDER, "5m");
    let Ok(expr) = crate::promql::parse(&concrete) else {
        return Counts::RatioOnly;
    };
    let mut scan = Scan::default();
    let _ = walk_expr(&mut scan, &expr);
    if scan.other || scan.calls.is_empty() {
        Counts::RatioOnly
    } else if scan.calls.iter().all(|&c| c == "rate") {
        Counts::Rate
    } else if scan.calls.iter().all(|&c| c == "increase") {
        Counts::Increase
    } else {
        Counts::RatioOnly
    }
}

/// A key that is there: refused when the SLO depends on it.
type Present = Option<Spanned<IgnoredAny>>;

#[cfg(test)]
mod tests;
