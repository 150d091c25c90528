//! WHIP ingest (RFC 9725) and WHEP playback (draft-ietf-wish-whep) at
//! `/api/media/whip/{roomId}` and `/api/media/whep/{roomId}`: an SDP offer
//! in, `201 Created` with the SDP answer, the session's `Location`, its
//! `ETag` and the caller's ICE servers as `Link` headers out (§4.2, §4.6).
//! On the session URL, `PATCH` takes trickle ICE and ICE restarts (§4.3)
//! and `DELETE` ends the session (§4.2). Other origins may call these doors
//! (CORS, bearer tokens only): third-party players and publishers live on
//! their own sites.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::FutureExt;
use mongodb::bson::oid::ObjectId;
use streamshare_sfu::{IceFragment, IcePatch, SfuError};
use subtle::ConstantTimeEq;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access::entry_role;
use crate::config::Settings;
use crate::error::{ApiError, Result};
use crate::extract::{ApiPath, read_body};
use crate::ids::RoomId;
use crate::media::{Role, check_sdp, running, sfu_error};
use crate::media_sessions::Session;
use crate::models::RoomDoc;
use crate::rooms::{load_room, start_session};
use crate::routes::media::{IceServer, ice_servers_for, stream_key};
use crate::state::AppState;

/// The trickle-ICE fragment media type (RFC 8840 §9).
const SDPFRAG: &str = "application/trickle-ice-sdpfrag";

pub fn router(settings: &Settings) -> Router<AppState> {
    Router::new()
        .route("/whip/{room}", post(whip).options(whip_options))
        .route(
            "/whip/{room}/{session}",
            axum::routing::delete(whip_delete)
                .patch(whip_patch)
                .options(session_options),
        )
        .route("/whep/{room}", post(whep).options(whep_options))
        .route(
            "/whep/{room}/{session}",
            axum::routing::delete(whep_delete)
                .patch(whep_patch)
                .options(session_options),
        )
        .layer(middleware::from_fn_with_state(
            MediaCors::new(settings),
            media_cors,
        ))
}

/// CORS for the media doors only: browsers on other origins may POST
/// offers, PATCH candidates and DELETE sessions, and read the headers a
/// WHIP/WHEP client needs. No credentials (cookies) are allowed: these
/// doors take bearer tokens, which a page must already hold to send.
///
/// tower-http's `CorsLayer` answers every OPTIONS as a preflight, but an
/// OPTIONS without `Access-Control-Request-Method` is a WHIP client asking
/// for ICE servers (RFC 9725 §4.6): that one goes to the handler, with the
/// headers CORS gives an actual request.
#[derive(Clone)]
struct MediaCors {
    layer: CorsLayer,
    /// Any origin (`*`), else only `listed`.
    any: bool,
    listed: Vec<HeaderValue>,
}

impl MediaCors {
    fn new(settings: &Settings) -> Self {
        let origins = &settings.media_allowed_origins;
        let any = origins.iter().any(|o| o.trim() == "*");
        let listed: Vec<HeaderValue> = origins
            .iter()
            .filter(|o| o.trim() != "*")
            .filter_map(|o| {
                let parsed = HeaderValue::from_str(o.trim());
                if parsed.is_err() {
                    tracing::warn!(origin = %o, "ignoring an unusable media origin");
                }
                parsed.ok()
            })
            .collect();
        let layer = CorsLayer::new()
            .allow_origin(if any {
                AllowOrigin::any()
            } else {
                AllowOrigin::list(listed.clone())
            })
            .allow_methods([Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
            ])
            .expose_headers(EXPOSED.map(HeaderName::from_static))
            .max_age(std::time::Duration::from_secs(600));
        Self { layer, any, listed }
    }
}

