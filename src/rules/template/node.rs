//! The parse tree of a template, as Go's `text/template/parse` builds it,
//! with each node's byte offset and Go's `String()` of it (what an
//! execution error quotes: `at <humanize "one">`).

use std::fmt;

/// A list of nodes: a template's body or a branch.
pub(crate) type List = Vec<Node>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text(String),
    /// `{{ pipeline }}`: prints unless the pipeline declares variables.
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    /// `{{ template "name" pipeline }}` (and `block`).
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break(usize),
    Continue(usize),
}

/// `if`, `with` and `range`: a pipeline, a body, and an `else` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// `$x := a | b c`: declared variables and commands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: its words.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Identifier(usize, String),
    Dot(usize),
    Nil(usize),
    /// `$x.a.b`: the variable's name, then fields.
    Variable(usize, Vec<String>),
    /// `.a.b`.
    Field(usize, Vec<String>),
    Bool(usize, bool),
    Number(usize, Number),
    /// The quoted text as written, and its value.
    String(usize, String, String),
    Pipe(Box<Pipe>),
    /// `(pipeline).a.b`, or fields of another term.
    Chain(usize, Box<Arg>, Vec<String>),
}

/// A number constant, with every type it can be (Go's `NumberNode`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    pub complex: bool,
}

impl Arg {
    pub(crate) fn pos(&self) -> usize {
        match self {
            Arg::Identifier(p, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Variable(p, _)
            | Arg::Field(p, _)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::String(p, ..)
            | Arg::Chain(p, ..) => *p,
            Arg::Pipe(pipe) => pipe.pos,
        }
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (n, cmd) in self.cmds.iter().enumerate() {
            if n > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (n, arg) in self.args.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Arg::Identifier(_, name) => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Variable(_, idents) => f.write_str(&idents.join(".")),
            Arg::Field(_, idents) => {
                for ident in idents {
                    write!(f, ".{ident}")?;
                }
                Ok(())
            }
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::String(_, quoted, _) => f.write_str(quoted),
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
            Arg::Chain(_, node, fields) => {
                match &**node {
                    Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                    other => write!(f, "{other}")?,
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
        }
    }
}

impl Node {
    /// Go's `String()` of the node, for error context.
    pub(crate) fn context(&self) -> String {
        match self {
            Node::Text(text) => format!("{text:?}"),
            Node::Action(pipe) => format!("{{{{{pipe}}}}}"),
            Node::If(b) => branch("if", b),
            Node::With(b) => branch("with", b),
            Node::Range(b) => branch("range", b),
            Node::Template { name, pipe, .. } => match pipe {
                Some(pipe) => format!("{{{{template {name:?} {pipe}}}}}"),
                None => format!("{{{{template {name:?}}}}}"),
            },
            Node::Break(_) => "{{break}}".into(),
            Node::Continue(_) => "{{continue}}".into(),
        }
    }
}

fn list_text(list: &List) -> String {
    list.iter().map(Node::context).collect()
}

fn branch(name: &str, b: &Branch) -> String {
    match &b.else_list {
        Some(else_list) => format!(
            "{{{{{name} {}}}}}{}{{{{else}}}}{}{{{{end}}}}",
            b.pipe,
            list_text(&b.list),
            list_text(else_list)
        ),
        None => format!("{{{{{name} {}}}}}{}{{{{end}}}}", b.pipe, list_text(&b.list)),
    }
}
