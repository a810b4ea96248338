//! The Go-template subset of alert labels and annotations, as Prometheus
//! expands them: `{{ $labels.job }}`, `{{ $value }}`, `{{ .Labels.x }}`,
//! `$externalLabels`, `$externalURL`, pipelines (`{{ $value | humanize }}`),
//! parenthesised calls, `if`/`else if`/`else`/`end` with `eq ne lt le gt ge
//! and or not`, trim markers (`{{-`, `-}}`), and the template functions
//! rule files use: `humanize`, `humanize1024`, `humanizeDuration`,
//! `humanizePercentage`, `humanizeTimestamp`, `printf`, `title`,
//! `toUpper`, `toLower`, `reReplaceAll`, `match`, `stripPort`,
//! `stripDomain`, `toTime`, `parseDuration`. Functions that query
//! Prometheus (`query`, `first`, ...) and `range`/`with`/`define` are
//! refused by name when the rule is loaded, as promtool refuses an
//! undefined function. Values print as Go prints them (`%v`), so an
//! expanded annotation is byte for byte what Prometheus writes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// What a template is expanded with.
#[derive(Debug, Clone, Default)]
pub struct Data<'a> {
    pub labels: BTreeMap<&'a str, &'a str>,
    pub external_labels: BTreeMap<&'a str, &'a str>,
    pub external_url: &'a str,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Print(Pipeline),
    If {
        condition: Pipeline,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

type Pipeline = Vec<Command>;

/// A command: a function with arguments, or one operand.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    Call(String, Vec<Operand>),
    Operand(Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// `$labels.job`, `.Value`: a root and a path of field names.
    Field(Root, Vec<String>),
    Str(String),
    Number(f64, bool),
    Bool(bool),
    Paren(Pipeline),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Root {
    Labels,
    ExternalLabels,
    ExternalUrl,
    Value,
    /// `.` itself.
    Dot,
}

/// A value during expansion (Go's dynamic types, as far as we need them).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Float(f64),
    Int(i64),
    Str(String),
    Bool(bool),
    Map(BTreeMap<String, String>),
    /// A missing map key: prints `<no value>`.
    Missing,
}

const FUNCTIONS: &[&str] = &[
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "printf",
    "title",
    "toUpper",
    "toLower",
    "reReplaceAll",
    "match",
    "stripPort",
    "stripDomain",
    "toTime",
    "parseDuration",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "len",
    "print",
    "println",
];

impl Template {
    /// Parses `text`; the error reads like Go's (`function "x" not defined`).
    pub fn parse(text: &str) -> Result<Template, String> {
        let tokens = split(text)?;
        let mut at = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut at)?;
        match end {
            None => Ok(Template { nodes }),
            Some(word) => Err(format!("unexpected {{{{{word}}}}}")),
        }
    }

    /// Expands the template; errors as Prometheus reports them inside the
    /// annotation (`error expanding template: ...`).
    pub fn expand(&self, data: &Data) -> Result<String, String> {
        let mut out = String::new();
        expand_nodes(&self.nodes, data, &mut out)?;
        Ok(out)
    }
}

/// Expands `text` as Prometheus expands an alert's label or annotation: a
/// template that fails gives `<error expanding template: ...>`.
pub fn expand(text: &str, data: &Data) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    match Template::parse(text).and_then(|t| t.expand(data)) {
        Ok(expanded) => expanded,
        Err(e) => format!("<error expanding template: {e}>"),
    }
}

enum Token {
    Text(String),
    Action(String),
}

/// Splits text and `{{ actions }}`, applying trim markers.
fn split(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut before = &rest[..open];
        if trim_next {
            before = before.trim_start();
        }
        let after_open = &rest[open + 2..];
        let (trim_left, inner_start) = match after_open.strip_prefix("- ") {
            Some(s) => (true, s),
            None => (false, after_open),
        };
        if trim_left {
            before = before.trim_end();
        }
        if !before.is_empty() {
            tokens.push(Token::Text(before.to_string()));
        }
        let close = find_close(inner_start).ok_or("unclosed action")?;
        let mut inner = &inner_start[..close];
        trim_next = false;
        if let Some(s) = inner.strip_suffix(" -") {
            inner = s;
            trim_next = true;
        }
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            tokens.push(Token::Action(inner.to_string()));
        }
        rest = &inner_start[close + 2..];
    }
    let tail = if trim_next { rest.trim_start() } else { rest };
    if !tail.is_empty() {
        tokens.push(Token::Text(tail.to_string()));
    }
    Ok(tokens)
}

