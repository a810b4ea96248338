//! One file per subcommand. Each turns CLI arguments into a plan, runs the
//! pipeline, and says how it ended.

pub mod check;
pub mod compare;
pub mod hit;
pub mod merge;
pub mod proxy;
pub mod query;
pub mod run;
pub mod test_rules;

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

/// Something the user must fix: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct UsageError {
    /// The flag or argument at fault, as the user typed it (`--header`, `URL`).
    pub flag: &'static str,
    pub message: String,
}

impl UsageError {
    pub fn new(flag: &'static str, message: impl Into<String>) -> UsageError {
        UsageError {
            flag,
            message: message.into(),
        }
    }
}

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Hit(args) => hit::run(&args),
        Command::Check(args) => Ok(check::run(&args)),
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

/// Blocks until Ctrl-C or SIGTERM.
pub fn wait_for_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })
}
