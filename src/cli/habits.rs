//! Other load tools' flag habits on `slogate hit`'s command line. The flags
//! are hey's (`-d` is the body, `-t` the timeout, `-q` a rate), but people
//! arrive with wrk's and hey's fingers: hey's single-dash long flags
//! (`-cpus 2`, `-disable-keepalive`) would otherwise be read as short flags
//! with a value (`-c pus`; `-d isable-keepalive`, a request body) and run
//! something nobody asked for. They are recognized here, before clap sees
//! them, and refused with what they are called in slogate. The habits that
//! depend on a value (wrk's `-d 3s`, `-t 2`) are caught where that value is
//! read (`app::hit`, `cli::parse_timeout`).

use std::ffi::OsString;

/// A flag from another tool, refused with its slogate name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Habit {
    /// What the flag is, and what it is called here.
    pub message: String,
    /// The command line to type instead, or what to do.
    pub hint: String,
}

/// hey's single-dash long flags: (hey's flag, slogate's, what it does).
/// `None`: slogate has no such flag because it never does the thing.
const HEY: [(&str, Option<&str>, &str); 6] = [
    (
        "-cpus",
        Some("--workers"),
        "worker threads (default: one per core)",
    ),
    ("-h2", Some("--http2"), "HTTP/2"),
    ("-host", Some("--host"), "the Host header"),
    (
        "-disable-compression",
        Some("--disable-compression"),
        "no compressed answers",
    ),
    (
        "-disable-keepalive",
        Some("--disable-keepalive"),
        "a new connection per request",
    ),
    (
        "-disable-redirects",
        None,
        "slogate never follows redirects: a 3xx is counted as the answer",
    ),
];

/// Checks `hit`'s arguments (those after `slogate hit`) for another tool's
/// flags. Stops at `--`, after which everything is a value.
pub fn check(args: &[OsString]) -> Result<(), Habit> {
    let takes_value = value_flags();
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if takes_value.iter().any(|flag| *flag == arg) {
            // `-d -h2`: the body is `-h2`, not a flag.
            args.next();
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_ref(), None),
        };
        if let Some((_, ours, what)) = HEY.iter().find(|(hey, ..)| *hey == flag) {
            let value = if matches!(flag, "-cpus" | "-host") {
                inline.or_else(|| args.next().map(|v| v.into_owned()))
            } else {
                None
            };
            return Err(match ours {
                Some(ours) => Habit {
                    message: format!("`{flag}` is hey's spelling; here it is `{ours}`: {what}"),
                    hint: format!(
                        "did you mean `{ours}{}`? (see `slogate hit --help`)",
                        value.map(|v| format!(" {v}")).unwrap_or_default()
                    ),
                },
                None => Habit {
                    message: format!("`{flag}` is hey's; {what}"),
                    hint: format!("drop `{flag}` (see `slogate hit --help`)"),
                },
            });
        }
        if flag == "-s" || flag == "--script" || arg.starts_with("-s") && arg.ends_with(".lua") {
            return Err(Habit {
                message: "wrk's Lua scripts (`-s`) have no counterpart in `hit`".into(),
                hint: "a scenario file (`slogate run FILE`) has weighted request mixes, templates and CSV data; see docs/scenarios.md".into(),
            });
        }
    }
    Ok(())
}

/// `hit`'s flags that take a value, as typed (`-d`, `--body`), from its
/// clap definition.
fn value_flags() -> Vec<String> {
    use clap::CommandFactory;
    let command = super::Cli::command();
    let Some(hit) = command.find_subcommand("hit") else {
        return Vec::new();
    };
    hit.get_arguments()
        .filter(|arg| !arg.is_positional() && arg.get_action().takes_values())
        .flat_map(|arg| {
            let shorts = arg.get_short_and_visible_aliases().unwrap_or_default();
            let longs = arg.get_long_and_visible_aliases().unwrap_or_default();
            shorts
                .into_iter()
                .map(|c| format!("-{c}"))
                .chain(longs.into_iter().map(|l| format!("--{l}")))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_line(line: &str) -> Result<(), Habit> {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        check(&args)
    }

    #[test]
    fn hey_single_dash_flags_get_their_slogate_names() {
        let habit = check_line("-cpus 2 http://127.0.0.1/").unwrap_err();
        assert!(habit.message.contains("`-cpus` is hey's"), "{habit:?}");
        assert_eq!(
            habit.hint,
            "did you mean `--workers 2`? (see `slogate hit --help`)"
        );
        let habit = check_line("-n 5 -cpus=4 http://127.0.0.1/").unwrap_err();
        assert!(habit.hint.starts_with("did you mean `--workers 4`?"));
        let habit = check_line("-disable-keepalive http://127.0.0.1/").unwrap_err();
        assert!(
            habit
                .hint
                .starts_with("did you mean `--disable-keepalive`?")
        );
        let habit = check_line("-h2 http://127.0.0.1/").unwrap_err();
        assert!(habit.hint.starts_with("did you mean `--http2`?"));
        let habit = check_line("-disable-redirects http://127.0.0.1/").unwrap_err();
        assert!(
            habit.message.contains("never follows redirects"),
            "{habit:?}"
        );
        let habit = check_line("-s post.lua http://127.0.0.1/").unwrap_err();
        assert!(habit.message.contains("Lua"), "{habit:?}");
    }

    #[test]
    fn slogate_flags_and_values_after_a_double_dash_pass() {
        check_line("-c 2 -d body --disable-keepalive --workers 2 http://127.0.0.1/").unwrap();
        check_line("-n 1 -- -cpus").unwrap();
        // A body or header that happens to be `-h2` is a value: not a flag.
        check_line("-d -h2 http://127.0.0.1/").unwrap();
        check_line("--header -cpus -m POST http://127.0.0.1/").unwrap();
    }
}