/// Where `}}` closes an action, skipping quoted strings.
fn find_close(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Nodes up to an `else`/`end` (returned) or the end of input (None).
fn parse_nodes(tokens: &[Token], at: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.get(*at) {
        *at += 1;
        match token {
            Token::Text(text) => nodes.push(Node::Text(text.clone())),
            Token::Action(action) => {
                let word = action.split_whitespace().next().unwrap_or("");
                match word {
                    "end" | "else" => return Ok((nodes, Some(action.clone()))),
                    "if" => nodes.push(parse_if(&action[2..], tokens, at)?),
                    "range" | "with" | "define" | "template" | "block" | "break" | "continue" => {
                        return Err(format!(
                            "`{word}` is not supported in slogate's rule templates"
                        ));
                    }
                    _ => nodes.push(Node::Print(parse_pipeline(action)?)),
                }
            }
        }
    }
    Ok((nodes, None))
}

fn parse_if(condition: &str, tokens: &[Token], at: &mut usize) -> Result<Node, String> {
    let condition = parse_pipeline(condition)?;
    let (then, end) = parse_nodes(tokens, at)?;
    let otherwise = match end.as_deref() {
        Some("end") => Vec::new(),
        Some("else") => {
            let (nodes, end) = parse_nodes(tokens, at)?;
            if end.as_deref() != Some("end") {
                return Err("`else` without `end`".into());
            }
            nodes
        }
        Some(other) if other.starts_with("else if ") => {
            vec![parse_if(&other["else if".len()..], tokens, at)?]
        }
        _ => return Err("`if` without `end`".into()),
    };
    Ok(Node::If {
        condition,
        then,
        otherwise,
    })
}

/// Words of an action: strings and parentheses kept whole.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i >= chars.len() {
                    return Err("unterminated quoted string".into());
                }
                i += 1;
            }
            '`' => {
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("unterminated raw string".into());
                }
                i += 1;
            }
            '(' => {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("unclosed left paren".into());
                }
                i += 1;
            }
            '|' => i += 1,
            // A word never starts with `)`; without this arm the loop below
            // would not advance and push empty words until memory ran out
            // (found by fuzzing: fuzz/regressions/rule_file/).
            ')' => return Err("unexpected right paren".into()),
            _ => {
                while i < chars.len() && !chars[i].is_whitespace() && !"|()".contains(chars[i]) {
                    i += 1;
                }
            }
        }
        out.push(chars[start..i].iter().collect());
    }
    Ok(out)
}

fn parse_pipeline(text: &str) -> Result<Pipeline, String> {
    let words = words(text)?;
    if words.is_empty() {
        return Err("missing value for command".into());
    }
    // Prometheus's own prelude declares the variables; a template may too.
    if words.len() >= 3 && words[0].starts_with('$') && words[1] == ":=" {
        return Err("declaring variables is not supported in slogate's rule templates".into());
    }
    words
        .split(|w| w == "|")
        .map(|command| {
            let (first, args) = command.split_first().ok_or("missing command in pipeline")?;
            if FUNCTIONS.contains(&first.as_str()) {
                let args = args.iter().map(|a| operand(a)).collect::<Result<_, _>>()?;
                Ok(Command::Call(first.clone(), args))
            } else if is_identifier(first) {
                Err(format!("function \"{first}\" not defined"))
            } else if args.is_empty() {
                Ok(Command::Operand(operand(first)?))
            } else {
                Err(format!("can't give argument to non-function {first}"))
            }
        })
        .collect()
}

fn is_identifier(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_alphabetic)
        && word.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !matches!(word, "true" | "false" | "nil")
}

