//! Request templates: `${NAME}` (a target's base URL or an environment
//! variable, filled in once), and per-request functions in `{{ }}`:
//! `{{ rand 10 100 }}`, `{{ choice red green blue }}`, `{{ counter }}`,
//! `{{ uuid }}`, `{{ csv users.email }}`, and in a flow's steps the
//! variables earlier steps captured, `{{ token }}`. Compiled once into
//! parts; rendering appends to a caller's buffer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(crate) use super::template_error::TemplateError;

/// A piece of a compiled template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Literal(String),
    /// `${NAME}` of a target: its base URL is filled in when the run starts.
    Target(String),
    /// Integer in `low..=high`.
    Rand {
        low: i64,
        high: i64,
    },
    Choice(Vec<String>),
    /// 0, 1, 2, ... across the whole run.
    Counter,
    Uuid,
    /// A column of the current request's row of a CSV data set.
    Csv {
        dataset: String,
        column: usize,
    },
    /// A flow's variable, by its slot in the flow's variables.
    Var(usize),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// What a template may refer to while it compiles.
pub struct Names<'a> {
    pub targets: &'a [String],
    /// Data set name → column names.
    pub datasets: &'a BTreeMap<String, Vec<String>>,
    /// Looks up an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// In a flow's step: the flow's variables (a slot each) and how many of
    /// them are captured before this step, so in scope. Outside flows: empty.
    pub vars: &'a [String],
    pub vars_in_scope: usize,
}

/// Functions available in `{{ }}`, for "did you mean".
pub(crate) const FUNCTIONS: [&str; 5] = ["rand", "choice", "counter", "uuid", "csv"];

impl Template {
    /// Compiles `text`; the error says what is wrong, with a hint where one helps.
    pub fn compile(text: &str, names: &Names) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("${") {
                let end = after
                    .find('}')
                    .ok_or_else(|| TemplateError::UnclosedName(text.to_string()))?;
                let inner = &after[..end];
                let (name, default) = match inner.split_once(":-") {
                    Some((name, default)) => (name, Some(default)),
                    None => (inner, None),
                };
                if names.targets.iter().any(|t| t == name) {
                    flush(&mut literal, &mut parts);
                    parts.push(Part::Target(name.to_string()));
                } else if let Some(value) = (names.env)(name).or(default.map(str::to_string)) {
                    literal.push_str(&value);
                } else {
                    return Err(TemplateError::Unresolved {
                        name: name.to_string(),
                        nearest_target: crate::diag::nearest(
                            name,
                            names.targets.iter().map(String::as_str),
                        )
                        .map(str::to_string),
                    });
                }
                rest = &after[end + 1..];
            } else if let Some(after) = rest.strip_prefix("{{") {
                let end = after
                    .find("}}")
                    .ok_or_else(|| TemplateError::UnclosedFunction(text.to_string()))?;
                flush(&mut literal, &mut parts);
                parts.push(compile_function(after[..end].trim(), names)?);
                rest = &after[end + 2..];
            } else {
                // Search past the first character, not the first byte: text
                // may start with a multi-byte one (`Łukasz`, `é`).
                let first = rest.chars().next().map_or(1, char::len_utf8);
                let next = rest[first..]
                    .find(['$', '{'])
                    .map_or(rest.len(), |i| i + first);
                literal.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
        flush(&mut literal, &mut parts);
        Ok(Template { parts })
    }

    /// True when rendering gives the same bytes every time.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Fills in targets' base URLs.
    pub fn bind_targets(&self, urls: &BTreeMap<String, String>) -> Template {
        let mut parts = Vec::new();
        let mut literal = String::new();
        for part in &self.parts {
            match part {
                Part::Target(name) => literal.push_str(urls.get(name).map_or("", String::as_str)),
                Part::Literal(text) => literal.push_str(text),
                other => {
                    flush(&mut literal, &mut parts);
                    parts.push(other.clone());
                }
            }
        }
        flush(&mut literal, &mut parts);
        Template { parts }
    }

    /// The text of a template with no per-request parts.
    pub fn as_static(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Appends one rendering to `out`.
    pub fn render(&self, values: &mut dyn Values, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Target(_) => {}
                Part::Rand { low, high } => {
                    let span = (high - low) as u64 + 1;
                    let _ = write!(out, "{}", low + (values.random() % span) as i64);
                }
                Part::Choice(options) => {
                    out.push_str(&options[(values.random() % options.len() as u64) as usize]);
                }
                Part::Counter => {
                    let _ = write!(out, "{}", values.counter());
                }
                Part::Uuid => {
                    let (a, b) = (values.random(), values.random());
                    // Version 4, variant 1.
                    let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
                    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
                    let _ = write!(
                        out,
                        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                        a >> 32,
                        (a >> 16) & 0xffff,
                        a & 0xffff,
                        b >> 48,
                        b & 0xffff_ffff_ffff
                    );
                }
                Part::Csv { dataset, column } => out.push_str(values.csv(dataset, *column)),
                Part::Var(slot) => out.push_str(values.var(*slot)),
            }
        }
    }
}

