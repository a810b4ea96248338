//! Validation of `proxies:` and of the proxy faults a phase lists. Part of
//! the `Validator`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::model::{self, StringOr};
use super::resolve::Validator;
use super::{Position, ProxyDecl, ProxyFault, Target};
use crate::proxy::fault::{FaultError, ProbabilitySpec, Scalar};
use crate::proxy::{Fault, FaultSpec, Mode};

/// The most `max_connections` may say (as `slogate proxy --max-connections`).
const MAX_CONNECTIONS_LIMIT: u64 = 1_000_000;

impl Validator<'_> {
    /// `proxies: {db: {listen: 127.0.0.1:7001, upstream: backend, mode: http}}`.
    pub(super) fn proxies(
        &mut self,
        specs: &BTreeMap<String, Spanned<model::ProxySpec>>,
        targets: &[(String, Target)],
        target_names: &[String],
    ) -> Vec<ProxyDecl> {
        let mut out = Vec::new();
        for (name, spanned) in specs {
            let at = Self::at(spanned);
            let spec = &spanned.value;
            if target_names.contains(name) {
                self.error(
                    at,
                    format!("proxy `{name}` has the name of a target"),
                    Some("`${NAME}` in URLs must say which one it means; rename one".into()),
                );
                continue;
            }
            let mode = match &spec.mode {
                None => Mode::Http,
                Some(text) => match text.value.parse::<Mode>() {
                    Ok(mode) => mode,
                    Err(e) => {
                        self.error(
                            Self::at(text),
                            e.to_string(),
                            Some("`mode: http` or `mode: tcp`".into()),
                        );
                        continue;
                    }
                },
            };
            let address = |v: &mut Self, text: &Option<model::Text>, key: &str| match text {
                None => Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                Some(text) => match text.value.parse::<SocketAddr>() {
                    Ok(addr) if addr.ip().is_loopback() || spec.allow_remote == Some(true) => {
                        Some(addr)
                    }
                    Ok(addr) => {
                        v.error(
                            Self::at(text),
                            format!("proxy `{name}`: `{key}: {addr}` is not a loopback address"),
                            Some("a fault proxy reachable from other machines can disrupt them: listen on 127.0.0.1, or add `allow_remote: true` to mean it".into()),
                        );
                        None
                    }
                    Err(_) => {
                        v.error(
                            Self::at(text),
                            format!("proxy `{name}`: `{key}: {}` is not IP:PORT", text.value),
                            Some("e.g. `127.0.0.1:7001` (port 0: any free port)".into()),
                        );
                        None
                    }
                },
            };
            let listen = address(self, &spec.listen, "listen");
            let control = address(self, &spec.control, "control");
            let upstream = &spec.upstream.value;
            let upstream_ok = match targets.iter().find(|(n, _)| n == upstream) {
                Some((_, Target::Demo { upstream: Some(_) })) => {
                    self.error(
                        Self::at(&spec.upstream),
                        format!("proxy `{name}`: target `{upstream}` is a demo with an upstream of its own"),
                        Some("a proxy's upstream may be a demo without `upstream`, a target URL, or a URL".into()),
                    );
                    false
                }
                Some(_) => true,
                None if target_names.contains(upstream) => true,
                None if upstream.contains("://") || upstream.contains(':') => true,
                None => {
                    let hint = super::nearest(upstream, target_names.iter().map(String::as_str))
                        .map(|n| format!("did you mean `{n}`?"))
                        .unwrap_or_else(|| "a target's name, or http://host:port".into());
                    self.error(
                        Self::at(&spec.upstream),
                        format!(
                            "proxy `{name}`: upstream `{upstream}` is neither a target nor a URL"
                        ),
                        Some(hint),
                    );
                    false
                }
            };
            let header_timeout = spec
                .header_timeout
                .as_ref()
                .map(|text| self.duration(text, &format!("proxy `{name}`: header_timeout")));
            let max_connections = match &spec.max_connections {
                Some(n) if n.value == 0 || n.value > MAX_CONNECTIONS_LIMIT => {
                    self.error(
                        Self::at(n),
                        format!(
                            "proxy `{name}`: `max_connections: {}` is out of range",
                            n.value
                        ),
                        Some(format!("between 1 and {MAX_CONNECTIONS_LIMIT}")),
                    );
                    None
                }
                other => Some(other.as_ref().map(|n| n.value as usize)),
            };
            if let (Some(listen), Some(control), true, Some(max_connections)) =
                (listen, control, upstream_ok, max_connections)
                && let Some(header_timeout) = header_timeout.map_or(Some(None), |t| t.map(Some))
            {
                out.push(ProxyDecl {
                    name: name.clone(),
                    mode,
                    listen,
                    control,
                    upstream: upstream.clone(),
                    allow_remote: spec.allow_remote.unwrap_or(false),
                    header_timeout,
                    max_connections,
                });
            }
        }
        self.proxy_modes = out.iter().map(|p| (p.name.clone(), p.mode)).collect();
        out
    }

    /// One phase fault with `proxy:`; `phase_duration` bounds it (a ramp
    /// needs one).
    pub(super) fn proxy_fault(
        &mut self,
        spanned: &Spanned<model::FaultSpec>,
        phase_duration: Option<Duration>,
    ) -> Option<ProxyFault> {
        let spec = &spanned.value;
        let proxy = spec.proxy.as_ref()?;
        let Some(mode) = self.proxy_modes.get(&proxy.value).copied() else {
            let names: Vec<&str> = self.proxy_modes.keys().map(String::as_str).collect();
            let hint = super::nearest(&proxy.value, names.iter().copied())
                .map(|n| format!("did you mean `{n}`?"))
                .unwrap_or_else(|| {
                    if names.is_empty() {
                        "declare it under `proxies:` first".into()
                    } else {
                        format!("the proxies are: {}", names.join(", "))
                    }
                });
            self.error(
                Self::at(proxy),
                format!("no proxy named `{}`", proxy.value),
                Some(hint),
            );
            return None;
        };
        let Some(kind) = &spec.kind else {
            self.error(
                Self::at(spanned),
                format!("the fault on proxy `{}` needs a `kind`", proxy.value),
                Some(format!("one of {}", crate::proxy::fault::KINDS.join(", "))),
            );
            return None;
        };
        let text = |t: &Option<model::Text>| t.as_ref().map(|t| t.value.clone());
        let probability = spec.probability.as_ref().map(|p| match &p.value {
            StringOr::String(s) => ProbabilitySpec::One(Scalar::Text(s.clone())),
            StringOr::Map(ramp) => ProbabilitySpec::Ramp {
                from: Scalar::Text(ramp.from.value.clone()),
                to: Scalar::Text(ramp.to.value.clone()),
            },
        });
        let written = FaultSpec {
            kind: kind.value.clone(),
            probability,
            status: spec.status.as_ref().map(|s| s.value),
            body: text(&spec.body),
            latency: text(&spec.latency),
            jitter: text(&spec.jitter),
            p50: text(&spec.p50),
            p99: text(&spec.p99),
            rate: text(&spec.rate),
            direction: text(&spec.direction),
            after: spec.after.as_ref().map(|a| a.value),
            path: text(&spec.path),
            header: text(&spec.header),
            bound: text(&spec.bound),
        };
        let fault = match Fault::new(&written, mode) {
            Ok(fault) => fault,
            Err(e) => {
                let at = key_position(spec, &e).or(Self::at(spanned));
                self.error(
                    at,
                    format!("proxy `{}`: {}", proxy.value, e.message),
                    e.hint,
                );
                return None;
            }
        };
        if fault.probability.ramps() && fault.bound.is_none() && phase_duration.is_none() {
            self.error(
                spec.probability.as_ref().and_then(Self::at),
                "a ramping probability needs a time to ramp over",
                Some("give the phase a `duration`, or the fault a `for`".into()),
            );
            return None;
        }
        Some(ProxyFault {
            proxy: proxy.value.clone(),
            spec: written,
            fault,
        })
    }
}

/// Where the key a fault error names was written.
fn key_position(spec: &model::FaultSpec, error: &FaultError) -> Option<Position> {
    let text = |t: &Option<model::Text>| t.as_ref().and_then(Validator::at);
    match error.key {
        "kind" => text(&spec.kind),
        "probability" => spec.probability.as_ref().and_then(Validator::at),
        "status" => spec.status.as_ref().and_then(Validator::at),
        "body" => text(&spec.body),
        "latency" => text(&spec.latency).or(text(&spec.p50)),
        "jitter" => text(&spec.jitter),
        "p50" => text(&spec.p50),
        "p99" => text(&spec.p99),
        "rate" => text(&spec.rate),
        "direction" => text(&spec.direction),
        "after" => spec.after.as_ref().and_then(Validator::at),
        "path" => text(&spec.path),
        "header" => text(&spec.header),
        "for" => text(&spec.bound),
        _ => None,
    }
}
