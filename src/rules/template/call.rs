//! Evaluating operands, as Go's `exec.go` does: constants (`idealConstant`),
//! variables, field chains on maps, structs and samples, methods, and
//! function calls with Go's argument typing (`evalArg`, `validateType`)
//! and `and`/`or` short-circuit.

use std::rc::Rc;

use super::error::ExecCause;
use super::exec::{At, Result, State, missing};
use super::funcs::{self, Func, Param};
use super::node::{Arg, Number};
use super::value::Value;

impl<'t> State<'t, '_> {
    pub(super) fn ideal_constant(&self, n: &Number) -> Result<Value> {
        if n.complex {
            return Err(self.error(ExecCause::Complex {
                text: n.text.clone(),
            }));
        }
        let hex_int = {
            let t = n.text.trim_start_matches(['+', '-']);
            (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P'])
        };
        let rune = n.text.starts_with('\'');
        if n.float.is_some() && !hex_int && !rune && n.text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float.unwrap_or(0.0)));
        }
        match (n.int, n.uint) {
            (Some(i), _) => Ok(Value::Int(i)),
            (None, Some(_)) => Err(self.error(ExecCause::OverflowsInt {
                text: n.text.clone(),
            })),
            (None, None) => Ok(Value::Invalid),
        }
    }

    pub(super) fn eval_variable(
        &mut self,
        dot: &Value,
        arg: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Value> {
        self.at(At::Arg(arg));
        let Arg::Variable(_, idents) = arg else {
            return Ok(Value::Invalid);
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, arg, &idents[1..], args, final_)
    }

    pub(super) fn eval_chain(
        &mut self,
        dot: &Value,
        arg: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Value> {
        self.at(At::Arg(arg));
        let Arg::Chain(_, node, fields) = arg else {
            return Ok(Value::Invalid);
        };
        if matches!(**node, Arg::Nil(_)) {
            return Err(self.error(ExecCause::ExplicitNil {
                arg: arg.to_string(),
            }));
        }
        let receiver = self.eval_arg(dot, Param::Any, node)?;
        let receiver = if receiver == Value::Nil {
            Value::Invalid
        } else {
            receiver
        };
        self.eval_field_chain(dot, receiver, arg, fields, args, final_)
    }

    pub(super) fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Value> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, receiver)
    }

    pub(super) fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
        receiver: Value,
    ) -> Result<Value> {
        if receiver == Value::Invalid {
            return Ok(Value::Invalid);
        }
        if let Some(method) = funcs::method(&receiver, name) {
            return self.eval_call(dot, &method, false, At::Arg(node), name, args, final_);
        }
        let has_args = args.len() > 1 || !missing(&final_);
        let type_name = receiver.type_name();
        let field = match &receiver {
            Value::Alert(a) => match name {
                "Labels" => Some(Value::Labels(a.labels.clone())),
                "ExternalLabels" => Some(Value::Labels(a.external_labels.clone())),
                "ExternalURL" => Some(Value::Str(a.external_url.clone())),
                "Value" => Some(a.value.clone()),
                _ => None,
            },
            // The exported fields of Prometheus's `FloatHistogram`.
            Value::Histogram(h) => match name {
                "Count" => Some(Value::Float(h.count)),
                "Sum" => Some(Value::Float(h.sum)),
                "ZeroCount" => Some(Value::Float(h.zero_count)),
                "ZeroThreshold" => Some(Value::Float(h.zero_threshold)),
                "Schema" => Some(Value::Int64(i64::from(h.schema))),
                _ => None,
            },
            Value::Sample(s) => match name {
                "Labels" => Some(Value::Labels(Rc::new(s.labels.clone()))),
                "Value" => Some(s.value()),
                _ => None,
            },
            Value::Labels(m) => {
                if has_args {
                    return Err(self.error(ExecCause::NotAMethod {
                        name: name.to_string(),
                    }));
                }
                // Prometheus executes with missingkey=zero: a missing
                // label is the empty string.
                return Ok(Value::str(m.get(name).map_or("", String::as_str)));
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(ExecCause::NotAMethod {
                        name: name.to_string(),
                    }));
                }
                return Ok(m.get(name).cloned().unwrap_or(Value::Nil));
            }
            Value::Nil => {
                return Err(self.error(ExecCause::NilField {
                    type_name: type_name.to_string(),
                    name: name.to_string(),
                }));
            }
            _ => None,
        };
        match field {
            Some(_) if has_args => Err(self.error(ExecCause::FieldWithArguments {
                name: name.to_string(),
            })),
            Some(value) => Ok(value),
            None => Err(self.error(ExecCause::NoField {
                name: name.to_string(),
                type_name: type_name.to_string(),
            })),
        }
    }

    pub(super) fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'t Arg,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Value> {
        self.at(At::Arg(ident));
        let Some(func) = funcs::lookup(name) else {
            return Err(self.error(ExecCause::NotAFunction {
                name: name.to_string(),
            }));
        };
        self.eval_call(dot, &func, true, node, name, args, final_)
    }

    /// Calls `func` with `args[1..]` and the piped `final_` value, typed
    /// as Go types a call through reflection.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn eval_call(
        &mut self,
        dot: &Value,
        func: &Func,
        builtin: bool,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Value> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let num_in = args.len() + usize::from(final_.is_some());
        let fixed = func.params.len();
        if func.variadic.is_some() {
            if num_in < fixed {
                return Err(self.error(ExecCause::TooFewArgs {
                    name: name.to_string(),
                    want: fixed,
                    got: args.len(),
                }));
            }
        } else if num_in != fixed {
            return Err(self.error(ExecCause::ArgCount {
                name: name.to_string(),
                want: fixed,
                got: num_in,
            }));
        }
        let param = |i: usize| {
            func.params
                .get(i)
                .copied()
                .or(func.variadic)
                .unwrap_or(Param::Any)
        };
        if builtin && (name == "and" || name == "or") {
            let mut v = Value::Invalid;
            for arg in args {
                v = self.eval_arg(dot, Param::Reflect, arg)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(final_) = final_ {
                v = final_;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, arg) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param(i), arg)?);
        }
        if let Some(final_) = final_ {
            let p = param(num_in - 1);
            argv.push(self.validate_type(final_, p)?);
        }
        if builtin && name == "call" {
            let callee = args.first().map_or_else(String::new, ToString::to_string);
            argv.insert(0, Value::str(&callee));
        }
        match (func.run)(self.env, &argv) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(node);
                Err(self.error(ExecCause::Call {
                    name: name.to_string(),
                    source: e,
                }))
            }
        }
    }

    /// An argument of a call, typed as the parameter wants it.
    pub(super) fn eval_arg(&mut self, dot: &Value, param: Param, arg: &'t Arg) -> Result<Value> {
        self.at(At::Arg(arg));
        let computed = match arg {
            Arg::Dot(_) => Some(dot.clone()),
            Arg::Nil(_) => {
                if param.can_be_nil() {
                    return Ok(if param == Param::Reflect {
                        Value::Invalid
                    } else {
                        Value::Nil
                    });
                }
                return Err(self.error(ExecCause::AssignNil {
                    type_name: param.type_name().to_string(),
                }));
            }
            Arg::Field(_, idents) => Some(self.eval_field_chain(
                dot,
                dot.clone(),
                arg,
                idents,
                std::slice::from_ref(arg),
                None,
            )?),
            Arg::Variable(..) => Some(self.eval_variable(dot, arg, &[], None)?),
            Arg::Pipe(pipe) => Some(self.eval_pipeline(dot, pipe)?),
            Arg::Identifier(_, name) => {
                Some(self.eval_function(dot, arg, name, At::Arg(arg), &[], None)?)
            }
            Arg::Chain(..) => Some(self.eval_chain(dot, arg, &[], None)?),
            _ => None,
        };
        if let Some(value) = computed {
            return self.validate_type(value, param);
        }
        match (param, arg) {
            (Param::Any | Param::Reflect, Arg::Bool(_, b)) => Ok(Value::Bool(*b)),
            (Param::Any | Param::Reflect, Arg::Number(_, n)) => self.ideal_constant(n),
            (Param::Any | Param::Reflect, Arg::String(_, _, s)) => Ok(Value::str(s)),
            (Param::Str, Arg::String(_, _, s)) => Ok(Value::str(s)),
            (Param::Str, _) => Err(self.error(ExecCause::ExpectedString {
                arg: arg.to_string(),
            })),
            (Param::Duration, Arg::Number(_, n)) if n.int.is_some() => Ok(Value::Duration(
                super::time::Duration(n.int.unwrap_or(0)),
                false,
            )),
            (Param::Duration, _) => Err(self.error(ExecCause::ExpectedInteger {
                arg: arg.to_string(),
            })),
            (p, _) => Err(self.error(ExecCause::CannotHandle {
                arg: arg.to_string(),
                type_name: p.type_name().to_string(),
            })),
        }
    }

    /// Go's `validateType`: a computed value passed where `param` is wanted.
    pub(super) fn validate_type(&self, value: Value, param: Param) -> Result<Value> {
        if value == Value::Invalid {
            return match param {
                Param::Reflect => Ok(Value::Invalid),
                p if p.can_be_nil() => Ok(Value::Nil),
                p => Err(self.error(ExecCause::InvalidValue {
                    type_name: p.type_name().to_string(),
                })),
            };
        }
        let ok = match param {
            Param::Any | Param::Reflect => true,
            Param::Str => matches!(value, Value::Str(_)),
            Param::Sample => matches!(value, Value::Sample(_) | Value::Nil),
            Param::Samples => matches!(value, Value::Samples(_) | Value::Nil),
            Param::Duration => matches!(value, Value::Duration(..)),
        };
        if ok {
            // One dereference, as Go makes: `*time.Duration` to `time.Duration`.
            return Ok(match (param, value) {
                (Param::Duration, Value::Duration(d, _)) => Value::Duration(d, false),
                (_, v) => v,
            });
        }
        Err(self.error(ExecCause::WrongType {
            want: param.type_name().to_string(),
            got: value.type_name(),
        }))
    }
}
