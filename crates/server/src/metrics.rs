//! Prometheus metrics at `/metrics` (text exposition format 0.0.4): HTTP
//! requests and latency by route, payments by outcome, live rooms, media
//! peers and forwarded traffic, socket connections, chat messages.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mongodb::bson::doc;

use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

/// The counters; one per process.
#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → requests.
    requests: Mutex<HashMap<(String, String, u16), u64>>,
    /// route → latency histogram.
    latency: Mutex<HashMap<String, Histogram>>,
    /// outcome → payments.
    payments: Mutex<HashMap<&'static str, u64>>,
    pub sockets: AtomicI64,
    pub chat_messages: AtomicU64,
}

impl Metrics {
    /// Counts a stream-join by outcome (`paid`, `already_paid`, `free`, or
    /// the refusal's code).
    pub fn payment(&self, outcome: &'static str) {
        *self
            .payments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }

    fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry(route.to_owned()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.total += 1;
    }
}

/// Middleware: counts every request by its route template (not its raw
/// path, so ids do not explode the label set).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            if request.uri().path().starts_with("/api") {
                "/api/*unknown"
            } else {
                "/*web"
            }
            .to_owned()
        });
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The method as a label: the standard ones by name, anything made up as
/// `OTHER`, so a client cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    // The version lives here, on the internal endpoint, not in the public
    // health answer.
    let _ = writeln!(
        out,
        "# HELP streamshare_build_info The running version.\n# TYPE streamshare_build_info gauge\nstreamshare_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "# HELP streamshare_http_requests_total HTTP requests by method, route and status.\n",
    );
    out.push_str("# TYPE streamshare_http_requests_total counter\n");
    for ((method, route, status), n) in m.requests.lock().unwrap_or_else(|p| p.into_inner()).iter()
    {
        let _ = writeln!(
            out,
            "streamshare_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
            escape(method),
            escape(route)
        );
    }
    out.push_str("# HELP streamshare_http_request_duration_seconds HTTP latency by route.\n");
    out.push_str("# TYPE streamshare_http_request_duration_seconds histogram\n");
    for (route, h) in m.latency.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let route = escape(route);
        for (bound, count) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(
                out,
                "streamshare_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "streamshare_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
            h.total
        );
        let _ = writeln!(
            out,
            "streamshare_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "streamshare_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
            h.total
        );
    }
    out.push_str("# HELP streamshare_payments_total Stream-join payments by outcome.\n");
    out.push_str("# TYPE streamshare_payments_total counter\n");
    for (outcome, n) in m.payments.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = writeln!(
            out,
            "streamshare_payments_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        &mut out,
        "streamshare_socket_connections",
        "Open Socket.IO connections.",
        "gauge",
        m.sockets.load(Ordering::Relaxed).to_string(),
    );
    gauge(
        &mut out,
        "streamshare_chat_messages_total",
        "Chat messages sent.",
        "counter",
        m.chat_messages.load(Ordering::Relaxed).to_string(),
    );
    if let Ok(live) = state
        .db
        .rooms()
        .count_documents(doc! { "status": "live" })
        .await
    {
        gauge(
            &mut out,
            "streamshare_live_rooms",
            "Rooms live now.",
            "gauge",
            live.to_string(),
        );
    }
    if let Some(media) = state.media() {
        let stats = media.sfu.stats().await;
        gauge(
            &mut out,
            "streamshare_media_publishers",
            "Publishing peers.",
            "gauge",
            stats.publishers.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_cascade_upstreams",
            "Upstreams open on this instance: rooms pulled from their media home on another instance.",
            "gauge",
            stats.upstreams.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_media_subscribers",
            "Subscribing peers.",
            "gauge",
            stats.subscribers.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_media_packets_in_total",
            "RTP packets received from publishers.",
            "counter",
            stats.packets_in.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_media_forwarded_packets_total",
            "RTP packets forwarded to subscribers.",
            "counter",
            stats.packets_out.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_media_forwarded_bytes_total",
            "RTP payload bytes forwarded to subscribers.",
            "counter",
            stats.bytes_out.to_string(),
        );
        gauge(
            &mut out,
            "streamshare_media_send_drops_total",
            "Outgoing media datagrams the kernel refused (full send buffer, unreachable peer).",
            "counter",
            stats.send_drops.to_string(),
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