fn operand(word: &str) -> Result<Operand, String> {
    if let Some(inner) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
        return Ok(Operand::Paren(parse_pipeline(inner)?));
    }
    if word.starts_with('"') {
        return unquote(word).map(Operand::Str);
    }
    if let Some(raw) = word.strip_prefix('`').and_then(|w| w.strip_suffix('`')) {
        return Ok(Operand::Str(raw.to_string()));
    }
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        let is_int = !word.contains(['.', 'e', 'E']);
        return word
            .parse::<f64>()
            .map(|v| Operand::Number(v, is_int))
            .map_err(|_| format!("bad number syntax: {word:?}"));
    }
    let (root, path) = if let Some(rest) = word.strip_prefix('$') {
        let mut parts = rest.split('.');
        let root = match parts.next().unwrap_or("") {
            "labels" => Root::Labels,
            "externalLabels" => Root::ExternalLabels,
            "externalURL" => Root::ExternalUrl,
            "value" => Root::Value,
            "" => Root::Dot,
            other => return Err(format!("undefined variable \"${other}\"")),
        };
        (root, parts.map(str::to_string).collect::<Vec<_>>())
    } else if let Some(rest) = word.strip_prefix('.') {
        let mut parts = rest.split('.').filter(|p| !p.is_empty());
        let root = match parts.next() {
            None => Root::Dot,
            Some("Labels") => Root::Labels,
            Some("ExternalLabels") => Root::ExternalLabels,
            Some("ExternalURL") => Root::ExternalUrl,
            Some("Value") => Root::Value,
            Some(other) => return Err(format!("can't evaluate field {other}")),
        };
        (root, parts.map(str::to_string).collect())
    } else {
        return match word {
            "true" => Ok(Operand::Bool(true)),
            "false" => Ok(Operand::Bool(false)),
            _ => Err(format!("unexpected {word:?} in command")),
        };
    };
    Ok(Operand::Field(root, path))
}

fn unquote(word: &str) -> Result<String, String> {
    let inner = &word[1..word.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            other => return Err(format!("bad escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn expand_nodes(nodes: &[Node], data: &Data, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Print(pipeline) => print(&run(pipeline, data)?, out),
            Node::If {
                condition,
                then,
                otherwise,
            } => {
                if truth(&run(condition, data)?) {
                    expand_nodes(then, data, out)?;
                } else {
                    expand_nodes(otherwise, data, out)?;
                }
            }
        }
    }
    Ok(())
}

fn print(value: &Value, out: &mut String) {
    match value {
        Value::Float(v) => out.push_str(&go_float(*v)),
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Str(s) => out.push_str(s),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Map(map) => {
            out.push_str("map[");
            let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            out.push_str(&pairs.join(" "));
            out.push(']');
        }
        Value::Missing => out.push_str("<no value>"),
    }
}

fn truth(value: &Value) -> bool {
    match value {
        Value::Float(v) => *v != 0.0,
        Value::Int(v) => *v != 0,
        Value::Str(s) => !s.is_empty(),
        Value::Bool(b) => *b,
        Value::Map(m) => !m.is_empty(),
        Value::Missing => false,
    }
}

fn run(pipeline: &Pipeline, data: &Data) -> Result<Value, String> {
    let mut piped: Option<Value> = None;
    for command in pipeline {
        let value = match command {
            Command::Operand(operand) => {
                if piped.is_some() {
                    return Err("can't give argument to non-function".into());
                }
                resolve(operand, data)?
            }
            Command::Call(name, args) => {
                let mut values = args
                    .iter()
                    .map(|a| resolve(a, data))
                    .collect::<Result<Vec<_>, _>>()?;
                values.extend(piped.take());
                call(name, values)?
            }
        };
        piped = Some(value);
    }
    piped.ok_or_else(|| "empty pipeline".into())
}

fn resolve(operand: &Operand, data: &Data) -> Result<Value, String> {
    Ok(match operand {
        Operand::Str(s) => Value::Str(s.clone()),
        Operand::Number(v, true) => Value::Int(*v as i64),
        Operand::Number(v, false) => Value::Float(*v),
        Operand::Bool(b) => Value::Bool(*b),
        Operand::Paren(pipeline) => run(pipeline, data)?,
        Operand::Field(root, path) => {
            let map = |m: &BTreeMap<&str, &str>| {
                Value::Map(
                    m.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )
            };
            let base = match root {
                Root::Labels => map(&data.labels),
                Root::ExternalLabels => map(&data.external_labels),
                Root::ExternalUrl => Value::Str(data.external_url.to_string()),
                Root::Value => Value::Float(data.value),
                Root::Dot => {
                    return Err(
                        "`.` on its own is not supported in slogate's rule templates".into(),
                    );
                }
            };
            path.iter().try_fold(base, |value, field| match value {
                Value::Map(m) => Ok(m.get(field).cloned().map_or(Value::Missing, Value::Str)),
                Value::Missing => Ok(Value::Missing),
                other => Err(format!("can't evaluate field {field} in {other:?}")),
            })?
        }
    })
}

fn number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Float(v) => Ok(*v),
        Value::Int(v) => Ok(*v as f64),
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .or_else(|_| match s.trim() {
                "NaN" => Ok(f64::NAN),
                "Inf" | "+Inf" => Ok(f64::INFINITY),
                "-Inf" => Ok(f64::NEG_INFINITY),
                _ => Err(()),
            })
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        other => Err(format!("can't convert {other:?} to a number")),
    }
}

