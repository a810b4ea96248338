//! The `slogate` binary: parse the command line, run, map the outcome to an
//! exit code (0 held, 1 failed, 2 usage, 3 aborted).

use std::process::ExitCode;

use clap::Parser;
use slogate::app::{self, Exit, UsageError};
use slogate::cli::Cli;
use slogate::report::escape::terminal_lines;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error),
    };
    match app::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            match error.downcast_ref::<UsageError>() {
                Some(usage) => {
                    for line in &usage.lines {
                        eprintln!("error: {}", terminal_lines(&slogate::redact::text(line)));
                    }
                    if let Some(hint) = &usage.hint {
                        eprintln!("hint: {}", terminal_lines(&slogate::redact::text(hint)));
                    }
                }
                None => eprintln!(
                    "error: {}",
                    terminal_lines(&slogate::redact::text(&format!("{error:#}")))
                ),
            }
            ExitCode::from(Exit::Usage.code())
        }
    }
}

/// Help and version go out as clap prints them; a usage error becomes one
/// line naming the flag, with exit code 2.
fn clap_exit(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
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
            eprintln!("{} (see `slogate --help`)", first.join(" "));
            ExitCode::from(Exit::Usage.code())
        }
    }
}