async fn media_cors(State(cors): State<MediaCors>, request: Request, next: Next) -> Response {
    let client_options = request.method() == Method::OPTIONS
        && !request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !client_options {
        let service = cors.layer.layer(tower::service_fn(move |r| {
            next.clone().run(r).map(Ok::<_, Infallible>)
        }));
        return match service.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    if let Some(origin) = origin.filter(|o| cors.any || cors.listed.contains(o)) {
        let headers = response.headers_mut();
        let allow = if cors.any {
            HeaderValue::from_static("*")
        } else {
            origin
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("location, link, etag, accept-patch"),
        );
    }
    response
}

/// Response headers a WHIP/WHEP client on another origin must read.
const EXPOSED: [&str; 4] = ["location", "link", "etag", "accept-patch"];

fn bearer(headers: &HeaderMap) -> Result<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("Send `Authorization: Bearer <token or stream key>`.")
        })
}

/// The user behind a WHEP request's bearer access token. Every WHEP door
/// asks here, so how a token becomes a user changes in one place.
async fn whep_user(state: &AppState, headers: &HeaderMap) -> Result<ObjectId> {
    Ok(state.authenticate(bearer(headers)?).await?.id)
}

/// The creator, by access token or by the room's stream key (compared in
/// constant time).
async fn authorize_publisher(
    state: &AppState,
    headers: &HeaderMap,
    room: &RoomDoc,
) -> Result<ObjectId> {
    let token = bearer(headers)?;
    if token.starts_with("sk_") {
        let key = stream_key(state, room).await?;
        if bool::from(key.as_bytes().ct_eq(token.as_bytes())) {
            // The key stands for the creator: a suspended or deleted
            // creator's key opens nothing.
            state.accounts.check(&state.db, room.creator_id).await?;
            return Ok(room.creator_id);
        }
        return Err(ApiError::unauthorized(
            "The stream key is not valid for this room.",
        ));
    }
    let user = state.authenticate(token).await?;
    if user.id != room.creator_id {
        return Err(ApiError::forbidden(
            "Only the room's creator can publish into it.",
        ));
    }
    Ok(user.id)
}

fn has_content_type(headers: &HeaderMap, wanted: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(wanted)
        })
}

/// Reads a body of `content_type` and bounded size as text.
async fn text_body(state: &AppState, request: Request, content_type: &str) -> Result<String> {
    if !has_content_type(request.headers(), content_type) {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Send the body as {content_type}."),
        ));
    }
    let bytes = read_body(request, state).await?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::invalid("sdp", "The SDP is not UTF-8."))?;
    check_sdp(state, &text)?;
    Ok(text)
}

/// The caller's ICE servers as RFC 9725 §4.6 `Link` headers, so a WHIP or
/// WHEP client uses our STUN/TURN (with the same time-limited credentials
/// `GET /api/media/ice-servers` gives) without manual set-up.
fn ice_links(servers: &[IceServer]) -> Vec<HeaderValue> {
    let mut links = Vec::new();
    for server in servers {
        for url in &server.urls {
            let mut link = format!("<{url}>; rel=\"ice-server\"");
            if let Some((username, credential)) = &server.credential {
                link.push_str(&format!(
                    "; username=\"{username}\"; credential=\"{credential}\"; credential-type=\"password\""
                ));
            }
            match HeaderValue::from_str(&link) {
                Ok(value) => links.push(value),
                Err(_) => tracing::warn!(%url, "an ICE server URL can't go in a Link header"),
            }
        }
    }
    links
}

/// `201 Created`: the answer, where the session lives, its entity tag,
/// that it takes trickle ICE, and the caller's ICE servers.
fn created(location: String, etag: &str, answer: String, links: Vec<HeaderValue>) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/sdp".to_owned()),
            (header::LOCATION, location),
            (header::ETAG, etag.to_owned()),
            (HeaderName::from_static("accept-patch"), SDPFRAG.to_owned()),
        ],
        answer,
    )
        .into_response();
    for link in links {
        response.headers_mut().append(header::LINK, link);
    }
    response
}

