//! What a real Prometheus says about itself, beyond query answers: its
//! scrape and evaluation intervals (`/api/v1/status/config`), its rule
//! groups with their intervals and last evaluations (`/api/v1/rules`), and
//! the wait after a run until it has scraped and evaluated past the run's
//! end — sized from those, not fixed.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::{BackendError, Prometheus, QueryBackend};

/// One rule group as `/api/v1/rules` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub interval_ms: i64,
    /// ms since the epoch; None before its first evaluation.
    pub last_evaluation_ms: Option<i64>,
    /// The `alert:` names of its alerting rules.
    pub alerts: Vec<String>,
}

/// `global.scrape_interval` and `global.evaluation_interval` of the
/// loaded configuration, in ms (Prometheus's default: 1m each).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intervals {
    pub scrape_ms: i64,
    pub evaluation_ms: i64,
}

/// The group holding alert `name`, if any.
pub fn group_of<'g>(groups: &'g [RuleGroup], name: &str) -> Option<&'g RuleGroup> {
    groups.iter().find(|g| g.alerts.iter().any(|a| a == name))
}

impl Prometheus {
    /// The rule groups, from `/api/v1/rules?type=alert`.
    pub fn rule_groups(&self) -> Result<Vec<RuleGroup>, BackendError> {
        let data = self.get("/api/v1/rules", &[])?;
        parse_groups(&data)
    }

    /// The global intervals of the configuration it runs.
    pub fn intervals(&self) -> Result<Intervals, BackendError> {
        let data = self.get("/api/v1/status/config", &[])?;
        let yaml = data["yaml"]
            .as_str()
            .ok_or_else(|| super::prometheus::bad("`data.yaml` is not a string"))?;
        Ok(parse_intervals(yaml))
    }
}

pub(crate) fn parse_groups(data: &Json) -> Result<Vec<RuleGroup>, BackendError> {
    let bad = super::prometheus::bad;
    let groups = data["groups"]
        .as_array()
        .ok_or_else(|| bad("`groups` is not a list"))?;
    groups
        .iter()
        .map(|g| {
            let interval_s = g["interval"]
                .as_f64()
                .ok_or_else(|| bad("a rule group's `interval` is not a number"))?;
            let alerts = g["rules"]
                .as_array()
                .map(|rules| {
                    rules
                        .iter()
                        .filter(|r| r["type"] == "alerting")
                        .filter_map(|r| r["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Ok(RuleGroup {
                name: g["name"].as_str().unwrap_or_default().to_string(),
                interval_ms: (interval_s * 1000.0).round() as i64,
                last_evaluation_ms: g["lastEvaluation"].as_str().and_then(rfc3339_ms),
                alerts,
            })
        })
        .collect()
}

/// `2026-12-03T11:41:32.123456789Z` (or with a `+01:00` offset) as ms
/// since the epoch. Prometheus writes `0001-01-01T00:00:00Z` for "never
/// evaluated": anything before 1970 is None.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    if y < 1970 {
        return None;
    }
    // The offset: `Z`, or `+hh:mm` / `-hh:mm` after the seconds.
    let (clock, offset_s) = match time.find(['Z', '+', '-']) {
        Some(i) if &time[i..] == "Z" => (&time[..i], 0),
        Some(i) => {
            let sign = if time[i..].starts_with('-') { -1 } else { 1 };
            let (h, min) = time[i + 1..].split_once(':')?;
            (
                &time[..i],
                sign * (h.parse::<i64>().ok()? * 3600 + min.parse::<i64>().ok()? * 60),
            )
        }
        None => (time, 0),
    };
    let mut hms = clock.splitn(3, ':');
    let (h, min) = (
        hms.next()?.parse::<i64>().ok()?,
        hms.next()?.parse::<i64>().ok()?,
    );
    let seconds: f64 = hms.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let whole = days * 86_400 + h * 3600 + min * 60 - offset_s;
    Some(whole * 1000 + (seconds * 1000.0).round() as i64)
}

/// The two global intervals out of the configuration's YAML text: only
/// the `global:` block's own keys are read (a job's `scrape_interval`
/// is indented deeper and is not the global one).
pub(crate) fn parse_intervals(yaml: &str) -> Intervals {
    let mut intervals = Intervals {
        scrape_ms: 60_000,
        evaluation_ms: 60_000,
    };
    let mut in_global = false;
    let mut key_indent: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 0 {
            in_global = text == "global:";
            key_indent = None;
            continue;
        }
        if !in_global || *key_indent.get_or_insert(indent) != indent {
            continue;
        }
        let Some((key, value)) = text.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let Some(ms) = crate::units::parse_duration(value)
            .ok()
            .map(|d| d.as_millis() as i64)
        else {
            continue;
        };
        match key.trim() {
            "scrape_interval" => intervals.scrape_ms = ms,
            "evaluation_interval" => intervals.evaluation_ms = ms,
            _ => {}
        }
    }
    intervals
}

/// The longest wait after a run, whatever the Prometheus says.
const WAIT_CAP: Duration = Duration::from_secs(180);
/// When the APIs cannot be read.
const FALLBACK_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(250);