/// Where a rendering gets its per-request values.
pub trait Values {
    /// A uniformly random u64.
    fn random(&mut self) -> u64;
    /// The next value of the run-wide counter.
    fn counter(&mut self) -> u64;
    /// The column of the row this request uses from `dataset`.
    fn csv(&mut self, dataset: &str, column: usize) -> &str;
    /// A flow variable's value (empty when not captured).
    fn var(&mut self, slot: usize) -> &str;
}

fn flush(literal: &mut String, parts: &mut Vec<Part>) {
    if !literal.is_empty() {
        parts.push(Part::Literal(std::mem::take(literal)));
    }
}

fn compile_function(call: &str, names: &Names) -> Result<Part, TemplateError> {
    let words: Vec<&str> = call.split_whitespace().collect();
    match words.as_slice() {
        ["rand", low, high] => {
            let (Ok(low), Ok(high)) = (low.parse::<i64>(), high.parse::<i64>()) else {
                return Err(TemplateError::RandArguments);
            };
            if low > high {
                return Err(TemplateError::RandOrder);
            }
            Ok(Part::Rand { low, high })
        }
        ["rand", ..] => Err(TemplateError::RandArguments),
        ["choice", options @ ..] if !options.is_empty() => Ok(Part::Choice(
            options.iter().map(|s| s.to_string()).collect(),
        )),
        ["choice"] => Err(TemplateError::ChoiceArguments),
        ["counter"] => Ok(Part::Counter),
        ["uuid"] => Ok(Part::Uuid),
        ["csv", reference] => {
            let Some((dataset, column)) = reference.split_once('.') else {
                return Err(TemplateError::CsvArguments);
            };
            let Some(columns) = names.datasets.get(dataset) else {
                return Err(TemplateError::NoDataset {
                    name: dataset.to_string(),
                    nearest: crate::diag::nearest(
                        dataset,
                        names.datasets.keys().map(String::as_str),
                    )
                    .map(str::to_string),
                });
            };
            match columns.iter().position(|c| c == column) {
                Some(index) => Ok(Part::Csv {
                    dataset: dataset.to_string(),
                    column: index,
                }),
                None => Err(TemplateError::NoColumn {
                    dataset: dataset.to_string(),
                    column: column.to_string(),
                    columns: columns.clone(),
                }),
            }
        }
        ["csv", ..] => Err(TemplateError::CsvArguments),
        [name] if !names.vars.is_empty() && !FUNCTIONS.contains(name) => {
            match names.vars.iter().position(|v| v == name) {
                Some(slot) if slot < names.vars_in_scope => Ok(Part::Var(slot)),
                Some(_) => Err(TemplateError::VariableLater(name.to_string())),
                None => Err(TemplateError::UnknownVariable {
                    name: name.to_string(),
                    in_scope: names.vars[..names.vars_in_scope].to_vec(),
                }),
            }
        }
        [name, ..] => Err(TemplateError::UnknownFunction(name.to_string())),
        [] => Err(TemplateError::EmptyFunction),
    }
}

