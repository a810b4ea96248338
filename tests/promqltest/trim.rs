//! The histogram trim operators (`h </ x`, `h >/ x`) are syntax the PromQL
//! parser does not read yet, so the suite cannot run them. Their
//! arithmetic ([`FloatHistogram::trim_buckets`]) is checked here on every
//! `eval instant at T name </ x` (or `>/`) of `native_histograms.test`
//! whose input is a histogram sample at `T`, against the suite's answer.

use std::path::Path;

use super::check::same_histogram;
use super::script::{self, Command, Expected, Timing};
use super::series::{self, Item};

#[test]
fn trim_arithmetic_agrees_with_the_suites_answers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/promql/promqltest/native_histograms.test");
    let text = std::fs::read_to_string(path).expect("the suite's file");
    let commands = script::parse(&text).expect("a readable file");
    let mut loaded: Vec<(slogate::metrics::store::Labels, Vec<Item>, i64)> = Vec::new();
    let (mut checked, mut wrong) = (0, Vec::new());
    for command in commands {
        let eval = match command {
            Command::Clear => {
                loaded.clear();
                continue;
            }
            Command::Load {
                interval_ms,
                series,
                ..
            } => {
                loaded.extend(series.into_iter().map(|(l, i)| (l, i, interval_ms)));
                continue;
            }
            Command::Eval(eval) => eval,
        };
        let words: Vec<&str> = eval.expr.split_whitespace().collect();
        let (Timing::Instant { at }, [name, op @ ("</" | ">/"), rhs]) =
            (eval.timing, words.as_slice())
        else {
            continue;
        };
        let (Some(rhs), Expected::Series(expected)) = (series::number(rhs), &eval.expected) else {
            continue;
        };
        for (labels, items, interval) in &loaded {
            if labels.name() != Some(*name) || at < 0 {
                continue;
            }
            // The latest sample at or before `at`, within the 5 m lookback.
            let last = items
                .iter()
                .enumerate()
                .take_while(|(i, _)| *i as i64 * interval <= at)
                .filter(|(_, item)| !matches!(item, Item::Omitted))
                .last();
            let Some((i, Item::Histogram(input))) = last else {
                continue;
            };
            if i as i64 * interval <= at - 300_000 {
                continue;
            }
            let want = expected
                .iter()
                .find(|(l, _, _)| l == labels || *l == labels.without_name());
            let Some((_, want, _)) = want else { continue };
            let Some(Item::Histogram(want)) = want.first() else {
                continue;
            };
            let got = input.histogram.clone().trim_buckets(rhs, *op == "</");
            checked += 1;
            if !same_histogram(want, &got) {
                wrong.push(format!(
                    "line {}: {}: expected {}, got {}",
                    eval.line,
                    eval.expr,
                    slogate::metrics::histogram::notation::expression(&want.histogram),
                    slogate::metrics::histogram::notation::expression(&got)
                ));
            }
        }
    }
    println!("trim: {checked} cases of native_histograms.test checked");
    assert!(checked >= 60, "only {checked} trim cases found");
    assert!(
        wrong.is_empty(),
        "{checked} checked, wrong:\n{}",
        wrong.join("\n")
    );
}
