//! Go templates in alert labels and annotations, as Prometheus expands
//! them: Go's `text/template` language (lexer `lex.rs`, literals
//! `literal.rs`, parser `parse.rs` into `node.rs`, executor `exec.rs` with
//! operands and calls in `call.rs`, values `value.rs`, `fmt` in
//! `printf.rs` over `strconv.rs`, times in `time.rs`), Go's builtins
//! (`funcs.rs`, comparisons in `compare.rs`) and Prometheus's function set
//! (`prom.rs`, over `numbers.rs` and `text.rs`), with the preamble Prometheus
//! puts before every template (`$labels`, `$externalLabels`,
//! `$externalURL`, `$value`), the `missingkey=zero` option, and the
//! `<error expanding template: ...>` text Prometheus writes in place of an
//! expansion that fails.

mod call;
mod compare;
mod error;
mod exec;
mod funcs;
mod lex;
mod literal;
mod node;
mod numbers;
mod parse;
mod printf;
mod prom;
mod strconv;
mod text;
mod time;
mod value;

#[cfg(test)]
mod parse_cases;
#[cfg(test)]
mod prometheus_cases;

use std::collections::BTreeMap;
use std::rc::Rc;

#[cfg(test)]
use error::ExecError;
pub(crate) use error::QueryError;
pub(crate) use funcs::Env;
use parse::Mistake;
pub(crate) use value::QuerySample;

/// What Prometheus's `rules/alerting.go` puts before every label and
/// annotation template.
const PRELUDE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// A template that Go's parser refuses, placed inside the template's own
/// text (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (line {line}, column {column} of the template)")]
pub(crate) struct TemplateError {
    /// Go's message, as promtool prints it after `template: NAME:LINE: `.
    pub message: String,
    pub line: usize,
    pub column: usize,
    mistake: Option<Mistake>,
}

impl TemplateError {
    /// What to do about it, for the error's hint.
    pub(crate) fn hint(&self) -> Option<String> {
        Some(match self.mistake.as_ref()? {
            Mistake::UnknownFunction(name) => match crate::diag::nearest(name, funcs::names()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "Prometheus's template functions are Go's (`printf`, `eq`, `and`, ...) and Prometheus's (`humanize`, `query`, `toUpper`, ...), as its docs list them".into(),
            },
            Mistake::UndefinedVariable => "a template sees $labels, $value, $externalLabels, $externalURL and the variables it declares with `{{ $x := ... }}` before using them".into(),
            Mistake::UnclosedBlock => "every {{ if }}, {{ with }}, {{ range }}, {{ define }} and {{ block }} needs its {{ end }}".into(),
            Mistake::StrayEndOrElse => "this {{ end }} or {{ else }} has no {{ if }}, {{ with }} or {{ range }} open".into(),
            Mistake::UnclosedAction => "an action opened with {{ closes with }}".into(),
        })
    }
}

/// Checks `text` as promtool's `check rules` does: Go's parser on the
/// preamble and the text, with Prometheus's functions.
pub(crate) fn check(text: &str) -> Result<(), TemplateError> {
    let full = format!("{PRELUDE}{text}");
    match parse::parse(&full, &funcs::is_function) {
        Ok(_) => Ok(()),
        Err(e) => {
            let pos = e.pos.saturating_sub(PRELUDE.len()).min(text.len());
            let before = &text[..floor_boundary(text, pos)];
            let line = 1 + before.matches('\n').count();
            let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
            Err(TemplateError {
                message: e.message,
                line,
                column: before[line_start..].chars().count() + 1,
                mistake: e.mistake,
            })
        }
    }
}

fn floor_boundary(text: &str, mut pos: usize) -> usize {
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// One alert sample's template data (Prometheus's `AlertTemplateData`).
pub(crate) struct Data<'a> {
    pub labels: BTreeMap<String, String>,
    pub external_labels: &'a BTreeMap<String, String>,
    pub external_url: &'a str,
    pub value: f64,
    /// The sample's histogram, when it is one: `$value` is then the
    /// histogram, not `value`.
    pub histogram: Option<std::sync::Arc<crate::metrics::histogram::FloatHistogram>>,
}

