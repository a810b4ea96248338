//! Prometheus 3's experimental scalar functions: the query's own context
//! (`start()`, `end()`, `range()`, `step()`, in seconds; an instant query
//! has `start() == end()` and no range or step) and `min_of` / `max_of`
//! (Go's `math.Min` / `math.Max`: NaN wins).

use promql_parser::parser::Expr;

use super::eval::Evaluator;
use super::functions::scalar_arg;
use super::{Error, Value};

/// The function `name` applied to `args` at `t`, or None when `name` is
/// none of this file's.
pub(super) fn call<'s>(
    ev: &Evaluator<'s>,
    name: &str,
    args: &[Box<Expr>],
    t: i64,
) -> Option<Result<Value<'s>, Error>> {
    let seconds = |ms: i64| Ok(Value::Scalar(ms as f64 / 1000.0));
    let pair = |f: fn(f64, f64) -> f64| -> Result<Value<'s>, Error> {
        let (a, b) = (scalar_arg(ev, &args[0], t)?, scalar_arg(ev, &args[1], t)?);
        Ok(Value::Scalar(if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            f(a, b)
        }))
    };
    Some(match name {
        "start" => seconds(ev.start),
        "end" => seconds(ev.end),
        "range" => seconds(ev.end - ev.start),
        "step" => seconds(ev.step),
        "min_of" => pair(f64::min),
        "max_of" => pair(f64::max),
        _ => return None,
    })
}