/// Waits until every rule group holding one of `alerts` (every group, if
/// `alerts` is empty) has been evaluated after `end` (ms) plus the scrape
/// interval — so the run's last scrape is in, and an evaluation has seen
/// it. Bounded by scrape interval + longest group interval + 5 s, never
/// over 3 minutes; says on stderr what it waits for when that is over 3 s.
/// Returns the groups as last read (empty if they could not be read).
pub fn settle(prometheus: &Prometheus, end: i64, alerts: &[&str]) -> Vec<RuleGroup> {
    let (intervals, groups) = match (prometheus.intervals(), prometheus.rule_groups()) {
        (Ok(i), Ok(g)) => (i, g),
        (i, g) => {
            let why = i
                .err()
                .or(g.err())
                .map(|e| e.to_string())
                .unwrap_or_default();
            crate::events::say(&format!(
                "note: cannot read {}'s configuration or rules ({why}); waiting {} s before reading it back",
                prometheus.describe(),
                FALLBACK_WAIT.as_secs()
            ));
            std::thread::sleep(FALLBACK_WAIT);
            return Vec::new();
        }
    };
    let watched = |groups: &[RuleGroup]| -> Vec<RuleGroup> {
        groups
            .iter()
            .filter(|g| alerts.is_empty() || g.alerts.iter().any(|a| alerts.contains(&a.as_str())))
            .cloned()
            .collect()
    };
    let longest_group = watched(&groups)
        .iter()
        .map(|g| g.interval_ms)
        .max()
        .unwrap_or(0);
    let past = end + intervals.scrape_ms;
    let bound = wait_bound(intervals, longest_group);
    // The wait is counted from the run's end, not from now.
    let deadline_ms = end + bound.as_millis() as i64;
    let now = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
    let budget = Duration::from_millis((deadline_ms - now).max(0) as u64);
    if budget > Duration::from_secs(3) {
        crate::events::say(&format!(
            "waiting up to {} s for Prometheus to scrape and evaluate past the run's end",
            budget.as_secs().max(1)
        ));
    }
    let started = Instant::now();
    let mut latest = groups;
    // Bounded: at most `budget / POLL` polls.
    for _ in 0..=(budget.as_millis() / POLL.as_millis()) {
        let now = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
        let done = now >= past
            && watched(&latest)
                .iter()
                .all(|g| g.last_evaluation_ms.is_some_and(|t| t > past));
        if done || started.elapsed() >= budget {
            break;
        }
        std::thread::sleep(POLL);
        if let Ok(groups) = prometheus.rule_groups() {
            latest = groups;
        }
    }
    latest
}

/// How long after the run's end [`settle`] waits at most: one scrape
/// interval and the longest watched group's interval, 5 s more, capped at
/// [`WAIT_CAP`].
fn wait_bound(intervals: Intervals, longest_group_ms: i64) -> Duration {
    let bound = Duration::from_millis((intervals.scrape_ms + longest_group_ms).max(0) as u64)
        + Duration::from_secs(5);
    bound.min(WAIT_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_a_scrape_and_a_group_interval_capped_at_three_minutes() {
        let at = |scrape_s: i64, group_s: i64| {
            let intervals = Intervals {
                scrape_ms: scrape_s * 1000,
                evaluation_ms: 0,
            };
            wait_bound(intervals, group_s * 1000)
        };
        assert_eq!(at(15, 15), Duration::from_secs(35));
        assert_eq!(at(1, 0), Duration::from_secs(6));
        assert_eq!(at(60, 115), Duration::from_secs(180));
        assert_eq!(at(300, 300), WAIT_CAP);
        assert_eq!(at(3600, 0), Duration::from_secs(180));
    }

    /// A server that answers every request 404, as a query endpoint that
    /// is not Prometheus (no `/api/v1/status/config`) does; bounded to 20
    /// connections.
    fn not_prometheus() -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(20) {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        addr
    }

    #[test]
    fn without_the_config_and_rules_apis_the_wait_is_the_fallback() {
        let addr = not_prometheus();
        let prometheus = Prometheus::new(&format!("http://{addr}")).unwrap();
        let end = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
        let started = Instant::now();
        let groups = settle(&prometheus, end, &["Anything"]);
        let waited = started.elapsed();
        assert!(groups.is_empty());
        assert!(
            waited >= FALLBACK_WAIT && waited < FALLBACK_WAIT + Duration::from_secs(3),
            "waited {waited:?}"
        );
    }

    #[test]
    fn global_intervals_only_from_the_global_block() {
        let yaml = "global:\n  scrape_interval: 15s\n  evaluation_interval: 30s\n  external_labels:\n    scrape_interval: 1s\nscrape_configs:\n- job_name: x\n  scrape_interval: 2s\n";
        assert_eq!(
            parse_intervals(yaml),
            Intervals {
                scrape_ms: 15_000,
                evaluation_ms: 30_000
            }
        );
        assert_eq!(parse_intervals("scrape_configs: []\n").scrape_ms, 60_000);
    }

    #[test]
    fn groups_with_their_alerts_and_last_evaluation() {
        let data: Json = serde_json::from_str(
            r#"{"groups":[{"name":"demo","interval":15,"lastEvaluation":"2026-12-03T11:41:32.5Z",
            "rules":[{"type":"alerting","name":"Errors"},{"type":"recording","name":"r"}]},
            {"name":"never","interval":0.5,"lastEvaluation":"0001-01-01T00:00:00Z","rules":[]}]}"#,
        )
        .unwrap();
        let groups = parse_groups(&data).unwrap();
        assert_eq!(groups[0].interval_ms, 15_000);
        assert_eq!(groups[0].alerts, vec!["Errors".to_string()]);
        assert_eq!(groups[0].last_evaluation_ms, Some(1_796_298_092_500));
        assert_eq!(groups[1].interval_ms, 500);
        assert_eq!(groups[1].last_evaluation_ms, None);
        assert_eq!(
            rfc3339_ms("2026-12-03T12:41:32.123456789+01:00"),
            Some(1_796_298_092_123)
        );
        assert_eq!(
            group_of(&groups, "Errors").map(|g| g.name.as_str()),
            Some("demo")
        );
    }
}
