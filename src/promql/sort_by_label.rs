//! `sort_by_label` and `sort_by_label_desc`: by the named labels' values in
//! natural order (digit runs compared as numbers, as Go's
//! `facette/natsort`), then by the whole label set.

use std::cmp::Ordering;

use super::Sample;

/// Sorts `samples` by the values of `labels`.
pub(super) fn sort(samples: &mut [Sample], labels: &[String], descending: bool) {
    samples.sort_by(|a, b| {
        let by_labels = labels
            .iter()
            .map(|l| {
                let (x, y) = (a.labels.get(l).unwrap_or(""), b.labels.get(l).unwrap_or(""));
                natural(x, y)
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.labels.cmp(&b.labels));
        if descending {
            by_labels.reverse()
        } else {
            by_labels
        }
    });
}

/// The chunks of `s`: runs of digits and runs of anything else.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digit = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if digit.is_some_and(|was| was != d) {
            out.push(&s[start..i]);
            start = i;
        }
        digit = Some(d);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `natsort.Compare(a, b)` as an order: chunk by chunk, two digit runs by
/// numeric value (of any length: leading zeros aside, the longer is
/// larger), else as strings; a prefix first. Values natsort holds equal
/// (`01` and `1`) are then ordered as strings, so the order is total, as
/// `sort_by` needs.
fn natural(a: &str, b: &str) -> Ordering {
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let numeric = x.starts_with(|c: char| c.is_ascii_digit())
            && y.starts_with(|c: char| c.is_ascii_digit());
        let order = if numeric {
            let (m, n) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            m.len().cmp(&n.len()).then_with(|| m.cmp(n))
        } else {
            x.cmp(y)
        };
        if order.is_ne() {
            return order;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// Whether `a` sorts before `b` in [`natural`] order.
#[cfg(test)]
fn natural_less(a: &str, b: &str) -> bool {
    natural(a, b).is_lt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_values_sort_by_value() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("a", "a1"));
        assert!(natural_less("abc", "abd"));
        assert!(natural_less("9", "10"));
    }

    /// `01`, `1` and a 25-digit run among others: antisymmetric and
    /// transitive on every pair and triple, so `sort_by` cannot panic.
    #[test]
    fn the_order_is_total() {
        let values = [
            "1",
            "01",
            "001",
            "10",
            "010",
            "9",
            "",
            "a",
            "a01",
            "a1",
            "1000000000000000000000000",
            "0999999999999999999999999",
            "b2c",
            "b02c",
        ];
        for a in values {
            for b in values {
                assert_eq!(natural(a, b), natural(b, a).reverse(), "{a:?} {b:?}");
                assert_eq!(natural(a, b).is_eq(), a == b, "{a:?} {b:?}");
                for c in values {
                    if natural(a, b).is_lt() && natural(b, c).is_lt() {
                        assert!(natural(a, c).is_lt(), "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
        assert!(natural_less("9", "1000000000000000000000000"));
    }
}