fn text(value: &Value) -> String {
    let mut out = String::new();
    print(value, &mut out);
    out
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        }
    };
    Ok(match name {
        "humanize" => {
            arity(1)?;
            Value::Str(humanize(number(&args[0])?))
        }
        "humanize1024" => {
            arity(1)?;
            Value::Str(humanize_1024(number(&args[0])?))
        }
        "humanizeDuration" => {
            arity(1)?;
            Value::Str(humanize_duration(number(&args[0])?))
        }
        "humanizePercentage" => {
            arity(1)?;
            Value::Str(format!("{}%", go_g(number(&args[0])? * 100.0, 4)))
        }
        "humanizeTimestamp" => {
            arity(1)?;
            let v = number(&args[0])?;
            Value::Str(if v.is_finite() {
                go_time(v)
            } else {
                go_g(v, 4)
            })
        }
        "toTime" => {
            arity(1)?;
            Value::Str(go_time(number(&args[0])?))
        }
        "parseDuration" => {
            arity(1)?;
            let d = super::duration(&text(&args[0])).map_err(|e| e.to_string())?;
            Value::Float(d.as_secs_f64())
        }
        "title" => {
            arity(1)?;
            Value::Str(title(&text(&args[0])))
        }
        "toUpper" => {
            arity(1)?;
            Value::Str(text(&args[0]).to_uppercase())
        }
        "toLower" => {
            arity(1)?;
            Value::Str(text(&args[0]).to_lowercase())
        }
        "stripPort" => {
            arity(1)?;
            let host = text(&args[0]);
            Value::Str(strip_port(&host))
        }
        "stripDomain" => {
            arity(1)?;
            let host = text(&args[0]);
            let (name, port) = match host.rsplit_once(':') {
                Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) => (n, Some(p)),
                _ => (host.as_str(), None),
            };
            let short = if name.parse::<std::net::IpAddr>().is_ok() {
                name
            } else {
                name.split('.').next().unwrap_or(name)
            };
            Value::Str(match port {
                Some(p) => format!("{short}:{p}"),
                None => short.to_string(),
            })
        }
        "match" => {
            arity(2)?;
            let re = regex::Regex::new(&text(&args[0])).map_err(|e| e.to_string())?;
            Value::Bool(re.is_match(&text(&args[1])))
        }
        "reReplaceAll" => {
            arity(3)?;
            let re = regex::Regex::new(&text(&args[0])).map_err(|e| e.to_string())?;
            let replacement = go_replacement(&text(&args[1]));
            Value::Str(re.replace_all(&text(&args[2]), replacement.as_str()).into())
        }
        "printf" => {
            let (format, rest) = args.split_first().ok_or("printf needs a format")?;
            Value::Str(printf(&text(format), rest))
        }
        "print" | "println" => {
            let mut out = args.iter().map(text).collect::<Vec<_>>().join(" ");
            if name == "println" {
                out.push('\n');
            }
            Value::Str(out)
        }
        "len" => {
            arity(1)?;
            Value::Int(match &args[0] {
                Value::Str(s) => s.len() as i64,
                Value::Map(m) => m.len() as i64,
                other => return Err(format!("len of {other:?}")),
            })
        }
        "not" => {
            arity(1)?;
            Value::Bool(!truth(&args[0]))
        }
        "and" => args
            .iter()
            .find(|v| !truth(v))
            .or(args.last())
            .cloned()
            .ok_or("and needs arguments")?,
        "or" => args
            .iter()
            .find(|v| truth(v))
            .or(args.last())
            .cloned()
            .ok_or("or needs arguments")?,
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(2)?;
            let order = compare(&args[0], &args[1])?;
            use std::cmp::Ordering::*;
            Value::Bool(match (name, order) {
                ("eq", o) => o == Some(Equal),
                ("ne", o) => o != Some(Equal),
                ("lt", o) => o == Some(Less),
                ("le", o) => matches!(o, Some(Less | Equal)),
                ("gt", o) => o == Some(Greater),
                (_, o) => matches!(o, Some(Greater | Equal)),
            })
        }
        other => return Err(format!("function \"{other}\" not defined")),
    })
}

