//! Validation: the YAML model in, a [`Scenario`] out, or every error found
//! (not just the first), each at its line and column.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{self, ScenarioFile, StringOr, Text};
use super::{
    Dataset, Metrics, Position, Request, Scenario, ScenarioError, Scrape, Target, nearest,
};
use crate::expect::parse_abort;
use crate::metrics::scrape::ScrapeLimits;
use crate::metrics::store::Limits;
use crate::plan::Transport;
use crate::plan::template::{Names, Template};
use crate::units::{Rate, parse_duration};

/// Keys of each map in the file, for "did you mean" on unknown keys.
const KEYS: &[&[&str]] = &[
    &[
        "name",
        "description",
        "targets",
        "defaults",
        "data",
        "requests",
        "phases",
        "expect",
        "abort",
        "metrics",
        "rules",
        "slos",
        "proxies",
        "redact",
    ],
    &["url", "demo", "upstream"],
    &[
        "timeout",
        "connect_timeout",
        "connections",
        "headers",
        "http2",
        "insecure",
    ],
    &["csv", "order"],
    &[
        "name",
        "url",
        "method",
        "headers",
        "body",
        "weight",
        "expect_status",
    ],
    &["name", "duration", "requests", "load", "expect", "faults"],
    &["rate", "steps", "concurrency", "think", "connections"],
    &["from", "to"],
    &[
        "check",
        "metric",
        "below",
        "at_most",
        "above",
        "at_least",
        "request",
        "optional",
        "promql",
        "holds",
        "step",
        "alert",
        "fires_within",
        "fires_after",
        "resolves_within",
        "stays",
        "labels",
        "annotations",
        "no_other_alerts",
    ],
    &[
        "scrape",
        "prometheus",
        "lookback",
        "max_series",
        "max_samples",
        "evaluation_interval",
        "alertmanager",
    ],
    &["url", "interval", "job", "body_size_limit", "sample_limit"],
    &["demo"],
    &["target", "error_ratio", "error_status", "latency", "jitter"],
    &["name", "objective", "period", "sli", "expect", "before_run"],
    &["client", "errors", "good", "total"],
    &[
        "listen",
        "upstream",
        "mode",
        "control",
        "allow_remote",
        "header_timeout",
        "max_connections",
    ],
    &PHASE_FAULT_KEYS,
];

/// A phase's fault: `demo` or `proxy`, then the proxy fault's own keys,
/// taken from the one list of them in [`crate::proxy::fault::KEYS`].
const PHASE_FAULT_KEYS: [&str; 2 + crate::proxy::fault::KEYS.len()] = {
    let mut keys = [""; 2 + crate::proxy::fault::KEYS.len()];
    keys[0] = "demo";
    keys[1] = "proxy";
    let mut i = 0;
    while i < crate::proxy::fault::KEYS.len() {
        keys[2 + i] = crate::proxy::fault::KEYS[i];
        i += 1;
    }
    keys
};

/// Parses and validates `source` (the text of `file`).
pub fn resolve(
    file: &Path,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, Vec<ScenarioError>> {
    let parsed: ScenarioFile =
        serde_saphyr::from_str(source).map_err(|e| vec![yaml_error(file, source, &e)])?;
    let mut v = Validator {
        file,
        source,
        errors: Vec::new(),
        alert_names: None,
        proxy_modes: BTreeMap::new(),
    };
    let scenario = v.scenario(parsed, env);
    if v.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(v.errors)
    }
}

/// Turns a serde-saphyr error into ours, with a "did you mean" for unknown keys.
fn yaml_error(file: &Path, source: &str, error: &serde_saphyr::Error) -> ScenarioError {
    crate::diag::yaml::error_with_keys(file, source, error, KEYS)
}

pub(super) struct Validator<'a> {
    pub(super) file: &'a Path,
    pub(super) source: &'a str,
    pub(super) errors: Vec<ScenarioError>,
    /// The alerting rules of the rule files (None: no rule files, or a
    /// Prometheus whose rules slogate does not see).
    pub(super) alert_names: Option<Result<Vec<String>, ()>>,
    /// The proxies declared, for the phases' faults.
    pub(super) proxy_modes: BTreeMap<String, crate::proxy::Mode>,
}

