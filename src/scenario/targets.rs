//! Validation of `targets:` and the demo services' upstreams: each
//! target's base URL. Part of [`super::resolve`].

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::model::{self, StringOr};
use super::resolve::{Validator, expand_env};
use super::{Position, Target, nearest};

impl Validator<'_> {
    pub(super) fn targets(
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
    pub(super) fn demo_upstreams(
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

    pub(super) fn target_url(
        &mut self,
        url: &str,
        at: Option<Position>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Target> {
        // Environment variables in a target URL are filled in at load time.
        let expanded = expand_env(url, env);
        let text = match expanded {
            Ok(text) => text,
            Err(super::resolve::UnsetVariable { name }) => {
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
}