/// Go compares like types only: numbers with numbers, strings with strings.
fn compare(a: &Value, b: &Value) -> Result<Option<std::cmp::Ordering>, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::Bool(x), Value::Bool(y)) => Ok(Some(x.cmp(y))),
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (Value::Float(_) | Value::Int(_), Value::Float(_) | Value::Int(_)) => {
            if matches!(a, Value::Int(_)) != matches!(b, Value::Int(_)) {
                return Err("incompatible types for comparison".into());
            }
            Ok(number(a)?.partial_cmp(&number(b)?))
        }
        _ => Err("incompatible types for comparison".into()),
    }
}

/// Go's `$1` replacement syntax to the regex crate's `${1}`.
fn go_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let mut digits = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                digits.push(d);
                chars.next();
            }
            let _ = write!(out, "${{{digits}}}");
        } else {
            out.push(c);
        }
    }
    out
}

fn strip_port(host: &str) -> String {
    if let Some(rest) = host.strip_prefix('[')
        && let Some((ip, _)) = rest.split_once(']')
    {
        return ip.to_string();
    }
    match host.rsplit_once(':') {
        Some((name, _)) if !name.contains(':') => name.to_string(),
        _ => host.to_string(),
    }
}

fn title(text: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in text.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '_' && c != '\'';
    }
    out
}

/// Prometheus's `humanize`: SI prefixes, four significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g(v, 4))
}

fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", go_g(v, 4))
}

/// Prometheus's `humanizeDuration`: `1d 2h 3m 4s`, or `1.5s`, `250ms`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", go_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let whole = v as i64;
        let (days, hours, minutes, seconds) = (
            whole / 86_400,
            whole / 3600 % 24,
            whole / 60 % 60,
            whole % 60,
        );
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", go_g(v, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, 4))
}

/// Go's `time.Time.String()` of Unix seconds in UTC, as
/// `humanizeTimestamp` prints it: `2026-11-22 10:00:00.5 +0000 UTC`.
fn go_time(seconds: f64) -> String {
    let whole = seconds.floor() as i64;
    let nanos = ((seconds - whole as f64) * 1e9).round() as i64;
    let (year, month, day) = crate::units::civil_from_days(whole.div_euclid(86_400));
    let rest = whole.rem_euclid(86_400);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Go's `%.{precision}g`: shortest of `%e` and `%f`, trailing zeros cut.
pub fn go_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let precision = precision.max(1);
    let e = scientific(v, precision - 1);
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        return format!("{}e{}", trim_zeros(mantissa), go_exponent(exponent));
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim_zeros(&fixed(v, decimals)).to_string()
}

/// More digits than any f64 has: 1,074 decimals hold the smallest
/// subnormal exactly, 767 significant digits any value. Beyond them every
/// digit is 0, and Rust's formatter panics past 65,535, which a template's
/// `%.99999f` would reach.
const EXACT_DIGITS: usize = 1100;

/// `{v:.decimals}`, for any number of decimals.
fn fixed(v: f64, decimals: usize) -> String {
    let mut text = format!("{v:.*}", decimals.min(EXACT_DIGITS));
    if decimals > EXACT_DIGITS && v.is_finite() {
        text.extend(std::iter::repeat_n('0', decimals - EXACT_DIGITS));
    }
    text
}

