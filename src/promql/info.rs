//! `info(v, {data matchers})` (Prometheus 3, experimental): adds to each
//! series of `v` the data labels of the info series (`target_info` unless
//! the matchers name others) that share its identifying labels
//! (`instance`, `job`), as promql/info.go does at each step: the newest
//! info series of a name wins, a conflicting data label is an error, and a
//! series no info series matches is kept only when every data matcher
//! accepts an empty value.

use std::collections::{HashMap, HashSet};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, Offset, SubqueryExpr, VectorSelector};

use super::eval::Evaluator;
use super::{Error, Labels, Sample};
use crate::metrics::store::{NAME, is_stale};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

pub(super) fn info(ev: &Evaluator<'_>, args: &[Box<Expr>], t: i64) -> Result<Vec<Sample>, Error> {
    let base = match ev.eval(&args[0], t)? {
        super::Value::Vector(v) => v,
        other => {
            return Err(Error::Eval(format!(
                "info needs an instant vector, not a {}",
                other.kind()
            )));
        }
    };
    let mut matchers: Vec<Matcher> = Vec::new();
    if let Some(selector) = args.get(1) {
        let Expr::VectorSelector(vs) = selector.as_ref() else {
            return Err(Error::Eval(
                "info's second argument must be a label selector".into(),
            ));
        };
        if let Some(name) = &vs.name {
            matchers.push(Matcher::new(MatchOp::Equal, NAME, name));
        }
        matchers.extend(vs.matchers.matchers.iter().cloned());
    }
    let names = NameRule::new(&matchers);
    let data: Vec<&Matcher> = matchers.iter().filter(|m| m.name != NAME).collect();
    let data_names: HashSet<&str> = data.iter().map(|m| m.name.as_str()).collect();

    // Base series that are info series themselves pass through.
    let passes = |l: &Labels| names.matches(l.name().unwrap_or(""));
    let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
    for s in base.iter().filter(|s| !passes(&s.labels)) {
        for l in IDENTIFYING {
            if let Some(v) = s.labels.get(l) {
                ids.entry(l).or_default().insert(v);
            }
        }
    }
    let newest = if ids.is_empty() {
        HashMap::new()
    } else {
        newest_info(ev, &args[0], t, &names, &data, &ids)?
    };
    let info_names: HashSet<&str> = newest.keys().map(|(name, _)| name.as_str()).collect();
    let empty_ok = data.iter().all(|m| m.is_match(""));
    let mut out = Vec::with_capacity(base.len());
    for s in base {
        if passes(&s.labels) {
            out.push(s);
            continue;
        }
        let mut added: Vec<(String, String)> = Vec::new();
        let mut seen = false;
        for &name in &info_names {
            let Some(info) = newest.get(&(name.to_string(), identity(&s.labels))) else {
                continue;
            };
            seen = true;
            for (n, v) in info.iter() {
                if n == NAME || (!data_names.is_empty() && !data_names.contains(n)) {
                    continue;
                }
                if let Some((_, existing)) = added.iter().find(|(a, _)| a == n) {
                    if existing != v {
                        return Err(Error::Eval(format!("conflicting label: {n}")));
                    }
                    continue;
                }
                if s.labels.get(n).is_none() {
                    added.push((n.to_string(), v.to_string()));
                }
            }
        }
        if !seen && !empty_ok {
            continue;
        }
        let mut pairs: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        pairs.extend(added);
        out.push(Sample {
            labels: Labels::new(pairs),
            ..s
        });
    }
    super::eval::check_unique(&out)?;
    Ok(out)
}

/// Which metric names are info series: `effectiveInfoNameMatchers`.
enum NameRule<'m> {
    /// `target_info`, when no `=` or `=~` on the name is given.
    TargetInfo,
    /// The matchers given, with `.+_info` added when none is `=` or `=~`.
    Matchers {
        matchers: Vec<&'m Matcher>,
        info_suffix: bool,
    },
}

impl<'m> NameRule<'m> {
    fn new(all: &'m [Matcher]) -> NameRule<'m> {
        let matchers: Vec<&Matcher> = all.iter().filter(|m| m.name == NAME).collect();
        if matchers.is_empty() {
            return NameRule::TargetInfo;
        }
        let positive = matchers
            .iter()
            .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Re(_)));
        NameRule::Matchers {
            matchers,
            info_suffix: !positive,
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            NameRule::TargetInfo => name == TARGET_INFO,
            NameRule::Matchers {
                matchers,
                info_suffix,
            } => {
                (!info_suffix || name.len() > "_info".len() && name.ends_with("_info"))
                    && matchers.iter().all(|m| m.is_match(name))
            }
        }
    }
}

