//! What `/metrics` exports, in the Prometheus text format 0.0.4 written by
//! `prometheus-client`: HTTP requests and latency by route template,
//! Socket.IO connections and events, payments, chat, live rooms, the media
//! plane per SFU shard, process and Tokio runtime figures, and the build.
//!
//! Label values come only from fixed sets (route templates, standard
//! methods, status codes, registered event names, payment outcomes, shard
//! numbers), so no client can grow the output. A scrape reads memory only:
//! counters live here, the SFU answers from its loops' counters, and the one
//! figure held in the database (live rooms) is recounted in the background
//! ([`refresh_forever`]), so `/metrics` answers while the database is down.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mongodb::bson::doc;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use streamshare_sfu::SfuStats;

use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How often the live-room gauge is recounted from the database.
pub const REFRESH: Duration = Duration::from_secs(5);

/// One HTTP request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The matched route template (`/api/rooms/{id}`), or one shared value
    /// per area for a path no route matched.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShardLabels {
    shard: usize,
}

type LatencyFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

/// The label of Socket.IO events nobody registered.
pub const OTHER_EVENT: &str = "other";

/// The metrics of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: LatencyFamily,
    payments: Family<OutcomeLabels, Counter>,
    socket_events: Family<EventLabels, Counter>,
    sockets: Gauge,
    chat_messages: Counter,
    live_rooms: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "streamshare_http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register_with_unit(
            "streamshare_http_request_duration",
            "HTTP latency by method, route template and status",
            Unit::Seconds,
            latency.clone(),
        );
        let payments = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "streamshare_payments",
            "Stream-join payments by outcome",
            payments.clone(),
        );
        let sockets = Gauge::default();
        registry.register(
            "streamshare_socket_connections",
            "Open Socket.IO connections",
            sockets.clone(),
        );
        let socket_events = Family::<EventLabels, Counter>::default();
        registry.register(
            "streamshare_socket_events",
            "Socket.IO events received, by event name (unregistered names are \"other\")",
            socket_events.clone(),
        );
        let chat_messages = Counter::default();
        registry.register(
            "streamshare_chat_messages",
            "Chat messages sent",
            chat_messages.clone(),
        );
        let live_rooms = Gauge::default();
        registry.register(
            "streamshare_live_rooms",
            "Rooms live now (all instances; recounted every few seconds)",
            live_rooms.clone(),
        );
        registry.register(
            "streamshare_build",
            "The running version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register_collector(Box::new(ProcessCollector));
        registry.register_collector(Box::new(RuntimeCollector));
        Self {
            registry,
            requests,
            latency,
            payments,
            socket_events,
            sockets,
            chat_messages,
            live_rooms,
        }
    }

    /// Counts a stream-join by outcome (`paid`, `already_paid`, `free`, or
    /// the refusal's code).
    pub fn payment(&self, outcome: &'static str) {
        self.payments
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn socket_opened(&self) {
        self.sockets.inc();
    }

    pub fn socket_closed(&self) {
        self.sockets.dec();
    }

    /// Counts a Socket.IO event received: `event` is a registered name (a
    /// `&'static str` from the code) or [`OTHER_EVENT`].
    pub fn socket_event(&self, event: &'static str) {
        self.socket_events
            .get_or_create(&EventLabels { event })
            .inc();
    }

    pub fn chat_message(&self) {
        self.chat_messages.inc();
    }

    fn request(&self, labels: HttpLabels, seconds: f64) {
        self.latency.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create_owned(&labels).inc();
    }

    /// Everything, with the media plane's figures of this moment.
    fn encode(&self, media: Option<&[SfuStats]>) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        if let Some(shards) = media {
            let mut now = Registry::default();
            now.register_collector(Box::new(MediaCollector(shards.to_vec())));
            let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &now);
        }
        out
    }
}

/// Middleware: times every request by its route template (never its raw
/// path, so ids and made-up paths cannot explode the label set).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None => unmatched_route(request.uri().path()).to_owned(),
    };
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state
        .metrics
        .request(labels, started.elapsed().as_secs_f64());
    response
}

/// The route label of a path no route template matched: one value per
/// area (API 404s, static assets, pages of the web app).
fn unmatched_route(path: &str) -> &'static str {
    if path == "/api" || path.starts_with("/api/") {
        "/api/*unknown"
    } else if path.starts_with("/assets/") {
        "/assets/*file"
    } else if path == "/internal" || path.starts_with("/internal/") {
        "/internal/*unknown"
    } else {
        "/*web"
    }
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

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let media = match state.media() {
        Some(media) => Some(media.sfu.shard_stats().await),
        None => None,
    };
    let body = state.metrics.encode(media.as_deref());
    (
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        body,
    )
        .into_response()
}

