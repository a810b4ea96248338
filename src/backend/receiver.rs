//! slogate's own webhook receiver: the end of the paging chain. A drill's
//! Alertmanager routes to it (`webhook_configs: [{url: http://ADDR/}]`), and
//! it records every notification as it arrives — which receiver it was
//! for, its status, group, and alerts — with its arrival time, so a drill
//! can check that the page went out, to whom, how fast, and with what.
//! Alertmanager's webhook payload (version 4) names the receiver, so one
//! address serves every receiver of a routing tree. It listens on loopback
//! unless told otherwise, keeps at most [`MAX_NOTIFICATIONS`], and reads
//! at most [`MAX_BODY`] bytes of each.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::oneshot;

/// The most notifications kept; later ones are counted, not kept.
pub(crate) const MAX_NOTIFICATIONS: usize = 10_000;
/// The largest notification read (Alertmanager's own are a few kB a
/// group; `max_alerts` bounds them).
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NotifiedAlert {
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// As Alertmanager wrote them (RFC 3339).
    pub starts_at: String,
    pub ends_at: String,
}

/// One notification, as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Notification {
    /// ms since the epoch.
    pub at: i64,
    pub receiver: String,
    /// `firing` (any alert firing) or `resolved`.
    pub status: String,
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    pub alerts: Vec<NotifiedAlert>,
    /// Alerts Alertmanager left out (`max_alerts`).
    pub truncated_alerts: u64,
}

impl Notification {
    /// The alerts of this notification named `alert` with `status`.
    pub(crate) fn alerts_named<'a>(
        &'a self,
        alert: &'a str,
        status: &'a str,
    ) -> impl Iterator<Item = &'a NotifiedAlert> + 'a {
        self.alerts.iter().filter(move |a| {
            a.status == status && a.labels.get("alertname").map(String::as_str) == Some(alert)
        })
    }
}

/// What the receiver got over a run.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Received {
    /// `http://ADDR/`: where Alertmanager was to send.
    pub url: String,
    pub notifications: Vec<Notification>,
    /// Notifications past [`MAX_NOTIFICATIONS`], not kept.
    pub dropped: u64,
    /// Requests that were not notifications (the first few, with why).
    pub problems: Vec<String>,
}

/// A running receiver; stops when dropped or [`Receiver::stop`]ped.
pub(crate) struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Received>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `listen` (port 0 picks one) on its own thread.
    pub(crate) fn start(listen: SocketAddr) -> anyhow::Result<Receiver> {
        let listener = std::net::TcpListener::bind(listen)
            .with_context(|| format!("webhook receiver: cannot listen on {listen}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Received {
            url: format!("http://{addr}/"),
            ..Received::default()
        }));
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let store = received.clone();
        let thread = std::thread::Builder::new()
            .name("slogate-receiver".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, store, stop_rx).await,
                        Err(e) => crate::events::say(&format!("webhook receiver: {e}")),
                    }
                });
            })?;
        Ok(Receiver {
            addr,
            received,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What has arrived so far.
    pub(crate) fn snapshot(&self) -> Received {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Stops listening; returns everything that arrived.
    pub(crate) fn stop(mut self) -> Received {
        self.shut_down();
        self.snapshot()
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shut_down();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    received: Arc<Mutex<Received>>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let received = received.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(received.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    received: Arc<Mutex<Received>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != hyper::Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "slogate's webhook receiver takes Alertmanager's POSTs\n",
        ));
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            let message = format!("a notification over {MAX_BODY} bytes, or cut short: {e}");
            note(&received, message);
            return Ok(reply(StatusCode::PAYLOAD_TOO_LARGE, "too large\n"));
        }
    };
    let at = crate::metrics::scrape::system_ms(std::time::SystemTime::now());
    match parse(&body, at) {
        Ok(notification) => {
            if let Ok(mut received) = received.lock() {
                if received.notifications.len() < MAX_NOTIFICATIONS {
                    received.notifications.push(notification);
                } else {
                    received.dropped += 1;
                }
            }
            Ok(reply(StatusCode::OK, "ok\n"))
        }
        Err(why) => {
            note(&received, why);
            Ok(reply(
                StatusCode::BAD_REQUEST,
                "not an Alertmanager webhook notification\n",
            ))
        }
    }
}

