//! The budget math and verdicts against the SRE workbook's figures.

use super::budget::report;
use super::measure::from_seconds;
use super::*;
use crate::expect::CheckOutcome;
use std::time::Duration;

fn slo(objective: f64) -> Slo {
    Slo {
        name: "a".into(),
        objective,
        period: Duration::from_secs(30 * 86400),
        sli: Sli::ClientAvailability,
        expect: Vec::new(),
        healthy_before: false,
        source: String::new(),
    }
}

#[test]
fn budget_and_burn_rate_follow_the_workbook() {
    // 100 s healthy then 100 s at 10 % errors, 10 events a second.
    let mut seconds = vec![(0.0, 10.0); 100];
    seconds.extend(vec![(1.0, 10.0); 100]);
    let r = report(&slo(0.999), Ok(from_seconds(&seconds)));
    assert_eq!(r.compliance, Some(1.0 - 100.0 / 2000.0));
    let burn = (100.0 / 2000.0) / (1.0 - 0.999);
    assert!((r.burn_rate.unwrap() - burn).abs() < 1e-9);
    let budget = burn * 200.0 / (30.0 * 86400.0);
    assert!((r.budget_consumed.unwrap() - budget).abs() < 1e-12);
    // 5m holds all 200 s: 5 % errors = burn 50.
    assert!((r.burn_at_end[0].1.unwrap() - 50.0).abs() < 1e-9);
    // The page, windows cut at the run start (all four hold the same
    // data): 6h/30m's threshold of 6 × 0.1 % = 0.6 % is passed first,
    // 100 s healthy + k s at 10 %: k / (100 + k) × 10 % > 0.6 % →
    // k > 6.4: at second 107.
    assert_eq!(r.page_at, Some(107.0));
    assert_eq!(r.page_by.as_deref(), Some("6h and 30m burn rates above 6"));
    // With healthy traffic before the run, 10 events a second: 5m
    // holds 100 s of it (100 bad of 3000: burn 33.3), 1h 3400 s
    // (100 of 36000: burn 2.8), 6h even less: no page.
    let healthy = Slo {
        healthy_before: true,
        ..slo(0.999)
    };
    let mut seconds = vec![(0.0, 10.0); 100];
    seconds.extend(vec![(1.0, 10.0); 100]);
    let r = report(&healthy, Ok(from_seconds(&seconds)));
    assert!((r.burn_at_end[0].1.unwrap() - 100.0 / 3_000.0 / 0.001).abs() < 1e-6);
    assert!((r.burn_at_end[2].1.unwrap() - 100.0 / 36_000.0 / 0.001).abs() < 1e-6);
    assert_eq!(r.page_at, None);
}

#[test]
fn a_healthy_run_does_not_page() {
    let r = report(&slo(0.99), Ok(from_seconds(&[(0.0, 10.0); 60])));
    assert_eq!(r.page_at, None);
    assert_eq!(r.budget_consumed, Some(0.0));
    let verdicts = verdicts(
        &[Slo {
            expect: vec![
                SloExpectation {
                    kind: SloCheck::Page(false),
                    source: String::new(),
                },
                SloExpectation {
                    kind: SloCheck::Page(true),
                    source: String::new(),
                },
            ],
            ..slo(0.99)
        }],
        &[r],
    );
    assert_eq!(verdicts[0].outcome, CheckOutcome::Pass);
    assert_eq!(verdicts[1].outcome, CheckOutcome::Fail);
    assert!(verdicts[1].measured_text.starts_with("never fires"));
}

#[test]
fn no_events_is_no_data() {
    let r = report(&slo(0.99), Ok(from_seconds(&[(0.0, 0.0); 10])));
    assert_eq!(r.compliance, None);
    assert_eq!(r.problem.as_deref(), Some("no events during the run"));
}

#[test]
fn an_sli_without_a_measurement_says_why() {
    let missing = report(
        &slo(0.99),
        Err(super::measure::MeasureError::NoSeries(
            "http_requests_total".into(),
        )),
    );
    assert_eq!(missing.compliance, None);
    assert_eq!(
        missing.problem.as_deref(),
        Some("`http_requests_total` matches no series with two samples in the run")
    );
    let promql = Slo {
        sli: Sli::Promql {
            events: "errors_total".into(),
            good: false,
            total: "requests_total".into(),
        },
        ..slo(0.99)
    };
    let results = crate::record::RunResults::merge(&[]);
    let r = &evaluate(&[promql], &results, None)[0];
    assert_eq!(r.problem.as_deref(), Some("a PromQL SLI needs `metrics`"));
}