/// A variable's name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u64, u64);
    impl Values for Fixed {
        fn random(&mut self) -> u64 {
            self.0 += 1;
            self.0
        }
        fn counter(&mut self) -> u64 {
            self.1 += 1;
            self.1 - 1
        }
        fn csv(&mut self, _: &str, column: usize) -> &str {
            ["alice", "alice@example.com"][column]
        }
        fn var(&mut self, slot: usize) -> &str {
            ["t0k3n", "42"][slot]
        }
    }

    fn compile(text: &str) -> Result<Template, TemplateError> {
        let datasets = BTreeMap::from([(
            "users".to_string(),
            vec!["name".to_string(), "email".to_string()],
        )]);
        let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
        let names = Names {
            targets: &["api".to_string()],
            datasets: &datasets,
            env: &env,
            vars: &[],
            vars_in_scope: 0,
        };
        Template::compile(text, &names)
    }

    #[test]
    fn flow_variables_in_scope_render_and_others_are_named() {
        let datasets = BTreeMap::new();
        let vars = ["token".to_string(), "id".to_string()];
        let names = |in_scope| Names {
            targets: &[],
            datasets: &datasets,
            env: &|_| None,
            vars: &vars,
            vars_in_scope: in_scope,
        };
        let template = Template::compile("/items/{{ id }}?t={{token}}", &names(2)).unwrap();
        let mut out = String::new();
        template.render(&mut Fixed(0, 0), &mut out);
        assert_eq!(out, "/items/42?t=t0k3n");
        let later = Template::compile("{{ id }}", &names(1)).unwrap_err();
        assert_eq!(
            later.to_string(),
            "variable `id` is used before the step that captures it"
        );
        let unknown = Template::compile("{{ tokn }}", &names(1)).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "no step before this one captures a variable `tokn` (captured so far: token)"
        );
        assert_eq!(unknown.hint().as_deref(), Some("did you mean `token`?"));
        // Outside a flow a lone word is still an unknown function.
        assert!(matches!(
            compile("{{ token }}").unwrap_err(),
            TemplateError::UnknownFunction(_)
        ));
    }

    #[test]
    fn compiles_and_renders() {
        let template =
            compile("${api}/x?n={{ rand 10 12 }}&u={{ csv users.email }}&t=${TOKEN}&c={{counter}}")
                .unwrap();
        assert!(!template.is_static());
        let bound = template.bind_targets(&BTreeMap::from([(
            "api".to_string(),
            "http://h:1".to_string(),
        )]));
        let mut out = String::new();
        let mut values = Fixed(0, 0);
        bound.render(&mut values, &mut out);
        assert_eq!(out, "http://h:1/x?n=11&u=alice@example.com&t=s3cret&c=0");
        assert_eq!(
            compile("${MISSING:-dflt}").unwrap().as_static().unwrap(),
            "dflt"
        );
        let mut uuid = String::new();
        compile("{{ uuid }}")
            .unwrap()
            .render(&mut values, &mut uuid);
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
    }

    #[test]
    fn non_ascii_text_compiles_anywhere_in_a_template() {
        let mut values = Fixed(0, 0);
        for (text, rendered) in [
            ("Łukasz", "Łukasz"),
            ("é", "é"),
            ("${TOKEN}é", "s3creté"),
            ("{{ counter }}Ł{{ counter }}ß", "0Ł1ß"),
            ("ü${TOKEN}ü", "üs3cretü"),
            ("${api}/ścieżka?q=żółw", "http://h:1/ścieżka?q=żółw"),
            ("x{é", "x{é"),
            ("$é", "$é"),
        ] {
            let template = compile(text)
                .unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
                .bind_targets(&BTreeMap::from([(
                    "api".to_string(),
                    "http://h:1".to_string(),
                )]));
            let mut out = String::new();
            template.render(&mut values, &mut out);
            values.1 = 0;
            assert_eq!(out, rendered, "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let error = |text: &str| compile(text).unwrap_err();
        let nope = error("${NOPE}");
        assert_eq!(
            nope.to_string(),
            "`${NOPE}` is neither a target nor a set environment variable"
        );
        assert_eq!(
            nope.hint().as_deref(),
            Some("set it (export NOPE=...) or give a default: ${NOPE:-value}")
        );
        assert_eq!(
            error("${apj}").hint().as_deref(),
            Some("did you mean the target `api`?")
        );
        let unknown = error("{{ rnd 1 2 }}");
        assert_eq!(
            unknown.to_string(),
            "unknown template function `rnd` (known: rand, choice, counter, uuid, csv)"
        );
        assert_eq!(unknown.hint().as_deref(), Some("did you mean `rand`?"));
        assert_eq!(error("{{ rand 5 1 }}"), TemplateError::RandOrder);
        assert_eq!(
            error("{{ rand 5 }}").to_string(),
            "`rand` takes two integers: {{ rand 10 100 }}"
        );
        let column = error("{{ csv users.emial }}");
        assert_eq!(
            column.to_string(),
            "data set `users` has no column `emial` (columns: name, email)"
        );
        assert_eq!(column.hint().as_deref(), Some("did you mean `email`?"));
        assert_eq!(
            error("{{ csv orders.id }}").hint().as_deref(),
            Some("declare it under `data:` with a csv file")
        );
        assert_eq!(
            error("{{ uuid").to_string(),
            "`{{` without a closing `}}` in `{{ uuid`"
        );
        assert_eq!(
            error("x${api").to_string(),
            "`${` without a closing `}` in `x${api`"
        );
        assert_eq!(error("{{ }}").to_string(), "empty `{{ }}`");
        assert_eq!(error("{{ rand 5 1 }}").hint(), None);
    }
}