/// `{v:.decimals e}`, for any number of decimals.
fn scientific(v: f64, decimals: usize) -> String {
    let text = format!("{v:.*e}", decimals.min(EXACT_DIGITS));
    match text.split_once('e') {
        Some((mantissa, exponent)) if decimals > EXACT_DIGITS => {
            let zeros = "0".repeat(decimals - EXACT_DIGITS);
            format!("{mantissa}{zeros}e{exponent}")
        }
        _ => text,
    }
}

/// Go's `fmt.parsenum` for a width or precision: the digits' number (0 when
/// none), or `None` when it passes 1e6 before its last digit, where Go gives
/// up on the rest of the format ("%!(NOVERB)").
fn go_parsenum(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut num = 0usize;
    while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
        if num > 1_000_000 {
            chars.by_ref().for_each(drop);
            return None;
        }
        num = num * 10 + d as usize;
        chars.next();
    }
    Some(num)
}

/// Go's `%v` of a float64: shortest digits, `%e` form when the exponent is
/// below -4 or at least 6 (strconv's shortest `%g`).
pub fn go_float(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return go_g(v, 1);
    }
    let e = format!("{v:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        format!("{mantissa}e{}", go_exponent(exponent))
    } else {
        format!("{v}")
    }
}

fn go_exponent(exponent: i32) -> String {
    format!(
        "{}{:02}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    )
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s %v %d %f %g %e %q
/// %x %%`, with width and precision.
fn printf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = args.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek().filter(|f| "+-# 0".contains(**f)) {
            flags.push(f);
            chars.next();
        }
        let Some(width) = go_parsenum(&mut chars) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let Some(digits) = go_parsenum(&mut chars) else {
                out.push_str("%!(NOVERB)");
                break;
            };
            precision = Some(digits);
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = next.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let formatted = match (verb, arg) {
            ('v' | 's', Value::Float(v)) if verb == 'v' => go_float(*v),
            ('s' | 'v', _) => text(arg),
            ('d', Value::Int(v)) => v.to_string(),
            ('d', Value::Float(v)) => format!("%!d(float64={})", go_float(*v)),
            ('f' | 'F', a) => match number(a) {
                Ok(v) => fixed(v, precision.unwrap_or(6)),
                Err(_) => format!("%!f({})", text(a)),
            },
            ('g', a) => match number(a) {
                Ok(v) => match precision {
                    Some(p) => go_g(v, p),
                    None => go_float(v),
                },
                Err(_) => format!("%!g({})", text(a)),
            },
            ('e', a) => match number(a) {
                Ok(v) => {
                    let e = scientific(v, precision.unwrap_or(6));
                    let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
                    format!("{m}e{}", go_exponent(x.parse().unwrap_or(0)))
                }
                Err(_) => format!("%!e({})", text(a)),
            },
            ('q', a) => format!("{:?}", text(a)),
            ('x', Value::Int(v)) => format!("{v:x}"),
            ('x', a) => text(a).bytes().map(|b| format!("{b:02x}")).collect(),
            (other, a) => format!("%!{other}({})", text(a)),
        };
        let pad = width.saturating_sub(formatted.chars().count());
        if flags.contains('-') {
            out.push_str(&formatted);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            let fill = if flags.contains('0') { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&formatted);
        }
    }
    if next.next().is_some() {
        out.push_str("%!(EXTRA)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(value: f64) -> Data<'static> {
        Data {
            labels: BTreeMap::from([("job", "api"), ("instance", "10.0.0.1:9090")]),
            external_labels: BTreeMap::from([("cluster", "eu1")]),
            external_url: "http://prom:9090",
            value,
        }
    }

    fn expand_ok(text: &str, value: f64) -> String {
        Template::parse(text).unwrap().expand(&data(value)).unwrap()
    }

    #[test]
    fn a_stray_right_paren_is_an_error_not_a_loop() {
        let err = Template::parse("{{ ) }}").unwrap_err();
        assert!(err.to_string().contains("unexpected right paren"), "{err}");
        let err = Template::parse("{{ $value ) }}").unwrap_err();
        assert!(err.to_string().contains("unexpected right paren"), "{err}");
    }

    /// Widths and precisions come from the template, not from Rust's
    /// formatter limits: Go's bounds and Go's words, never a panic.
    #[test]
    fn printf_widths_and_precisions_are_bounded_as_go_bounds_them() {
        let long = expand_ok("{{ printf \"%.70000f\" 0.5 }}", 0.0);
        assert_eq!(long.len(), 2 + 70_000);
        assert!(long.starts_with("0.5000") && long.ends_with('0'));
        let sci = expand_ok("{{ printf \"%.70000e\" 0.5 }}", 0.0);
        assert_eq!(sci.len(), 2 + 70_000 + 4, "{}", &sci[sci.len() - 8..]);
        assert!(sci.ends_with("0e-01"));
        assert_eq!(expand_ok("{{ printf \"%.70000g\" 0.5 }}", 0.0), "0.5");
        assert_eq!(expand_ok("{{ printf \"%70000d\" 7 }}", 0.0).len(), 70_000);
        // Past 1e6 Go stops reading the format.
        assert_eq!(
            expand_ok("{{ printf \"a%99999999dz\" 7 }}", 0.0),
            "a%!(NOVERB)%!(EXTRA)"
        );
        assert_eq!(
            expand_ok("{{ printf \"%.99999999f\" 7 }}", 0.0),
            "%!(NOVERB)%!(EXTRA)"
        );
    }

    #[test]
    fn labels_values_and_pipelines() {
        assert_eq!(
            expand_ok("{{ $labels.job }} at {{ $value }}", 0.25),
            "api at 0.25"
        );
        assert_eq!(expand_ok("{{ .Labels.job }}/{{ .Value }}", 3.0), "api/3");
        assert_eq!(expand_ok("{{ $labels.nope }}", 1.0), "<no value>");
        assert_eq!(expand_ok("{{ $externalLabels.cluster }}", 1.0), "eu1");
        assert_eq!(
            expand_ok("{{ $value | humanizePercentage }}", 0.2034),
            "20.34%"
        );
        assert_eq!(expand_ok("{{ humanize $value }}", 1234567.0), "1.235M");
        assert_eq!(expand_ok("{{ $value | humanize }}", 0.0012), "1.2m");
        assert_eq!(expand_ok("{{ printf \"%.2f\" $value }}", 0.12345), "0.12");
        assert_eq!(
            expand_ok("{{ $labels.instance | stripPort | toUpper }}", 0.0),
            "10.0.0.1"
        );
        assert_eq!(expand_ok("{{- \" x \" -}}  y", 0.0), " x y");
        assert_eq!(
            expand_ok("{{ if gt $value 0.5 }}high{{ else }}low{{ end }}", 0.7),
            "high"
        );
        assert_eq!(
            expand_ok(
                "{{ if gt $value 0.5 }}high{{ else if gt $value 0.1 }}mid{{ else }}low{{ end }}",
                0.2
            ),
            "mid"
        );
        assert_eq!(expand_ok("{{ $value }}", 1234567.0), "1.234567e+06");
        assert_eq!(expand_ok("{{ $value }}", 0.00001), "1e-05");
    }

    #[test]
    fn humanize_like_prometheus() {
        assert_eq!(humanize_duration(0.25), "250ms");
        assert_eq!(humanize_duration(1.5), "1.5s");
        assert_eq!(humanize_duration(90.0), "1m 30s");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(1000.0), "1k");
        assert_eq!(humanize_1024(2048.0), "2ki");
        assert_eq!(go_g(12345.0, 4), "1.234e+04");
        assert_eq!(go_g(100.0, 4), "100");
    }

    #[test]
    fn refuses_what_it_cannot_expand() {
        for (text, error) in [
            ("{{ query \"up\" }}", "function \"query\" not defined"),
            ("{{ range $x := 1 }}{{ end }}", "`range` is not supported"),
            ("{{ if 1 }}", "`if` without `end`"),
            ("{{ $foo }}", "undefined variable \"$foo\""),
        ] {
            let e = Template::parse(text).unwrap_err();
            assert!(e.contains(error), "{text}: {e}");
        }
        assert!(
            expand("{{ humanize \"abc\" }}", &data(0.0)).starts_with("<error expanding template:")
        );
    }
}