/// An OPTIONS answer to a WHIP/WHEP client (not a CORS preflight, which
/// the CORS layer answers): what the endpoint takes, and ICE servers for
/// an authenticated caller (RFC 9725 §4.6).
fn options_answer(links: Vec<HeaderValue>) -> Response {
    let mut response = (
        StatusCode::NO_CONTENT,
        [
            (header::ALLOW, "OPTIONS, POST"),
            (HeaderName::from_static("accept-post"), "application/sdp"),
        ],
    )
        .into_response();
    for link in links {
        response.headers_mut().append(header::LINK, link);
    }
    response
}

/// WHIP: OBS (or any WHIP client) publishes; an offline room goes live, as
/// pressing "Start Streaming" means.
#[tracing::instrument(skip_all, fields(room_id = %room))]
async fn whip(State(state): State<AppState>, room: RoomId, request: Request) -> Result<Response> {
    let mut doc = load_room(&state, room).await?;
    let creator = authorize_publisher(&state, request.headers(), &doc).await?;
    if doc.e2ee {
        // OBS and other WHIP encoders send plain frames: let them in and
        // the room's promise is broken without anyone noticing.
        return Err(ApiError::conflict(
            "e2ee_browser_only",
            "This room is end-to-end encrypted: WHIP clients such as OBS cannot \
             encrypt frames. Go live from the studio in a browser, or turn \
             encryption off for this room.",
        ));
    }
    let sdp = text_body(&state, request, "application/sdp").await?;
    if !doc.is_live() {
        doc = start_session(&state, doc.id.into(), creator).await?;
    }
    let media = running(&state)?;
    let (peer, answer) = media.publish(doc.id, creator, &sdp).await?;
    let (id, etag) = media.sessions.open(peer, doc.id, creator, Role::Publisher);
    tracing::info!(%peer, "WHIP publish");
    Ok(created(
        format!("/api/media/whip/{}/{id}", doc.id.to_hex()),
        &etag,
        answer,
        ice_links(&ice_servers_for(&state.settings, creator)),
    ))
}

async fn whip_options(
    State(state): State<AppState>,
    room: RoomId,
    headers: HeaderMap,
) -> Result<Response> {
    let doc = load_room(&state, room).await?;
    let mut links = Vec::new();
    if headers.contains_key(header::AUTHORIZATION) {
        let creator = authorize_publisher(&state, &headers, &doc).await?;
        links = ice_links(&ice_servers_for(&state.settings, creator));
    }
    Ok(options_answer(links))
}

/// OPTIONS on a session URL (CORS preflights never get here: the CORS
/// layer answers them).
async fn session_options() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ALLOW, "OPTIONS, PATCH, DELETE"),
            (HeaderName::from_static("accept-patch"), SDPFRAG),
        ],
    )
        .into_response()
}

fn not_found() -> ApiError {
    ApiError::not_found("session_not_found", "There is no such media session.")
}

/// The session behind a URL, if it belongs to that room and role.
fn lookup(state: &AppState, room: ObjectId, id: &str, role: Role) -> Result<Session> {
    running(state)?
        .sessions
        .get(id)
        .filter(|s| s.room == room && s.role == role)
        .ok_or_else(not_found)
}

