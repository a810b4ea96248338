//! Compiled regular expressions kept per thread, by pattern: building an
//! automaton costs far more than matching a label value with it, and rule
//! evaluations and alert templates ask for the same few patterns at every
//! evaluation (`label_replace`'s, `match`'s, `reReplaceAll`'s).

use std::cell::RefCell;

use regex::Regex;
use rustc_hash::FxHashMap;

/// The most patterns kept; past it the cache starts over (a rule set uses a
/// handful, a hostile one cannot grow it without bound).
const CAPACITY: usize = 256;

thread_local! {
    static COMPILED: RefCell<FxHashMap<String, Regex>> = RefCell::default();
}

/// `Regex::new(pattern)`, from the cache when this thread compiled it before.
pub(crate) fn regex(pattern: &str) -> Result<Regex, regex::Error> {
    COMPILED.with(|cache| {
        if let Some(re) = cache.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = Regex::new(pattern)?;
        let mut cache = cache.borrow_mut();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_compiles_once_and_errors_are_not_kept() {
        let a = regex("^a+$").unwrap();
        let b = regex("^a+$").unwrap();
        assert!(a.is_match("aaa") && b.is_match("a") && !b.is_match("ab"));
        assert!(regex("(").is_err());
        assert!(regex("(").is_err());
        COMPILED.with(|c| assert!(!c.borrow().contains_key("(")));
        for i in 0..CAPACITY + 10 {
            assert!(
                regex(&format!("^x{i}$"))
                    .unwrap()
                    .is_match(&format!("x{i}"))
            );
        }
        COMPILED.with(|c| assert!(c.borrow().len() <= CAPACITY));
    }
}