impl Validator<'_> {
    pub(super) fn error(
        &mut self,
        at: Option<Position>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let mut error = ScenarioError::at(self.file, self.source, at, message);
        error.hint = hint;
        self.errors.push(error);
    }

    pub(super) fn at<T>(spanned: &Spanned<T>) -> Option<Position> {
        Some(Position::from(spanned.referenced))
    }

    /// `file:line:col` of `spanned`, for verdicts.
    pub(super) fn source_of<T>(&self, spanned: &Spanned<T>) -> String {
        Self::at(spanned).map_or_else(
            || self.file.display().to_string(),
            |p| format!("{}:{}:{}", self.file.display(), p.line, p.column),
        )
    }

    pub(super) fn duration(&mut self, text: &Text, what: &str) -> Option<Duration> {
        match parse_duration(&text.value) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.error(
                    Self::at(text),
                    format!("{what} must be longer than 0s"),
                    None,
                );
                None
            }
            Err(e) => {
                self.error(Self::at(text), format!("{what}: {e}"), None);
                None
            }
        }
    }

    pub(super) fn rate(&mut self, text: &Text, what: &str) -> Option<Rate> {
        match text.value.parse::<Rate>() {
            Ok(rate) => Some(rate),
            Err(e) => {
                self.error(Self::at(text), format!("{what}: {e}"), None);
                None
            }
        }
    }

    fn scenario(&mut self, file: ScenarioFile, env: &dyn Fn(&str) -> Option<String>) -> Scenario {
        if file.name.value.trim().is_empty() {
            self.error(
                Self::at(&file.name),
                "`name` is empty",
                Some("name the scenario: it names the results directory".into()),
            );
        }
        let targets = self.targets(&file.targets, env);
        // Every declared name, valid or not, so one bad target gives one error.
        let mut target_names: Vec<String> = file.targets.keys().cloned().collect();
        let proxies = self.proxies(&file.proxies, &targets, &target_names);
        // `${db}` in a URL is the proxy's address.
        target_names.extend(file.proxies.keys().cloned());
        self.demo_upstreams(&file.targets, &target_names);
        let datasets = self.datasets(&file.data);
        let columns: BTreeMap<String, Vec<String>> = datasets
            .iter()
            .map(|d| (d.name.clone(), d.columns.clone()))
            .collect();
        let names = Names {
            targets: &target_names,
            datasets: &columns,
            env,
        };
        let transport = self.transport(&file.defaults);
        let mut default_headers = Vec::new();
        for (name, value) in &file.defaults.headers {
            if let Some(header) = self.header(name, value, &names) {
                default_headers.push(header);
            }
        }
        let target_map: BTreeMap<String, Target> = targets.iter().cloned().collect();
        let requests = self.requests(&file.requests, &names, &default_headers, &target_map);
        let request_names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
        if file.phases.value.is_empty() {
            self.error(
                Self::at(&file.phases),
                "`phases` is empty",
                Some("add at least one phase with a duration and a load".into()),
            );
        }
        let metrics = file.metrics.as_ref().and_then(|m| self.metrics(m, &names));
        let rules = self.rule_files(&file.rules);
        self.alert_names = self.known_alerts(&rules, &metrics, !file.rules.is_empty());
        let default_connections = file.defaults.connections.as_ref().map(|c| c.value);
        let phases = file
            .phases
            .value
            .iter()
            .filter_map(|phase| self.phase(phase, &request_names, default_connections))
            .collect::<Vec<_>>();
        let mut seen = Vec::new();
        for phase in &file.phases.value {
            if seen.contains(&phase.value.name.value) {
                self.error(
                    Self::at(&phase.value.name),
                    format!("a second phase named `{}`", phase.value.name.value),
                    Some("phase names identify results; make them unique".into()),
                );
            }
            seen.push(phase.value.name.value.clone());
        }
        let expect = self.expectations(&file.expect, &request_names);
        let alerts_expected =
            !expect.alerts.is_empty() || phases.iter().any(|p| !p.alerts.is_empty());
        let uses_promql = !expect.promql.is_empty()
            || phases.iter().any(|p| !p.promql.is_empty())
            || !rules.is_empty()
            || alerts_expected;
        for phase in &phases {
            for fault in &phase.faults {
                if let Err(e) = super::alerts::fault_target(fault, &targets) {
                    let at = file
                        .phases
                        .value
                        .iter()
                        .find(|spec| spec.value.name.value == phase.name)
                        .and_then(|spec| Self::at(&spec.value.name));
                    self.error(at, format!("phase `{}`: {e}", phase.name), None);
                }
            }
        }
        let has_source = metrics
            .as_ref()
            .is_some_and(|m| !m.scrape.is_empty() || m.prometheus.is_some());
        if uses_promql && !has_source && (file.metrics.is_none() || metrics.is_some()) {
            self.error(
                None,
                "PromQL and alert expectations (and rules) need metrics to query",
                Some(
                    "add `metrics: {scrape: [\"${api}/metrics\"]}` (embedded) or `metrics: {prometheus: http://127.0.0.1:9090}`"
                        .into(),
                ),
            );
        }
        let slos = self.slos(&file.slos);
        if slos
            .iter()
            .any(|s| matches!(s.sli, crate::slo::Sli::Promql { .. }))
            && !has_source
        {
            self.error(
                None,
                "a PromQL SLI (`errors`, `total`) needs metrics to query",
                Some(
                    "add `metrics: {scrape: [\"${api}/metrics\"]}` or `metrics: {prometheus: URL}`"
                        .into(),
                ),
            );
        }
        let aborts = file
            .abort
            .iter()
            .filter_map(|text| match parse_abort(&text.value) {
                Ok(abort) => Some(abort),
                Err(e) => {
                    self.error(
                        Self::at(text),
                        format!("abort condition: {e}"),
                        Some("e.g. `error_rate > 50% for 15s`".into()),
                    );
                    None
                }
            })
            .collect();
        Scenario {
            name: file.name.value.clone(),
            description: file.description.clone(),
            file: self.file.to_path_buf(),
            targets,
            datasets,
            requests,
            phases,
            expectations: expect.client,
            promql: expect.promql,
            alerts: expect.alerts,
            no_other_alerts: expect.no_other_alerts,
            rules,
            slos,
            proxies,
            aborts,
            transport,
            metrics,
            redact: self.redact(&file.redact),
        }
    }

    /// `redact:`: query parameter names, each a plain name.
    fn redact(&mut self, names: &[Text]) -> Vec<String> {
        let mut kept = Vec::new();
        for name in names {
            let text = name.value.trim();
            if text.is_empty() || text.contains(['=', '&', '?', '#', ' ', '\t']) {
                self.error(
                    Self::at(name),
                    format!("redact: `{}` is not a query parameter name", name.value),
                    Some("e.g. `redact: [session_id, signature]`".into()),
                );
            } else {
                kept.push(text.to_string());
            }
        }
        kept
    }

    /// A scrape's `body_size_limit`, `sample_limit` and
    /// `scrape_native_histograms`, or the defaults.
    fn scrape_limits(&mut self, spec: &StringOr<model::ScrapeSpec>) -> Option<ScrapeLimits> {
        let mut limits = ScrapeLimits::default();
        let StringOr::Map(map) = spec else {
            return Some(limits);
        };
        let mut ok = true;
        if let Some(text) = &map.body_size_limit {
            match crate::units::parse_bytes(&text.value) {
                Ok(0) => {
                    self.error(
                        Self::at(text),
                        "body_size_limit must be more than 0B",
                        Some(format!(
                            "the default is {}; there is no unlimited",
                            crate::units::format_bytes(ScrapeLimits::DEFAULT_BODY_SIZE_BYTES)
                        )),
                    );
                    ok = false;
                }
                Ok(bytes) => limits.body_size_bytes = bytes,
                Err(e) => {
                    self.error(Self::at(text), format!("body_size_limit: {e}"), None);
                    ok = false;
                }
            }
        }
        if let Some(count) = &map.sample_limit {
            if count.value == 0 {
                self.error(
                    Self::at(count),
                    "sample_limit must be at least 1",
                    Some(format!(
                        "the default is {}; there is no unlimited",
                        ScrapeLimits::DEFAULT_SAMPLES
                    )),
                );
                ok = false;
            } else {
                limits.samples = usize::try_from(count.value).unwrap_or(usize::MAX);
            }
        }
        limits.native_histograms = map.scrape_native_histograms.unwrap_or(false);
        ok.then_some(limits)
    }

    fn metrics(&mut self, spec: &Spanned<model::MetricsSpec>, names: &Names) -> Option<Metrics> {
        let spec = &spec.value;
        let mut ok = true;
        let mut scrape = Vec::new();
        for entry in &spec.scrape {
            let at = Self::at(entry);
            let (url, interval, job) = match &entry.value {
                StringOr::String(url) => (url.clone(), None, None),
                StringOr::Map(map) => (
                    map.url.value.clone(),
                    map.interval.as_ref(),
                    map.job.as_ref(),
                ),
            };
            let Some(limits) = self.scrape_limits(&entry.value) else {
                ok = false;
                continue;
            };
            let interval = match interval {
                Some(text) => match self.duration(text, "interval") {
                    Some(d) if d >= Duration::from_millis(100) => d,
                    Some(_) => {
                        self.error(Self::at(text), "a scrape interval of at least 100ms", None);
                        ok = false;
                        continue;
                    }
                    None => {
                        ok = false;
                        continue;
                    }
                },
                None => Duration::from_secs(1),
            };
            let template = match Template::compile(&url, names) {
                Ok(template) => template,
                Err((message, hint)) => {
                    self.error(at, format!("scrape URL: {message}"), hint);
                    ok = false;
                    continue;
                }
            };
            // Only targets and environment variables: one URL for the run.
            let probe: BTreeMap<String, String> = names
                .targets
                .iter()
                .map(|t| (t.clone(), "http://127.0.0.1".to_string()))
                .collect();
            if template.bind_targets(&probe).as_static().is_none() {
                self.error(
                    at,
                    format!("scrape URL `{url}` may use targets and environment variables only"),
                    Some("e.g. `${api}/metrics`".into()),
                );
                ok = false;
                continue;
            }
            scrape.push(Scrape {
                url: template,
                job: job.map_or_else(|| "slogate".to_string(), |j| j.value.clone()),
                interval,
                limits,
            });
        }
        let prometheus = match &spec.prometheus {
            Some(text) => match Template::compile(&text.value, names)
                .ok()
                .and_then(|t| t.as_static())
            {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some(url.trim_end_matches('/').to_string())
                }
                _ => {
                    self.error(
                        Self::at(text),
                        format!("`prometheus: {}` is not an http(s) URL", text.value),
                        Some("e.g. `prometheus: http://127.0.0.1:9090`".into()),
                    );
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let lookback = match &spec.lookback {
            Some(text) => self.duration(text, "lookback").unwrap_or_else(|| {
                ok = false;
                Duration::from_secs(300)
            }),
            None => Duration::from_secs(300),
        };
        let defaults = Limits::default();
        let limit = |value: &Option<Spanned<u64>>, default: usize| {
            value.as_ref().map_or(default, |v| v.value as usize)
        };
        let limits = Limits {
            series: limit(&spec.max_series, defaults.series),
            samples: limit(&spec.max_samples, defaults.samples),
        };
        let evaluation_interval = match &spec.evaluation_interval {
            Some(text) => self
                .duration(text, "evaluation_interval")
                .unwrap_or_else(|| {
                    ok = false;
                    Duration::from_secs(1)
                }),
            None => scrape
                .iter()
                .map(|s| s.interval)
                .min()
                .unwrap_or(Duration::from_secs(1)),
        };
        let alertmanager = match &spec.alertmanager {
            Some(text) if prometheus.is_none() => {
                self.error(
                    Self::at(text),
                    "`alertmanager` needs `prometheus`: the Prometheus sends the alerts",
                    Some("the embedded rule evaluator judges alerts itself; it sends none".into()),
                );
                ok = false;
                None
            }
            Some(text) => {
                let url = text.value.trim_end_matches('/').to_string();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    self.error(
                        Self::at(text),
                        format!("`alertmanager: {}` is not an http(s) URL", text.value),
                        Some("e.g. `alertmanager: http://127.0.0.1:9093`".into()),
                    );
                    ok = false;
                }
                Some(url)
            }
            None => None,
        };
        ok.then_some(Metrics {
            scrape,
            prometheus,
            lookback,
            limits,
            evaluation_interval,
            alertmanager,
        })
    }

    fn targets(
        &mut self,
        targets: &BTreeMap<String, Spanned<StringOr<model::TargetMap>>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(String, Target)> {
        let mut out = Vec::new();
        if targets.is_empty() {
            self.error(
                None,
                "`targets` is empty",
                Some(
                    "name at least one: `api: http://127.0.0.1:8080` or `api: {demo: true}`".into(),
                ),
            );
        }
        for (name, spec) in targets {
            let at = Self::at(spec);
            let target = match &spec.value {
                StringOr::String(url) => self.target_url(url, at, env),
                StringOr::Map(map) => match (&map.url, &map.demo) {
                    (Some(url), None) => self.target_url(&url.value, Self::at(url), env),
                    (None, Some(demo)) if demo.value => Some(Target::Demo {
                        upstream: map.upstream.as_ref().map(|u| u.value.clone()),
                    }),
                    _ => {
                        let hint = "e.g. `api: http://127.0.0.1:8080`, `api: {url: ...}` or `api: {demo: true}`";
                        self.error(
                            at,
                            format!("target `{name}` needs a `url` or `demo: true`"),
                            Some(hint.into()),
                        );
                        None
                    }
                },
            };
            if let Some(target) = target {
                out.push((name.clone(), target));
            }
        }
        out
    }

    /// A demo's `upstream` names a proxy or a target, or is a URL.
    fn demo_upstreams(
        &mut self,
        targets: &BTreeMap<String, Spanned<StringOr<model::TargetMap>>>,
        names: &[String],
    ) {
        for (name, spec) in targets {
            let StringOr::Map(map) = &spec.value else {
                continue;
            };
            let Some(upstream) = &map.upstream else {
                continue;
            };
            let problem = if map.demo.as_ref().is_none_or(|d| !d.value) {
                Some((
                    format!("target `{name}`: `upstream` is the demo service's dependency"),
                    "only `{demo: true, upstream: ...}` takes it".to_string(),
                ))
            } else if upstream.value == *name {
                Some((
                    format!("target `{name}` cannot be its own upstream"),
                    "start a second demo as the backend: `backend: {demo: true}`".into(),
                ))
            } else if names.contains(&upstream.value) || upstream.value.starts_with("http://") {
                None
            } else {
                Some((
                    format!(
                        "target `{name}`: upstream `{}` is neither a proxy, a target nor an http:// URL",
                        upstream.value
                    ),
                    nearest(&upstream.value, names.iter().map(String::as_str))
                        .map_or("e.g. `upstream: db` (a proxy)".into(), |n| {
                            format!("did you mean `{n}`?")
                        }),
                ))
            };
            if let Some((message, hint)) = problem {
                self.error(Self::at(upstream), message, Some(hint));
            }
        }
    }

    fn target_url(
        &mut self,
        url: &str,
        at: Option<Position>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Target> {
        // Environment variables in a target URL are filled in at load time.
        let expanded = expand_env(url, env);
        let text = match expanded {
            Ok(text) => text,
            Err(name) => {
                self.error(
                    at,
                    format!("`${{{name}}}` in a target URL is not a set environment variable"),
                    Some(format!(
                        "export {name}=http://... or write ${{{name}:-http://127.0.0.1:8080}}"
                    )),
                );
                return None;
            }
        };
        match text.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() =>
            {
                Some(Target::Url(text.trim_end_matches('/').to_string()))
            }
            _ => {
                self.error(
                    at,
                    format!("`{text}` is not an http:// or https:// URL"),
                    Some("e.g. http://127.0.0.1:8080".into()),
                );
                None
            }
        }
    }

    fn datasets(&mut self, data: &BTreeMap<String, Spanned<model::DataSource>>) -> Vec<Dataset> {
        let mut out = Vec::new();
        for (name, source) in data {
            let path = self
                .file
                .parent()
                .unwrap_or(Path::new("."))
                .join(&source.value.csv.value);
            let random = match source.value.order.as_ref().map(|o| o.value.as_str()) {
                None | Some("sequential") => false,
                Some("random") => true,
                Some(other) => {
                    let at = source.value.order.as_ref().and_then(Self::at);
                    self.error(
                        at,
                        format!("`order: {other}`: expected `sequential` or `random`"),
                        None,
                    );
                    false
                }
            };
            let at = Self::at(&source.value.csv);
            let opened = crate::input::open(&path, crate::input::MAX_DATA_BYTES, "a CSV data file");
            let mut reader = match opened.map(csv::Reader::from_reader) {
                Ok(reader) => reader,
                Err(e) => {
                    self.error(
                        at,
                        format!("cannot read CSV `{}`: {e}", path.display()),
                        Some("paths are relative to the scenario file".into()),
                    );
                    continue;
                }
            };
            let columns: Vec<String> = match reader.headers() {
                Ok(headers) => headers.iter().map(str::to_string).collect(),
                Err(e) => {
                    self.error(
                        at,
                        format!("CSV `{}` has no header row: {e}", path.display()),
                        None,
                    );
                    continue;
                }
            };
            let mut rows = Vec::new();
            for record in reader.records() {
                match record {
                    Ok(record) => rows.push(record.iter().map(str::to_string).collect()),
                    Err(e) => {
                        self.error(at, format!("CSV `{}`: {e}", path.display()), None);
                        break;
                    }
                }
            }
            if rows.is_empty() {
                self.error(
                    at,
                    format!("CSV `{}` has no data rows", path.display()),
                    None,
                );
                continue;
            }
            out.push(Dataset {
                name: name.clone(),
                columns,
                rows,
                random,
            });
        }
        out
    }

    fn transport(&mut self, defaults: &model::Defaults) -> Transport {
        let mut transport = Transport::default();
        if let Some(timeout) = &defaults.timeout
            && let Some(d) = self.duration(timeout, "timeout")
        {
            transport.request_timeout = d;
        }
        if let Some(timeout) = &defaults.connect_timeout
            && let Some(d) = self.duration(timeout, "connect_timeout")
        {
            transport.connect_timeout = d;
        }
        transport.http2 = defaults.http2.unwrap_or(false);
        transport.insecure = defaults.insecure.unwrap_or(false);
        transport
    }

    fn header(
        &mut self,
        name: &str,
        value: &Text,
        names: &Names,
    ) -> Option<(http::HeaderName, Template)> {
        let Ok(header) = http::HeaderName::from_bytes(name.as_bytes()) else {
            self.error(
                Self::at(value),
                format!("`{name}` is not a valid header name"),
                None,
            );
            return None;
        };
        let template = self.template(value, names)?;
        self.sendable_header(name, &template, value);
        Some((header, template))
    }

    fn template(&mut self, text: &Text, names: &Names) -> Option<Template> {
        match Template::compile(&text.value, names) {
            Ok(template) => Some(template),
            Err((message, hint)) => {
                self.error(Self::at(text), message, hint);
                None
            }
        }
    }

    fn requests(
        &mut self,
        specs: &Spanned<Vec<Spanned<model::RequestSpec>>>,
        names: &Names,
        default_headers: &[(http::HeaderName, Template)],
        targets: &BTreeMap<String, Target>,
    ) -> Vec<Request> {
        if specs.value.is_empty() {
            self.error(
                Self::at(specs),
                "`requests` is empty",
                Some("add one: `- {name: home, url: \"${api}/\"}`".into()),
            );
        }
        let mut out: Vec<Request> = Vec::new();
        // The first request's origin, which every other must share.
        let mut first_origin: Option<(super::sendable::Origin, String)> = None;
        for spec in &specs.value {
            let spec = &spec.value;
            if out.iter().any(|r| r.name == spec.name.value) {
                self.error(
                    Self::at(&spec.name),
                    format!("a second request named `{}`", spec.name.value),
                    Some("request names identify results; make them unique".into()),
                );
            }
            let method = match &spec.method {
                None => http::Method::GET,
                Some(text) => {
                    match http::Method::from_bytes(text.value.to_ascii_uppercase().as_bytes()) {
                        Ok(method) => method,
                        Err(_) => {
                            self.error(
                                Self::at(text),
                                format!("`{}` is not an HTTP method", text.value),
                                None,
                            );
                            http::Method::GET
                        }
                    }
                }
            };
            let url = self.template(&spec.url, names);
            if let Some(url) = &url
                && !matches!(
                    url.parts.first(),
                    Some(crate::plan::template::Part::Target(_))
                )
                && !url
                    .as_static()
                    .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
            {
                self.error(
                    Self::at(&spec.url),
                    format!(
                        "`{}` must start with a target (`${{api}}/path`) or http(s)://",
                        spec.url.value
                    ),
                    None,
                );
            }
            if let Some(url) = &url {
                self.sendable_url(url, &spec.url, targets);
                match (self.origin(url, &spec.url, targets), &first_origin) {
                    (Some(origin), None) => first_origin = Some((origin, spec.name.value.clone())),
                    (Some(origin), Some((first, first_name))) if origin != *first => {
                        self.error(
                            Self::at(&spec.url),
                            format!(
                                "request `{}` goes to {origin} but request `{first_name}` goes to {first}; one run sends to one origin",
                                spec.name.value
                            ),
                            Some("run one scenario per service, or put both behind one proxy".into()),
                        );
                    }
                    _ => {}
                }
            }
            let mut headers: Vec<(http::HeaderName, Template)> = default_headers.to_vec();
            for (name, value) in &spec.headers {
                if let Some((name, template)) = self.header(name, value, names) {
                    headers.retain(|(n, _)| *n != name);
                    headers.push((name, template));
                }
            }
            let body = spec
                .body
                .as_ref()
                .and_then(|b| self.template(b, names))
                .unwrap_or_default();
            let weight = match &spec.weight {
                Some(w) if w.value == 0 => {
                    self.error(
                        Self::at(w),
                        "`weight` must be at least 1",
                        Some("remove the request to send none of it".into()),
                    );
                    1
                }
                Some(w) if w.value > 10_000 => {
                    self.error(
                        Self::at(w),
                        "`weight` must be at most 10000",
                        Some("weights are relative: 90 and 10 mean the same as 9 and 1".into()),
                    );
                    1
                }
                Some(w) => w.value,
                None => 1,
            };
            let expect_status = spec.expect_status.as_ref().map(|codes| {
                codes
                    .iter()
                    .filter_map(|code| {
                        if (100..=599).contains(&code.value) {
                            Some(code.value)
                        } else {
                            self.error(
                                Self::at(code),
                                format!("{} is not an HTTP status code", code.value),
                                None,
                            );
                            None
                        }
                    })
                    .collect()
            });
            if let Some(url) = url {
                out.push(Request {
                    name: spec.name.value.clone(),
                    method,
                    url,
                    headers,
                    body,
                    weight,
                    expect_status,
                });
            }
        }
        out
    }
}

/// Fills `${NAME}` (and `${NAME:-default}`) from the environment.
fn expand_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        match env(name).or(default.map(str::to_string)) {
            Some(value) => out.push_str(&value),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
