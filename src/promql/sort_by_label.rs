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
                if x == y {
                    Ordering::Equal
                } else if natural_less(x, y) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
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

/// `natsort.Compare(a, b)`: whether `a` sorts before `b`, chunk by chunk:
/// two numbers by value, else as strings; a prefix first.
fn natural_less(a: &str, b: &str) -> bool {
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        if x == y {
            continue;
        }
        return match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) if m == n => continue,
            (Ok(m), Ok(n)) => m < n,
            _ => x < y,
        };
    }
    ca.len() < cb.len()
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
}
