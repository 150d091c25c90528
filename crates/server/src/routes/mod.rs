//! The HTTP surface: `/api/*` routes, JSON 404/405 under `/api`, and the
//! web app with an SPA fallback for everything else.

pub mod auth;
pub mod health;
pub mod ledger;
pub mod media;
pub mod rooms;
pub mod users;
pub mod whip;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .nest("/auth", auth::router())
        .nest("/users", users::router())
        .nest("/rooms", rooms::router())
        .nest("/transactions", ledger::router())
        .nest("/media", media::router().merge(whip::router()))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
    let assets = Router::new()
        .fallback_service(ServeDir::new(web_dir.join("assets")))
        .layer(middleware::map_response(immutable_when_found));
    let pages = Router::new()
        .fallback_service(ServeDir::new(&web_dir).fallback(ServeFile::new(index)))
        .layer(middleware::map_response(revalidate));
    let tracked = middleware::from_fn_with_state(state.clone(), crate::metrics::track);
    Router::new()
        .nest("/api", api_router().layer(tracked))
        .route("/metrics", get(crate::metrics::render))
        .nest("/assets", assets)
        .merge(pages)
        .with_state(state)
}

async fn immutable_when_found(mut response: Response) -> Response {
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

async fn revalidate(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
