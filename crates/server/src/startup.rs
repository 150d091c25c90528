//! Building and running the server: `Application::build` binds the listener
//! (port 0 in tests), `run_until_stopped` serves until the shutdown signal.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::serve::Limits;
use crate::state::AppState;

/// How long a stop may take before open connections are dropped.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(8);

pub struct Application {
    listener: TcpListener,
    port: u16,
    /// The internal listener for `/metrics`, when configured.
    metrics: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Connects (lazily) to the database, binds the HTTP listener and starts
    /// creating indexes in the background, retrying until the database answers.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        settings.resolve_instance_id()?;
        if settings.stripe_configured() && settings.stripe_webhook_secrets().is_empty() {
            anyhow::bail!(
                "STREAMSHARE_STRIPE_SECRET_KEY is set but STREAMSHARE_STRIPE_WEBHOOK_SECRET is not: \
                 without the webhook's signing secret no payment could ever be credited \
                 (see docs/payments.md)"
            );
        }
        let secret = settings.resolve_jwt_secret()?;
        let mediamtx = crate::mediamtx::Plane::from_settings(&settings)?;
        let db = Db::new(
            settings.mongodb_uri()?,
            &settings.db_name,
            Duration::from_secs(settings.db_timeout_secs.max(1)),
        )
        .await
        .context("reading STREAMSHARE_MONGODB_URI")?;
        let listener = TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("binding {}", settings.http_addr))?;
        let port = listener.local_addr()?.port();
        let metrics = match settings.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding STREAMSHARE_METRICS_ADDR {addr}"))?,
            ),
            None => None,
        };
        let cluster = crate::cluster::Cluster::start(&settings).await?;
        let (media, media_events) = crate::media::Media::start(&settings).await?;
        let state = AppState::new(db, settings, &secret, Some(media), cluster);
        if let Some(plane) = mediamtx {
            state.set_mediamtx(plane);
        }
        tokio::spawn(create_indexes(state.clone()));
        tokio::spawn(crate::room_media::run_events(state.clone(), media_events));
        tokio::spawn(crate::cascade::run(state.clone()));
        tokio::spawn(crate::private::run(state.clone()));
        tokio::spawn(crate::metrics::refresh_forever(state.clone()));
        Ok(Self {
            listener,
            port,
            metrics,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The internal metrics port, when `STREAMSHARE_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Serves until `shutdown` completes; then tells clients, ends live
    /// sessions, closes sockets, finishes in-flight requests, and returns
    /// within `SHUTDOWN_LIMIT` whatever is still open.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
        let state = self.state.clone();
        let notify = stopping.clone();
        let signal = async move {
            shutdown.await;
            notify.notify_one();
            tracing::info!("stopping: telling clients and ending live sessions");
            let _ =
                tokio::time::timeout(SHUTDOWN_LIMIT / 2, crate::realtime::shut_down(&state)).await;
        };
        let realtime = crate::realtime::layer(&self.state)
            .await
            .map_err(std::io::Error::other)?;
        crate::realtime::follow_database(&self.state);
        tokio::spawn(crate::push::follow_notices(self.state.clone()));
        tokio::spawn(crate::realtime::keep_lease(self.state.clone()));
        tokio::spawn(crate::presence::flush_forever(self.state.clone()));
        let app = with_middleware(crate::routes::app(self.state.clone()).layer(realtime))
            .layer(instance_header(&self.state.cluster.instance));
        let settings = &self.state.settings;
        let limits = Limits {
            header_timeout: Duration::from_secs(settings.header_timeout_secs.max(1)),
            per_address: settings.max_connections_per_ip,
            exempt: self.state.proxies.clone(),
        };
        if let Some(listener) = self.metrics {
            let internal = crate::routes::internal(self.state.clone());
            let limits = limits.clone();
            tokio::spawn(async move {
                let stopped =
                    crate::serve::serve(listener, internal, limits, std::future::pending());
                if let Err(err) = stopped.await {
                    tracing::error!(error = %err, "the metrics listener stopped");
                }
            });
        }
        tracing::info!(port = self.port, "listening");
        let server = crate::serve::serve(self.listener, app, limits, signal);
        tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_LIMIT).await;
            } => {
                tracing::warn!("connections still open after {SHUTDOWN_LIMIT:?}; stopping anyway");
                Ok(())
            }
        }
    }
}

async fn create_indexes(state: AppState) {
    let mut pause = Duration::from_millis(200);
    loop {
        match state.db.ensure_indexes().await {
            Ok(()) => {
                // Alone, sockets do not survive a restart: nobody is
                // watching yet. In a cluster, other instances' viewers are
                // left alone; dead instances are reaped by lease instead.
                if state.cluster.enabled() {
                    crate::realtime::reap_dead(&state).await;
                } else if let Err(err) = crate::presence::reset_all(&state).await {
                    tracing::warn!(error = ?err, "could not reset presence");
                }
                // What a stop without ending its sessions left behind: live
                // rooms with no publisher, ended sessions not yet settled.
                if let Err(err) = crate::room_media::orphaned_sessions(&state).await {
                    tracing::warn!(error = ?err, "could not check live rooms");
                }
                if let Err(err) = crate::refunds::settle_unsettled(&state).await {
                    tracing::warn!(error = ?err, "could not settle refunds");
                }
                state.mark_indexes_ready();
                tracing::info!("database indexes ready");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, "creating indexes failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Every answer names the instance that gave it (`X-StreamShare-Instance`),
/// so a cluster's operator (and its tests) can tell where a request went.
fn instance_header(instance: &str) -> tower_http::set_header::SetResponseHeaderLayer<HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::HeaderName::from_static("x-streamshare-instance"),
        HeaderValue::from_str(instance).unwrap_or(HeaderValue::from_static("invalid")),
    )
}

#[derive(Clone, Default)]
struct CountingRequestId(std::sync::Arc<AtomicU64>);

impl MakeRequestId for CountingRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:x}-{n}", std::process::id());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

fn with_middleware(router: Router) -> Router {
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(CountingRequestId::default()))
}

/// A bug must not take the server down, and the client still gets JSON.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let mut response = ApiError::internal(anyhow::anyhow!("a handler panicked")).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    debug_assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The REST API's OpenAPI document (for `streamshare openapi`).
pub fn api_document() -> &'static crate::routes::docs::Rendered {
    crate::routes::docs::document()
}
