//! A Prometheus rule file: parsed and validated as `slogate check` does
//! (`rules::resolve`, which parses each expression and template).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("/nonexistent/fuzz/rules.yml");
    let _ = slogate::rules::is_rule_file(source);
    let _ = slogate::rules::resolve(path, source);
});
