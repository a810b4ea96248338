// Copyright 2026 the slogate authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! Duration expressions, Prometheus 3's `promql-duration-expr`: arithmetic
//! where a range, a subquery step or an offset is written (`[26m+4m]`,
//! `[1h/2]`, `[30s:5s+5s]`, `offset (20*3s)`), with the `step()` and
//! `range()` durations of the query and `min_of(a, b)` / `max_of(a, b)`.
//!
//! The lexer hands such a text over as one `DURATION_EXPR` token (see
//! `lex.rs`); this module parses it with the precedence of Prometheus's
//! `generated_parser.y` (`+ -` below `* / %` below unary `+ -` below a
//! right-associative `^`) and evaluates it as `promql/durations.go` does:
//! in seconds as `f64`, truncated to whole milliseconds.

use std::fmt;
use std::time::Duration;

use crate::parser::{Expr, Offset};
use crate::util::{parse_duration, parse_str_radix};

/// A duration written as an expression, with the text it was written as.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ser", derive(serde::Serialize))]
pub struct DurationExpr {
    text: String,
    #[cfg_attr(feature = "ser", serde(skip))]
    node: Node,
}

/// One node of a duration expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Seconds, from a number (`60`) or a duration literal (`1m`).
    Number(f64),
    /// The range query's step; 0 in an instant query.
    Step,
    /// The range query's `end - start`; 0 in an instant query.
    Range,
    Neg(Box<Node>),
    /// `(a)`: kept, because Prometheus's grammar treats a parenthesised
    /// literal as an expression (`[1h/(0)]` parses and fails when
    /// evaluated; `[1h/0]` and `[1h/-0]` are parse errors).
    Paren(Box<Node>),
    Binary(Op, Box<Node>, Box<Node>),
    MinOf(Box<Node>, Box<Node>),
    MaxOf(Box<Node>, Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// The durations a query gives `step()` and `range()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryDurations {
    pub step: Duration,
    pub range: Duration,
}

impl DurationExpr {
    /// Parses `text`, which follows `before` in the query (error messages
    /// give the column in the query).
    pub fn parse(text: &str, before: &str) -> Result<DurationExpr, String> {
        let mut p = Parser {
            chars: text.char_indices().collect(),
            text,
            at: 0,
            before,
        };
        let node = p.sum()?;
        p.skip_space();
        if let Some(&(i, c)) = p.chars.get(p.at) {
            return Err(p.error_at(
                i,
                &format!(
                    "unexpected {c:?} in duration expression, expected an operator or the end"
                ),
            ));
        }
        Ok(DurationExpr {
            text: text.trim().to_string(),
            node,
        })
    }

    /// The text the expression was written as.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the value depends on the query (`step()`, `range()`).
    pub fn is_constant(&self) -> bool {
        self.node.is_constant()
    }

    /// The value in seconds, as `durations.go`'s `evaluateDurationExpr`.
    pub fn seconds(&self, query: QueryDurations) -> Result<f64, String> {
        self.node
            .eval(query)
            .map_err(|e| format!("{e} in `{}`", self.text))
    }

