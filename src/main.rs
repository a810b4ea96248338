//! The `slogate` binary: parse the command line, run, map the outcome to an
//! exit code (0 held, 1 failed, 2 usage, 3 aborted).

use std::process::ExitCode;

use clap::Parser;
use slogate::app::{self, Exit, UsageError};
use slogate::cli::Cli;
use slogate::report::escape::terminal_lines;

fn main() -> ExitCode {
    quiet_on_broken_stdout();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let subcommand = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
    if subcommand == "hit"
        && let Err(habit) = slogate::cli::habits::check(&args[2..])
    {
        // The command line's own words: shown inert, secrets hidden.
        let shown = |text: &str| terminal_lines(&slogate::redact::text(text));
        eprintln!("error: {}", shown(&habit.message));
        eprintln!("hint: {}", shown(&habit.hint));
        return ExitCode::from(Exit::Usage.code());
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error, subcommand),
    };
    match app::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) if is_broken_pipe(&error) => die_of_sigpipe(),
        Err(error) => {
            match error.downcast_ref::<UsageError>() {
                Some(usage) => {
                    for line in &usage.lines {
                        slogate::events::say(&format!(
                            "error: {}",
                            terminal_lines(&slogate::redact::text(line))
                        ));
                    }
                    if let Some(hint) = &usage.hint {
                        slogate::events::say(&format!(
                            "hint: {}",
                            terminal_lines(&slogate::redact::text(hint))
                        ));
                    }
                }
                None => slogate::events::say(&format!(
                    "error: {}",
                    terminal_lines(&slogate::redact::text(&format!("{error:#}")))
                )),
            }
            ExitCode::from(Exit::Usage.code())
        }
    }
}

/// Help and version go out as clap prints them; a usage error becomes one
/// line naming the flag, then clap's suggestion if it has one, with exit
/// code 2.
fn clap_exit(error: clap::Error, subcommand: &str) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(if error.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            })
        }
        _ => {
            // clap's message is a paragraph (then usage and a tip); its
            // first paragraph, joined, is the one line.
            let rendered = error.render().to_string();
            let first: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let known = <Cli as clap::CommandFactory>::command()
                .get_subcommands()
                .any(|c| c.get_name() == subcommand);
            let help = if known {
                format!("slogate {subcommand} --help")
            } else {
                "slogate --help".to_string()
            };
            let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand]
                .into_iter()
                .find_map(|kind| match error.get(kind) {
                    Some(ContextValue::String(s)) => Some(s.clone()),
                    Some(ContextValue::Strings(s)) => s.first().cloned(),
                    _ => None,
                });
            match suggested {
                Some(suggestion) => eprintln!(
                    "{}; did you mean `{suggestion}`? (see `{help}`)",
                    first.join(" ")
                ),
                None => eprintln!("{} (see `{help}`)", first.join(" ")),
            }
            ExitCode::from(Exit::Usage.code())
        }
    }
}

/// Whether the error is a write to a closed pipe (`slogate hit … | head`).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Ends the process as the reader closing the pipe ends `cat` or hey: by
/// SIGPIPE, quietly, so the shell sees the pipe's status (141). Rust
/// ignores SIGPIPE so that sockets report EPIPE; it is restored here only.
fn die_of_sigpipe() -> ExitCode {
    use std::io::Write;
    let _ = std::io::stderr().flush();
    // SAFETY: signal and raise are async-signal-safe libc calls with valid
    // arguments; nothing runs after the default action ends the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    ExitCode::from(Exit::Usage.code())
}

/// A `println!` into a closed pipe panics ("failed printing to stdout");
/// that one panic ends the process as [`die_of_sigpipe`] does, every other
/// panic is reported as before.
fn quiet_on_broken_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            die_of_sigpipe();
        }
        default(info);
    }));
}