/// Expands `text` for the alerting rule `alert` (the tests' one-shot form
/// of [`Prepared::expand_root`]).
#[cfg(test)]
fn expand(alert: &str, text: &str, data: &Data, env: &Env) -> String {
    Prepared::new(alert, text).expand_root(&data.root(), env)
}

/// A label or annotation template parsed once, when its rule is built, and
/// executed for every alert of every evaluation (Prometheus parses it at
/// every expansion; the result is the same).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    name: String,
    full: String,
    /// `None` for text without an action, which expands to itself.
    parsed: Option<Result<parse::Trees, Unparsed>>,
}

/// A label or annotation template Go's parser refuses, as `Expand` words
/// it (`error parsing template NAME: template: NAME:LINE: MESSAGE`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("error parsing template {name}: template: {name}:{}: {}", .error.line, .error.message)]
struct Unparsed {
    name: String,
    error: parse::ParseError,
}

/// Why [`run`] failed, in `Expand`'s words.
#[cfg(test)]
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Parse(Unparsed),
    #[error("error executing template {name}: {source}")]
    Exec {
        name: String,
        source: Box<ExecError>,
    },
}

/// One alert's template data as the executor reads it, built once per
/// alert for all of the rule's templates.
pub(crate) struct Root(value::Value);

impl Data<'_> {
    pub(crate) fn root(&self) -> Root {
        Root(value::Value::Alert(Rc::new(value::AlertData {
            labels: Rc::new(self.labels.clone()),
            external_labels: Rc::new(self.external_labels.clone()),
            external_url: Rc::from(self.external_url),
            value: match &self.histogram {
                Some(h) => value::Value::Histogram(h.clone()),
                None => value::Value::Float(self.value),
            },
        })))
    }
}

impl Prepared {
    pub(crate) fn new(alert: &str, text: &str) -> Prepared {
        let name = format!("__alert_{alert}");
        let full = format!("{PRELUDE}{text}");
        let parsed = text.contains("{{").then(|| {
            parse::parse(&full, &funcs::is_function).map_err(|error| Unparsed {
                name: name.clone(),
                error,
            })
        });
        Prepared { name, full, parsed }
    }

    /// Expands the template for one alert, on data already built with
    /// [`Data::root`]: the expansion, or `<error expanding template: ...>`
    /// when it fails, as Prometheus does.
    pub(crate) fn expand_root(&self, root: &Root, env: &Env) -> String {
        let trees = match &self.parsed {
            None => return self.full[PRELUDE.len()..].to_string(),
            Some(Err(e)) => return format!("<error expanding template: {e}>"),
            Some(Ok(trees)) => trees,
        };
        match exec::execute(trees, &self.name, &self.full, root.0.clone(), env) {
            Ok(expanded) => expanded,
            Err(e) => format!(
                "<error expanding template: error executing template {}: {e}>",
                self.name
            ),
        }
    }
}

/// Parses and executes `text` named `name` on `data`, with Prometheus's
/// `Expand` error wording.
#[cfg(test)]
fn run(name: &str, text: &str, data: value::Value, env: &Env) -> Result<String, RunError> {
    let trees = parse::parse(text, &funcs::is_function).map_err(|error| {
        RunError::Parse(Unparsed {
            name: name.to_string(),
            error,
        })
    })?;
    exec::execute(&trees, name, text, data, env).map_err(|source| RunError::Exec {
        name: name.to_string(),
        source,
    })
}

