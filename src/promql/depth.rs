//! How deep an expression's syntax tree would be, read from the text before
//! it reaches the parser. `promql-parser` builds, checks and drops its tree
//! recursively, and so does our evaluator: 20,000 nested calls overflow the
//! parser on an 8 MiB stack, 5,000 overflow the evaluator on a 2 MiB one,
//! and a 100,000-term `1+1+…` chain is as deep (binary operators chain into
//! a left-deep tree). So the depth is bounded here, with the position where
//! the bound is first passed.
//!
//! The estimate is an upper bound of the tree's depth: a bracketed group
//! `(…)` or `[…]` is a node whose subtree is at most one level per binary
//! (or unary) operator in it, plus its deepest inner group; a `[…]` (range
//! or subquery) also counts as an operator of the group around it, as it
//! wraps the expression before it. Strings, comments and label matchers
//! `{…}` are skipped.

/// Where the bound was passed: a 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub line: usize,
    pub column: usize,
}

#[derive(Default)]
struct Group {
    /// Operators seen in this group so far.
    ops: usize,
    /// The deepest subtree of a closed inner group.
    deepest_child: usize,
}

impl Group {
    fn depth(&self) -> usize {
        1 + self.ops + self.deepest_child
    }
}

/// Checks that `text`'s tree is at most `limit` deep.
pub(crate) fn check(text: &str, limit: usize) -> Result<(), TooDeep> {
    let mut stack = vec![Group::default()];
    // The depth of the path to the current position: each open group's own
    // level plus its operators so far (a cheap lower bound, for an early stop).
    let mut running = 1usize;
    let (mut line, mut column) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut previous = ' ';
    let mut in_braces = 0usize;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        let here = TooDeep { line, column };
        match c {
            '"' | '\'' | '`' => {
                // Skip the string; `\` escapes in all but backquoted ones.
                while let Some(s) = chars.next() {
                    if s == '\n' {
                        line += 1;
                        column = 0;
                    } else {
                        column += 1;
                    }
                    if s == '\\' && c != '`' {
                        if chars.next().is_some() {
                            column += 1;
                        }
                    } else if s == c {
                        break;
                    }
                }
            }
            '#' => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                        column = 0;
                        break;
                    }
                }
            }
            '{' => in_braces += 1,
            '}' => in_braces = in_braces.saturating_sub(1),
            _ if in_braces > 0 => {}
            '(' | '[' => {
                if c == '[' {
                    let top = stack.last_mut().expect("the stack keeps its root");
                    top.ops += 1;
                    running += 1;
                }
                stack.push(Group::default());
                running += 1;
            }
            ')' | ']' if stack.len() > 1 => {
                let group = stack.pop().expect("more than the root");
                running -= 1 + group.ops;
                let depth = group.depth();
                if depth > limit {
                    return Err(here);
                }
                let top = stack.last_mut().expect("the stack keeps its root");
                top.deepest_child = top.deepest_child.max(depth);
            }
            '+' | '-' | '*' | '/' | '%' | '^' | '<' | '>' | '!' => {
                stack.last_mut().expect("the stack keeps its root").ops += 1;
                running += 1;
            }
            '=' if !matches!(previous, '=' | '!' | '<' | '>') => {
                stack.last_mut().expect("the stack keeps its root").ops += 1;
                running += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if !(n.is_alphanumeric() || n == '_' || n == ':') {
                        break;
                    }
                    column += 1;
                    if word.len() < 8 {
                        word.push(n);
                    }
                    chars.next();
                }
                if ["and", "or", "unless", "atan2"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k))
                {
                    stack.last_mut().expect("the stack keeps its root").ops += 1;
                    running += 1;
                }
            }
            _ => {}
        }
        if running > limit {
            return Err(here);
        }
        previous = c;
    }
    // Unclosed groups are the parser's to report; their depth still counts.
    while let Some(group) = stack.pop() {
        let depth = group.depth();
        if depth > limit {
            return Err(TooDeep { line, column });
        }
        if let Some(top) = stack.last_mut() {
            top.deepest_child = top.deepest_child.max(depth);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str, limit: usize) -> bool {
        check(text, limit).is_ok()
    }

    #[test]
    fn nested_calls_are_refused_where_they_pass_the_limit() {
        let text = format!("{}up{}", "abs(".repeat(300), ")".repeat(300));
        // Passed at the 256th `(`: line 1, column 4 * 255 + 4.
        assert_eq!(
            check(&text, 256),
            Err(TooDeep {
                line: 1,
                column: 4 * 255 + 4
            })
        );
        let fits = format!("{}up{}", "abs(".repeat(200), ")".repeat(200));
        assert!(depth_ok(&fits, 256));
    }

    #[test]
    fn a_long_operator_chain_is_as_deep_as_it_is_long() {
        let chain = vec!["1"; 1000].join("+");
        let err = check(&chain, 256).unwrap_err();
        // The 256th `+` (column 512) makes it 257 deep.
        assert_eq!(
            err,
            TooDeep {
                line: 1,
                column: 2 * 256
            }
        );
        assert!(depth_ok(&vec!["1"; 255].join(" + "), 256));
        assert!(!depth_ok(&vec!["a"; 300].join(" or\n"), 256));
    }

    #[test]
    fn operators_after_a_group_count_for_the_group_inside() {
        // ((((a+b)*c)+d)*e)…: left-deep through the parentheses, each level
        // two deep (the paren and its operator), though no prefix is deep.
        let mut text = "a".to_string();
        for _ in 0..200 {
            text = format!("({text}+b)");
        }
        assert!(!depth_ok(&text, 256));
        assert!(depth_ok(&text, 402));
    }

    #[test]
    fn strings_comments_and_matchers_do_not_count() {
        let noise = "(".repeat(1000);
        let text = format!(
            "up{{job=\"{noise}\", a!=\"x\", b=~'{noise}'}} # {noise}\n + label_replace(up, \"a\", `{noise}`, \"b\", \"(.*)\")"
        );
        assert!(depth_ok(&text, 8));
    }

    #[test]
    fn the_usual_rules_are_shallow() {
        let text = r#"sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05"#;
        assert!(depth_ok(text, 16));
    }
}
