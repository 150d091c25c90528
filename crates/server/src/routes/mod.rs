//! The HTTP surface: `/api/*` routes, JSON 404/405 under `/api`, and the
//! web app with an SPA fallback for everything else.

pub mod auth;
pub mod coins;
pub mod creators;
pub mod docs;
pub mod health;
pub mod ledger;
pub mod media;
pub mod mediamtx;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod private;
pub mod rooms;
pub mod users;
pub mod whip;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's routes (under `/api`), each registered with its OpenAPI
/// operation (utoipa's `routes!` reads the method and path from the
/// handler's annotation). `settings` adds the layers that
/// depend on configuration (the media CORS policy); the document is built
/// without them.
pub fn api_routes(settings: Option<&Settings>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::openapi_yaml))
        .routes(routes!(docs::index))
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .nest("/auth", auth::router())
        .nest("/users", users::router())
        .nest("/creators", creators::router())
        .nest("/notifications", notifications::router())
        .routes(routes!(chat_settings))
        .nest("/rooms", rooms::router())
        .nest("/transactions", ledger::router())
        .nest("/private", private::router())
        .nest("/coins", coins::router())
        .nest("/payments", payments::router())
        .nest("/payouts", payouts::router())
        .nest("/media", media::router().merge(whip::router(settings)))
        .merge(mediamtx::router())
}

/// `/api`: the documented routes, Swagger UI's files, and JSON answers for
/// unknown paths and methods.
pub fn api_router(settings: &Settings) -> Router<AppState> {
    let (routes, _) = api_routes(Some(settings)).split_for_parts();
    routes
        .route("/docs/", get(docs::ui))
        .route("/docs/{*rest}", get(docs::ui))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// How the chat is shown
///
/// `linkDomains`: links to these domains (and their subdomains) are
/// shown as links; any other link is shown as plain text
/// (`STREAMSHARE_CHAT_LINK_DOMAINS`).
#[utoipa::path(
    get,
    path = "/chat/settings",
    tag = "community",
    operation_id = "getChatSettings",
    security(()),
    responses(
        (status = 200, description = "The chat's settings.", body = ref("#/components/schemas/ChatSettings"), content_type = "application/json")
    )
)]
// `GET /api/chat/settings`: what the web app needs to render chat the
// way the server means it (the link domains shown as links).
async fn chat_settings(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "linkDomains": state.settings.chat_link_domains(),
        "maxMessageChars": crate::domain::MAX_CHAT_CHARS,
    }))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("not_found", "There is no such API endpoint.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::refused(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not take that method.",
    )
}

/// The whole app: the API under `/api` and the built web app elsewhere.
/// Hashed build assets (`/assets/*`) are cached for good; everything else is
/// revalidated, and unknown paths get `index.html` (client-side routing).
/// `/socket.io` is answered by the Socket.IO layer before routing.
pub fn app(state: AppState) -> Router {
    let web_dir = state.settings.web_dir.clone();
    let index = web_dir.join("index.html");
    // The build writes Brotli and gzip copies next to each text asset
    // (web/vite.config.ts); they are sent to browsers that accept them.
    let assets = Router::new()
        .fallback_service(
            ServeDir::new(web_dir.join("assets"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::map_response(immutable_when_found));
    let csp = content_security_policy(&state);
    let pages = Router::new()
        .fallback_service(
            ServeDir::new(&web_dir)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(
                    ServeFile::new(index)
                        .precompressed_br()
                        .precompressed_gzip(),
                ),
        )
        .layer(middleware::map_response(move |r: Response| {
            revalidate(r, csp.clone())
        }));
    let tracked = middleware::from_fn_with_state(state.clone(), crate::metrics::track);
    // API answers are compressed on the fly (JSON lists, SDP); small ones,
    // images and event streams are not (tower-http's default predicate).
    let compressed = CompressionLayer::new().br(true).gzip(true);
    Router::new()
        .nest("/api", api_router(&state.settings).layer(compressed))
        .route("/metrics", get(public_metrics))
        // Instance to instance only: the load balancer blocks `/internal/`.
        .nest(
            "/internal",
            crate::cascade::router()
                .merge(crate::private_media::router())
                .merge(mediamtx::internal_router()),
        )
        .nest("/assets", assets)
        .merge(pages)
        // After every route is in: each is timed by its template.
        .layer(tracked)
        .layer(middleware::map_response(nosniff))
        .with_state(state)
}

/// The internal listener (`STREAMSHARE_METRICS_ADDR`): metrics and the
/// detailed health, away from the public port.
pub fn internal(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::render))
        .route("/health", get(health::health))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .with_state(state)
}

/// `/metrics` on the public port: only when there is no internal listener,
/// and only to a caller on this machine that did not come through a proxy;
/// everyone else sees no such page.
async fn public_metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let local = peer.ip().to_canonical().is_loopback()
        && !headers.contains_key("x-forwarded-for")
        && !headers.contains_key("forwarded");
    if state.settings.metrics_addr.is_some() || !local {
        return api_not_found().await.into_response();
    }
    crate::metrics::render(State(state)).await
}

async fn immutable_when_found(mut response: Response) -> Response {
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    vary_by_encoding(response)
}

/// Static files come in several encodings: caches must key on it.
fn vary_by_encoding(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The web app's Content-Security-Policy: scripts, styles, images and
/// connections only from this origin (plus WebSocket for Socket.IO, `blob:`
/// and `data:` for captured thumbnails and media streams); no framing, no
/// plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
    connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// The pages' policy: with MediaMTX as the media plane, pages also
/// connect to its origin (WHIP/WHEP).
fn content_security_policy(state: &AppState) -> HeaderValue {
    let Some(origin) = state.mediamtx().map(|p| p.origin()) else {
        return HeaderValue::from_static(CONTENT_SECURITY_POLICY);
    };
    let policy = CONTENT_SECURITY_POLICY.replacen(
        "connect-src 'self'",
        &format!("connect-src 'self' {origin}"),
        1,
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY))
}

/// Pages: always revalidated, with the browser-side protections.
async fn revalidate(mut response: Response, csp: HeaderValue) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(self), geolocation=()"),
    );
    vary_by_encoding(response)
}

/// Every response: no MIME sniffing.
async fn nosniff(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
