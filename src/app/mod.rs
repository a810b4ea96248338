//! One file per subcommand. Each turns CLI arguments into a plan, runs the
//! pipeline, and says how it ended.

pub(crate) mod check;
pub(crate) mod compare;
mod export;
pub(crate) mod hit;
mod live;
pub(crate) mod merge;
pub(crate) mod proxy;
pub(crate) mod query;
pub(crate) mod run;
pub(crate) mod test_rules;

use crate::cli::{Cli, Command};

/// How a command ended, mapped to the exit codes of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: every expectation held (or there were none).
    Success,
    /// 1: an expectation failed.
    Failed,
    /// 2: invalid input or usage; nothing was run.
    Usage,
    /// 3: aborted by an abort condition or a signal; reports were written.
    Aborted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Aborted => 3,
        }
    }
}

/// Something the user must fix, and nothing was run: each line printed as
/// `error: LINE` (then `hint: HINT`), exit code 2. Every command reports its
/// usage errors this way, as an `Err`, never by printing and returning
/// [`Exit::Usage`] itself.
#[derive(Debug, thiserror::Error)]
#[error("{}", .lines.join("\n"))]
pub struct UsageError {
    /// One line per error; a scenario file can hold several.
    pub lines: Vec<String>,
    /// Printed after the errors: what to do about them.
    pub hint: Option<String>,
}

impl UsageError {
    /// The flag or argument at fault, as the user typed it (`--header`,
    /// `URL`), and what is wrong with it.
    pub fn new(flag: &str, message: impl std::fmt::Display) -> UsageError {
        UsageError::line(format!("{flag}: {message}"))
    }

    /// One error, as it is.
    pub fn line(line: impl Into<String>) -> UsageError {
        UsageError {
            lines: vec![line.into()],
            hint: None,
        }
    }

    /// Several errors (a file's), each a line.
    pub fn lines(lines: impl IntoIterator<Item = impl std::fmt::Display>) -> UsageError {
        UsageError {
            lines: lines.into_iter().map(|l| l.to_string()).collect(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> UsageError {
        self.hint = Some(hint.into());
        self
    }
}

impl From<crate::cli::hit_plan::FlagError> for UsageError {
    fn from(e: crate::cli::hit_plan::FlagError) -> UsageError {
        UsageError {
            lines: vec![e.to_string()],
            hint: e.hint,
        }
    }
}

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Hit(args) => hit::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Query(args) => query::run(&args),
        Command::TestRules(args) => test_rules::run(&args),
        Command::Demo(args) => crate::demo::run_standalone(args.listen, args.upstream.as_deref())
            .map(|()| Exit::Success),
        Command::Proxy(args) => proxy::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Report(args) => {
            let path = crate::report::html::write(&args.dir)
                .map_err(|e| UsageError::new("DIR", format!("{e:#}")))?;
            println!("{}", path.display());
            Ok(Exit::Success)
        }
    }
}
