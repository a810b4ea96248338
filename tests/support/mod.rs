//! Test helpers: real HTTP servers on 127.0.0.1:0, and running `hit` in process.

pub mod server;

use slogate::cli::{Cli, Command};
use slogate::engine::{self, RunOptions};
use slogate::record::RunResults;

/// Serializes the tests that measure time: on a 2-core machine, two load
/// runs side by side would each measure the other. Every test that runs load
/// holds this for its duration.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `slogate hit ARGS...` in process and returns what it measured.
pub fn hit(args: &[&str]) -> RunResults {
    let plan = slogate::app::hit::plan(&hit_args(args)).expect("valid arguments");
    engine::run(&plan, RunOptions::default(), &mut |_| {}, &mut |_| None).expect("the run starts")
}

/// Parses `slogate hit ARGS...` into its arguments.
pub fn hit_args(args: &[&str]) -> slogate::cli::HitArgs {
    let argv = ["slogate", "hit"].iter().chain(args).copied();
    match <Cli as clap::Parser>::try_parse_from(argv)
        .expect("arguments parse")
        .command
    {
        Command::Hit(args) => args,
        other => panic!("not a hit command: {other:?}"),
    }
}

/// Milliseconds of a microsecond histogram value.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Finds an external tool the test needs. Under CI (CI=true) a missing tool
/// fails the test; elsewhere the test says how to install it and is skipped.
pub fn require_tool(name: &str, debian_package: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        let hint = format!(
            "`{name}` is missing: install it with `apt-get install {debian_package}` (.ci/run does)"
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{hint}");
        }
        eprintln!("skipped: {hint}");
    }
    found
}
