//! Executes a parsed template as Go's `text/template` does (`exec.go`):
//! dot and variables with their scopes, truthiness, `with`, `range` over
//! slices, maps (sorted keys) and integers with `break`/`continue`,
//! `template`/`block` calls, fields and methods, function calls with Go's
//! argument typing, `and`/`or` short-circuit, and Go's error text
//! (`template: NAME:1:3: executing "NAME" at <humanize "one">: ...`).

use std::rc::Rc;

use super::funcs::{self, Env, Func, Param};
use super::node::{Arg, Branch, Command, List, Node, Number, Pipe};
use super::parse::Trees;
use super::value::Value;

/// Go stops at this template-call depth (`maxExecDepth`) on small stacks;
/// a template that recurses this deep is an error either way.
const MAX_DEPTH: usize = 1000;

/// Bytes a template may write before its expansion is cut off with an
/// error: a `range` over a large `query` result or a runaway `printf`
/// width stays bounded.
pub const MAX_OUTPUT: usize = 1 << 20;

/// What stops a walk: an error, or `break`/`continue` on their way to the
/// enclosing `range`.
#[derive(Debug)]
pub enum Stop {
    Error(String),
    Break,
    Continue,
}

type Result<T> = std::result::Result<T, Stop>;

/// The node execution is at, for error context.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Command(&'t Command),
    Arg(&'t Arg),
}

pub struct State<'t, 'e> {
    trees: &'t Trees,
    /// The parse name (for `NAME:line:col`) and the full text positions
    /// refer to.
    name: &'t str,
    text: &'t str,
    /// The template executing (`executing "NAME"`).
    current: String,
    env: &'e Env<'e>,
    vars: Vec<(String, Value)>,
    out: String,
    at: At<'t>,
    depth: usize,
}

/// Runs the main template of `trees` on `data`.
pub fn execute(
    trees: &Trees,
    name: &str,
    text: &str,
    data: Value,
    env: &Env,
) -> std::result::Result<String, String> {
    let mut state = State {
        trees,
        name,
        text,
        current: name.to_string(),
        env,
        vars: vec![("$".to_string(), data.clone())],
        out: String::new(),
        at: At::None,
        depth: 0,
    };
    match state.walk_list(&data, &trees.main) {
        Ok(()) => Ok(state.out),
        Err(Stop::Error(e)) => Err(e),
        // The parser refuses break/continue outside range.
        Err(Stop::Break | Stop::Continue) => Ok(state.out),
    }
}

fn missing(final_: &Option<Value>) -> bool {
    final_.is_none()
}