    /// The value as `durations.go`'s `calculateDuration`: finite, within
    /// Go's `time.Duration`, positive unless `allow_negative`, truncated to
    /// milliseconds. Returns the magnitude and whether it is negative.
    pub fn duration(
        &self,
        query: QueryDurations,
        allow_negative: bool,
    ) -> Result<(Duration, bool), String> {
        let secs = self.seconds(query)?;
        if !secs.is_finite() {
            return Err(format!("duration `{}` is NaN or infinite", self.text));
        }
        if secs <= 0.0 && !allow_negative {
            return Err(format!(
                "duration `{}` must be greater than 0 (it is {secs}s)",
                self.text
            ));
        }
        // Go: int64 nanoseconds.
        if secs.abs() > 9_223_372_036.854_775 {
            return Err(format!("duration `{}` is out of range", self.text));
        }
        let ms = (secs * 1000.0).trunc();
        Ok((Duration::from_millis(ms.abs() as u64), ms < 0.0))
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Node {
    /// The value of a literal, signs folded in as Prometheus's
    /// `applyUnaryOpToDurationExpr` folds them (`-0`, `-5m`); `None` for
    /// anything else, a parenthesised literal included.
    fn literal(&self) -> Option<f64> {
        match self {
            Node::Number(v) => Some(*v),
            Node::Neg(n) => n.literal().map(|v| -v),
            _ => None,
        }
    }

    fn is_constant(&self) -> bool {
        match self {
            Node::Number(_) => true,
            Node::Step | Node::Range => false,
            Node::Neg(n) | Node::Paren(n) => n.is_constant(),
            Node::Binary(_, a, b) | Node::MinOf(a, b) | Node::MaxOf(a, b) => {
                a.is_constant() && b.is_constant()
            }
        }
    }

    fn eval(&self, q: QueryDurations) -> Result<f64, String> {
        Ok(match self {
            Node::Number(v) => *v,
            Node::Step => q.step.as_secs_f64(),
            Node::Range => q.range.as_secs_f64(),
            Node::Neg(n) => -n.eval(q)?,
            Node::Paren(n) => n.eval(q)?,
            // Go's math.Min and math.Max: NaN when either is NaN (Rust's
            // f64::min and max return the other one).
            Node::MinOf(a, b) | Node::MaxOf(a, b) => {
                let (a_value, b_value) = (a.eval(q)?, b.eval(q)?);
                if a_value.is_nan() || b_value.is_nan() {
                    f64::NAN
                } else if matches!(self, Node::MinOf(..)) {
                    a_value.min(b_value)
                } else {
                    a_value.max(b_value)
                }
            }
            Node::Binary(op, a, b) => {
                let (a, b) = (a.eval(q)?, b.eval(q)?);
                match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div if b == 0.0 => return Err("division by zero".into()),
                    Op::Div => a / b,
                    Op::Mod if b == 0.0 => return Err("modulo by zero".into()),
                    // Go's math.Mod: the sign of the dividend, as Rust's `%`.
                    Op::Mod => a % b,
                    Op::Pow => a.powf(b),
                }
            }
        })
    }
}

/// A recursive-descent parser over one duration expression's text.
struct Parser<'a> {
    chars: Vec<(usize, char)>,
    text: &'a str,
    at: usize,
    /// The query's text before `text`.
    before: &'a str,
}

