//! The layout, checked from the imports (issue 17's "shape to reach"): the
//! top-level modules form no import cycle larger than two, nothing outside
//! `app/` imports `app/`, `app/` stays orchestration-sized, and few source
//! files are long. `cargo test --test main shape:: -- --nocapture` prints
//! the figures.
//!
//! An import is any `crate::NAME` path outside a comment, including those in
//! `#[cfg(test)]` modules: a test that borrows from a module above still ties
//! the two together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// Each figure is held where the code stands, so none grows back; issue 17's
// targets are in brackets, and a figure is tightened as the code reaches it.
/// The largest strongly connected set of top-level modules allowed [2].
const MAX_CYCLE: usize = 2;
/// `app/`'s budget: all its lines [under 1,800], and its longest file [300].
const MAX_APP_LINES: usize = 1_800;
const MAX_APP_FILE_LINES: usize = 300;
/// `app::run::run`, the pipeline of `slogate run` [about a screen, 60].
const MAX_RUN_FN_LINES: usize = 60;
/// Source files allowed over `LONG_FILE` lines [2, each saying why in its
/// header].
const MAX_LONG_FILES: usize = 2;
const LONG_FILE: usize = 700;

struct Source {
    /// Relative to `src/`, with `/` separators.
    path: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path: PathBuf = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
                out.push(Source {
                    path: rel.replace('\\', "/"),
                    text: std::fs::read_to_string(&path).expect("a source file is UTF-8"),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The top-level module a file belongs to; `None` for the crate roots.
fn top_module(path: &str) -> Option<&str> {
    match path.split_once('/') {
        Some((dir, _)) => Some(dir),
        None if path == "lib.rs" || path == "main.rs" => None,
        None => Some(path.trim_end_matches(".rs")),
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The top-level modules `text` names through `crate::`.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::b, c}`: the first name of each top-level item.
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && is_ident(c) => {
                        let name: String =
                            group[i..].chars().take_while(|&c| is_ident(c)).collect();
                        out.insert(name);
                        item_start = false;
                    }
                    c if c.is_whitespace() => {}
                    _ => item_start = false,
                }
            }
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Edges between top-level modules (a module's own paths left out).
fn graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| top_module(&s.path).map(str::to_string))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for source in sources {
        let Some(from) = top_module(&source.path) else {
            continue;
        };
        for to in imports(&source.text) {
            if to != from && modules.contains(&to) {
                edges.get_mut(from).unwrap().insert(to);
            }
        }
    }
    edges
}

/// Strongly connected components (Tarjan), largest first.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.edges[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    let mut out = state.out;
    out.sort_by_key(|c| std::cmp::Reverse(c.len()));
    out
}

/// Lines of the function `fn NAME(` in `text`, from its signature to the
/// closing brace at the signature's indentation.
fn fn_lines(text: &str, name: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let needle = format!("fn {name}(");
    let start = lines.iter().position(|l| l.contains(&needle))?;
    let indent = lines[start].len() - lines[start].trim_start().len();
    let close = format!("{}}}", " ".repeat(indent));
    let end = lines[start..].iter().position(|l| *l == close)?;
    Some(end + 1)
}

struct Figures {
    largest_cycle: Vec<String>,
    /// Every set of modules that import each other.
    cycles: Vec<Vec<String>>,
    app_importers: Vec<String>,
    app_lines: usize,
    app_longest: (String, usize),
    run_fn_lines: usize,
    long_files: Vec<(String, usize)>,
}

fn figures() -> Figures {
    let sources = sources();
    let edges = graph(&sources);
    let all = cycles(&edges);
    let largest_cycle = all.first().cloned().unwrap_or_default();
    let pairs = all.into_iter().filter(|c| c.len() > 1).collect();
    let app_importers = sources
        .iter()
        .filter(|s| top_module(&s.path).is_some_and(|m| m != "app"))
        .filter(|s| imports(&s.text).contains("app"))
        .map(|s| s.path.clone())
        .collect();
    let app: Vec<(String, usize)> = sources
        .iter()
        .filter(|s| s.path.starts_with("app/"))
        .map(|s| (s.path.clone(), s.text.lines().count()))
        .collect();
    let app_longest = app
        .iter()
        .max_by_key(|(_, n)| *n)
        .cloned()
        .unwrap_or_default();
    let run_fn_lines = sources
        .iter()
        .find(|s| s.path == "app/run.rs")
        .and_then(|s| fn_lines(&s.text, "run"))
        .unwrap_or(0);
    let mut long_files: Vec<(String, usize)> = sources
        .iter()
        .map(|s| (s.path.clone(), s.text.lines().count()))
        .filter(|(_, n)| *n > LONG_FILE)
        .collect();
    long_files.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    Figures {
        largest_cycle,
        cycles: pairs,
        app_importers,
        app_lines: app.iter().map(|(_, n)| n).sum(),
        app_longest,
        run_fn_lines,
        long_files,
    }
}

#[test]
fn prints_the_figures() {
    let f = figures();
    println!(
        "largest top-level import cycle: {} {:?}",
        f.largest_cycle.len(),
        f.largest_cycle
    );
    println!("every import cycle: {:?}", f.cycles);
    println!(
        "files outside app/ importing app: {} {:?}",
        f.app_importers.len(),
        f.app_importers
    );
    println!(
        "app/ lines: {}; longest file: {} ({})",
        f.app_lines, f.app_longest.0, f.app_longest.1
    );
    println!("app::run::run lines: {}", f.run_fn_lines);
    println!(
        "files over {LONG_FILE} lines: {} {:?}",
        f.long_files.len(),
        f.long_files
    );
    let edges = graph(&sources());
    for from in &f.largest_cycle {
        let inside: Vec<&String> = edges[from]
            .iter()
            .filter(|to| f.largest_cycle.contains(to))
            .collect();
        println!("  {from} -> {inside:?}");
    }
    // The parser finds what it must: `app` imports `cli`, `main.rs` is no module.
    let edges = graph(&sources());
    assert!(edges["app"].contains("cli"), "{:?}", edges["app"]);
    assert!(!edges.contains_key("main"));
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let text = "use crate::{a::B, c, d::{e, f}};\n// crate::commented\nlet x = crate::g::h();\n$crate::macro_only\n";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["a", "c", "d", "g"]);
}

#[test]
fn no_top_level_import_cycle_over_two() {
    let f = figures();
    assert!(
        f.largest_cycle.len() <= MAX_CYCLE,
        "top-level modules in one import cycle: {:?}",
        f.largest_cycle
    );
}

#[test]
fn nothing_outside_app_imports_app() {
    assert_eq!(figures().app_importers, Vec::<String>::new());
}

#[test]
fn app_is_orchestration_sized() {
    let f = figures();
    assert!(
        f.app_lines <= MAX_APP_LINES,
        "app/ has {} lines",
        f.app_lines
    );
    assert!(
        f.app_longest.1 <= MAX_APP_FILE_LINES,
        "{} has {} lines",
        f.app_longest.0,
        f.app_longest.1
    );
    assert!(
        f.run_fn_lines <= MAX_RUN_FN_LINES,
        "app::run::run has {} lines",
        f.run_fn_lines
    );
}

#[test]
fn few_long_files() {
    let f = figures();
    assert!(f.long_files.len() <= MAX_LONG_FILES, "{:?}", f.long_files);
    for (path, _) in &f.long_files {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(path),
        )
        .expect("readable");
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            header.contains("Longer than 700 lines"),
            "{path}: a long file says why in its `//!` header"
        );
    }
}