impl<'t> State<'t, '_> {
    fn at(&mut self, at: At<'t>) {
        self.at = at;
    }

    fn error(&self, message: impl Into<String>) -> Stop {
        let message = message.into();
        let (pos, context) = match self.at {
            At::None => return Stop::Error(format!("template: {}: {message}", self.current)),
            At::Node(n) => (node_pos(n), n.context()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Command(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        let before = &self.text[..pos.min(self.text.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        Stop::Error(format!(
            "template: {}:{line}:{col}: executing {:?} at <{context}>: {message}",
            self.name, self.current
        ))
    }

    fn write(&mut self, text: &str) -> Result<()> {
        if self.out.len() + text.len() > MAX_OUTPUT {
            return Err(self.error(format!(
                "expansion is longer than slogate's limit of {MAX_OUTPUT} bytes"
            )));
        }
        self.out.push_str(text);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t List) -> Result<()> {
        for node in list {
            self.walk(dot, node)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> Result<()> {
        self.at(At::Node(node));
        match node {
            Node::Text(text) => self.write(text),
            Node::Action(pipe) => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node));
                    let text = value.display();
                    self.write(&text)?;
                }
                Ok(())
            }
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => {
                let list = if let Some(list) = self.trees.defined.get(name) {
                    list
                } else if name == self.name {
                    &self.trees.main
                } else {
                    return Err(self.error(format!("template {name:?} not defined")));
                };
                if self.depth >= MAX_DEPTH {
                    return Err(
                        self.error(format!("exceeded maximum template depth ({MAX_DEPTH})"))
                    );
                }
                let dot = match pipe {
                    Some(pipe) => self.eval_pipeline(dot, pipe)?,
                    None => Value::Invalid,
                };
                // No dynamic scoping: the called template sees only `$`.
                let vars = std::mem::replace(&mut self.vars, vec![("$".into(), dot.clone())]);
                let current = std::mem::replace(&mut self.current, name.clone());
                self.depth += 1;
                let result = self.walk_list(&dot, list);
                self.depth -= 1;
                self.vars = vars;
                self.current = current;
                result
            }
            Node::Break(_) => Err(Stop::Break),
            Node::Continue(_) => Err(Stop::Continue),
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, b: &'t Branch) -> Result<()> {
        let mark = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &b.pipe)?;
            if value.truth() {
                let dot = if with { &value } else { dot };
                self.walk_list(dot, &b.list)
            } else if let Some(else_list) = &b.else_list {
                self.walk_list(dot, else_list)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Value, node: &'t Node, b: &'t Branch) -> Result<()> {
        self.at(At::Node(node));
        let mark = self.vars.len();
        let result = self.range_body(dot, b);
        self.vars.truncate(mark);
        match result {
            Err(Stop::Break) => Ok(()),
            other => other,
        }
    }

    fn range_body(&mut self, dot: &Value, b: &'t Branch) -> Result<()> {
        let value = self.eval_pipeline(dot, &b.pipe)?;
        let pairs: Vec<(Value, Value)> = match &value {
            Value::Invalid | Value::Nil => Vec::new(),
            Value::Int(n) | Value::Int64(n) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.error(format!(
                        "can't use {} to iterate over more than one variable",
                        value.display()
                    )));
                }
                (0..(*n).max(0))
                    .map(|i| (Value::Int(i), Value::Int(i)))
                    .collect()
            }
            v => match (v.elements(), v.entries()) {
                (Some(items), _) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| (Value::Int(i as i64), item))
                    .collect(),
                (_, Some(entries)) => entries
                    .into_iter()
                    .map(|(k, item)| (Value::str(&k), item))
                    .collect(),
                _ => {
                    return Err(self.error(format!("range can't iterate over {}", v.display())));
                }
            },
        };
        if pairs.is_empty() {
            if let Some(else_list) = &b.else_list {
                return self.walk_list(dot, else_list);
            }
            return Ok(());
        }
        let mark = self.vars.len();
        for (index, elem) in pairs {
            let decl = &b.pipe.decl;
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    if decl.len() > 1 {
                        self.set_var(&decl[0], index.clone())?;
                        self.set_var(&decl[1], elem.clone())?;
                    } else {
                        self.set_var(&decl[0], elem.clone())?;
                    }
                } else {
                    self.set_top_var(1, elem.clone());
                    if decl.len() > 1 {
                        self.set_top_var(2, index.clone());
                    }
                }
            }
            let result = self.walk_list(&elem, &b.list);
            self.vars.truncate(mark);
            match result {
                Ok(()) | Err(Stop::Continue) => {}
                Err(stop) => return Err(stop),
            }
        }
        Ok(())
    }

    fn set_top_var(&mut self, n: usize, value: Value) {
        let len = self.vars.len();
        self.vars[len - n].1 = value;
    }

    fn set_var(&mut self, name: &str, value: Value) -> Result<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> Result<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    pub fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> Result<Value> {
        self.at(At::Pipe(pipe));
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let mut v = self.eval_command(dot, cmd, value.take())?;
            // A nil interface{} becomes reflection's invalid value.
            if v == Value::Nil {
                v = Value::Invalid;
            }
            value = Some(v);
        }
        let value = value.unwrap_or(Value::Invalid);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> Result<()> {
        if args.len() > 1 || !missing(final_) {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t Command,
        final_: Option<Value>,
    ) -> Result<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field(_, idents) => {
                self.at(At::Arg(first));
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, final_);
            }
            Arg::Chain(..) => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Identifier(_, name) => {
                return self.eval_function(dot, first, name, At::Command(cmd), &cmd.args, final_);
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, pipe);
            }
            Arg::Variable(..) => return self.eval_variable(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.error("nil is not a command")),
            Arg::Number(_, n) => self.ideal_constant(n),
            Arg::String(_, _, text) => Ok(Value::str(text)),
            other => Err(self.error(format!("can't evaluate command {:?}", other.to_string()))),
        }
    }

    fn ideal_constant(&self, n: &Number) -> Result<Value> {
        if n.complex {
            return Err(self.error(format!(
                "complex constant {} is not supported in slogate's templates",
                n.text
            )));
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
            (None, Some(_)) => Err(self.error(format!("{} overflows int", n.text))),
            (None, None) => Ok(Value::Invalid),
        }
    }

    fn eval_variable(
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

    fn eval_chain(
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
            return Err(self.error(format!("indirection through explicit nil in {arg}")));
        }
        let receiver = self.eval_arg(dot, Param::Any, node)?;
        let receiver = if receiver == Value::Nil {
            Value::Invalid
        } else {
            receiver
        };
        self.eval_field_chain(dot, receiver, arg, fields, args, final_)
    }

    fn eval_field_chain(
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

    fn eval_field(
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
                "Value" => Some(Value::Float(a.value)),
                _ => None,
            },
            Value::Sample(s) => match name {
                "Labels" => Some(Value::Labels(Rc::new(s.labels.clone()))),
                "Value" => Some(Value::Float(s.value)),
                _ => None,
            },
            Value::Labels(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                // Prometheus executes with missingkey=zero: a missing
                // label is the empty string.
                return Ok(Value::str(m.get(name).map_or("", String::as_str)));
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                return Ok(m.get(name).cloned().unwrap_or(Value::Nil));
            }
            Value::Nil => {
                return Err(self.error(format!("nil pointer evaluating {type_name}.{name}")));
            }
            _ => None,
        };
        match field {
            Some(_) if has_args => Err(self.error(format!(
                "{name} has arguments but cannot be invoked as function"
            ))),
            Some(value) => Ok(value),
            None => Err(self.error(format!("can't evaluate field {name} in type {type_name}"))),
        }
    }

    fn eval_function(
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
            return Err(self.error(format!("{name:?} is not a defined function")));
        };
        self.eval_call(dot, &func, true, node, name, args, final_)
    }

    /// Calls `func` with `args[1..]` and the piped `final_` value, typed
    /// as Go types a call through reflection.
    #[allow(clippy::too_many_arguments)]
    fn eval_call(
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
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != fixed {
            return Err(self.error(format!(
                "wrong number of args for {name}: want {fixed} got {num_in}"
            )));
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
                Err(self.error(format!("error calling {name}: {e}")))
            }
        }
    }

    /// An argument of a call, typed as the parameter wants it.
    fn eval_arg(&mut self, dot: &Value, param: Param, arg: &'t Arg) -> Result<Value> {
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
                return Err(self.error(format!("cannot assign nil to {}", param.type_name())));
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
            (Param::Str, _) => Err(self.error(format!("expected string; found {arg}"))),
            (Param::Duration, Arg::Number(_, n)) if n.int.is_some() => Ok(Value::Duration(
                super::time::Duration(n.int.unwrap_or(0)),
                false,
            )),
            (Param::Duration, _) => Err(self.error(format!("expected integer; found {arg}"))),
            (p, _) => Err(self.error(format!(
                "can't handle {arg} for arg of type {}",
                p.type_name()
            ))),
        }
    }

    /// Go's `validateType`: a computed value passed where `param` is wanted.
    fn validate_type(&self, value: Value, param: Param) -> Result<Value> {
        if value == Value::Invalid {
            return match param {
                Param::Reflect => Ok(Value::Invalid),
                p if p.can_be_nil() => Ok(Value::Nil),
                p => Err(self.error(format!("invalid value; expected {}", p.type_name()))),
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
        Err(self.error(format!(
            "wrong type for value; expected {}; got {}",
            param.type_name(),
            value.type_name()
        )))
    }
}

fn node_pos(node: &Node) -> usize {
    match node {
        Node::Text(_) => 0,
        Node::Action(pipe) => pipe.pos,
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
        Node::Template { pos, .. } | Node::Break(pos) | Node::Continue(pos) => *pos,
    }
}
