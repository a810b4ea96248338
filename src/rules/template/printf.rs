//! Go's `fmt` as templates reach it: `printf`'s verbs, flags, widths and
//! precisions (`%s %d %f %.2f %g %e %v %q %x %5.1f %-8s %+d %%`), its
//! error notes (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=7)`).
//! Floats and quoting come from `strconv.rs`.

use std::fmt::Write as _;

use super::strconv::{go_e, go_f, go_float, go_g, go_quote, hex_float, is_print, quote};
use super::value::Value;

/// Flags, width and precision of one verb.
#[derive(Debug, Default, Clone)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Widths and precisions past this are refused, as Go's `fmt` refuses
/// them (`tooLarge`: 1e6).
const TOO_LARGE: usize = 1_000_000;

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut arg = 0usize;
    let mut reordered = false;
    let bytes = format.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let next_percent = format[i..].find('%').map_or(bytes.len(), |p| i + p);
        out.push_str(&format[i..next_percent]);
        i = next_percent;
        if i >= bytes.len() {
            break;
        }
        i += 1; // the '%'
        let mut spec = Spec::default();
        while i < bytes.len() {
            match bytes[i] {
                b'#' => spec.sharp = true,
                b'0' => spec.zero = !spec.minus,
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        // Argument index, width.
        if let Some((n, len)) = arg_index(&format[i..]) {
            arg = n;
            reordered = true;
            i += len;
        }
        if i < bytes.len() && bytes[i] == b'*' {
            i += 1;
            match args.get(arg).and_then(int_of) {
                Some(w) if w.unsigned_abs() as usize <= TOO_LARGE => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            arg += 1;
        } else {
            let (n, len) = digits(&format[i..]);
            if n.is_none() && len > 0 {
                out.push_str("%!(NOVERB)");
                break;
            }
            spec.width = n;
            i += len;
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            if let Some((n, len)) = arg_index(&format[i..]) {
                arg = n;
                reordered = true;
                i += len;
            }
            if i < bytes.len() && bytes[i] == b'*' {
                i += 1;
                match args.get(arg).and_then(int_of) {
                    Some(p) if (0..=TOO_LARGE as i64).contains(&p) => {
                        spec.precision = Some(p as usize)
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                arg += 1;
            } else {
                let (n, len) = digits(&format[i..]);
                if n.is_none() && len > 0 {
                    out.push_str("%!(NOVERB)");
                    break;
                }
                spec.precision = Some(n.unwrap_or(0));
                i += len;
            }
        }
        if let Some((n, len)) = arg_index(&format[i..]) {
            arg = n;
            reordered = true;
            i += len;
        }
        let Some(verb) = format[i..].chars().next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(value) = args.get(arg) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        arg += 1;
        out.push_str(&format_one(verb, &spec, value));
    }
    if !reordered && arg < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[arg..]
            .iter()
            .map(|v| match v {
                Value::Nil | Value::Invalid => "<nil>".to_string(),
                v => format!("{}={}", v.type_name(), v.display()),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

/// `[n]` at the start of `text`: the zero-based argument and the length.
fn arg_index(text: &str) -> Option<(usize, usize)> {
    let rest = text.strip_prefix('[')?;
    let close = rest.find(']')?;
    let n: usize = rest[..close].parse().ok()?;
    Some((n.checked_sub(1)?, close + 2))
}

/// Leading digits: their number (`None` past Go's 1e6 limit) and length.
fn digits(text: &str) -> (Option<usize>, usize) {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return (None, 0);
    }
    let mut n = 0usize;
    for b in text[..len].bytes() {
        if n > TOO_LARGE {
            return (None, len);
        }
        n = n * 10 + (b - b'0') as usize;
    }
    (Some(n), len)
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) | Value::Int64(i) => Some(*i),
        Value::Uint64(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

/// `%!d(string=x)`: Go prints the value with `%v` and the verb's own
/// flags, width and precision (`%.1f` of "0.25" is `%!f(string=0)`).
fn bad_verb(verb: char, spec: &Spec, value: &Value) -> String {
    match value {
        Value::Invalid | Value::Nil => format!("%!{verb}(<nil>)"),
        v => format!("%!{verb}({}={})", v.type_name(), format_one('v', spec, v)),
    }
}

fn format_one(verb: char, spec: &Spec, value: &Value) -> String {
    if verb == 'T' {
        return pad(spec, &value.type_name(), false);
    }
    match value {
        Value::Int(v) | Value::Int64(v) => integer(verb, spec, *v as i128, value),
        Value::Uint64(v) => integer(verb, spec, *v as i128, value),
        Value::Duration(d, false) if verb != 'v' && verb != 's' => {
            integer(verb, spec, d.0 as i128, value)
        }
        Value::Float(v) => float(verb, spec, *v, value),
        Value::Bool(b) => match verb {
            't' | 'v' => pad(spec, &b.to_string(), false),
            _ => bad_verb(verb, spec, value),
        },
        Value::Str(s) | Value::Html(s) => string(verb, spec, s, value),
        Value::Invalid | Value::Nil => match verb {
            'v' => pad(spec, "<nil>", false),
            _ => bad_verb(verb, spec, value),
        },
        // Stringers (time, durations) format their String().
        Value::Time(..) | Value::Duration(..) => string(verb, spec, &value.display(), value),
        Value::Labels(_) | Value::Map(_) => {
            let entries = value.entries().unwrap_or_default();
            let items: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        format_one(verb, spec, &Value::str(k)),
                        element(verb, spec, v)
                    )
                })
                .collect();
            format!("map[{}]", items.join(" "))
        }
        Value::List(..) | Value::Samples(_) => {
            let items: Vec<String> = value
                .elements()
                .unwrap_or_default()
                .iter()
                .map(|v| element(verb, spec, v))
                .collect();
            format!("[{}]", items.join(" "))
        }
        Value::Alert(a) => format!(
            "{{{} {} {} {}}}",
            format_one(verb, spec, &Value::Labels(a.labels.clone())),
            format_one(verb, spec, &Value::Labels(a.external_labels.clone())),
            format_one(verb, spec, &Value::Str(a.external_url.clone())),
            format_one(verb, spec, &a.value),
        ),
        _ => match verb {
            'v' | 's' => pad(spec, &value.display(), false),
            _ => bad_verb(verb, spec, value),
        },
    }
}

/// An element of a map or slice: nil interfaces print `<nil>` whatever
/// the verb.
fn element(verb: char, spec: &Spec, value: &Value) -> String {
    match value {
        Value::Invalid | Value::Nil => "<nil>".into(),
        v => format_one(verb, spec, v),
    }
}

fn string(verb: char, spec: &Spec, s: &str, value: &Value) -> String {
    let truncated: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    match verb {
        's' | 'v' => pad(spec, &truncated, false),
        'q' => {
            if spec.sharp && !truncated.contains('`') {
                pad(spec, &format!("`{truncated}`"), false)
            } else {
                pad(spec, &quote(&truncated, spec.plus), false)
            }
        }
        'x' | 'X' => {
            let mut hex = String::new();
            for (n, b) in truncated.bytes().enumerate() {
                if spec.space && n > 0 {
                    hex.push(' ');
                }
                if spec.sharp && (spec.space || n == 0) {
                    hex.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                let _ = if verb == 'x' {
                    write!(hex, "{b:02x}")
                } else {
                    write!(hex, "{b:02X}")
                };
            }
            pad(spec, &hex, false)
        }
        _ => bad_verb(verb, spec, value),
    }
}

fn integer(verb: char, spec: &Spec, v: i128, value: &Value) -> String {
    let negative = v < 0;
    let magnitude = v.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => magnitude.to_string(),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        'o' | 'O' => format!("{magnitude:o}"),
        'b' => format!("{magnitude:b}"),
        'c' => {
            return pad(
                spec,
                &char::from_u32(v as u32).unwrap_or('\u{fffd}').to_string(),
                false,
            );
        }
        'q' => {
            let c = char::from_u32(v as u32).unwrap_or('\u{fffd}');
            let quoted = go_quote(&c.to_string());
            let inner = &quoted[1..quoted.len() - 1];
            let inner = if c == '"' {
                "\""
            } else if c == '\'' {
                "\\'"
            } else {
                inner
            };
            return pad(spec, &format!("'{inner}'"), false);
        }
        'U' => {
            let mut text = format!("U+{magnitude:04X}");
            if spec.sharp
                && let Some(c) = char::from_u32(v as u32)
                && is_print(c)
            {
                let _ = write!(text, " '{c}'");
            }
            return pad(spec, &text, false);
        }
        _ => return bad_verb(verb, spec, value),
    };
    if let Some(p) = spec.precision {
        if p == 0 && magnitude == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    if spec.sharp {
        match verb {
            'x' => digits.insert_str(0, "0x"),
            'X' => digits.insert_str(0, "0X"),
            'o' if !digits.starts_with('0') => digits.insert(0, '0'),
            _ => {}
        }
    }
    if verb == 'O' {
        digits.insert_str(0, "0o");
    }
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let zero = spec.zero && spec.precision.is_none();
    signed(spec, sign, &digits, zero)
}

fn float(verb: char, spec: &Spec, v: f64, value: &Value) -> String {
    let text = match verb {
        'v' | 'g' => match spec.precision {
            Some(p) => go_g(v, p.max(1)),
            None => go_float(v),
        },
        'G' => match spec.precision {
            Some(p) => go_g(v, p.max(1)).to_uppercase(),
            None => go_float(v).to_uppercase(),
        },
        'f' | 'F' => go_f(v, spec.precision.unwrap_or(6)),
        'e' => go_e(v, spec.precision.unwrap_or(6)),
        'E' => go_e(v, spec.precision.unwrap_or(6)).to_uppercase(),
        'x' => hex_float(v),
        'X' => hex_float(v).to_uppercase(),
        _ => return bad_verb(verb, spec, value),
    };
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.to_string()),
        None => (
            if spec.plus {
                "+"
            } else if spec.space {
                " "
            } else {
                ""
            },
            text.strip_prefix('+').unwrap_or(&text).to_string(),
        ),
    };
    if body == "Inf" || body == "NaN" {
        let sign = if body == "NaN" {
            if spec.plus {
                "+"
            } else if spec.space {
                " "
            } else {
                ""
            }
        } else if sign.is_empty() {
            "+"
        } else {
            sign
        };
        return signed(spec, sign, &body, false);
    }
    signed(spec, sign, &body, spec.zero)
}

/// `sign` and `body` padded to the width: zeros go between them.
fn signed(spec: &Spec, sign: &str, body: &str, zero: bool) -> String {
    let len = sign.chars().count() + body.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{sign}{body}");
    }
    let fill = width - len;
    if spec.minus {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if zero {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

fn pad(spec: &Spec, text: &str, _numeric: bool) -> String {
    signed(spec, "", text, spec.zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Value]) -> String {
        sprintf(format, args)
    }

    #[test]
    fn verbs_flags_widths_as_go() {
        let pi = Value::Float(3.14259);
        assert_eq!(
            f(
                "%.2f|%5.1f|%-6.1f|%06.2f",
                &[pi.clone(), pi.clone(), pi.clone(), pi.clone()]
            ),
            "3.14|  3.1|3.1   |003.14"
        );
        assert_eq!(
            f(
                "%d|%5d|%-5d|%05d|%+d|%x|%X|%o",
                &[
                    Value::Int(42),
                    Value::Int(42),
                    Value::Int(42),
                    Value::Int(-42),
                    Value::Int(42),
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8)
                ]
            ),
            "42|   42|42   |-0042|+42|ff|FF|10"
        );
        assert_eq!(
            f(
                "%s|%q|%v|%x|%10s|%-4s|",
                &[
                    Value::str("a"),
                    Value::str("b\"c"),
                    Value::str("d"),
                    Value::str("hi"),
                    Value::str("r"),
                    Value::str("l")
                ]
            ),
            "a|\"b\\\"c\"|d|6869|         r|l   |"
        );
        assert_eq!(
            f(
                "%g|%v|%e|%.3g|%G",
                &[
                    Value::Float(1234567.0),
                    Value::Float(0.5),
                    Value::Float(1.5),
                    Value::Float(2.0 / 3.0),
                    Value::Float(1e-7)
                ]
            ),
            "1.234567e+06|0.5|1.500000e+00|0.667|1E-07"
        );
        assert_eq!(f("%d%%", &[Value::Int(5)]), "5%");
        assert_eq!(f("%d", &[Value::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(f("%f", &[Value::str("x")]), "%!f(string=x)");
        assert_eq!(f("%.1f%%", &[Value::str("0.250")]), "%!f(string=0)%");
        assert_eq!(f("%s %s", &[Value::str("x")]), "x %!s(MISSING)");
        assert_eq!(
            f("%s", &[Value::str("x"), Value::Int(7)]),
            "x%!(EXTRA int=7)"
        );
        assert_eq!(
            f("%v %s", &[Value::Bool(true), Value::Int(3)]),
            "true %!s(int=3)"
        );
        assert_eq!(
            f(
                "%f %v",
                &[Value::Float(f64::INFINITY), Value::Float(f64::NAN)]
            ),
            "+Inf NaN"
        );
        assert_eq!(
            f(
                "%*d|%.*f",
                &[
                    Value::Int(4),
                    Value::Int(7),
                    Value::Int(1),
                    Value::Float(2.25)
                ]
            ),
            "   7|2.2"
        );
        assert_eq!(f("%[2]s %[1]s", &[Value::str("a"), Value::str("b")]), "b a");
        assert_eq!(
            f("%T %T", &[Value::Float(1.0), Value::str("")]),
            "float64 string"
        );
        assert_eq!(f("%0.2f", &[Value::Float(3720.01)]), "3720.01");
        assert_eq!(
            f(
                "%x %X %x",
                &[Value::Float(1.5), Value::Float(-0.1), Value::Float(1.0)]
            ),
            "0x1.8p+00 -0X1.999999999999AP-04 0x1p+00"
        );
        assert_eq!(
            f("%+q %q", &[Value::str("é"), Value::str("é")]),
            "\"\\u00e9\" \"é\""
        );
    }

    #[test]
    fn widths_past_go_limit_stop_the_format() {
        assert_eq!(
            f("a%99999999dz", &[Value::Int(7)]),
            "a%!(NOVERB)%!(EXTRA int=7)"
        );
        assert_eq!(f("%.70000f", &[Value::Float(0.5)]).len(), 70_002);
    }
}
