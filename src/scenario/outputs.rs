//! Validation of `outputs:`: where the run's own metrics go while it runs
//! (`metrics_listen`, `remote_write`, their histograms' `buckets`, the
//! endpoint's `grace` after the run), and `logs:`. Part of
//! [`super::resolve`].

use serde_saphyr::Spanned;

use super::Outputs;
use super::model::{LogsSpec, OutputsSpec};
use super::resolve::Validator;
use crate::events::LogFormat;

impl Validator<'_> {
    pub(super) fn logs(&mut self, spec: Option<&Spanned<LogsSpec>>) -> Option<LogFormat> {
        let format = &spec?.value.format;
        match format.value.as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            other => {
                self.error(
                    Self::at(format),
                    format!("logs.format: `{other}` is not a log format"),
                    Some("`text` (lines for people) or `json` (one object per line, for Promtail/Loki)".into()),
                );
                None
            }
        }
    }

    pub(super) fn outputs(&mut self, spec: Option<&Spanned<OutputsSpec>>) -> Outputs {
        let Some(spec) = spec else {
            return Outputs::default();
        };
        let mut outputs = Outputs {
            allow_remote: spec.value.allow_remote.unwrap_or(false),
            ..Outputs::default()
        };
        if let Some(text) = &spec.value.metrics_listen {
            match text.value.parse::<std::net::SocketAddr>() {
                Ok(addr) if !addr.ip().is_loopback() && !outputs.allow_remote => self.error(
                    Self::at(text),
                    format!("outputs.metrics_listen: {addr} is not a loopback address, and the run's metrics would be open to other machines"),
                    Some("listen on 127.0.0.1, or add `allow_remote: true` to mean it".into()),
                ),
                Ok(addr) => outputs.metrics_listen = Some(addr),
                Err(_) => self.error(
                    Self::at(text),
                    format!("outputs.metrics_listen: `{}` is not an address", text.value),
                    Some("give an IP address and a port, e.g. `127.0.0.1:9464` (port 0 picks one)".into()),
                ),
            }
        }
        if let Some(buckets) = &spec.value.buckets {
            if buckets.value.is_empty() {
                self.error(
                    Self::at(buckets),
                    "outputs.buckets: no bounds",
                    Some("e.g. `buckets: [0.05, 0.1, 0.25, 0.5, 1]` (seconds), or leave it out for Prometheus's defaults".into()),
                );
            }
            for bound in &buckets.value {
                if !bound.value.is_finite() || bound.value < 1e-6 {
                    self.error(
                        Self::at(bound),
                        format!("outputs.buckets: `{}` is not a number of seconds of at least 0.000001 (1µs)", bound.value),
                        Some("bounds are seconds, as the service's own `le` labels: `[0.05, 0.1, 0.25]`".into()),
                    );
                }
            }
            outputs.buckets = Some(buckets.value.iter().map(|b| b.value).collect());
        }
        if let Some(text) = &spec.value.grace {
            outputs.grace = self.duration(text, "outputs.grace");
        }
        if let Some(text) = &spec.value.remote_write {
            let valid = url::Url::parse(&text.value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if valid {
                outputs.remote_write = Some(text.value.clone());
            } else {
                self.error(
                    Self::at(text),
                    format!("outputs.remote_write: `{}` is not an http:// or https:// URL", text.value),
                    Some("a remote-write receiver, e.g. http://127.0.0.1:9090/api/v1/write (Prometheus with --web.enable-remote-write-receiver)".into()),
                );
            }
        }
        let shapes = spec.value.buckets.is_some() || spec.value.grace.is_some();
        if shapes && spec.value.metrics_listen.is_none() && spec.value.remote_write.is_none() {
            self.error(
                Self::at(spec),
                "outputs: `buckets` and `grace` shape the run's metrics, but nothing serves or writes them",
                Some("add `metrics_listen: 127.0.0.1:9464` or `remote_write: URL`".into()),
            );
        }
        outputs
    }
}