/// Recounts the live rooms every [`REFRESH`]; a failed count keeps the last
/// value (and the scrape never waits for the database).
pub async fn refresh_forever(state: AppState) {
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state
            .db
            .rooms()
            .count_documents(doc! { "status": "live" })
            .await
        {
            Ok(live) => {
                state
                    .metrics
                    .live_rooms
                    .set(i64::try_from(live).unwrap_or(i64::MAX));
            }
            Err(err) => tracing::debug!(error = %err, "could not count live rooms"),
        }
    }
}

/// Writes one unlabelled gauge or counter.
fn single(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, unit, value.metric_type())?;
    value.encode(metric)
}

/// Writes one metric with a value per shard.
fn per_shard<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    values: impl Iterator<Item = M>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (shard, value) in values.enumerate() {
        value.encode(metric.encode_family(&ShardLabels { shard })?)?;
    }
    Ok(())
}

/// A per-shard figure: its name, help text and how it is read.
type ShardFigure<T> = (&'static str, &'static str, fn(&SfuStats) -> T);

/// The media plane, per SFU shard (a room and all its peers live on one
/// shard's loop), from the counters the loops keep.
#[derive(Debug)]
struct MediaCollector(Vec<SfuStats>);

impl Collector for MediaCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let shards = &self.0;
        let gauges: [ShardFigure<usize>; 4] = [
            ("streamshare_media_peers", "Media peers alive", |s| s.peers),
            ("streamshare_media_publishers", "Publishing peers", |s| {
                s.publishers
            }),
            ("streamshare_media_subscribers", "Subscribing peers", |s| {
                s.subscribers
            }),
            (
                "streamshare_cascade_upstreams",
                "Upstreams open on this instance: rooms pulled from their media home on another instance",
                |s| s.upstreams,
            ),
        ];
        for (name, help, value) in gauges {
            let values = shards.iter().map(|s| ConstGauge::new(value(s) as i64));
            per_shard(&mut encoder, name, help, MetricType::Gauge, values)?;
        }
        let counters: [ShardFigure<u64>; 4] = [
            (
                "streamshare_media_packets_in",
                "RTP packets received from publishers",
                |s| s.packets_in,
            ),
            (
                "streamshare_media_forwarded_packets",
                "RTP packets forwarded to subscribers",
                |s| s.packets_out,
            ),
            (
                "streamshare_media_forwarded_bytes",
                "RTP payload bytes forwarded to subscribers",
                |s| s.bytes_out,
            ),
            (
                "streamshare_media_send_drops",
                "Outgoing media datagrams the kernel refused (full send buffer, unreachable peer)",
                |s| s.send_drops,
            ),
        ];
        for (name, help, value) in counters {
            let values = shards.iter().map(|s| ConstCounter::new(value(s)));
            per_shard(&mut encoder, name, help, MetricType::Counter, values)?;
        }
        Ok(())
    }
}

/// The Tokio runtime serving the scrape: its stable figures.
#[derive(Debug)]
struct RuntimeCollector;

impl Collector for RuntimeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let m = handle.metrics();
        let workers = m.num_workers();
        let busy: Duration = (0..workers).map(|w| m.worker_total_busy_duration(w)).sum();
        single(
            &mut encoder,
            "streamshare_tokio_workers",
            "Worker threads of the Tokio runtime",
            None,
            ConstGauge::new(workers as i64),
        )?;
        single(
            &mut encoder,
            "streamshare_tokio_alive_tasks",
            "Tasks alive in the Tokio runtime",
            None,
            ConstGauge::new(m.num_alive_tasks() as i64),
        )?;
        single(
            &mut encoder,
            "streamshare_tokio_global_queue_depth",
            "Tasks waiting in the Tokio runtime's global queue",
            None,
            ConstGauge::new(m.global_queue_depth() as i64),
        )?;
        single(
            &mut encoder,
            "streamshare_tokio_worker_busy",
            "Time the Tokio workers spent busy, summed over workers",
            Some(&Unit::Seconds),
            ConstCounter::new(busy.as_secs_f64()),
        )
    }
}

/// The process, read from `/proc` at each scrape (Linux; elsewhere these
/// are left out). Names as Prometheus' own clients export them.
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(p) = process::read() else {
            return Ok(());
        };
        single(
            &mut encoder,
            "process_cpu",
            "User and system CPU time spent",
            Some(&Unit::Seconds),
            ConstCounter::new(p.cpu_seconds),
        )?;
        single(
            &mut encoder,
            "process_resident_memory",
            "Resident memory size",
            Some(&Unit::Bytes),
            ConstGauge::new(p.resident_bytes as i64),
        )?;
        single(
            &mut encoder,
            "process_virtual_memory",
            "Virtual memory size",
            Some(&Unit::Bytes),
            ConstGauge::new(p.virtual_bytes as i64),
        )?;
        single(
            &mut encoder,
            "process_open_fds",
            "Open file descriptors",
            None,
            ConstGauge::new(p.open_fds as i64),
        )?;
        if let Some(max) = p.max_fds {
            single(
                &mut encoder,
                "process_max_fds",
                "Most file descriptors the process may open",
                None,
                ConstGauge::new(max as i64),
            )?;
        }
        single(
            &mut encoder,
            "process_start_time",
            "Start time of the process since the Unix epoch",
            Some(&Unit::Seconds),
            ConstGauge::new(p.start_time_seconds),
        )
    }
}

