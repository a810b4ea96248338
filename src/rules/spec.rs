//! A rule file as written, before validation: Prometheus's `groups:` file,
//! or Kubernetes `PrometheusRule` resources (`apiVersion:
//! monitoring.coreos.com/v1`, `kind: PrometheusRule`, the groups under
//! `spec.groups`; several in one file as `---` documents), as the Prometheus
//! Operator and kube-prometheus ship them. A null where a list, map or
//! string goes is empty, and string fields keep the scalar's literal text,
//! as Go's YAML reads them. Which kind a file is comes from its parsed
//! top-level keys, never from how they are spelled (`"groups":` is
//! `groups:`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use super::nullable::{Str, or_default};
use crate::diag::yaml::error_with_keys as yaml_error_with_keys;
use crate::diag::{Position, ScenarioError};

/// A string field with where it was written.
pub(crate) type Text = Spanned<Str>;

pub(crate) const KEYS: &[&[&str]] = &[
    &["groups"],
    &[
        "name",
        "interval",
        "limit",
        "query_offset",
        "labels",
        "rules",
    ],
    &[
        "record",
        "alert",
        "expr",
        "for",
        "keep_firing_for",
        "labels",
        "annotations",
    ],
];

/// The file's types, written once: strict (an unknown key is an error, as
/// promtool has it by default) and lenient (`--ignore-unknown-fields`,
/// for rule files extended with metadata of a team's own).
macro_rules! specs {
    ($(#[$strict:meta])*) => {
        #[derive(Debug, Default, Deserialize)]
        $(#[$strict])*
        pub(crate) struct FileSpec {
            #[serde(default, deserialize_with = "or_default")]
            pub groups: Vec<Spanned<GroupSpec>>,
        }

        #[derive(Debug, Deserialize)]
        $(#[$strict])*
        pub(crate) struct GroupSpec {
            pub name: Text,
            #[serde(default, deserialize_with = "or_default")]
            pub interval: Option<Text>,
            #[serde(default)]
            pub limit: Option<i64>,
            #[serde(default, deserialize_with = "or_default")]
            pub query_offset: Option<Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub labels: BTreeMap<String, Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub rules: Vec<Spanned<RuleSpec>>,
            /// Thanos's key, which the PrometheusRule resource takes (and Prometheus
            /// ignores there); refused in a plain rule file, as promtool refuses it.
            #[serde(default, deserialize_with = "or_default")]
            pub partial_response_strategy: Option<Text>,
        }

        #[derive(Debug, Deserialize)]
        $(#[$strict])*
        pub(crate) struct RuleSpec {
            #[serde(default, deserialize_with = "or_default")]
            pub record: Option<Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub alert: Option<Text>,
            /// A string, or a bare number (`expr: 1`), as written.
            #[serde(default, deserialize_with = "or_default")]
            pub expr: Option<Text>,
            #[serde(default, rename = "for", deserialize_with = "or_default")]
            pub for_: Option<Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub keep_firing_for: Option<Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub labels: BTreeMap<String, Text>,
            #[serde(default, deserialize_with = "or_default")]
            pub annotations: BTreeMap<String, Text>,
        }
    };
}

specs!(#[serde(deny_unknown_fields)]);

/// The same types, reading past keys they do not know.
mod lenient {
    use super::*;
    specs!();
}

impl From<lenient::FileSpec> for FileSpec {
    fn from(file: lenient::FileSpec) -> FileSpec {
        FileSpec {
            groups: file.groups.into_iter().map(spanned).collect(),
        }
    }
}

impl From<lenient::GroupSpec> for GroupSpec {
    fn from(g: lenient::GroupSpec) -> GroupSpec {
        GroupSpec {
            name: g.name,
            interval: g.interval,
            limit: g.limit,
            query_offset: g.query_offset,
            labels: g.labels,
            rules: g.rules.into_iter().map(spanned).collect(),
            partial_response_strategy: g.partial_response_strategy,
        }
    }
}

impl From<lenient::RuleSpec> for RuleSpec {
    fn from(r: lenient::RuleSpec) -> RuleSpec {
        RuleSpec {
            record: r.record,
            alert: r.alert,
            expr: r.expr,
            for_: r.for_,
            keep_firing_for: r.keep_firing_for,
            labels: r.labels,
            annotations: r.annotations,
        }
    }
}

fn spanned<A, B: From<A>>(s: Spanned<A>) -> Spanned<B> {
    Spanned::new(B::from(s.value), s.referenced, s.defined)
}

/// One Kubernetes document of a `PrometheusRule` file. Kubernetes' own keys
/// (`metadata`, `status`) are not ours to judge.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
struct Resource<S> {
    #[serde(default, rename = "apiVersion", deserialize_with = "or_default")]
    api_version: Str,
    #[serde(default, deserialize_with = "or_default")]
    kind: Str,
    #[serde(default, deserialize_with = "or_default")]
    spec: Option<S>,
}

const RESOURCE_KIND: &str = "PrometheusRule";

/// What the first document's top level says the file is.
enum Kind {
    /// No keys at all: `{}`, `null`, an empty file.
    Empty,
    Groups,
    Resource,
    Other,
}

fn kind(source: &str) -> Option<Kind> {
    // Only the first document decides; a later one is read as its kind.
    let documents: Vec<Option<BTreeMap<String, IgnoredAny>>> =
        serde_saphyr::from_str_multiple(source).ok()?;
    let Some(Some(keys)) = documents.into_iter().next() else {
        return Some(Kind::Empty);
    };
    if keys.is_empty() {
        return Some(Kind::Empty);
    }
    if keys.contains_key("groups") {
        return Some(Kind::Groups);
    }
    if keys.contains_key("kind") {
        #[derive(Deserialize)]
        struct KindOnly {
            #[serde(default, deserialize_with = "or_default")]
            kind: Str,
        }
        let first: Vec<Option<KindOnly>> = serde_saphyr::from_str_multiple(source).ok()?;
        if let Some(Some(doc)) = first.into_iter().next()
            && doc.kind.as_str() == RESOURCE_KIND
        {
            return Some(Kind::Resource);
        }
    }
    Some(Kind::Other)
}

/// See [`super::is_rule_file`]. A file whose YAML does not parse is told
/// by a line that starts with its `groups` key, so its error is reported
/// against the rule-file format.
pub(crate) fn is_rule_file(source: &str) -> bool {
    // The common case without a parse: a rule file's first key line.
    if starts_a_line_with_key(source, "groups") {
        return true;
    }
    match kind(source) {
        Some(Kind::Empty | Kind::Groups | Kind::Resource) => true,
        Some(Kind::Other) => false,
        None => false,
    }
}

/// Whether a line of `source` starts with `key:` (bare or quoted): a cheap
/// test that settles most files before any parse.
fn starts_a_line_with_key(source: &str, key: &str) -> bool {
    source.lines().any(|l| {
        [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .any(|k| l.starts_with(k.as_str()))
    })
}

/// The groups of `source`, from a rule file or from PrometheusRule
/// resources; `ignore_unknown` reads past keys the format does not have.
pub(crate) fn read(
    path: &Path,
    source: &str,
    ignore_unknown: bool,
) -> Result<FileSpec, Vec<ScenarioError>> {
    if ignore_unknown {
        read_as::<lenient::FileSpec>(path, source)
    } else {
        read_as::<FileSpec>(path, source)
    }
}

fn read_as<S>(path: &Path, source: &str) -> Result<FileSpec, Vec<ScenarioError>>
where
    S: for<'de> Deserialize<'de> + Default + Into<FileSpec>,
{
    let yaml = |e: serde_saphyr::Error| vec![yaml_error_with_keys(path, source, &e, KEYS)];
    // Only a file that names a `kind` can be a resource: a plain rule file
    // is parsed once.
    let may_be_resource = source.contains("kind");
    if may_be_resource && matches!(kind(source), Some(Kind::Resource)) {
        let documents: Vec<Option<Spanned<Resource<S>>>> =
            serde_saphyr::from_str_multiple(source).map_err(yaml)?;
        let mut groups = Vec::new();
        let mut errors = Vec::new();
        for document in documents.into_iter().flatten() {
            let at = Some(Position::from(document.referenced));
            let resource = document.value;
            if resource.kind.as_str() != RESOURCE_KIND {
                errors.push(
                    ScenarioError::at(
                        path,
                        source,
                        at,
                        format!("a `{}` among PrometheusRule resources", resource.kind),
                    )
                    .hint("a rule file of resources holds only `kind: PrometheusRule`"),
                );
                continue;
            }
            if !resource.api_version.starts_with("monitoring.coreos.com/") {
                errors.push(
                    ScenarioError::at(
                        path,
                        source,
                        at,
                        format!(
                            "apiVersion `{}` is not the Prometheus Operator's",
                            resource.api_version
                        ),
                    )
                    .hint("apiVersion: monitoring.coreos.com/v1"),
                );
                continue;
            }
            groups.extend(resource.spec.unwrap_or_default().into().groups);
        }
        return if errors.is_empty() {
            Ok(FileSpec { groups })
        } else {
            Err(errors)
        };
    }
    let spec: Option<S> = serde_saphyr::from_str(source).map_err(yaml)?;
    let spec: FileSpec = spec.unwrap_or_default().into();
    let refused: Vec<ScenarioError> = spec
        .groups
        .iter()
        .filter_map(|g| g.value.partial_response_strategy.as_ref())
        .map(|text| {
            ScenarioError::at(
                path,
                source,
                Some(Position::from(text.referenced)),
                "unknown key `partial_response_strategy` (a Thanos key, which Prometheus refuses)"
                    .to_string(),
            )
            .hint("Prometheus reads it only in a PrometheusRule resource; drop it here")
        })
        .collect();
    if refused.is_empty() {
        Ok(spec)
    } else {
        Err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_parsed_keys() {
        assert!(is_rule_file("groups: []\n"));
        assert!(is_rule_file("\"groups\":\n- \"name\": a\n"));
        assert!(is_rule_file("'groups': []\n"));
        assert!(is_rule_file("{\"groups\": []}"));
        assert!(is_rule_file(""));
        assert!(is_rule_file("{}\n"));
        assert!(is_rule_file("null\n"));
        assert!(is_rule_file("# nothing\n"));
        assert!(is_rule_file(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {groups: []}\n"
        ));
        assert!(!is_rule_file("name: x\nphases: []\n"));
        assert!(!is_rule_file("kind: Deployment\n"));
        // Broken YAML: told by its first key's line.
        assert!(is_rule_file("groups:\n  - name: [\n"));
        assert!(!is_rule_file("name: [\n"));
    }
}
