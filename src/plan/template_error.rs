//! What is wrong with a request template, each case with its message and,
//! where one helps, its hint (a nearby name, or how to fix it).

use super::template::FUNCTIONS;

/// Why a template does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${` and no `}` after it; the whole template.
    #[error("`${{` without a closing `}}` in `{0}`")]
    UnclosedName(String),
    /// `${NAME}` with no target of that name, no such environment variable
    /// and no default.
    #[error("`${{{name}}}` is neither a target nor a set environment variable")]
    Unresolved {
        name: String,
        /// The target name closest to it.
        nearest_target: Option<String>,
    },
    /// `{{` and no `}}` after it; the whole template.
    #[error("`{{{{` without a closing `}}}}` in `{0}`")]
    UnclosedFunction(String),
    #[error("`rand` takes two integers: {{{{ rand 10 100 }}}}")]
    RandArguments,
    #[error("`rand LOW HIGH` needs LOW <= HIGH")]
    RandOrder,
    #[error("`choice` takes one or more words: {{{{ choice red green blue }}}}")]
    ChoiceArguments,
    #[error("`csv` takes DATASET.COLUMN: {{{{ csv users.email }}}}")]
    CsvArguments,
    #[error("no data set `{name}`")]
    NoDataset {
        name: String,
        /// The data set name closest to it.
        nearest: Option<String>,
    },
    #[error("data set `{dataset}` has no column `{column}` (columns: {})", columns.join(", "))]
    NoColumn {
        dataset: String,
        column: String,
        columns: Vec<String>,
    },
    #[error("unknown template function `{0}` (known: {known})", known = FUNCTIONS.join(", "))]
    UnknownFunction(String),
    #[error("empty `{{{{ }}}}`")]
    EmptyFunction,
    /// A flow variable a later step captures.
    #[error("variable `{0}` is used before the step that captures it")]
    VariableLater(String),
    /// A flow step's `{{ name }}` no step captures.
    #[error(
        "no step before this one captures a variable `{name}` (captured so far: {})",
        if in_scope.is_empty() { "none".to_string() } else { in_scope.join(", ") }
    )]
    UnknownVariable { name: String, in_scope: Vec<String> },
}

impl TemplateError {
    /// What to do about it, where there is more to say than the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            TemplateError::Unresolved {
                name,
                nearest_target,
            } => Some(match nearest_target {
                Some(t) => format!("did you mean the target `{t}`?"),
                None => format!("set it (export {name}=...) or give a default: ${{{name}:-value}}"),
            }),
            TemplateError::NoDataset { nearest, .. } => Some(match nearest {
                Some(d) => format!("did you mean `{d}`?"),
                None => "declare it under `data:` with a csv file".to_string(),
            }),
            TemplateError::NoColumn {
                column, columns, ..
            } => crate::diag::nearest(column, columns.iter().map(String::as_str))
                .map(|c| format!("did you mean `{c}`?")),
            TemplateError::UnknownFunction(name) => {
                crate::diag::nearest(name, FUNCTIONS).map(|f| format!("did you mean `{f}`?"))
            }
            TemplateError::VariableLater(_) => {
                Some("move the step that captures it earlier, or into `setup`".to_string())
            }
            TemplateError::UnknownVariable { name, in_scope } => Some(
                match crate::diag::nearest(name, in_scope.iter().map(String::as_str)) {
                    Some(v) => format!("did you mean `{v}`?"),
                    None => format!(
                        "capture it in an earlier step: `capture: {{{name}: {{json: \"$.{name}\"}}}}`"
                    ),
                },
            ),
            _ => None,
        }
    }
}
