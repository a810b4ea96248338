//! Why a template function failed, in Go's and Prometheus's words: the
//! text the executor writes after `error calling NAME: `. One variant per
//! error the functions produce, grouped as the files that produce them
//! (`funcs.rs`, `compare.rs`, `numbers.rs`, `prom.rs`).

use super::exec::{MAX_DEPTH, MAX_OUTPUT, MAX_STEPS};
use super::strconv::go_quote;
use super::text::go_backquote;

/// Why a query a template ran (`{{ query "..." }}`) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Promql(#[from] crate::promql::Error),
    /// Prometheus's `EngineQueryFunc` says no more than this, for a rule's
    /// result and a template's query alike.
    #[error("rule result is not a vector or scalar")]
    NotVectorOrScalar,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FuncError {
    // Go's builtins (`funcs.rs`).
    #[error("call of nil")]
    CallOfNil,
    #[error("non-function {name} of type {type_name}")]
    NonFunction { name: String, type_name: String },
    /// `len` of Go's zero `reflect.Value` (an untyped nil).
    #[error("reflect: call of reflect.Value.Type on zero Value")]
    ZeroValue,
    #[error("len of nil pointer")]
    LenOfNil,
    #[error("len of type {type_name}")]
    LenOfType { type_name: String },
    #[error("cannot index slice/array with nil")]
    IndexWithNil,
    #[error("cannot index slice/array with type {type_name}")]
    IndexWithType { type_name: String },
    #[error("index out of range: {index}")]
    IndexOutOfRange { index: i64 },
    #[error("reflect: slice index out of range")]
    SliceIndexOutOfRange,
    #[error("index of untyped nil")]
    IndexOfUntypedNil,
    #[error("index of nil pointer")]
    IndexOfNil,
    #[error("can't index item of type {type_name}")]
    CannotIndex { type_name: String },
    #[error("value is nil; should be of type string")]
    NilKey,
    #[error("value has type {type_name}; should be string")]
    KeyType { type_name: String },
    #[error("slice of untyped nil")]
    SliceOfUntypedNil,
    #[error("too many slice indexes: {count}")]
    TooManySliceIndexes { count: usize },
    #[error("cannot 3-index slice a string")]
    ThreeIndexString,
    #[error("can't slice item of type {type_name}")]
    CannotSlice { type_name: String },
    #[error("invalid slice index: {low} > {high}")]
    InvalidSliceIndex { low: usize, high: usize },
    /// Go slices a string by bytes; a Rust string only on characters.
    #[error("slice does not fall on a character boundary")]
    NotCharBoundary,

    // Comparisons (`compare.rs`).
    #[error("invalid type for comparison")]
    InvalidComparison,
    #[error("missing argument for comparison")]
    MissingComparand,
    #[error("incompatible types for comparison")]
    IncompatibleTypes,
    #[error("non-comparable type {shown}: {type_name}")]
    NonComparable { shown: String, type_name: String },

    // Prometheus's numbers (`numbers.rs`).
    #[error("{shown} cannot be represented as a nanoseconds timestamp since it overflows int64")]
    TimeOverflow {
        /// The seconds, as Go prints a float.
        shown: String,
    },
    #[error("can't convert <nil> to float")]
    NilToFloat,
    #[error("can't convert {type_name} to float")]
    ToFloat { type_name: String },
    #[error("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(.text))]
    FloatSyntax { text: String },
    #[error("strconv.ParseFloat: parsing {}: value out of range", go_quote(.text))]
    FloatRange { text: String },
    #[error("empty duration string")]
    EmptyDuration,
    #[error("not a valid duration string: {}", go_quote(.text))]
    BadDuration { text: String },
    #[error("duration out of range")]
    DurationRange,

    // Prometheus's functions (`prom.rs`).
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("first() called on vector with no elements")]
    FirstOfEmpty,
    /// Go's panic on a nil `*sample` or `*url.URL`, which Prometheus
    /// recovers into this error.
    #[error("runtime error: invalid memory address or nil pointer dereference")]
    NilPointer,
    /// A pattern of `match` (`regexp.MatchString`), in Go's words.
    #[error("{0}")]
    Regexp(RegexpError),
    /// A pattern of `reReplaceAll` (`regexp.MustCompile`, whose panic
    /// names the pattern).
    #[error("regexp: Compile({}): {source}", go_backquote(.pattern))]
    Compile {
        pattern: String,
        source: RegexpError,
    },
    #[error("value is NaN or Inf")]
    NotFinite,
}

