//! Executes a parsed template as Go's `text/template` does (`exec.go`):
//! dot and variables with their scopes, truthiness, `with`, `range` over
//! slices, maps (sorted keys) and integers with `break`/`continue`,
//! `template`/`block` calls, fields and methods, function calls with Go's
//! argument typing, `and`/`or` short-circuit, and Go's error text
//! (`template: NAME:1:3: executing "NAME" at <humanize "one">: ...`).

use super::error::{ExecCause, ExecError, Place};
use super::funcs::Env;
use super::node::{Arg, Branch, Command, List, Node, Pipe};
use super::parse::Trees;
use super::value::Value;

/// Template calls nested deeper than this are an error. Go allows 100,000
/// (`maxExecDepth`); a recursive alert template that deep is a mistake,
/// and this bound keeps the Rust stack of a test thread safe.
pub(crate) const MAX_DEPTH: usize = 200;

/// Nodes and `range` iterations one expansion may run: a `range` over a
/// huge integer or a deep recursion ends with an error, not a hang.
pub(crate) const MAX_STEPS: u64 = 10_000_000;

/// Bytes a template may write before its expansion is cut off with an
/// error: a `range` over a large `query` result or a runaway `printf`
/// width stays bounded.
pub(crate) const MAX_OUTPUT: usize = 1 << 20;

/// What stops a walk: an error, or `break`/`continue` on their way to the
/// enclosing `range`.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Boxed: a walk returns `Stop` at every node, and the error is rare.
    Error(Box<ExecError>),
    Break,
    Continue,
}

pub(super) type Result<T> = std::result::Result<T, Stop>;

/// The node execution is at, for error context.
#[derive(Clone, Copy)]
pub(super) enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Command(&'t Command),
    Arg(&'t Arg),
}

pub(crate) struct State<'t, 'e> {
    trees: &'t Trees,
    /// The parse name (for `NAME:line:col`) and the full text positions
    /// refer to.
    name: &'t str,
    text: &'t str,
    /// The template executing (`executing "NAME"`).
    current: String,
    pub(super) env: &'e Env<'e>,
    vars: Vec<(String, Value)>,
    out: String,
    at: At<'t>,
    depth: usize,
    steps: u64,
}

/// Runs the main template of `trees` on `data`.
pub(crate) fn execute(
    trees: &Trees,
    name: &str,
    text: &str,
    data: Value,
    env: &Env,
) -> std::result::Result<String, Box<ExecError>> {
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
        steps: 0,
    };
    match state.walk_list(&data, &trees.main) {
        Ok(()) => Ok(state.out),
        Err(Stop::Error(e)) => Err(e),
        // The parser refuses break/continue outside range.
        Err(Stop::Break | Stop::Continue) => Ok(state.out),
    }
}

pub(super) fn missing(final_: &Option<Value>) -> bool {
    final_.is_none()
}

impl<'t> State<'t, '_> {
    pub(super) fn at(&mut self, at: At<'t>) {
        self.at = at;
    }

    pub(super) fn error(&self, cause: ExecCause) -> Stop {
        let (pos, context) = match self.at {
            At::None => {
                return Stop::Error(Box::new(ExecError {
                    template: self.current.clone(),
                    place: None,
                    cause,
                }));
            }
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
        Stop::Error(Box::new(ExecError {
            template: self.current.clone(),
            place: Some(Place {
                name: self.name.to_string(),
                line,
                column: col,
                node: context,
            }),
            cause,
        }))
    }

    fn write(&mut self, text: &str) -> Result<()> {
        if self.out.len() + text.len() > MAX_OUTPUT {
            return Err(self.error(ExecCause::TooLong));
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
        self.step()?;
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
                    return Err(self.error(ExecCause::TemplateNotDefined {
                        name: name.to_string(),
                    }));
                };
                if self.depth >= MAX_DEPTH {
                    return Err(self.error(ExecCause::TooDeep));
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
        // An integer is iterated lazily: `range 1000000000` costs steps,
        // not memory.
        let (count, pairs): (usize, Box<dyn Iterator<Item = (Value, Value)>>) = match &value {
            Value::Invalid | Value::Nil => (0, Box::new(std::iter::empty())),
            Value::Int(n) | Value::Int64(n) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.error(ExecCause::RangeVariables {
                        shown: value.display(),
                    }));
                }
                let n = (*n).max(0);
                (
                    n as usize,
                    Box::new((0..n).map(|i| (Value::Int(i), Value::Int(i)))),
                )
            }
            v => match (v.elements(), v.entries()) {
                (Some(items), _) => (
                    items.len(),
                    Box::new(
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(i, item)| (Value::Int(i as i64), item)),
                    ),
                ),
                (_, Some(entries)) => (
                    entries.len(),
                    Box::new(entries.into_iter().map(|(k, item)| (Value::str(&k), item))),
                ),
                _ => {
                    return Err(self.error(ExecCause::RangeOver { shown: v.display() }));
                }
            },
        };
        if count == 0 {
            if let Some(else_list) = &b.else_list {
                return self.walk_list(dot, else_list);
            }
            return Ok(());
        }
        let mark = self.vars.len();
        for (index, elem) in pairs {
            self.step()?;
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

    /// Counts one step of execution; a template past [`MAX_STEPS`] stops.
    fn step(&mut self) -> Result<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(self.error(ExecCause::TooManySteps));
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
            None => Err(self.error(ExecCause::UndefinedVariable {
                name: name.to_string(),
            })),
        }
    }

    pub(super) fn var_value(&self, name: &str) -> Result<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(ExecCause::UndefinedVariable {
                name: name.to_string(),
            })),
        }
    }

    pub(crate) fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> Result<Value> {
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

    pub(super) fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> Result<()> {
        if args.len() > 1 || !missing(final_) {
            return Err(self.error(ExecCause::ArgumentToNonFunction {
                arg: args[0].to_string(),
            }));
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
            Arg::Nil(_) => Err(self.error(ExecCause::NilCommand)),
            Arg::Number(_, n) => self.ideal_constant(n),
            Arg::String(_, _, text) => Ok(Value::str(text)),
            other => Err(self.error(ExecCause::NotACommand {
                text: other.to_string(),
            })),
        }
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
