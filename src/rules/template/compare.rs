//! Go's comparison builtins (`eq ne lt le gt ge`) on template values:
//! basic kinds only, integers of either sign compared by value, `eq`
//! against several values, and Go's errors for what it cannot compare.

use std::cmp::Ordering;

use super::error::FuncError;
use super::printf::sprintf;
use super::value::{Kind, Value};

/// Go's `basicKind` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basic {
    Bool,
    Int,
    Uint,
    Float,
    String,
}

fn basic(v: &Value) -> Result<Basic, FuncError> {
    Ok(match v {
        Value::Bool(_) => Basic::Bool,
        Value::Int(_) | Value::Int64(_) | Value::Duration(_, false) => Basic::Int,
        Value::Uint64(_) => Basic::Uint,
        Value::Float(_) => Basic::Float,
        Value::Str(_) | Value::Html(_) => Basic::String,
        _ => return Err(FuncError::InvalidComparison),
    })
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Duration(d, _) => d.0,
        _ => 0,
    }
}

fn uint_of(v: &Value) -> u64 {
    match v {
        Value::Uint64(u) => *u,
        _ => 0,
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

pub(crate) fn eq(a: &Value, others: &[Value]) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err(FuncError::MissingComparand);
    }
    let k1 = basic(a);
    for b in others {
        let k2 = basic(b);
        let truth = match (k1.clone(), k2.clone()) {
            (Ok(x), Ok(y)) if x == y => match x {
                Basic::Bool => a == b,
                Basic::Int => int_of(a) == int_of(b),
                Basic::Uint => uint_of(a) == uint_of(b),
                Basic::Float => float_of(a) == float_of(b),
                Basic::String => a.as_str() == b.as_str(),
            },
            (Ok(Basic::Int), Ok(Basic::Uint)) => int_of(a) >= 0 && int_of(a) as u64 == uint_of(b),
            (Ok(Basic::Uint), Ok(Basic::Int)) => int_of(b) >= 0 && uint_of(a) == int_of(b) as u64,
            (Ok(_), Ok(_)) => return Err(FuncError::IncompatibleTypes),
            _ => {
                let valid = |v: &Value| *v != Value::Invalid;
                if valid(a) && valid(b) {
                    if k1.is_ok() || k2.is_ok() {
                        return Err(FuncError::IncompatibleTypes);
                    }
                    // Two non-basic values: Go compares them when their
                    // type is comparable (pointers by identity).
                    match (a, b) {
                        (Value::Nil, Value::Nil) => true,
                        (Value::Nil, _) | (_, Value::Nil) => false,
                        (Value::Sample(x), Value::Sample(y)) => std::rc::Rc::ptr_eq(x, y),
                        (x @ Value::Alert(_), _) | (_, x @ Value::Alert(_)) => {
                            return Err(FuncError::NonComparable {
                                shown: sprintf("%s", std::slice::from_ref(x)),
                                type_name: x.type_name(),
                            });
                        }
                        (x, y) if x.kind() == Kind::Map || x.kind() == Kind::Slice => {
                            return Err(FuncError::NonComparable {
                                shown: x.display(),
                                type_name: y.type_name(),
                            });
                        }
                        (x, y) => x == y,
                    }
                } else {
                    false
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn order(a: &Value, b: &Value) -> Result<Option<Ordering>, FuncError> {
    let (k1, k2) = (basic(a)?, basic(b)?);
    if k1 != k2 {
        return match (k1, k2) {
            (Basic::Int, Basic::Uint) => Ok(Some(if int_of(a) < 0 {
                Ordering::Less
            } else {
                (int_of(a) as u64).cmp(&uint_of(b))
            })),
            (Basic::Uint, Basic::Int) => Ok(Some(if int_of(b) < 0 {
                Ordering::Greater
            } else {
                uint_of(a).cmp(&(int_of(b) as u64))
            })),
            _ => Err(FuncError::IncompatibleTypes),
        };
    }
    Ok(match k1 {
        Basic::Bool => return Err(FuncError::InvalidComparison),
        Basic::Int => Some(int_of(a).cmp(&int_of(b))),
        Basic::Uint => Some(uint_of(a).cmp(&uint_of(b))),
        Basic::Float => float_of(a).partial_cmp(&float_of(b)),
        Basic::String => Some(a.as_str().cmp(&b.as_str())),
    })
}

pub(crate) fn lt(a: &Value, b: &Value) -> Result<bool, FuncError> {
    Ok(order(a, b)? == Some(Ordering::Less))
}

pub(crate) fn le(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}