/// A pattern Go's `regexp` refuses, in its words (`error parsing regexp:
/// missing closing ): ...`); the text is Go's for the common mistakes and
/// the regex crate's otherwise, so it is kept as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error parsing regexp: {0}")]
pub(crate) struct RegexpError(pub String);

/// A template that failed while it ran, as Go's `text/template` reports
/// it: `template: NAME:LINE:COL: executing "TEMPLATE" at <NODE>: CAUSE`,
/// or `template: TEMPLATE: CAUSE` before execution reaches a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecError {
    /// The template executing (the main one, or a `define`d one).
    pub template: String,
    pub place: Option<Place>,
    pub cause: ExecCause,
}

/// The node execution stopped at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The parse name, which `LINE:COL` are in.
    pub name: String,
    pub line: usize,
    /// In bytes from the line's start, as Go counts it.
    pub column: usize,
    /// The node, as Go prints it.
    pub node: String,
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.place {
            None => write!(f, "template: {}: {}", self.template, self.cause),
            Some(p) => write!(
                f,
                "template: {}:{}:{}: executing {:?} at <{}>: {}",
                p.name, p.line, p.column, self.template, p.node, self.cause
            ),
        }
    }
}

impl std::error::Error for ExecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// Why execution stopped: Go's `exec.go` errors, a function's error, and
/// slogate's bounds on a hostile template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExecCause {
    #[error("error calling {name}: {source}")]
    Call { name: String, source: FuncError },
    #[error("expansion is longer than slogate's limit of {MAX_OUTPUT} bytes")]
    TooLong,
    #[error("template execution passed slogate's limit of {MAX_STEPS} steps")]
    TooManySteps,
    #[error("exceeded maximum template depth ({MAX_DEPTH})")]
    TooDeep,
    #[error("template {name:?} not defined")]
    TemplateNotDefined { name: String },
    #[error("can't use {shown} to iterate over more than one variable")]
    RangeVariables { shown: String },
    #[error("range can't iterate over {shown}")]
    RangeOver { shown: String },
    #[error("undefined variable: {name}")]
    UndefinedVariable { name: String },
    #[error("can't give argument to non-function {arg}")]
    ArgumentToNonFunction { arg: String },
    #[error("nil is not a command")]
    NilCommand,
    #[error("can't evaluate command {text:?}")]
    NotACommand { text: String },
    #[error("complex constant {text} is not supported in slogate's templates")]
    Complex { text: String },
    #[error("{text} overflows int")]
    OverflowsInt { text: String },
    #[error("indirection through explicit nil in {arg}")]
    ExplicitNil { arg: String },
    #[error("{name} is not a method but has arguments")]
    NotAMethod { name: String },
    #[error("nil pointer evaluating {type_name}.{name}")]
    NilField { type_name: String, name: String },
    #[error("{name} has arguments but cannot be invoked as function")]
    FieldWithArguments { name: String },
    #[error("can't evaluate field {name} in type {type_name}")]
    NoField { name: String, type_name: String },
    #[error("{name:?} is not a defined function")]
    NotAFunction { name: String },
    #[error("wrong number of args for {name}: want at least {want} got {got}")]
    TooFewArgs {
        name: String,
        want: usize,
        got: usize,
    },
    #[error("wrong number of args for {name}: want {want} got {got}")]
    ArgCount {
        name: String,
        want: usize,
        got: usize,
    },
    #[error("cannot assign nil to {type_name}")]
    AssignNil { type_name: String },
    #[error("expected string; found {arg}")]
    ExpectedString { arg: String },
    #[error("expected integer; found {arg}")]
    ExpectedInteger { arg: String },
    #[error("can't handle {arg} for arg of type {type_name}")]
    CannotHandle { arg: String, type_name: String },
    #[error("invalid value; expected {type_name}")]
    InvalidValue { type_name: String },
    #[error("wrong type for value; expected {want}; got {got}")]
    WrongType { want: String, got: String },
}