impl Parser<'_> {
    /// `message` at byte `i` of the expression, with its column in the query.
    fn error_at(&self, i: usize, message: &str) -> String {
        let before = format!("{}{}", self.before, &self.text[..i.min(self.text.len())]);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        match line {
            1 => format!("{message} at column {column} of the expression"),
            _ => format!("{message} at line {line}, column {column} of the expression"),
        }
    }

    fn error_here(&self, message: &str) -> String {
        let i = self.chars.get(self.at).map_or(self.text.len(), |&(i, _)| i);
        self.error_at(i, message)
    }

    fn skip_space(&mut self) {
        while matches!(self.chars.get(self.at), Some((_, c)) if c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).map(|&(_, c)| c)
    }

    fn expect(&mut self, want: char, context: &str) -> Result<(), String> {
        match self.peek() {
            Some(c) if c == want => {
                self.at += 1;
                Ok(())
            }
            Some(c) => {
                Err(self.error_here(&format!("unexpected {c:?} in {context}, expected {want:?}")))
            }
            None => Err(self.error_here(&format!(
                "unexpected end of the duration expression in {context}, expected {want:?}"
            ))),
        }
    }

    /// `a + b`, `a - b`, left-associative.
    fn sum(&mut self) -> Result<Node, String> {
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek() {
                Some('+') => Op::Add,
                Some('-') => Op::Sub,
                _ => return Ok(lhs),
            };
            self.at += 1;
            let rhs = self.product()?;
            lhs = Node::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    /// `a * b`, `a / b`, `a % b`, left-associative. A literal zero divisor
    /// is a parse error, as in Prometheus's grammar.
    fn product(&mut self) -> Result<Node, String> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Some('*') => Op::Mul,
                Some('/') => Op::Div,
                Some('%') => Op::Mod,
                _ => return Ok(lhs),
            };
            let at = self.at;
            self.at += 1;
            let rhs = self.unary()?;
            if rhs.literal() == Some(0.0) && matches!(op, Op::Div | Op::Mod) {
                let what = if op == Op::Div { "division" } else { "modulo" };
                return Err(self.error_at(
                    self.chars[at].0,
                    &format!("{what} by zero in duration expression"),
                ));
            }
            lhs = Node::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    /// `-a`, `+a`: binds as tightly as `*`, less than `^` (`-2^2` is -4).
    fn unary(&mut self) -> Result<Node, String> {
        match self.peek() {
            Some('-') => {
                self.at += 1;
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Some('+') => {
                self.at += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    /// `a ^ b`, right-associative.
    fn power(&mut self) -> Result<Node, String> {
        let base = self.primary()?;
        if self.peek() == Some('^') {
            self.at += 1;
            let exponent = self.unary()?;
            return Ok(Node::Binary(Op::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Node, String> {
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.sum()?;
                self.expect(')', "duration expression")?;
                Ok(Node::Paren(Box::new(inner)))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.literal(),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.call(),
            Some(c) => Err(self.error_here(&format!(
                "unexpected {c:?} in duration expression, expected a number, a duration, \
                 step(), range(), min_of() or max_of()"
            ))),
            None => Err(self.error_here(
                "unexpected end of the duration expression, expected a number, a duration, \
                 step(), range(), min_of() or max_of()",
            )),
        }
    }

    /// A number (`60`, `1.5`, `0x10`, `1e3`) or a duration (`1h30m`,
    /// `8000ms`), in seconds.
    fn literal(&mut self) -> Result<Node, String> {
        let start = self.at;
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_';
        while let Some(&(_, c)) = self.chars.get(self.at) {
            let exponent_sign = (c == '+' || c == '-')
                && self.at > start
                && matches!(self.chars[self.at - 1].1, 'e' | 'E')
                && !self.chars[start..self.at]
                    .iter()
                    .any(|&(_, c)| "smhdwy".contains(c) || c == 'x' || c == 'X');
            if is_word(c) || exponent_sign {
                self.at += 1;
            } else {
                break;
            }
        }
        let from = self.chars[start].0;
        let to = self.chars.get(self.at).map_or(self.text.len(), |&(i, _)| i);
        let word = &self.text[from..to];
        let seconds = if word.ends_with(|c: char| c.is_ascii_digit() || c == '.')
            || word.starts_with("0x")
            || word.starts_with("0X")
        {
            parse_str_radix(word)
        } else {
            duration_seconds(word)
        };
        let seconds = seconds
            .map_err(|e| self.error_at(from, &format!("bad number or duration `{word}` ({e})")))?;
        Ok(Node::Number(seconds))
    }

    /// `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`, any case.
    fn call(&mut self) -> Result<Node, String> {
        let start = self.at;
        while matches!(self.chars.get(self.at), Some((_, c)) if c.is_ascii_alphanumeric() || *c == '_')
        {
            self.at += 1;
        }
        let from = self.chars[start].0;
        let to = self.chars.get(self.at).map_or(self.text.len(), |&(i, _)| i);
        let name = self.text[from..to].to_ascii_lowercase();
        let context = format!("{name}()");
        match name.as_str() {
            "step" | "range" => {
                self.expect('(', &context)?;
                self.expect(')', &context)?;
                Ok(if name == "step" {
                    Node::Step
                } else {
                    Node::Range
                })
            }
            "min_of" | "max_of" => {
                self.expect('(', &context)?;
                let a = self.sum()?;
                self.expect(',', &context)?;
                let b = self.sum()?;
                self.expect(')', &context)?;
                Ok(if name == "min_of" {
                    Node::MinOf(Box::new(a), Box::new(b))
                } else {
                    Node::MaxOf(Box::new(a), Box::new(b))
                })
            }
            _ => Err(self.error_at(
                from,
                &format!(
                    "unexpected `{}` in duration expression, expected a number, a duration, \
                     step(), range(), min_of() or max_of()",
                    &self.text[from..to]
                ),
            )),
        }
    }
}

/// A range or a subquery step as the grammar reads it: a literal, or a
/// duration expression (folded when it is a constant that passes the
/// check Prometheus's engine makes).
#[derive(Debug, Clone)]
pub(crate) enum RangeDuration {
    Fixed(Duration),
    Expr(DurationExpr),
}

impl RangeDuration {
    /// A signed literal at or below zero (`[-5m]`, `[5m:-1m]`) is a parse
    /// error, as Prometheus's `positive_duration_expr` makes it; an
    /// expression that comes out at or below zero fails when evaluated.
    pub(crate) fn from_expr(e: DurationExpr) -> Result<RangeDuration, String> {
        if e.node.literal().is_some_and(|v| v <= 0.0) {
            return Err(format!("duration must be greater than 0 (`{}`)", e.text));
        }
        if e.is_constant() {
            if let Ok((d, false)) = e.duration(QueryDurations::default(), false) {
                return Ok(RangeDuration::Fixed(d));
            }
        }
        Ok(RangeDuration::Expr(e))
    }

    /// The fixed duration (0 when it is left to the evaluator) and the
    /// expression left to it.
    pub(crate) fn into_parts(self) -> (Duration, Option<DurationExpr>) {
        match self {
            RangeDuration::Fixed(d) => (d, None),
            RangeDuration::Expr(e) => (Duration::ZERO, Some(e)),
        }
    }
}

/// Whether `expr` holds a duration expression left for the query to
/// resolve (see [`resolve_durations`]).
pub fn has_duration_exprs(expr: &Expr) -> bool {
    let mut found = false;
    walk(expr, &mut |e| {
        found |= match e {
            Expr::VectorSelector(vs) => vs.offset_expr.is_some(),
            Expr::MatrixSelector(ms) => ms.range_expr.is_some() || ms.vs.offset_expr.is_some(),
            Expr::Subquery(sq) => {
                sq.range_expr.is_some() || sq.step_expr.is_some() || sq.offset_expr.is_some()
            }
            _ => false,
        };
    });
    found
}

fn walk(expr: &Expr, f: &mut impl FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Aggregate(a) => {
            walk(&a.expr, f);
            if let Some(p) = &a.param {
                walk(p, f);
            }
        }
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Subquery(s) => walk(&s.expr, f),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, f)),
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::Extension(_) => {}
    }
}

/// Sets every range, step and offset written as a duration expression to
/// its value for a query of `query`'s step and range, as Prometheus's
/// engine does before it evaluates (`durations.go`); the expressions are
/// taken off the tree. Fails as the engine does: a range or step not
/// greater than 0, a division by zero, a NaN.
pub fn resolve_durations(expr: &mut Expr, query: QueryDurations) -> Result<(), String> {
    let offset = |e: &DurationExpr| -> Result<Offset, String> {
        let (d, negative) = e.duration(query, true)?;
        Ok(if negative {
            Offset::Neg(d)
        } else {
            Offset::Pos(d)
        })
    };
    match expr {
        Expr::VectorSelector(vs) => {
            if let Some(e) = vs.offset_expr.take() {
                vs.offset = Some(offset(&e)?);
            }
        }
        Expr::MatrixSelector(ms) => {
            if let Some(e) = ms.vs.offset_expr.take() {
                ms.vs.offset = Some(offset(&e)?);
            }
            if let Some(e) = ms.range_expr.take() {
                ms.range = e.duration(query, false)?.0;
            }
        }
        Expr::Subquery(sq) => {
            if let Some(e) = sq.offset_expr.take() {
                sq.offset = Some(offset(&e)?);
            }
            if let Some(e) = sq.step_expr.take() {
                sq.step = Some(e.duration(query, false)?.0);
            }
            if let Some(e) = sq.range_expr.take() {
                sq.range = e.duration(query, false)?.0;
            }
            resolve_durations(&mut sq.expr, query)?;
        }
        Expr::Aggregate(a) => {
            resolve_durations(&mut a.expr, query)?;
            if let Some(p) = &mut a.param {
                resolve_durations(p, query)?;
            }
        }
        Expr::Unary(u) => resolve_durations(&mut u.expr, query)?,
        Expr::Binary(b) => {
            resolve_durations(&mut b.lhs, query)?;
            resolve_durations(&mut b.rhs, query)?;
        }
        Expr::Paren(p) => resolve_durations(&mut p.expr, query)?,
        Expr::Call(c) => {
            for a in c.args.args.iter_mut() {
                resolve_durations(a, query)?;
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
    Ok(())
}

/// A duration literal in seconds; `0s` is 0 here (a term of a sum), where
/// a range of `[0s]` alone is refused by the range's own rule.
fn duration_seconds(word: &str) -> Result<f64, String> {
    match parse_duration(word) {
        Ok(d) => Ok(d.as_secs_f64()),
        Err(e) if e == "duration must be greater than 0" => Ok(0.0),
        Err(e) => Err(e),
    }
}

/// Whether `text`, the inside of `[...]` up to `:` or `]`, is a duration
/// expression rather than one number or duration literal.
pub(crate) fn looks_like_expression(text: &str) -> bool {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    t.contains(['+', '*', '/', '%', '^', '(', ')', ','])
        || (t.contains('-') && !is_exponent_only_minus(t))
        || ["step", "range", "min_of", "max_of"]
            .iter()
            .any(|f| lower.starts_with(f))
}

/// `1e-3` holds a minus that is part of the number.
fn is_exponent_only_minus(t: &str) -> bool {
    let bytes = t.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'-' || (i > 0 && matches!(bytes[i - 1], b'e' | b'E') && !t.starts_with("0x"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> f64 {
        DurationExpr::parse(text, "")
            .unwrap()
            .seconds(QueryDurations {
                step: Duration::from_secs(5),
                range: Duration::from_secs(10),
            })
            .unwrap()
    }

    #[test]
    fn precedence_is_prometheus_grammars() {
        assert_eq!(secs("26m+4m"), 1800.0);
        assert_eq!(secs("60*30"), 1800.0);
        assert_eq!(secs("2m*(10+5)"), 1800.0);
        assert_eq!(secs("24m+((1.5*2m)+2m)"), 1740.0);
        assert_eq!(secs("-5m+35m"), 1800.0);
        assert_eq!(secs("1h30m % 1h"), 1800.0);
        assert_eq!(secs("30m1s-30m1s % 1m"), 1800.0);
        assert_eq!(secs("-2 ^ 2"), -4.0);
        assert_eq!(secs("2^3^2"), 512.0);
        assert_eq!(secs("((((8 - 2) / 3) * 7s) % 4) + 8000ms"), 10.0);
        assert_eq!(secs("1+(STep()-5)*2"), 1.0);
        assert_eq!(secs("max_of(min_of(step()+1,1h),1ms)"), 6.0);
        assert_eq!(secs("range()"), 10.0);
        assert_eq!(secs("30m+0s"), 1800.0);
        assert_eq!(secs("1e3 - 1e-3*1000"), 999.0);
    }

    #[test]
    fn constant_or_not() {
        let c = DurationExpr::parse("1h/2", "").unwrap();
        assert!(c.is_constant());
        let s = DurationExpr::parse("step()*2", "").unwrap();
        assert!(!s.is_constant());
    }

    #[test]
    fn errors_name_the_column_in_the_query() {
        let e = DurationExpr::parse("5m/0", "rate(x[").unwrap_err();
        assert_eq!(
            e,
            "division by zero in duration expression at column 10 of the expression"
        );
        let e = DurationExpr::parse("5m+", "x[").unwrap_err();
        assert!(
            e.starts_with("unexpected end of the duration expression"),
            "{e}"
        );
        assert!(e.ends_with("at column 6 of the expression"), "{e}");
        let e = DurationExpr::parse("5m+foo()", "sum(\n  x[").unwrap_err();
        assert!(e.contains("unexpected `foo`"), "{e}");
        assert!(e.ends_with("at line 2, column 8 of the expression"), "{e}");
        let e = DurationExpr::parse("min_of(1m)", "").unwrap_err();
        assert!(e.contains("in min_of(), expected ','"), "{e}");
        let e = DurationExpr::parse("5x+1", "").unwrap_err();
        assert!(e.starts_with("bad number or duration `5x`"), "{e}");
    }

    #[test]
    fn durations_are_checked_and_truncated_to_milliseconds() {
        let q = QueryDurations::default();
        let e = DurationExpr::parse("5m-10m", "").unwrap();
        assert!(e.duration(q, false).unwrap_err().contains("greater than 0"));
        assert_eq!(
            e.duration(q, true).unwrap(),
            (Duration::from_secs(300), true)
        );
        let e = DurationExpr::parse("1/3", "").unwrap();
        assert_eq!(
            e.duration(q, false).unwrap(),
            (Duration::from_millis(333), false)
        );
        let e = DurationExpr::parse("step()", "").unwrap();
        assert!(e.duration(q, false).is_err());
    }

    #[test]
    fn what_counts_as_an_expression() {
        assert!(looks_like_expression("5m+1m"));
        assert!(looks_like_expression("step()"));
        assert!(looks_like_expression("-5m"));
        assert!(!looks_like_expression("5m"));
        assert!(!looks_like_expression(" 1800 "));
        assert!(!looks_like_expression("1e-3"));
    }
}
