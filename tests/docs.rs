//! The documentation against the binary: README.md and docs/*.md.
//!
//! - Every ```` ```yaml ```` block is a whole scenario (top-level `phases:`
//!   or `requests:`), a rule file (top-level `groups:`), a rule unit-test
//!   file (top-level `rule_files:` or `tests:`), or marked
//!   ```` ```yaml fragment ````; an unmarked block that is none of these
//!   fails with its file and line. Scenarios and rule files are written to a
//!   temporary directory and `slogate check FILE` must exit 0. A unit-test
//!   file is run with `slogate test-rules` when every file it names in
//!   `rule_files` is beside it (given with `needs=`), and must pass;
//!   otherwise nothing more can be checked offline and it is only
//!   classified.
//! - Words after `yaml` in the info string: `needs=PATH[,PATH...]` copies
//!   those files from the repository's `scenarios/` directory to the same
//!   path beside the example (a CSV, a rule file it names);
//!   `env=NAME[,NAME...]` sets those environment variables to a placeholder
//!   for the check (the example reads a token from the environment).
//! - Every flag the docs give slogate exists in that subcommand's `--help`:
//!   command lines starting with `slogate SUB` (or `cargo run ... -- SUB`)
//!   in ```` ```sh ````, ```` ```console ```` and ```` ```text ```` blocks
//!   (a `$ ` prompt is read past) and in `inline code`; an inline span that
//!   is a flag alone (`--max-regression`) must be some subcommand's flag,
//!   unless it is another tool's flag listed in `FOREIGN_FLAGS`.
//! - Every relative link points at a file that exists, and a `#anchor` into
//!   a Markdown file at one of its headings (GitHub's slugs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags of other tools the docs name alone in inline code: Prometheus's
/// sample limit, promtool test rules' `--diff` and `--debug`.
/// Prometheus's and promtool's, and wrk's `-s` (docs/hit.md says what
/// slogate makes of the other tools' flags).
const FOREIGN_FLAGS: &[&str] = &["--query.max-samples", "--diff", "--debug", "-s"];

/// A fenced code block: where it starts, its info string and its text.
struct Block {
    file: PathBuf,
    line: usize,
    lang: String,
    words: Vec<String>,
    body: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, relative to the repository root.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut pages: Vec<_> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    pages.sort();
    files.extend(pages);
    files
}

fn read(file: &Path) -> String {
    std::fs::read_to_string(root().join(file)).unwrap()
}

/// The fenced blocks of a file, and its text outside them (code blocks
/// blanked, so line numbers stay).
fn split(file: &Path) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<Block> = None;
    for (i, line) in read(file).lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                let mut words = info.split_whitespace().map(str::to_string);
                open = Some(Block {
                    file: file.to_path_buf(),
                    line: i + 1,
                    lang: words.next().unwrap_or_default(),
                    words: words.collect(),
                    body: String::new(),
                });
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(block), None) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, None) => prose.push_str(line),
        }
        prose.push('\n');
    }
    assert!(
        open.is_none(),
        "{}: a code block is not closed",
        file.display()
    );
    (blocks, prose)
}

fn all_blocks() -> Vec<Block> {
    doc_files().iter().flat_map(|f| split(f).0).collect()
}

#[derive(Debug, PartialEq)]
enum Kind {
    Scenario,
    RuleFile,
    UnitTest,
    Fragment,
    Unknown,
}

fn classify(block: &Block) -> Kind {
    let top: BTreeSet<&str> = block
        .body
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim()))
        .collect();
    if block.words.iter().any(|w| w == "fragment") {
        Kind::Fragment
    } else if top.contains("phases") || top.contains("requests") {
        Kind::Scenario
    } else if top.contains("groups") {
        Kind::RuleFile
    } else if top.contains("rule_files") || top.contains("tests") {
        Kind::UnitTest
    } else {
        Kind::Unknown
    }
}

/// The values of a `key=a,b` word of a block's info string.
fn marker(block: &Block, key: &str) -> Vec<String> {
    block
        .words
        .iter()
        .filter_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .flat_map(|v| v.split(',').map(str::to_string))
        .collect()
}

fn where_(block: &Block) -> String {
    format!("{}:{}", block.file.display(), block.line)
}

/// Writes the example and what it `needs=` into a fresh directory and runs
/// `slogate ARGS... FILE` there.
fn run_example(block: &Block, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    for need in marker(block, "needs") {
        let to = dir.path().join(&need);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join("scenarios").join(&need), &to)
            .unwrap_or_else(|e| panic!("{}: needs={need}: {e}", where_(block)));
    }
    let file = dir.path().join("example.yaml");
    std::fs::write(&file, &block.body).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_slogate"));
    command.args(args).arg(&file).current_dir(dir.path());
    for name in marker(block, "env") {
        command.env(name, "docs-placeholder");
    }
    command.output().unwrap()
}

