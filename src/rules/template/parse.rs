//! Go's `text/template/parse` parser over the lexer's items: actions,
//! `if`/`else if`/`with`/`else with`/`range`/`break`/`continue`,
//! `define`/`template`/`block`, variables and their scopes, pipelines,
//! parenthesised pipelines, field chains, and the checks Go makes while
//! parsing (undefined functions and variables, misplaced `end`/`else`),
//! with Go's error messages.

use std::collections::BTreeMap;

use super::lex::{self, Item, Kind};
use super::literal::{number, unquote};
use super::node::{Arg, Branch, Command, List, Node, Pipe};

/// A parse error: Go's message, the line it names, and the byte offset of
/// the token the parser stopped at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    pub message: String,
    pub line: usize,
    pub pos: usize,
    /// The likely mistake, where the error has a hint for it.
    pub mistake: Option<Mistake>,
}

/// The mistakes behind the parse errors a hint is given for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mistake {
    /// A function that templates do not have (its name).
    UnknownFunction(String),
    /// A variable used before it is declared.
    UndefinedVariable,
    /// An `if`, `with`, `range`, `define` or `block` without its `end`.
    UnclosedBlock,
    /// An `end` or `else` with no block open.
    StrayEndOrElse,
    /// The text ends inside an action.
    UnclosedAction,
}

impl ParseError {
    fn because(mut self, mistake: Mistake) -> ParseError {
        self.mistake = Some(mistake);
        self
    }
}

/// The templates one text defines: the main one and every `define`d or
/// `block` one, by name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Trees {
    pub main: List,
    pub defined: BTreeMap<String, List>,
}

/// What ends a list: `{{end}}` or `{{else}}`, with the keyword's offset.
enum Stop {
    End(usize),
    Else(usize),
}

impl Stop {
    fn text(&self) -> &'static str {
        match self {
            Stop::End(_) => "{{end}}",
            Stop::Else(_) => "{{else}}",
        }
    }

    fn pos(&self) -> usize {
        match self {
            Stop::End(pos) | Stop::Else(pos) => *pos,
        }
    }
}

enum Parsed {
    Node(Node),
    Stop(Stop),
}

/// Parses `text`; `is_function` says which identifiers name functions.
pub(crate) fn parse(text: &str, is_function: &dyn Fn(&str) -> bool) -> Result<Trees, ParseError> {
    let mut parser = Parser {
        items: lex::lex(text),
        at: 0,
        seen: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
        defined: BTreeMap::new(),
        is_function,
    };
    let main = parser.top()?;
    Ok(Trees {
        main,
        defined: parser.defined,
    })
}

struct Parser<'f> {
    items: Vec<Item>,
    at: usize,
    /// The furthest item read.
    seen: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of controls and parentheses, bounded by [`MAX_NESTING`].
    depth: usize,
    defined: BTreeMap<String, List>,
    is_function: &'f dyn Fn(&str) -> bool,
}

/// How deep `if`/`with`/`range` and parentheses may nest.
const MAX_NESTING: usize = 100;

type Result<T, E = ParseError> = std::result::Result<T, E>;

