//! A scenario file: parsed and validated (`scenario::resolve`), with no
//! environment. Errors are fine; a panic, a hang or an overflow is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    // A directory that does not exist: relative CSV paths find nothing.
    let path = std::path::Path::new("/nonexistent/fuzz/scenario.yaml");
    let _ = slogate::scenario::resolve(path, source, &|_| None);
});
