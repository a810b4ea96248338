//! A rule unit-test file (`slogate test-rules`), run beside the rule file
//! of tests/rules/unit (as `rules.yml`), so that tests which name it
//! evaluate real rules.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A directory holding `rules.yml`; each input is written as `test.yml`.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let rules = include_str!("../../tests/rules/unit/rules.yml");
        std::fs::write(dir.join("rules.yml"), rules).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let path = dir().join("test.yml");
    std::fs::write(&path, data).unwrap();
    let _ = slogate::rules::unittest::run_file(&path);
});