/// A WHIP session URL's session, for the room's creator (token or key).
async fn whip_session(
    state: &AppState,
    room: &str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Session> {
    let doc = load_room(state, RoomId::parse(room)?).await?;
    authorize_publisher(state, headers, &doc).await?;
    lookup(state, doc.id, id, Role::Publisher)
}

/// A WHEP session URL's session, for its owner only.
async fn whep_session(
    state: &AppState,
    room: &str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Session> {
    let room = RoomId::parse(room)?.get();
    let user = whep_user(state, headers).await?;
    let session = lookup(state, room, id, Role::Subscriber)?;
    if session.user != user {
        return Err(ApiError::forbidden("This media session is someone else's."));
    }
    Ok(session)
}

/// Ends a session. A session whose peer already hung up (a client closes
/// its peer connection before it sends DELETE, RFC 9725 §4.2) is ended
/// all the same: 200 either way.
async fn end(state: &AppState, session: Session) -> Result<StatusCode> {
    if !session.ended {
        running(state)?.close(session.peer).await;
    }
    Ok(StatusCode::OK)
}

async fn whip_delete(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let session = whip_session(&state, &room, &id, &headers).await?;
    end(&state, session).await
}

async fn whip_patch(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response> {
    let session = whip_session(&state, &room, &id, request.headers()).await?;
    patch(&state, &id, session, request).await
}

/// Whether `If-Match` (absent, `*`, or a list of entity tags) admits the
/// session's current tag (RFC 9110 §13.1.1).
fn if_match_holds(headers: &HeaderMap, etag: &str) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    values.is_empty() || values.iter().any(|v| *v == "*" || *v == etag)
}

/// Trickle ICE and ICE restarts on a session URL (RFC 9725 §4.3). A
/// fragment with the client's current ICE credentials adds candidates
/// (204); new credentials restart ICE, and the SFU's new credentials and
/// candidates come back with a new `ETag` (200). A stale `If-Match` is
/// 412: the client missed a restart (§4.3.1).
async fn patch(state: &AppState, id: &str, session: Session, request: Request) -> Result<Response> {
    if session.ended {
        return Err(ApiError::not_found(
            "session_not_found",
            "The media session has ended.",
        ));
    }
    if !if_match_holds(request.headers(), &session.etag) {
        return Err(ApiError::refused(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "The session's ICE state changed; If-Match does not match its ETag.",
        ));
    }
    let text = text_body(state, request, SDPFRAG).await?;
    let fragment = IceFragment::parse(&text).map_err(sfu_error)?;
    let media = running(state)?;
    match media.sfu.patch_ice(session.peer, fragment).await {
        Ok(IcePatch::Trickled) => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(IcePatch::Restarted(answer)) => {
            let etag = media.sessions.renew_etag(id).ok_or_else(not_found)?;
            tracing::info!(peer = %session.peer, "ICE restart");
            Ok((
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, SDPFRAG.to_owned()),
                    (header::ETAG, etag),
                ],
                answer.to_sdpfrag(),
            )
                .into_response())
        }
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        // Gone between the lookup and now: it hung up.
        Err(SfuError::UnknownPeer) => Err(not_found()),
        // Not made from the client's offer: WHIP and WHEP peers always are.
        Err(SfuError::NoRemoteOffer) => Err(ApiError::conflict(
            "ice_restart_unsupported",
            "This media session cannot restart ICE.",
        )),
        Err(err) => Err(sfu_error(err)),
    }
}

/// WHEP: a viewer with access (creator, paid, or a free room) plays.
#[tracing::instrument(skip_all, fields(room_id = %room))]
async fn whep(State(state): State<AppState>, room: RoomId, request: Request) -> Result<Response> {
    let doc = load_room(&state, room).await?;
    let user = whep_user(&state, request.headers()).await?;
    entry_role(&state, &doc, user).await?;
    let sdp = text_body(&state, request, "application/sdp").await?;
    let media = running(&state)?;
    media.check_view_limit(doc.id, user, state.settings.max_views_per_room)?;
    let (peer, answer) = media.subscribe(doc.id, user, Some(&sdp)).await?;
    let (id, etag) = media.sessions.open(peer, doc.id, user, Role::Subscriber);
    crate::cascade::viewer_joined(&state, &doc);
    Ok(created(
        format!("/api/media/whep/{}/{id}", doc.id.to_hex()),
        &etag,
        answer,
        ice_links(&ice_servers_for(&state.settings, user)),
    ))
}

async fn whep_options(
    State(state): State<AppState>,
    _room: RoomId,
    headers: HeaderMap,
) -> Result<Response> {
    let mut links = Vec::new();
    if headers.contains_key(header::AUTHORIZATION) {
        let user = whep_user(&state, &headers).await?;
        links = ice_links(&ice_servers_for(&state.settings, user));
    }
    Ok(options_answer(links))
}

async fn whep_delete(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let session = whep_session(&state, &room, &id, &headers).await?;
    end(&state, session).await
}

async fn whep_patch(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response> {
    let session = whep_session(&state, &room, &id, request.headers()).await?;
    patch(&state, &id, session, request).await
}