fn note(received: &Mutex<Received>, message: String) {
    if let Ok(mut received) = received.lock()
        && received.problems.len() < 5
        && !received.problems.contains(&message)
    {
        received.problems.push(message);
    }
}

fn reply(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

/// An Alertmanager webhook payload (version 4): the fields a drill judges.
pub(crate) fn parse(body: &[u8], at: i64) -> Result<Notification, String> {
    let json: Json = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let text = |value: &Json, key: &str| -> Result<String, String> {
        value[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no `{key}` string in the notification"))
    };
    let strings = |value: &Json| -> BTreeMap<String, String> {
        value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(alerts) = json["alerts"].as_array() else {
        return Err("no `alerts` list in the notification".into());
    };
    let alerts = alerts
        .iter()
        .map(|alert| {
            Ok(NotifiedAlert {
                status: text(alert, "status")?,
                labels: strings(&alert["labels"]),
                annotations: strings(&alert["annotations"]),
                starts_at: alert["startsAt"].as_str().unwrap_or_default().to_string(),
                ends_at: alert["endsAt"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Notification {
        at,
        receiver: text(&json, "receiver")?,
        status: text(&json, "status")?,
        group_key: json["groupKey"].as_str().unwrap_or_default().to_string(),
        group_labels: strings(&json["groupLabels"]),
        alerts,
        truncated_alerts: json["truncatedAlerts"].as_u64().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = r#"{"receiver":"pagerduty-critical","status":"firing",
        "alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate","severity":"critical"},
          "annotations":{"summary":"errors"},"startsAt":"2026-12-03T11:00:00Z",
          "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p/graph","fingerprint":"ab"}],
        "groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{},"commonAnnotations":{},
        "externalURL":"http://am","version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}",
        "truncatedAlerts":0}"#;

    #[test]
    fn reads_alertmanagers_webhook_payload() {
        let n = parse(PAYLOAD.as_bytes(), 7).unwrap();
        assert_eq!(n.receiver, "pagerduty-critical");
        assert_eq!(n.at, 7);
        assert_eq!(n.alerts_named("HighErrorRate", "firing").count(), 1);
        assert_eq!(n.alerts_named("HighErrorRate", "resolved").count(), 0);
        assert_eq!(n.alerts[0].annotations["summary"], "errors");
        assert_eq!(n.group_labels["alertname"], "HighErrorRate");
    }

    #[test]
    fn refuses_what_is_not_a_notification() {
        assert!(parse(b"[]", 0).unwrap_err().contains("alerts"));
        assert!(parse(b"{", 0).unwrap_err().contains("not JSON"));
        let no_receiver = PAYLOAD.replace("\"receiver\"", "\"r\"");
        assert!(
            parse(no_receiver.as_bytes(), 0)
                .unwrap_err()
                .contains("receiver")
        );
    }

    #[test]
    fn records_posts_over_http_and_counts_bad_ones() {
        let receiver = Receiver::start(([127, 0, 0, 1], 0).into()).unwrap();
        let client = crate::net::http_client(std::time::Duration::from_secs(5)).unwrap();
        let url = format!("http://{}/", receiver.addr());
        let ok = client.post(&url).body(PAYLOAD).send().unwrap();
        assert_eq!(ok.status(), 200);
        let bad = client.post(&url).body("nope").send().unwrap();
        assert_eq!(bad.status(), 400);
        let get = client.get(&url).send().unwrap();
        assert_eq!(get.status(), 405);
        let received = receiver.stop();
        assert_eq!(received.notifications.len(), 1);
        assert_eq!(received.problems.len(), 1, "{:?}", received.problems);
        assert!(received.url.ends_with('/'));
    }
}