impl Parser<'_> {
    fn next(&mut self) -> Item {
        let index = self.at.min(self.items.len() - 1);
        self.at = index + 1;
        self.seen = self.seen.max(index);
        self.items[index].clone()
    }

    fn backup(&mut self) {
        self.at -= 1;
    }

    fn peek(&mut self) -> Item {
        let item = self.next();
        self.backup();
        item
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.kind != Kind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    /// Go names the line of the last token it lexed; the column is the
    /// token the parser last took.
    fn error(&self, message: String) -> ParseError {
        let last = self.items.len() - 1;
        let taken = &self.items[self.at.saturating_sub(1).min(last)];
        ParseError {
            message,
            line: self.items[self.seen.min(last)].line,
            pos: taken.pos,
            mistake: None,
        }
    }

    fn unexpected(&self, item: &Item, context: &str) -> ParseError {
        if item.kind == Kind::Error {
            return self.error(item.val.clone());
        }
        if item.kind == Kind::UnclosedAction {
            return self
                .error(item.val.clone())
                .because(Mistake::UnclosedAction);
        }
        self.error(format!("unexpected {item} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Item> {
        let item = self.next_non_space();
        if item.kind != kind {
            return Err(self.unexpected(&item, context));
        }
        Ok(item)
    }

    fn top(&mut self) -> Result<List> {
        let mut list = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let mark = self.at;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.definition()?;
                    continue;
                }
                self.at = mark;
            }
            match self.text_or_action()? {
                Parsed::Stop(stop) => {
                    let mut error = self
                        .error(format!("unexpected {}", stop.text()))
                        .because(Mistake::StrayEndOrElse);
                    error.pos = stop.pos();
                    return Err(error);
                }
                Parsed::Node(node) => list.push(node),
            }
        }
        Ok(list)
    }

    /// `{{define "name"}} ... {{end}}`: a template of its own, with its
    /// own variables (only `$`).
    fn definition(&mut self) -> Result<()> {
        let context = "define clause";
        let item = self.next_non_space();
        if !matches!(item.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&item, context));
        }
        let name = unquote(&item.val).map_err(|e| self.error(e.to_string()))?;
        self.expect(Kind::RightDelim, context)?;
        let outer = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let depth = std::mem::take(&mut self.range_depth);
        let (list, stop) = self.item_list()?;
        self.vars = outer;
        self.range_depth = depth;
        if !matches!(stop, Stop::End(_)) {
            return Err(self
                .error(format!("unexpected {} in {context}", stop.text()))
                .because(Mistake::StrayEndOrElse));
        }
        self.add(name, list)
    }

    fn add(&mut self, name: String, list: List) -> Result<()> {
        match self.defined.get(&name) {
            Some(existing) if !is_empty(existing) && !is_empty(&list) => Err(self.error(format!(
                "template: multiple definition of template {name:?}"
            ))),
            Some(existing) if !is_empty(existing) => Ok(()),
            _ => {
                self.defined.insert(name, list);
                Ok(())
            }
        }
    }

    fn item_list(&mut self) -> Result<(List, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Parsed::Stop(stop) => return Ok((list, stop)),
                Parsed::Node(node) => list.push(node),
            }
        }
        let mut error = self
            .error("unexpected EOF".into())
            .because(Mistake::UnclosedBlock);
        error.pos = self.peek().pos;
        Err(error)
    }

    fn text_or_action(&mut self) -> Result<Parsed> {
        let item = self.next_non_space();
        match item.kind {
            Kind::Text => Ok(Parsed::Node(Node::Text(item.val))),
            Kind::LeftDelim => self.action(),
            _ => Err(self.unexpected(&item, "input")),
        }
    }

    fn action(&mut self) -> Result<Parsed> {
        let item = self.next_non_space();
        let node = match item.kind {
            Kind::Block => self.block()?,
            Kind::Break | Kind::Continue => {
                let name = if item.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                let after = self.next_non_space();
                if after.kind != Kind::RightDelim {
                    return Err(self.unexpected(&after, &format!("{{{{{name}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.error(format!("{{{{{name}}}}} outside {{{{range}}}}")));
                }
                if item.kind == Kind::Break {
                    Node::Break(item.pos)
                } else {
                    Node::Continue(item.pos)
                }
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if !matches!(peek.kind, Kind::If | Kind::With) {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Parsed::Stop(Stop::Else(item.pos)));
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Parsed::Stop(Stop::End(item.pos)));
            }
            Kind::If => Node::If(self.control("if")?),
            Kind::Range => Node::Range(self.control("range")?),
            Kind::With => Node::With(self.control("with")?),
            Kind::Template => self.template()?,
            _ => {
                self.backup();
                Node::Action(self.pipeline("command", Kind::RightDelim)?)
            }
        };
        Ok(Parsed::Node(node))
    }

    fn control(&mut self, context: &str) -> Result<Branch> {
        self.nest()?;
        let vars = self.vars.len();
        let result = self.control_body(context);
        self.vars.truncate(vars);
        self.depth -= 1;
        result
    }

    /// One level deeper into `if`/`with`/`range` or parentheses; past
    /// [`MAX_NESTING`] the template is refused rather than the stack
    /// exhausted (Go has no such limit; no rule file comes near it).
    fn nest(&mut self) -> Result<()> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(format!(
                "template nests deeper than slogate's limit of {MAX_NESTING} levels"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn control_body(&mut self, context: &str) -> Result<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, stop) = listed?;
        let mut else_list = None;
        if let Stop::Else(_) = stop {
            // `{{else if}}` and `{{else with}}` are an `if` (a `with`)
            // inside the else branch that shares its `{{end}}`.
            let peek = self.peek();
            if context == "if" && peek.kind == Kind::If {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && peek.kind == Kind::With {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (list, stop) = self.item_list()?;
                if !matches!(stop, Stop::End(_)) {
                    return Err(self.error(format!("expected end; found {}", stop.text())));
                }
                else_list = Some(list);
            }
        }
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, item: &Item, context: &str) -> Result<String> {
        match item.kind {
            Kind::String | Kind::RawString => {
                unquote(&item.val).map_err(|e| self.error(e.to_string()))
            }
            _ => Err(self.unexpected(item, context)),
        }
    }

    fn template(&mut self) -> Result<Node> {
        let context = "template clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, context)?;
        let pipe = if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe,
        })
    }

    /// `{{block "name" pipeline}} ... {{end}}`: defines and runs.
    fn block(&mut self) -> Result<Node> {
        let context = "block clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let outer = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let depth = std::mem::take(&mut self.range_depth);
        let listed = self.item_list();
        self.vars = outer;
        self.range_depth = depth;
        let (list, stop) = listed?;
        if !matches!(stop, Stop::End(_)) {
            return Err(self
                .error(format!("unexpected {} in {context}", stop.text()))
                .because(Mistake::StrayEndOrElse));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations: `$x :=`, `$x =`, `$i, $v :=` (range only).
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let mark = self.at;
            self.next();
            let token_after = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    break;
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => {
                                return Err(
                                    self.error("range can only initialize variables".into())
                                );
                            }
                        }
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = token_after;
                    self.at = mark;
                    break;
                }
            }
        }
        loop {
            let item = self.next_non_space();
            match item.kind {
                k if k == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&item, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return Err(self.error(format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(..) | Arg::String(..)
            ) {
                return Err(self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let item = self.next();
            match item.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&item, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.error("empty command".into()));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next().val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field(_, mut idents) => {
                idents.extend(fields);
                Arg::Field(chain_pos, idents)
            }
            Arg::Variable(_, mut idents) => {
                idents.extend(fields);
                Arg::Variable(chain_pos, idents)
            }
            Arg::Bool(..) | Arg::String(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.error(format!(
                    "unexpected . after term {}",
                    super::strconv::go_quote(&node.to_string())
                )));
            }
            other => Arg::Chain(chain_pos, Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let item = self.next_non_space();
        Ok(Some(match item.kind {
            Kind::Identifier => {
                if !(self.is_function)(&item.val) {
                    return Err(self
                        .error(format!("function {:?} not defined", item.val))
                        .because(Mistake::UnknownFunction(item.val)));
                }
                Arg::Identifier(item.pos, item.val)
            }
            Kind::Dot => Arg::Dot(item.pos),
            Kind::Nil => Arg::Nil(item.pos),
            Kind::Variable => {
                if !self.vars.contains(&item.val) {
                    return Err(self
                        .error(format!("undefined variable {:?}", item.val))
                        .because(Mistake::UndefinedVariable));
                }
                Arg::Variable(item.pos, vec![item.val])
            }
            Kind::Field => Arg::Field(item.pos, vec![item.val[1..].to_string()]),
            Kind::Bool => Arg::Bool(item.pos, item.val == "true"),
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                let number = number(&item.val, item.kind).map_err(|e| self.error(e.to_string()))?;
                Arg::Number(item.pos, number)
            }
            Kind::LeftParen => {
                self.nest()?;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(pipe))
            }
            Kind::String | Kind::RawString => {
                let text = unquote(&item.val).map_err(|e| self.error(e.to_string()))?;
                Arg::String(item.pos, item.val, text)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn is_empty(list: &List) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}
