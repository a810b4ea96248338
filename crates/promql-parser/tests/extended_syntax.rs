//! Prometheus 3's experimental syntax, as this fork reads it: duration
//! expressions and the `anchored` / `smoothed` range modifiers.

use std::time::Duration;

use promql_parser::parser::{self, Expr, Offset, QueryDurations};

fn parse(text: &str) -> Expr {
    parser::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn matrix(e: &Expr) -> &parser::MatrixSelector {
    match e {
        Expr::MatrixSelector(ms) => ms,
        Expr::Call(c) => matrix(&c.args.args[0]),
        other => panic!("not a matrix selector: {other:?}"),
    }
}

#[test]
fn constant_duration_expressions_fold_to_ranges() {
    for text in [
        "changes(x[26m+4m])",
        "changes(x[60*30])",
        "changes(x[2m*(10+5)])",
        "changes(x[-5m+35m])",
        "changes(x[1h30m % 1h])",
        "changes(x[(9m30s+30s)*3])",
    ] {
        let e = parse(text);
        let ms = matrix(&e);
        assert_eq!(ms.range, Duration::from_secs(1800), "{text}");
        assert!(ms.range_expr.is_none(), "{text}");
    }
}

#[test]
fn subquery_ranges_steps_and_offsets_take_expressions() {
    let Expr::Call(c) = parse("sum_over_time(m[29s+1s:5s+5s] offset (20*500ms))") else {
        panic!()
    };
    let Expr::Subquery(sq) = &*c.args.args[0] else {
        panic!()
    };
    assert_eq!(sq.range, Duration::from_secs(30));
    assert_eq!(sq.step, Some(Duration::from_secs(10)));
    assert_eq!(sq.offset, Some(Offset::Pos(Duration::from_secs(10))));
}

#[test]
fn an_offset_expression_ends_where_prometheus_ends_it() {
    // `offset 100 + 2` is `(m offset 100) + 2`; `offset (100 + 2)` is one offset.
    assert!(matches!(parse("m offset 100 + 2"), Expr::Binary(_)));
    let Expr::VectorSelector(vs) = parse("m offset (100 + 2)") else {
        panic!()
    };
    assert_eq!(vs.offset, Some(Offset::Pos(Duration::from_secs(102))));
    let Expr::VectorSelector(vs) = parse("m offset (-2 ^ 2)") else {
        panic!()
    };
    assert_eq!(vs.offset, Some(Offset::Neg(Duration::from_secs(4))));
    let Expr::Binary(b) = parse("m offset -step()*2") else {
        panic!()
    };
    let Expr::VectorSelector(vs) = &*b.lhs else {
        panic!()
    };
    assert_eq!(vs.offset_expr.as_ref().unwrap().text(), "-step()");
    assert!(matches!(
        parse("m offset -(min_of(step(), 2s)-5)+8000"),
        Expr::Binary(_)
    ));
}

#[test]
fn query_durations_are_resolved_per_query() {
    let mut e = parse("count_over_time(m[max_of(min_of(step()+1,1h),1ms)])");
    assert!(parser::has_duration_exprs(&e));
    let q = QueryDurations {
        step: Duration::from_secs(5),
        range: Duration::from_secs(10),
    };
    parser::resolve_durations(&mut e, q).unwrap();
    assert!(!parser::has_duration_exprs(&e));
    assert_eq!(matrix(&e).range, Duration::from_secs(6));
    // An instant query: step() is 0, so the range is refused.
    let mut e = parse("count_over_time(m[step()])");
    let err = parser::resolve_durations(&mut e, QueryDurations::default()).unwrap_err();
    assert!(err.contains("must be greater than 0"), "{err}");
}

#[test]
fn duration_expression_errors_give_the_column() {
    let err = parser::parse("rate(x[5m/0])").unwrap_err();
    assert_eq!(
        err,
        "division by zero in duration expression at column 10 of the expression"
    );
    let err = parser::parse("rate(x[5m+])").unwrap_err();
    assert!(err.ends_with("at column 11 of the expression"), "{err}");
    let err = parser::parse("x offset (1m").unwrap_err();
    assert!(err.contains("unclosed left parenthesis"), "{err}");
}

#[test]
fn anchored_and_smoothed_modify_selectors() {
    let e = parse("increase(x[5m] anchored)");
    assert!(matrix(&e).vs.anchored);
    let Expr::VectorSelector(vs) = parse("x smoothed") else {
        panic!()
    };
    assert!(vs.smoothed);
    assert_eq!(
        parse("rate(x[1m] smoothed)").to_string(),
        "rate(x[1m] smoothed)"
    );
    // Still metric and label names, as in Prometheus.
    assert!(matches!(
        parse("anchored{job=\"a\"}"),
        Expr::VectorSelector(_)
    ));
    assert!(matches!(parse("sum by (smoothed) (x)"), Expr::Aggregate(_)));
    let err = parser::parse("x[5m] anchored smoothed").unwrap_err();
    assert_eq!(
        err,
        "anchored and smoothed modifiers cannot be used together"
    );
    let err = parser::parse("x[5m:1m] anchored").unwrap_err();
    assert_eq!(err, "anchored modifier is not supported for subqueries");
}

#[test]
fn the_histogram_trim_operators_are_binary_operators() {
    let Expr::Binary(b) = parse("h </ 1.5") else {
        panic!()
    };
    assert_eq!(b.op.to_string(), "</");
    let Expr::Binary(b) = parse("h >/ -Inf") else {
        panic!()
    };
    assert_eq!(b.op.to_string(), ">/");
    // As tight as a comparison: `a + b </ 2` is `(a + b) </ 2`.
    let Expr::Binary(b) = parse("a + b </ 2") else {
        panic!()
    };
    assert_eq!(b.op.to_string(), "</");
    assert_eq!(parse("h </ 2").to_string(), "h </ 2");
}

#[test]
fn malformed_duration_expressions_are_errors_not_panics() {
    for text in [
        "x[",
        "x[(",
        "x[5m:(",
        "x[)]",
        "x[(5m]",
        "x[min_of(]",
        "x[min_of(1m,]",
        "x[step(]",
        "x[1m+2m",
        "x[5m:1m+]",
        "x offset (",
        "x offset -(",
        "x offset step(",
        "x offset (1m))",
        "x[1e400*2]",
        "x[--]",
        "x[1m^]",
        "x[5m::1m]",
        "x offset max_of(1m, (2m)",
    ] {
        let got = std::panic::catch_unwind(|| parser::parse(text));
        match got {
            Ok(Err(_)) => {}
            Ok(Ok(e)) if text == "x[1e400*2]" => {
                // Infinite: left for the query to refuse.
                let err = parser::resolve_durations(&mut e.clone(), QueryDurations::default())
                    .unwrap_err();
                assert!(err.contains("NaN or infinite"), "{err}");
            }
            Ok(Ok(e)) => panic!("{text} parsed as {e}"),
            Err(_) => panic!("{text} panicked"),
        }
    }
}

#[test]
fn infos_second_argument_may_match_the_empty_string() {
    // Prometheus's BypassEmptyMatcherCheck.
    assert!(matches!(
        parse(r#"info(metric, {data=~".*"})"#),
        Expr::Call(_)
    ));
    // Everywhere else the rule holds, at any depth.
    for text in [
        "{}",
        r#"{x=~".*"} @ 100"#,
        "rate({}[5m])",
        "sum({})",
        "-({})",
        "1 + {}",
        r#"info({x=""}, {data=~".*"})"#,
    ] {
        let err = parser::parse(text).unwrap_err();
        assert_eq!(
            err, "vector selector must contain at least one non-empty matcher",
            "{text}"
        );
    }
}

/// What Prometheus 3's parser refuses of the new syntax (review findings):
/// a signed literal range or step at or below zero, a division by a
/// signed literal zero, `fill` on set operators or with a scalar side;
/// while a parenthesised zero is an expression, refused only when the
/// query runs.
#[test]
fn prometheus_refuses_these_at_parse_time() {
    for text in [
        "rate(x[-5m])",
        "rate(x[5m:-1m])",
        "rate(x[-0s])",
        "rate(x[1h/-0])",
        "rate(x[1h%-0])",
        "x and fill(0) y",
        "x or fill_left(1) y",
        "1 + fill(0) x",
        "x + fill_right(0) 1",
    ] {
        assert!(parser::parse(text).is_err(), "{text} parsed");
    }
    let e = parse("rate(x[1h/(0)])");
    let err = parser::resolve_durations(&mut e.clone(), QueryDurations::default());
    assert!(err.is_err(), "{e:?}");
    // min_of/max_of of a NaN is NaN, as Go's math.Min/Max, so refused.
    let mut e = parse("max_over_time(x[min_of(2^1024-2^1024, 5m)])");
    let err = parser::resolve_durations(&mut e, QueryDurations::default()).unwrap_err();
    assert!(err.contains("NaN"), "{err}");
}

/// Durations past Go's `time.Duration` (about 292 years) are "duration out
/// of range", as in Prometheus, not a Rust message or a panic.
#[test]
fn durations_past_go_s_range_are_out_of_range() {
    for text in [
        "rate(x[300000000y])",
        "x offset 300000000y",
        "x offset 1e300",
        "rate(x[1e300])",
    ] {
        let err = parser::parse(text).unwrap_err();
        assert!(err.contains("out of range"), "{text}: {err}");
    }
    assert!(parser::parse("rate(x[290y])").is_ok());
}
