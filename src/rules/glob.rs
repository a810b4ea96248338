//! Globs in a unit-test file's `rule_files` (`rules/*.yml`), matched as
//! Go's `filepath.Glob` matches them: `*` (any run of characters but `/`),
//! `?` (one character), `[abc]`, `[a-z]`, `[^a-z]`, in any path element;
//! matches sorted by name within each directory.

use std::path::{Component, Path, PathBuf};

/// A `rule_files` pattern with a `[` and no `]` after it: the one way a
/// pattern is malformed (Go's `filepath.ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule_files: pattern {}: a `[` without its `]`", .pattern.display())]
pub(crate) struct BadPattern {
    pub pattern: PathBuf,
}

/// An unclosed `[` in one path element, before it is known which pattern
/// it is in.
#[derive(Debug)]
struct UnclosedClass;

/// The files that `pattern` names (none is not an error).
pub(crate) fn matches(pattern: &Path) -> Result<Vec<PathBuf>, BadPattern> {
    let mut found = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        let is_pattern =
            matches!(component, Component::Normal(_)) && part.contains(['*', '?', '[']);
        let mut next = Vec::new();
        for base in &found {
            if !is_pattern {
                next.push(base.join(component.as_os_str()));
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if element_matches(&part, &name).map_err(|UnclosedClass| BadPattern {
                    pattern: pattern.to_path_buf(),
                })? {
                    next.push(base.join(name));
                }
            }
        }
        found = next;
    }
    Ok(found.into_iter().filter(|p| p.exists()).collect())
}

/// Whether one path element matches one pattern element.
fn element_matches(pattern: &str, name: &str) -> Result<bool, UnclosedClass> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_from(&p, &n)
}

fn matches_from(p: &[char], n: &[char]) -> Result<bool, UnclosedClass> {
    let Some((&first, rest)) = p.split_first() else {
        return Ok(n.is_empty());
    };
    match first {
        '*' => {
            for skip in 0..=n.len() {
                if matches_from(rest, &n[skip..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => Ok(!n.is_empty() && matches_from(rest, &n[1..])?),
        '[' => {
            let close = rest
                .iter()
                .skip(1)
                .position(|&c| c == ']')
                .map(|i| i + 1)
                .ok_or(UnclosedClass)?;
            let (class, after) = (&rest[..close], &rest[close + 1..]);
            let (negated, class) = match class.first() {
                Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let Some(&c) = n.first() else {
                return Ok(false);
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            Ok(hit != negated && matches_from(after, &n[1..])?)
        }
        '\\' if !rest.is_empty() => {
            Ok(n.first() == Some(&rest[0]) && matches_from(&rest[1..], &n[1..])?)
        }
        c => Ok(n.first() == Some(&c) && matches_from(rest, &n[1..])?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_match_as_go_matches_them() {
        let m = |p: &str, n: &str| element_matches(p, n).unwrap();
        assert!(m("*.yml", "rules.yml"));
        assert!(!m("*.yml", "rules.yaml"));
        assert!(m("rules_?.yml", "rules_a.yml"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(element_matches("[ab", "a").is_err());
    }

    #[test]
    fn a_directory_glob_lists_its_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yml", "a.yml", "c.txt"] {
            std::fs::write(dir.path().join(name), "groups: []\n").unwrap();
        }
        let got = matches(&dir.path().join("*.yml")).unwrap();
        assert_eq!(got, [dir.path().join("a.yml"), dir.path().join("b.yml")]);
        assert!(matches(&dir.path().join("*.json")).unwrap().is_empty());
        let bad = dir.path().join("[ab.yml");
        assert_eq!(
            matches(&bad).unwrap_err().to_string(),
            format!(
                "rule_files: pattern {}: a `[` without its `]`",
                bad.display()
            )
        );
    }
}
