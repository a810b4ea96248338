//! The writer against a receiver on 127.0.0.1 that answers as told: what
//! arrives, in which order, retried or not.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::telemetry::wire;

/// A request's status as answered, its headers asked for, its body.
type Received = (u16, Vec<String>, WriteRequest);

/// Answers each request with the next status (then 204), keeping what
/// came: its headers' values asked for and the decoded request.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

fn receiver(statuses: &[u16]) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let mut statuses: VecDeque<u16> = statuses.iter().copied().collect();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                for name in [
                    "content-encoding",
                    "content-type",
                    "x-prometheus-remote-write-version",
                ] {
                    if lower.starts_with(name) {
                        headers.push(lower.trim().to_string());
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = statuses.pop_front().unwrap_or(204);
            keep.lock()
                .unwrap()
                .push((status, headers, wire::decode(&body)));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    Receiver { url, got }
}

const ONE: &str = "# TYPE x counter\nx_total{a=\"1\"} 5\n# TYPE g gauge\ng 1\n# EOF\n";
const TWO: &str =
    "# TYPE x counter\nx_total{a=\"1\"} 9\nx_total{a=\"2\"} 4\n# TYPE g gauge\ng 0\n# EOF\n";

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

fn labels(series: &TimeSeries) -> Vec<(String, String)> {
    series
        .labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

fn wait_for(receiver: &Receiver, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.got.lock().unwrap().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn snapshots_go_in_order_with_a_zero_before_each_new_counter_then_stale_markers() {
    // The first try of the first snapshot fails twice: it is retried.
    let receiver = receiver(&[503, 503]);
    let writer = RemoteWriter::start(&receiver.url).unwrap();
    writer.push(ONE.into(), at(1_000));
    wait_for(&receiver, 3);
    let stats = writer.finish(TWO.into(), at(2_000), Duration::from_secs(10));
    assert_eq!(
        (stats.retries, stats.requests_sent, stats.snapshots_unsent),
        (2, 3, 0),
        "{stats:?}"
    );
    assert_eq!(stats.samples_sent, 2 + 4 + 3, "{stats:?}");
    let got = receiver.got.lock().unwrap();
    let statuses: Vec<u16> = got.iter().map(|g| g.0).collect();
    assert_eq!(statuses, [503, 503, 204, 204, 204]);
    assert_eq!(
        got[0].1,
        [
            "content-encoding: snappy",
            "content-type: application/x-protobuf",
            "x-prometheus-remote-write-version: 0.1.0"
        ]
    );
    // The retried request is the same request.
    assert_eq!(got[0].2, got[2].2);
    let first = &got[2].2.timeseries;
    assert_eq!(
        labels(&first[0]),
        [
            ("__name__".to_string(), "x_total".to_string()),
            ("a".into(), "1".into())
        ]
    );
    assert_eq!(
        first[0].samples,
        [Sample {
            value: 5.0,
            timestamp: 1_000
        }]
    );
    // The second snapshot: a counter seen before, a new one starting from
    // zero at the snapshot before, a gauge.
    let second = &got[3].2.timeseries;
    assert_eq!(
        second[0].samples,
        [Sample {
            value: 9.0,
            timestamp: 2_000
        }]
    );
    assert_eq!(
        second[1].samples,
        [
            Sample {
                value: 0.0,
                timestamp: 1_000
            },
            Sample {
                value: 4.0,
                timestamp: 2_000
            }
        ]
    );
    assert_eq!(
        second[2].samples,
        [Sample {
            value: 0.0,
            timestamp: 2_000
        }]
    );
    // Then every series, stale just after the last snapshot.
    let stale = &got[4].2.timeseries;
    assert_eq!(stale.len(), 3);
    for series in stale {
        assert_eq!(series.samples.len(), 1);
        assert!(crate::metrics::store::is_stale(series.samples[0].value));
        assert_eq!(series.samples[0].timestamp, 2_001);
    }
}

#[test]
fn a_refused_snapshot_is_counted_and_not_sent_again() {
    let receiver = receiver(&[400]);
    let writer = RemoteWriter::start(&receiver.url).unwrap();
    writer.push(ONE.into(), at(1_000));
    let stats = writer.finish(TWO.into(), at(2_000), Duration::from_secs(10));
    assert_eq!(
        (stats.samples_rejected, stats.retries, stats.requests_sent),
        (2, 0, 2),
        "{stats:?}"
    );
    assert_eq!(stats.last_error.as_deref(), Some("400 Bad Request"));
    assert_eq!(receiver.got.lock().unwrap().len(), 3);
}

#[test]
fn timestamps_only_increase_and_a_down_receiver_costs_the_oldest_snapshots() {
    // Nothing listens: every send fails at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let writer = RemoteWriter::start(&format!("http://127.0.0.1:{port}/api/v1/write")).unwrap();
    let big = "x".repeat(4 << 20);
    for _ in 0..6 {
        writer.push(big.clone(), at(5_000));
    }
    {
        let queue = lock(&writer.shared.0);
        let stamps: Vec<i64> = queue.snapshots.iter().map(|s| s.at_ms).collect();
        // 24 MiB asked for, 16 MiB kept: the oldest two after the one
        // being sent went.
        assert_eq!(stamps, [5_000, 5_003, 5_004, 5_005]);
        assert_eq!(queue.stats.snapshots_dropped, 2);
    }
    let started = Instant::now();
    let stats = writer.finish(String::new(), at(0), Duration::from_millis(600));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.samples_sent, 0);
    assert!(stats.retries >= 1, "{stats:?}");
    assert!(stats.snapshots_unsent >= 1, "{stats:?}");
}
