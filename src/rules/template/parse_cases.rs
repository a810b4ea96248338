//! Template parse errors in promtool's words: each case was run through
//! Debian's promtool 2.42 (`promtool check rules`), and its message is the
//! expected one, except where Prometheus 3's Go differs (marked).

use super::check;

#[test]
fn parse_errors_read_as_promtool_writes_them() {
    let cases: &[(&str, Option<&str>)] = &[
        ("{{ if }}", Some("missing value for if")),
        ("{{ end }}", Some("unexpected {{end}}")),
        ("{{ else }}", Some("unexpected {{else}}")),
        (
            "{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}",
            Some("expected end; found {{else}}"),
        ),
        ("{{ range }}{{ end }}", Some("missing value for range")),
        ("{{ with }}{{ end }}", Some("missing value for with")),
        ("{{ $x }}", Some("undefined variable \"$x\"")),
        ("{{ $x = 1 }}", None),
        ("{{ $labels := 1 }}{{ $labels }}", None),
        (
            "{{ define \"a\" }}{{ $labels }}{{ end }}",
            Some("undefined variable \"$labels\""),
        ),
        ("{{ break }}", Some("{{break}} outside {{range}}")),
        (
            "{{ range $labels }}{{ break 1 }}{{ end }}",
            Some("unexpected \"1\" in {{break}}"),
        ),
        ("{{ continue }}", Some("{{continue}} outside {{range}}")),
        (
            "{{ 1 | 2 }}",
            Some("non executable command in pipeline stage 2"),
        ),
        (
            "{{ printf \"%d\" | \"x\" }}",
            Some("non executable command in pipeline stage 2"),
        ),
        ("{{ foo }}", Some("function \"foo\" not defined")),
        ("{{ .a | foo }}", Some("function \"foo\" not defined")),
        ("{{ \"unterminated }}", Some("unterminated quoted string")),
        ("{{ `raw }}", Some("unterminated raw quoted string")),
        ("{{ 'ab' }}", Some("malformed character constant: 'ab'")),
        ("{{ '' }}", Some("invalid syntax")),
        ("{{ 0x }}", Some("illegal number syntax: \"0x\"")),
        ("{{ 1a }}", Some("bad number syntax: \"1a\"")),
        ("{{ 08 }}", Some("integer overflow: \"08\"")),
        ("{{ 1.2.3 }}", Some("unexpected \".3\" in operand")),
        ("{{ $x := }}", Some("missing value for command")),
        (
            "{{ $x, $y := 1 }}",
            Some("too many declarations in command"),
        ),
        (
            "{{ range $a, $b, $c := $labels }}{{ end }}",
            Some("too many declarations in range"),
        ),
        ("{{ (1 }}", Some("unclosed left paren")),
        (
            "{{ ( ) }}",
            Some("missing value for parenthesized pipeline"),
        ),
        ("{{ | printf }}", Some("unexpected \"|\" in command")),
        ("{{ printf | }}", None),
        (
            "{{ \"a\".b }}",
            Some("unexpected . after term \"\\\"a\\\"\""),
        ),
        ("{{ nil.x }}", Some("unexpected . after term \"nil\"")),
        (
            "{{ template }}",
            Some("unexpected \"}}\" in template clause"),
        ),
        (
            "{{ template x }}",
            Some("unexpected \"x\" in template clause"),
        ),
        (
            "{{ define }}{{ end }}",
            Some("unexpected \"}}\" in define clause"),
        ),
        ("{{ define \"a\" }}x", Some("unexpected EOF")),
        (
            "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
            Some("template: multiple definition of template \"a\""),
        ),
        (
            "{{ block \"b\" }}{{ end }}",
            Some("missing value for block clause"),
        ),
        ("{{/* unclosed", Some("unclosed comment")),
        (
            "{{/* x */ }}",
            Some("comment ends before closing delimiter"),
        ),
        ("{{ $x := 1 }}{{ $x.y.z }}", None),
        ("{{ . . }}", None),
        ("{{ .a.b c }}", Some("function \"c\" not defined")),
        (
            "{{ if 1 }}{{ else if }}{{ end }}",
            Some("missing value for if"),
        ),
        (
            "{{ range 1 }}{{ else if 1 }}{{ end }}{{ end }}",
            Some("unexpected <if> in input"),
        ),
        ("{{ $ }}", None),
        ("{{ $. }}", Some("unexpected <.> in operand")),
        ("{{ 1 := 2 }}", Some("unexpected \":=\" in operand")),
        ("{{ $x := 1 2 }}", None),
        ("{{ end 1 }}", Some("unexpected \"1\" in end")),
        ("{{ else 1 }}", Some("unexpected \"1\" in else")),
        ("{{ if 1 }}{{ end", Some("unclosed action")),
        ("{{ 3 }}}}", None),
        ("{{ - 3 }}", Some("illegal number syntax: \"-\"")),
        ("{{ .x.}}", Some("unexpected <.> in operand")),
        ("{{ $x! }}", Some("bad character U+0021 '!'")),
        ("{{ \"\\q\" }}", Some("invalid syntax")),
        ("{{ 1e999 }}", Some("illegal number syntax: \"1e999\"")),
        (
            "{{ 99999999999999999999 }}",
            Some("integer overflow: \"99999999999999999999\""),
        ),
        (
            "{{ -0x8000000000000001 }}",
            Some("illegal number syntax: \"-0x8000000000000001\""),
        ),
        ("{{ 1i }}", None),
        ("{{ 1+2i }}", None),
        // Go 1.23+ (Prometheus 3): `else with`; promtool 2.42 says
        // "unexpected <with> in else".
        ("{{ with 1 }}{{ else with 2 }}{{ end }}", None),
        // Go's lexer now stops at a stray `)` (promtool 2.42: `unexpected ")" in command`).
        ("{{ 1) }}", Some("unexpected right paren")),
    ];
    let mut differ = Vec::new();
    for (text, want) in cases {
        let got = check(text).err().map(|e| e.message);
        if got.as_deref() != *want {
            differ.push(format!("{text:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