/// The files a unit test's `rule_files` names, in flow (`[a.yml]`) or
/// block style.
fn rule_files(body: &str) -> Vec<String> {
    let mut lines = body.lines().skip_while(|l| !l.starts_with("rule_files:"));
    let Some(first) = lines.next() else {
        return Vec::new();
    };
    let text = std::iter::once(&first["rule_files:".len()..])
        .chain(lines.take_while(|l| l.starts_with(' ')))
        .collect::<Vec<_>>()
        .join(" ");
    let name = regex::Regex::new(r"[\w./*-]+\.ya?ml").unwrap();
    name.find_iter(&text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// slogate's message with the example's `example.yaml:LINE:COL` turned
/// into the Markdown file's own line.
fn in_the_doc(block: &Block, message: &str) -> String {
    let place = regex::Regex::new(r"\S*example\.yaml:(\d+):(\d+)").unwrap();
    place
        .replace_all(message, |c: &regex::Captures| {
            let line: usize = c[1].parse().unwrap();
            format!("{}:{}:{}", block.file.display(), block.line + line, &c[2])
        })
        .into_owned()
}

#[test]
fn every_yaml_example_is_classified_and_valid() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for block in all_blocks().iter().filter(|b| b.lang == "yaml") {
        let output = match classify(block) {
            Kind::Scenario | Kind::RuleFile => run_example(block, &["check"]),
            Kind::UnitTest => {
                let needs = marker(block, "needs");
                let named = rule_files(&block.body);
                if named.is_empty() || !named.iter().all(|n| needs.contains(n)) {
                    continue;
                }
                run_example(block, &["test-rules"])
            }
            Kind::Fragment => continue,
            Kind::Unknown => {
                failures.push(format!(
                    "{}: a yaml block that is neither a scenario (phases:, requests:), a rule file (groups:) nor a unit test (rule_files:, tests:): mark it ```yaml fragment",
                    where_(block)
                ));
                continue;
            }
        };
        checked += 1;
        if !output.status.success() {
            failures.push(format!(
                "{}: {}",
                where_(block),
                in_the_doc(
                    block,
                    &(String::from_utf8_lossy(&output.stderr)
                        + String::from_utf8_lossy(&output.stdout))
                )
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 5, "only {checked} examples checked");
}

/// Splits a command line into words as a shell would, closely enough for
/// flags: quotes group, `#` outside quotes starts a comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The subcommand and flags of each slogate command in `text`: lines
/// joined at a trailing `\`, split at `&&`, `|`, `;`.
fn slogate_commands(text: &str) -> Vec<(String, Vec<String>)> {
    let joined = text.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in joined.lines() {
        let line = line.trim_start().trim_start_matches("$ ");
        for part in line.split("&&").flat_map(|p| p.split(['|', ';'])) {
            let words = words(part);
            let rest = match words.first().map(String::as_str) {
                Some("slogate") => &words[1..],
                Some("cargo") if words.get(1).is_some_and(|w| w == "run") => {
                    match words.iter().position(|w| w == "--") {
                        Some(i) => &words[i + 1..],
                        None => continue,
                    }
                }
                _ => continue,
            };
            let Some((sub, args)) = rest.split_first() else {
                continue;
            };
            let flags = args
                .iter()
                .filter(|w| is_flag(w))
                .map(|w| w.split('=').next().unwrap().to_string())
                .collect();
            commands.push((sub.clone(), flags));
        }
    }
    commands
}

fn is_flag(word: &str) -> bool {
    let short = word.len() == 2
        && word.starts_with('-')
        && word[1..].starts_with(|c: char| c.is_ascii_alphabetic());
    short || (word.starts_with("--") && word[2..].starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// The inline code spans of a file's prose.
fn inline_spans(prose: &str) -> Vec<String> {
    // ``a `b` c`` spans first, then single-backtick ones.
    let double = regex::Regex::new(r"``\s?(.+?)\s?``|`([^`\n]+)`").unwrap();
    double
        .captures_iter(prose)
        .map(|c| c.get(1).or(c.get(2)).unwrap().as_str().to_string())
        .collect()
}

/// `slogate SUB --help`'s flags, long and short.
fn help_flags(sub: &str) -> Option<BTreeSet<String>> {
    let output = Command::new(env!("CARGO_BIN_EXE_slogate"))
        .args([sub, "--help"])
        .output()
        .unwrap();
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let flag = regex::Regex::new(r"(?m)^\s+(?:(-[A-Za-z]), )?(--[A-Za-z][\w.-]*)").unwrap();
    let mut flags = BTreeSet::new();
    for c in flag.captures_iter(&text) {
        flags.extend(c.get(1).map(|m| m.as_str().to_string()));
        flags.insert(c[2].to_string());
    }
    // Visible aliases: `[alias: -R]`, `[aliases: --a, --b]`.
    let alias = regex::Regex::new(r"\[alias(?:es)?: ([^\]]+)\]").unwrap();
    for c in alias.captures_iter(&text) {
        flags.extend(c[1].split(", ").map(str::to_string));
    }
    Some(flags)
}

#[test]
fn every_flag_the_docs_name_exists() {
    // (subcommand, flag) -> where the docs name it
    let mut named: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut alone: BTreeMap<String, String> = BTreeMap::new();
    for file in doc_files() {
        let (blocks, prose) = split(&file);
        let mut texts: Vec<(usize, String)> = blocks
            .iter()
            .filter(|b| matches!(b.lang.as_str(), "sh" | "console" | "text" | "bash"))
            .map(|b| (b.line, b.body.clone()))
            .collect();
        for (i, line) in prose.lines().enumerate() {
            for span in inline_spans(line) {
                texts.push((i + 1, span.clone()));
                let first = words(&span).into_iter().next().unwrap_or_default();
                if is_flag(&first) {
                    let flag = first.split('=').next().unwrap().to_string();
                    alone.insert(flag, format!("{}:{}", file.display(), i + 1));
                }
            }
        }
        for (line, text) in texts {
            for (sub, flags) in slogate_commands(&text) {
                for flag in flags {
                    named.insert((sub.clone(), flag), format!("{}:{line}", file.display()));
                }
            }
        }
    }
    let subs: BTreeSet<&String> = named.keys().map(|(s, _)| s).collect();
    let mut helps = BTreeMap::new();
    let mut failures = Vec::new();
    for sub in subs {
        match help_flags(sub) {
            Some(flags) => {
                helps.insert(sub.clone(), flags);
            }
            None => failures.push(format!("`slogate {sub}` is not a subcommand")),
        }
    }
    for ((sub, flag), at) in &named {
        if helps.get(sub).is_some_and(|f| !f.contains(flag)) {
            failures.push(format!(
                "{at}: `slogate {sub} {flag}`: no such flag in `slogate {sub} --help`"
            ));
        }
    }
    let every: BTreeSet<String> = [
        "run",
        "check",
        "hit",
        "query",
        "test-rules",
        "report",
        "compare",
        "merge",
        "proxy",
        "demo",
    ]
    .iter()
    .flat_map(|s| help_flags(s).unwrap())
    .collect();
    for (flag, at) in &alone {
        if !every.contains(flag) && !FOREIGN_FLAGS.contains(&flag.as_str()) {
            failures.push(format!("{at}: `{flag}` is no subcommand's flag"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        named.len() >= 20,
        "only {} flags found in the docs",
        named.len()
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to hyphens; a repeated one gets `-1`, `-2`...
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let Some(title) = line.strip_prefix('#').filter(|_| !in_code) else {
            continue;
        };
        let slug: String = title
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

#[test]
fn every_relative_link_resolves() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in doc_files() {
        let (_, prose) = split(&file);
        for (i, line) in prose.lines().enumerate() {
            for c in link.captures_iter(line) {
                let target = &c[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                count += 1;
                let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
                let resolved = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().unwrap().join(path)
                };
                let at = format!("{}:{}: `{target}`", file.display(), i + 1);
                if !root().join(&resolved).exists() {
                    failures.push(format!("{at}: no file {}", resolved.display()));
                } else if !anchor.is_empty()
                    && resolved.extension().is_some_and(|e| e == "md")
                    && !anchors(&read(&resolved)).contains(anchor)
                {
                    failures.push(format!(
                        "{at}: no heading #{anchor} in {}",
                        resolved.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count >= 10, "only {count} relative links found");
}

#[test]
fn github_anchors_follow_its_rules() {
    let got = anchors(
        "# The fault proxy\n## `slogate hit`: instead of hey\n## Speed\n## Speed\n```\n# not\n```\n",
    );
    let want: BTreeSet<String> = [
        "the-fault-proxy",
        "slogate-hit-instead-of-hey",
        "speed",
        "speed-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    assert_eq!(
        slogate_commands(
            "$ slogate run x.yaml --out a/ && deploy && slogate compare a/ b/ --max-regression=p95=10%\ncargo run --release -- run s.yaml --shard 1/3 # a --comment\nslogate hit URL -n 5 \\\n  -c 2\n"
        ),
        vec![
            ("run".to_string(), vec!["--out".to_string()]),
            ("compare".to_string(), vec!["--max-regression".to_string()]),
            ("run".to_string(), vec!["--shard".to_string()]),
            ("hit".to_string(), vec!["-n".to_string(), "-c".to_string()]),
        ]
    );
}
