//! `--junit FILE` in promtool 3's shape (`util/junitxml`, written by Go's
//! `encoding/xml`): `<testsuites>`, one `<testsuite name tests failures
//! errors skipped timestamp>` per file, one `<testcase name>` per test group
//! run, one `<failure>` element per failure; a file that could not be run
//! is one error, on a testcase `unknown` as promtool names it.

use std::fmt::Write as _;

use super::FileOutcome;

/// The XML document for `outcomes`, `now` the Unix seconds it was run at.
pub(crate) fn write(outcomes: &[FileOutcome], now: i64) -> String {
    let mut out = String::from("<testsuites>");
    for outcome in outcomes {
        let failures: usize = outcome.groups.iter().map(|g| g.failures.len()).sum();
        let (cases, errors, timestamp) = match &outcome.error {
            Some(_) => (outcome.groups.len().max(1), 1, String::new()),
            None => (
                outcome.groups.len(),
                0,
                super::timestamp::format_seconds(now),
            ),
        };
        let _ = write!(
            out,
            r#"<testsuite name="{}" tests="{cases}" failures="{failures}" errors="{errors}" skipped="0" timestamp="{timestamp}">"#,
            escape(&outcome.path.display().to_string())
        );
        if let Some(error) = &outcome.error {
            let _ = write!(
                out,
                r#"<testcase name="unknown"><error>{}</error></testcase>"#,
                escape(error)
            );
        }
        for group in &outcome.groups {
            let _ = write!(out, r#"<testcase name="{}">"#, escape(&group.name));
            for failure in &group.failures {
                let _ = write!(out, "<failure>{}</failure>", escape(failure));
            }
            out.push_str("</testcase>");
        }
        out.push_str("</testsuite>");
    }
    out.push_str("</testsuites>");
    out
}

/// Go's `xml.EscapeText`: markup characters, quotes and line breaks as
/// character references.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::GroupOutcome;
    use super::*;

    #[test]
    fn promtool_shape() {
        let outcomes = [
            FileOutcome {
                path: PathBuf::from("a.yml"),
                groups: vec![
                    GroupOutcome {
                        name: "ok".into(),
                        failures: vec![],
                        checks: 1,
                    },
                    GroupOutcome {
                        name: "unnamed#1".into(),
                        failures: vec!["x < \"y\"\nz".into(), "second".into()],
                        checks: 2,
                    },
                ],
                error: None,
            },
            FileOutcome {
                path: PathBuf::from("b.yml"),
                groups: vec![],
                error: Some("cannot read".into()),
            },
        ];
        assert_eq!(
            write(&outcomes, 1_704_067_200),
            concat!(
                r#"<testsuites><testsuite name="a.yml" tests="2" failures="2" errors="0" skipped="0" timestamp="2024-01-01T00:00:00">"#,
                r#"<testcase name="ok"></testcase><testcase name="unnamed#1"><failure>x &lt; &#34;y&#34;&#xA;z</failure><failure>second</failure></testcase></testsuite>"#,
                r#"<testsuite name="b.yml" tests="1" failures="0" errors="1" skipped="0" timestamp=""><testcase name="unknown"><error>cannot read</error></testcase></testsuite></testsuites>"#
            )
        );
    }
}
