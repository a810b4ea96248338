//! Validation of `metrics:`: the scrapes, their limits, the store's, the
//! Prometheus and Alertmanager to read from. Part of [`super::resolve`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{self, StringOr};
use super::resolve::Validator;
use super::{Metrics, Scrape};
use crate::metrics::scrape::ScrapeLimits;
use crate::metrics::store::Limits;
use crate::plan::template::{Names, Template};

impl Validator<'_> {
    /// A scrape's `body_size_limit`, `sample_limit` and
    /// `scrape_native_histograms`, or the defaults.
    pub(super) fn scrape_limits(
        &mut self,
        spec: &StringOr<model::ScrapeSpec>,
    ) -> Option<ScrapeLimits> {
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

    pub(super) fn metrics(
        &mut self,
        spec: &Spanned<model::MetricsSpec>,
        names: &Names,
    ) -> Option<Metrics> {
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
                Err(e) => {
                    self.error(at, format!("scrape URL: {e}"), e.hint());
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
        let receiver = match &spec.receiver {
            None => None,
            Some(receiver) => {
                let parsed = self.receiver(receiver, prometheus.is_some());
                ok &= parsed.is_some();
                parsed
            }
        };
        let in_process_too = match self.judge(spec, !scrape.is_empty(), prometheus.is_some()) {
            Some(both) => both,
            None => {
                ok = false;
                false
            }
        };
        ok.then_some(Metrics {
            scrape,
            prometheus,
            lookback,
            limits,
            evaluation_interval,
            alertmanager,
            receiver,
            in_process_too,
        })
    }

    /// `receiver: 127.0.0.1:9097` or `{listen: ADDR, allow_remote: true}`:
    /// where slogate's webhook receiver listens.
    fn receiver(
        &mut self,
        spec: &Spanned<StringOr<model::ReceiverSpec>>,
        prometheus: bool,
    ) -> Option<std::net::SocketAddr> {
        let (text, at, allow_remote) = match &spec.value {
            StringOr::String(text) => (text.as_str(), Self::at(spec), false),
            StringOr::Map(map) => (
                map.listen.value.as_str(),
                Self::at(&map.listen),
                map.allow_remote.unwrap_or(false),
            ),
        };
        if !prometheus {
            self.error(
                Self::at(spec),
                "`receiver` needs `prometheus`: a Prometheus sends the alerts to an Alertmanager, which notifies the receiver",
                Some("the embedded rule evaluator judges alerts itself; it sends none".into()),
            );
            return None;
        }
        let addr: std::net::SocketAddr = match text.parse() {
            Ok(addr) => addr,
            Err(_) => {
                self.error(
                    at,
                    format!("`receiver: {text}` is not an address to listen on"),
                    Some("e.g. `receiver: 127.0.0.1:9097`; point Alertmanager's `webhook_configs` at `http://127.0.0.1:9097/`".into()),
                );
                return None;
            }
        };
        if !addr.ip().is_loopback() && !allow_remote {
            self.error(
                at,
                format!("`receiver: {addr}` is not a loopback address"),
                Some("listen on 127.0.0.1, or write `receiver: {listen: ADDR, allow_remote: true}` to mean it".into()),
            );
            return None;
        }
        if addr.port() == 0 {
            self.error(
                at,
                "the receiver needs a fixed port: Alertmanager's configuration names it",
                Some("e.g. `receiver: 127.0.0.1:9097`".into()),
            );
            return None;
        }
        Some(addr)
    }

    /// `judge:`: who judges when both slogate's scrapes and a Prometheus
    /// could. Some(true): `both`; None: refused.
    fn judge(
        &mut self,
        spec: &model::MetricsSpec,
        scrapes: bool,
        prometheus: bool,
    ) -> Option<bool> {
        let hint = "`judge: prometheus` (the Prometheus judges; slogate's scrapes are saved), or `judge: both` (it judges, and slogate evaluates the rules on its own scrapes too and shows the difference)";
        match (&spec.judge, scrapes && prometheus) {
            (None, false) => Some(false),
            (None, true) => {
                self.error(
                    spec.prometheus.as_ref().and_then(Self::at),
                    "with both `scrape` and `prometheus`, say who judges the server side",
                    Some(hint.into()),
                );
                None
            }
            (Some(text), both_given) => match (text.value.as_str(), both_given) {
                ("prometheus", true) => Some(false),
                ("both", true) => Some(true),
                ("prometheus" | "both", false) => {
                    self.error(
                        Self::at(text),
                        format!(
                            "`judge: {}` needs both `scrape` and `prometheus`",
                            text.value
                        ),
                        Some("with one of them, it judges: leave `judge` out".into()),
                    );
                    None
                }
                (other, _) => {
                    self.error(
                        Self::at(text),
                        format!("`judge: {other}`: expected `prometheus` or `both`"),
                        Some(hint.into()),
                    );
                    None
                }
            },
        }
    }
}
