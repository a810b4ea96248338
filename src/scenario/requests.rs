//! Validation of `data:`, the transport, and each request: its templates,
//! headers and body. Part of [`super::resolve`].

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Spanned;

use super::model::{self, Text};
use super::resolve::Validator;
use super::{Dataset, Request, Target};
use crate::plan::Transport;
use crate::plan::template::{Names, Template};

impl Validator<'_> {
    pub(super) fn datasets(
        &mut self,
        data: &BTreeMap<String, Spanned<model::DataSource>>,
    ) -> Vec<Dataset> {
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

    pub(super) fn transport(&mut self, defaults: &model::Defaults) -> Transport {
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

    pub(super) fn header(
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

    pub(super) fn template(&mut self, text: &Text, names: &Names) -> Option<Template> {
        match Template::compile(&text.value, names) {
            Ok(template) => Some(template),
            Err(e) => {
                self.error(Self::at(text), e.to_string(), e.hint());
                None
            }
        }
    }

    pub(super) fn requests(
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
        for spec in &specs.value {
            let spec = &spec.value;
            if out.iter().any(|r| r.name == spec.name.value) {
                self.error(
                    Self::at(&spec.name),
                    format!("a second request named `{}`", spec.name.value),
                    Some("request names identify results; make them unique".into()),
                );
            }
            let weight = self.weight(
                spec.weight.as_ref(),
                "remove the request to send none of it",
            );
            let parts = RequestParts {
                name: &spec.name,
                url: &spec.url,
                method: spec.method.as_ref(),
                headers: &spec.headers,
                body: spec.body.as_ref(),
                expect_status: spec.expect_status.as_deref(),
            };
            if let Some(mut request) = self.request(&parts, names, default_headers, targets) {
                request.weight = weight;
                out.push(request);
            }
        }
        out
    }

    /// One request's method, URL, headers, body and expected statuses (a
    /// top-level request's or a flow step's), weight 1; None when its URL
    /// is wrong (reported).
    pub(super) fn request(
        &mut self,
        spec: &RequestParts<'_>,
        names: &Names,
        default_headers: &[(http::HeaderName, Template)],
        targets: &BTreeMap<String, Target>,
    ) -> Option<Request> {
        let method = match spec.method {
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
        let url = self.template(spec.url, names);
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
                Self::at(spec.url),
                format!(
                    "`{}` must start with a target (`${{api}}/path`) or http(s)://",
                    spec.url.value
                ),
                None,
            );
        }
        if let Some(url) = &url {
            self.sendable_url(url, spec.url, targets);
            self.has_host(url, spec.url);
        }
        let mut headers: Vec<(http::HeaderName, Template)> = default_headers.to_vec();
        for (name, value) in spec.headers {
            if let Some((name, template)) = self.header(name, value, names) {
                headers.retain(|(n, _)| *n != name);
                headers.push((name, template));
            }
        }
        let body = spec
            .body
            .and_then(|b| self.template(b, names))
            .unwrap_or_default();
        let expect_status = spec.expect_status.map(|codes| {
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
        Some(Request {
            name: spec.name.value.clone(),
            method,
            url: url?,
            headers,
            body,
            weight: 1,
            expect_status,
        })
    }
}

/// What a top-level request and a flow's step have alike.
pub(super) struct RequestParts<'a> {
    pub name: &'a Text,
    pub url: &'a Text,
    pub method: Option<&'a Text>,
    pub headers: &'a BTreeMap<String, Text>,
    pub body: Option<&'a Text>,
    pub expect_status: Option<&'a [Spanned<u16>]>,
}