/// A query function for templates evaluated without data: every query
/// returns no samples.
pub(crate) fn no_query(_: &str) -> Result<Vec<QuerySample>, QueryError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::error::{ExecCause, FuncError};
    use super::*;

    fn env() -> Env<'static> {
        Env {
            query: &no_query,
            now_ms: 1_353_755_652_000,
            external_url: Some("http://prom:9090"),
        }
    }

    fn expand_with(text: &str, value: f64) -> String {
        let external = BTreeMap::from([("cluster".to_string(), "eu1".to_string())]);
        let data = Data {
            labels: BTreeMap::from([
                ("job".to_string(), "api".to_string()),
                ("instance".to_string(), "10.0.0.1:9090".to_string()),
            ]),
            external_labels: &external,
            external_url: "http://prom:9090",
            value,
            histogram: None,
        };
        expand("A", text, &data, &env())
    }

    #[test]
    fn the_issue_repros_and_alert_data() {
        assert_eq!(
            expand_with("{{ if eq 1 1 }}a{{ else  if eq 1 2 }}b{{ end }}", 0.0),
            "a"
        );
        assert_eq!(
            expand_with("{{ with $labels.job }}{{.}}{{ end }}", 0.0),
            "api"
        );
        assert_eq!(
            expand_with("{{ with $labels.x }}{{.}}{{ else }}none{{ end }}", 0.0),
            "none"
        );
        assert_eq!(
            expand_with("{{ $labels.job }} at {{ $value }}", 0.25),
            "api at 0.25"
        );
        assert_eq!(expand_with("{{ .Labels.job }}/{{ .Value }}", 3.0), "api/3");
        // missingkey=zero: a missing label is empty.
        assert_eq!(expand_with("[{{ $labels.nope }}]", 1.0), "[]");
        assert_eq!(
            expand_with("{{ $externalLabels.cluster }} {{ $externalURL }}", 1.0),
            "eu1 http://prom:9090"
        );
        assert_eq!(
            expand_with("{{ $value | humanizePercentage }}", 0.2034),
            "20.34%"
        );
        assert_eq!(expand_with("{{ $value }}", 1234567.0), "1.234567e+06");
        assert_eq!(
            expand_with("{{ $labels }}", 1.0),
            "map[instance:10.0.0.1:9090 job:api]"
        );
        assert_eq!(expand_with("{{- \" x \" -}}  y", 0.0), " x y");
    }

    #[test]
    fn variables_range_break_continue_define() {
        assert_eq!(
            expand_with(
                "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
                0.0
            ),
            "2"
        );
        assert_eq!(
            expand_with(
                "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
                0.0
            ),
            "instance=10.0.0.1:9090;job=api;"
        );
        assert!(
            expand_with("{{ range $i, $e := 5 }}{{ end }}", 0.0)
                .contains("can't use 5 to iterate over more than one variable")
        );
        assert_eq!(
            expand_with(
                "{{ range $i := 5 }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $i }}{{ end }}",
                0.0
            ),
            "02"
        );
        assert_eq!(
            expand_with(
                "{{ define \"t\" }}<{{ . }}>{{ end }}{{ template \"t\" $labels.job }}{{ block \"b\" 7 }}[{{ . }}]{{ end }}",
                0.0
            ),
            "<api>[7]"
        );
        assert_eq!(expand_with("{{ with $x := 3 }}{{ $x }}{{ end }}", 0.0), "3");
        assert_eq!(
            expand_with(
                "{{ if and 0 (index $labels \"x\") }}y{{ else }}n{{ end }}",
                0.0
            ),
            "n"
        );
        assert_eq!(
            expand_with(
                "{{ or \"\" 0 \"z\" }} {{ and 1 2 }} {{ not 0 }} {{ len $labels }}",
                0.0
            ),
            "z 2 true 2"
        );
        assert_eq!(
            expand_with("{{ printf \"%5.1f|%-4s|%d%%\" 3.14159 \"ab\" 7 }}", 0.0),
            "  3.1|ab  |7%"
        );
        assert_eq!(
            expand_with(
                "{{ slice \"abcdef\" 1 3 }} {{ index \"ab\" 1 }} {{ html \"<a>\" }} {{ js \"'\" }} {{ urlquery \"a b&\" }}",
                0.0
            ),
            "bc 98 &lt;a&gt; \\' a+b%26"
        );
        assert_eq!(
            expand_with(
                "{{ eq 2 1 2 3 }} {{ lt 1.5 2.5 }} {{ ge \"b\" \"a\" }}",
                0.0
            ),
            "true true true"
        );
    }

    #[test]
    fn execution_errors_read_as_prometheus_writes_them() {
        assert_eq!(
            expand_with("{{ if gt $value 1 }}x{{ end }}", 2.0),
            "<error expanding template: error executing template __alert_A: template: __alert_A:1:118: executing \"__alert_A\" at <gt $value 1>: error calling gt: incompatible types for comparison>"
        );
        assert_eq!(
            expand_with("{{ humanize \"abc\" }}", 0.0),
            "<error expanding template: error executing template __alert_A: template: __alert_A:1:115: executing \"__alert_A\" at <humanize \"abc\">: error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax>"
        );
    }

    /// The executor's error says where and why as values: the function
    /// that failed and its own error, not only their text.
    #[test]
    fn execution_errors_are_typed_by_cause() {
        let data = value::Value::Float(0.0);
        let cause = |text: &str| match run("t", text, data.clone(), &env()) {
            Err(RunError::Exec { source, .. }) => (source.place.is_some(), source.cause),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            cause("{{ humanize \"abc\" }}"),
            (
                true,
                ExecCause::Call {
                    name: "humanize".into(),
                    source: FuncError::FloatSyntax { text: "abc".into() },
                }
            )
        );
        assert_eq!(
            cause("{{ index \"ab\" 5 }}"),
            (
                true,
                ExecCause::Call {
                    name: "index".into(),
                    source: FuncError::IndexOutOfRange { index: 5 },
                }
            )
        );
        assert_eq!(
            cause("{{ template \"nope\" }}"),
            (
                true,
                ExecCause::TemplateNotDefined {
                    name: "nope".into()
                }
            )
        );
        let Err(RunError::Exec { source, .. }) = run(
            "t",
            "{{ range $i := 1000000000000 }}{{ end }}",
            data,
            &env(),
        ) else {
            panic!("an endless range ends");
        };
        assert_eq!(source.cause, ExecCause::TooManySteps);
    }

    #[test]
    fn parse_errors_name_the_place_in_the_template() {
        for (text, message, column) in [
            ("{{ query1 \"up\" }}", "function \"query1\" not defined", 4),
            ("{{ $foo }}", "undefined variable \"$foo\"", 4),
            ("{{ if 1 }}", "unexpected EOF", 11),
            ("a {{ end }}", "unexpected {{end}}", 6),
            ("{{ 1 ", "unclosed action", 6),
            ("{{ tmpl \"a\" . }}", "function \"tmpl\" not defined", 4),
            ("{{ ) }}", "unexpected right paren", 4),
        ] {
            let e = check(text).unwrap_err();
            assert_eq!((e.message.as_str(), e.column), (message, column), "{text}");
        }
        assert!(check("{{ define \"x\" }}{{ $labels }}{{ end }}").is_err());
        // Each hint follows the parser's mistake, not its message's words.
        let hint = |text: &str| check(text).unwrap_err().hint();
        assert_eq!(
            hint("{{ humanise 1 }}").as_deref(),
            Some("did you mean `humanize`?")
        );
        assert!(
            hint("{{ $foo }}")
                .unwrap()
                .starts_with("a template sees $labels")
        );
        assert!(hint("{{ if 1 }}").unwrap().ends_with("needs its {{ end }}"));
        assert!(
            hint("a {{ else }}")
                .unwrap()
                .starts_with("this {{ end }} or {{ else }}")
        );
        assert_eq!(
            hint("{{ 1 ").as_deref(),
            Some("an action opened with {{ closes with }}")
        );
        assert_eq!(hint("{{ ) }}"), None);
        assert!(check("{{ range $i, $v := $labels }}{{ break }}{{ end }}").is_ok());
        assert!(check("{{ break }}").is_err());
    }

    /// Hostile templates end with an error, not a hang, an allocation of
    /// their own size or an overflowed stack.
    #[test]
    fn limits_end_hostile_templates() {
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
        assert!(
            check(&deep)
                .unwrap_err()
                .message
                .contains("limit of 100 levels")
        );
        let nested = format!("{}{}", "{{ if 1 }}".repeat(5000), "{{ end }}".repeat(5000));
        assert!(
            check(&nested)
                .unwrap_err()
                .message
                .contains("limit of 100 levels")
        );
        assert!(check(&"(".repeat(99)).is_ok());
        let endless = expand_with("{{ range $i := 1000000000000 }}{{ end }}", 0.0);
        assert!(endless.contains("limit of 10000000 steps"), "{endless}");
        let recursive = expand_with(
            "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" 1 }}",
            0.0,
        );
        assert!(
            recursive.contains("exceeded maximum template depth (200)"),
            "{recursive}"
        );
        let wide = expand_with(
            "{{ range $i := 100000 }}{{ printf \"%100s\" \"x\" }}{{ end }}",
            0.0,
        );
        assert!(wide.contains("limit of 1048576 bytes"), "{wide}");
    }
}