/// A small `/proc/self` reader (proc(5)).
mod process {
    /// The figures of one moment.
    pub struct Figures {
        pub cpu_seconds: f64,
        pub resident_bytes: u64,
        pub virtual_bytes: u64,
        pub open_fds: usize,
        pub max_fds: Option<u64>,
        pub start_time_seconds: f64,
    }

    #[cfg(target_os = "linux")]
    pub fn read() -> Option<Figures> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields = stat_fields(&stat)?;
        // SAFETY: sysconf only reads a configuration value.
        let (ticks, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
        let page = u64::try_from(page).unwrap_or(4096);
        // proc(5) numbers the fields from 1: utime 14, stime 15,
        // starttime 22, vsize 23, rss 24; `fields` starts at field 3.
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())?;
        Some(Figures {
            cpu_seconds: (field(14)? + field(15)?) as f64 / ticks,
            resident_bytes: field(24)? * page,
            virtual_bytes: field(23)?,
            open_fds: std::fs::read_dir("/proc/self/fd").ok()?.count(),
            max_fds: std::fs::read_to_string("/proc/self/limits")
                .ok()
                .and_then(|l| max_open_files(&l)),
            start_time_seconds: boot as f64 + field(22)? as f64 / ticks,
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn read() -> Option<Figures> {
        None
    }

    /// The fields after the command name (which may hold spaces and
    /// parentheses, so it ends at the last `)`), from field 3 (`state`).
    pub fn stat_fields(stat: &str) -> Option<Vec<&str>> {
        let rest = &stat[stat.rfind(')')? + 1..];
        Some(rest.split_whitespace().collect())
    }

    /// The soft limit on open files from `/proc/self/limits`.
    pub fn max_open_files(limits: &str) -> Option<u64> {
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line["Max open files".len()..]
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_line_is_read_past_a_command_name_with_spaces_and_parentheses() {
        let stat =
            "42 (we (ird) name) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 9 0 1234 5000 300";
        let fields = process::stat_fields(stat).unwrap();
        assert_eq!(fields[0], "S");
        // utime (14) and stime (15), starttime (22), vsize (23), rss (24).
        assert_eq!(fields[14 - 3], "7");
        assert_eq!(fields[15 - 3], "3");
        assert_eq!(fields[22 - 3], "1234");
        assert_eq!(fields[23 - 3], "5000");
        assert_eq!(fields[24 - 3], "300");
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(process::max_open_files(limits), Some(1024));
    }

    #[test]
    fn unmatched_paths_share_one_label_per_area() {
        assert_eq!(unmatched_route("/api/nope/123"), "/api/*unknown");
        assert_eq!(unmatched_route("/api"), "/api/*unknown");
        assert_eq!(unmatched_route("/assets/x.js"), "/assets/*file");
        assert_eq!(unmatched_route("/internal/zz"), "/internal/*unknown");
        assert_eq!(unmatched_route("/apiary"), "/*web");
        assert_eq!(unmatched_route("/rooms/abc"), "/*web");
    }

    #[test]
    fn the_exposition_keeps_the_names_operators_rely_on() {
        let m = Metrics::new();
        m.payment("paid");
        m.socket_opened();
        m.socket_event("chat:send");
        m.socket_event(OTHER_EVENT);
        m.request(
            HttpLabels {
                method: "GET",
                route: "/api/rooms/{id}".into(),
                status: 200,
            },
            0.003,
        );
        let text = m.encode(Some(&[SfuStats::default(), SfuStats::default()]));
        for line in [
            "streamshare_payments_total{outcome=\"paid\"} 1",
            "streamshare_socket_connections 1",
            "streamshare_socket_events_total{event=\"chat:send\"} 1",
            "streamshare_socket_events_total{event=\"other\"} 1",
            "streamshare_http_requests_total{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\"} 1",
            "streamshare_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\",le=\"0.005\"} 1",
            "streamshare_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\",le=\"0.001\"} 0",
            "streamshare_media_publishers{shard=\"1\"} 0",
            "streamshare_media_send_drops_total{shard=\"0\"} 0",
            "# TYPE streamshare_media_forwarded_packets_total counter",
            "streamshare_chat_messages_total 0",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        assert!(text.contains(&format!(
            "streamshare_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