/// The identifying labels of a series, `instance` then `job` ("" when
/// absent).
fn identity(labels: &Labels) -> [String; 2] {
    IDENTIFYING.map(|l| labels.get(l).unwrap_or("").to_string())
}

/// The newest info series per name and identity, at the time the first
/// selector of `arg` is evaluated at (its `@` and `offset`), within the
/// lookback: the one whose sample is newer wins (Prometheus records the
/// samples' own times for this); two as new are an error.
fn newest_info(
    ev: &Evaluator<'_>,
    arg: &Expr,
    t: i64,
    names: &NameRule<'_>,
    data: &[&Matcher],
    ids: &HashMap<&str, HashSet<&str>>,
) -> Result<HashMap<(String, [String; 2]), Labels>, Error> {
    let at = reference_time(ev, arg, t);
    let mut newest: HashMap<(String, [String; 2]), (Labels, i64)> = HashMap::new();
    for series in ev.store().series() {
        let labels = &series.labels;
        let name = labels.name().unwrap_or("");
        let selected = names.matches(name)
            && data
                .iter()
                .all(|m| m.is_match(labels.get(&m.name).unwrap_or("")))
            && ids
                .iter()
                .all(|(l, values)| values.contains(labels.get(l).unwrap_or("")));
        if !selected {
            continue;
        }
        let end = series.points.partition_point(|p| p.t <= at);
        let Some(last) = end.checked_sub(1).map(|i| series.points[i]) else {
            continue;
        };
        if last.t <= at.saturating_sub(ev.lookback()) || is_stale(last.v) {
            continue;
        }
        if crate::metrics::histogram::tag::is_histogram(last.v) {
            return Err(Error::Eval("info sample should be float".into()));
        }
        let key = (name.to_string(), identity(labels));
        match newest.get(&key) {
            Some((existing, seen)) if *seen == last.t => {
                return Err(Error::Eval(format!(
                    "found duplicate series for info metric: existing {existing} @ {seen}, new {labels} @ {}",
                    last.t
                )));
            }
            Some((_, seen)) if *seen > last.t => {}
            _ => {
                newest.insert(key, (labels.clone(), last.t));
            }
        }
    }
    Ok(newest.into_iter().map(|(k, (l, _))| (k, l)).collect())
}

/// When info series are read for `arg` at `t`: as its first vector
/// selector reads, with the `@` of the selector or, failing that, of the
/// innermost enclosing subquery that has one, and the offsets on the way
/// (`infoSelectTimestampAndOffset`).
fn reference_time(ev: &Evaluator<'_>, arg: &Expr, t: i64) -> i64 {
    let mut path = Vec::new();
    let Some(vs) = first_selector(arg, &mut path) else {
        return t;
    };
    let ms = |o: Option<&Offset>| match o {
        None => 0,
        Some(Offset::Pos(d)) => super::eval::millis(*d),
        Some(Offset::Neg(d)) => -super::eval::millis(*d),
    };
    let mut at = vs.at.as_ref();
    let mut offset = ms(vs.offset.as_ref());
    for sq in path.iter().rev() {
        if at.is_some() {
            break;
        }
        offset = offset.saturating_add(ms(sq.offset.as_ref()));
        at = sq.at.as_ref();
    }
    ev.shifted(at, None, t).saturating_sub(offset)
}

/// The first vector selector of `expr`, depth first, with the subqueries
/// around it (outermost first) in `path`.
fn first_selector<'e>(
    expr: &'e Expr,
    path: &mut Vec<&'e SubqueryExpr>,
) -> Option<&'e VectorSelector> {
    match expr {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(ms) => Some(&ms.vs),
        Expr::Paren(p) => first_selector(&p.expr, path),
        Expr::Unary(u) => first_selector(&u.expr, path),
        Expr::Subquery(s) => {
            path.push(s);
            let found = first_selector(&s.expr, path);
            if found.is_none() {
                path.pop();
            }
            found
        }
        Expr::Binary(b) => first_selector(&b.lhs, path).or_else(|| first_selector(&b.rhs, path)),
        Expr::Aggregate(a) => first_selector(&a.expr, path),
        Expr::Call(c) => c.args.args.iter().find_map(|a| first_selector(a, path)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => None,
    }
}
