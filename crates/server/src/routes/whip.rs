//! WHIP ingest (RFC 9725) and WHEP playback (draft-ietf-wish-whep) at
//! `/api/media/whip/{roomId}` and `/api/media/whep/{roomId}`: an SDP offer
//! in, `201 Created` with the SDP answer, the session's `Location`, its
//! `ETag` and the caller's ICE servers as `Link` headers out (§4.2, §4.6).
//! On the session URL, `PATCH` takes trickle ICE and ICE restarts (§4.3)
//! and `DELETE` ends the session (§4.2). Other origins may call these doors
//! (CORS, bearer tokens only): third-party players and publishers live on
//! their own sites.

use std::convert::Infallible;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
use crate::routes::docs::{Forbidden, RoomNotFound, UnsupportedMediaType, ValidationFailed};
use crate::routes::media::{IceServer, ice_servers_for, stream_key};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The trickle-ICE fragment media type (RFC 8840 §9).
const SDPFRAG: &str = "application/trickle-ice-sdpfrag";

/// WHIP and WHEP; with `settings`, behind the media CORS policy.
pub fn router(settings: Option<&Settings>) -> OpenApiRouter<AppState> {
    let routes = OpenApiRouter::new()
        .routes(routes!(whip, whip_options))
        .routes(routes!(whip_delete, whip_patch, whip_session_options))
        .routes(routes!(whep, whep_options))
        .routes(routes!(whep_delete, whep_patch, whep_session_options));
    match settings {
        Some(settings) => routes.layer(middleware::from_fn_with_state(
            MediaCors::new(settings),
            media_cors,
        )),
        None => routes,
    }
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

/// WHIP ingest (RFC 9725) for the room's creator
///
/// `Authorization: Bearer <accessToken of the creator, or the room's
/// stream key>` (the key is compared in constant time). The body is the
/// client's SDP offer (`application/sdp`, at most 32 KiB). An offline
/// room goes live (as pressing "Start Streaming" means). A new publish
/// replaces the previous one.
///
/// The answer carries the session URL (`Location`, with a random
/// 128-bit session id), an `ETag` for conditional PATCHes,
/// `Accept-Patch: application/trickle-ice-sdpfrag` (trickle ICE and ICE
/// restarts, RFC 9725 §4.3) and one `Link: <url>; rel="ice-server"`
/// per STUN/TURN URL, TURN ones with the creator's time-limited
/// credentials (`username`, `credential`, `credential-type="password"`,
/// RFC 9725 §4.6), the same as `GET /api/media/ice-servers` gives.
///
/// Other origins may call this door and the session URLs (CORS, see
/// `STREAMSHARE_MEDIA_ALLOWED_ORIGINS`, default any origin: bearer
/// tokens only, no cookies); `Location`, `Link`, `ETag` and
/// `Accept-Patch` are exposed to them.
/// Errors: 401 `unauthorized` (bad token or key); 403 `forbidden` (a
/// valid user who is not the creator); 404 `room_not_found`; 409
/// `e2ee_browser_only` (the room is end-to-end encrypted: a WHIP encoder
/// cannot encrypt frames, so the creator publishes from the studio); 415
/// `unsupported_media_type`; 422 `validation_failed` (`field: sdp`, an
/// SDP the media server cannot use); 503 `media_unavailable`.
#[utoipa::path(
    post,
    path = "/whip/{roomId}",
    tag = "media",
    operation_id = "whipPublish",
    security(("bearerAuth" = [])),
    params(("roomId" = String, Path)),
    request_body(content = String, content_type = "application/sdp"),
    responses(
        (status = 201, description = "The SFU's SDP answer; `Location` is the session's URL (DELETE it to stop, PATCH it for ICE).", body = String, content_type = "application/sdp", headers(("Location" = String, description = "/api/media/whip/{roomId}/{sessionId}"), ("ETag" = String, description = "The session's entity tag; it changes with every ICE restart (RFC 9725 §4.3.1)."), ("Accept-Patch" = String, description = "`application/trickle-ice-sdpfrag`: the session URL takes trickle ICE and ICE restarts."), ("Link" = String, description = "One per STUN/TURN URL (RFC 9725 §4.6), e.g.\n`<turn:turn.example.com:3478?transport=udp>; rel=\"ice-server\"; username=\"1795700000:6b06d36619e6aa94f4b90342\"; credential=\"d8soP47RbdIKLDUOpnJPVQyq5Ts=\"; credential-type=\"password\"`."))),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 409, description = "`e2ee_browser_only`: the room is end-to-end encrypted.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed)
    )
)]
// WHIP: OBS (or any WHIP client) publishes; an offline room goes live, as
// pressing "Start Streaming" means.
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

/// What the endpoint takes, and ICE servers before the POST (RFC 9725 §4.6)
///
/// With `Authorization` (the creator's token or the stream key), the
/// answer carries the creator's ICE servers as `Link` headers, as on
/// the POST's answer; without it, none. A CORS preflight (with
/// `Origin` and `Access-Control-Request-Method`) is answered by the
/// CORS rules instead.
#[utoipa::path(
    options,
    path = "/whip/{roomId}",
    tag = "media",
    operation_id = "whipOptions",
    security((), ("bearerAuth" = [])),
    params(("roomId" = String, Path)),
    responses(
        (status = 204, description = "`Accept-Post: application/sdp`, `Allow`, and `Link` headers for an authorized caller.", headers(("Link" = String, description = "One per STUN/TURN URL (RFC 9725 §4.6), e.g.\n`<turn:turn.example.com:3478?transport=udp>; rel=\"ice-server\"; username=\"1795700000:6b06d36619e6aa94f4b90342\"; credential=\"d8soP47RbdIKLDUOpnJPVQyq5Ts=\"; credential-type=\"password\"`."))),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound)
    )
)]
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

/// What a WHIP session URL takes
///
/// `Allow: OPTIONS, PATCH, DELETE` and `Accept-Patch` (trickle ICE). CORS
/// preflights never get here: the CORS rules answer them.
#[utoipa::path(
    options,
    path = "/whip/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whipSessionOptions",
    security(()),
    params(("roomId" = String, Path), ("sessionId" = String, Path)),
    responses((status = 204, description = "`Allow` and `Accept-Patch` headers."))
)]
async fn whip_session_options() -> Response {
    session_options()
}

/// What a WHEP session URL takes
///
/// `Allow: OPTIONS, PATCH, DELETE` and `Accept-Patch` (trickle ICE). CORS
/// preflights never get here: the CORS rules answer them.
#[utoipa::path(
    options,
    path = "/whep/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whepSessionOptions",
    security(()),
    params(("roomId" = String, Path), ("sessionId" = String, Path)),
    responses((status = 204, description = "`Allow` and `Accept-Patch` headers."))
)]
async fn whep_session_options() -> Response {
    session_options()
}

fn session_options() -> Response {
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

/// Ends a WHIP session (same authorization as the POST)
///
/// 200 whether the publisher is still connected or already hung up: a
/// client that closes its peer connection first and then sends DELETE
/// (as whip-whep's `stop()` does) gets 200, not 404. Ended sessions
/// stay answerable for 5 minutes. The live session ends after the
/// publisher grace period (`STREAMSHARE_PUBLISHER_GRACE_SECS`, 30 s)
/// unless a new publish comes.
#[utoipa::path(
    delete,
    path = "/whip/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whipStop",
    params(("roomId" = String, Path), ("sessionId" = String, Path)),
    responses(
        (status = 200, description = "Ended (or had ended)."),
        (status = 403, response = Forbidden),
        (status = 404, description = "`session_not_found`: no such session in this room (or it ended more than 5 minutes ago).", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn whip_delete(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let session = whip_session(&state, &room, &id, &headers).await?;
    end(&state, session).await
}

/// Trickle ICE and ICE restarts (RFC 9725 §4.3)
///
/// The body is an `application/trickle-ice-sdpfrag` (RFC 8840) with
/// `a=ice-ufrag`, `a=ice-pwd` and any `a=candidate` lines. With the
/// client's current ICE credentials its candidates are added: 204.
/// With new credentials (a client that restarted ICE, e.g. after a
/// network change; it sends `If-Match: *`) ICE restarts on the same
/// session: 200 with the server's new `a=ice-ufrag`, `a=ice-pwd` and
/// candidates, and a new `ETag`. Media and DTLS carry on; no new
/// session, no new payment. An `If-Match` that is neither `*` nor the
/// current `ETag` is 412 `precondition_failed` (the client missed a
/// restart). Candidates the server cannot use (mDNS names) are
/// skipped. Same authorization as the POST.
#[utoipa::path(
    patch,
    path = "/whip/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whipIce",
    params(("roomId" = String, Path), ("sessionId" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = String, content_type = "application/trickle-ice-sdpfrag", example = json!("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host\r\na=end-of-candidates\r\n")),
    responses(
        (status = 200, description = "ICE restarted; the server's new ICE credentials and candidates.", body = String, content_type = "application/trickle-ice-sdpfrag", headers(("ETag" = String, description = "The session's entity tag; it changes with every ICE restart (RFC 9725 §4.3.1).")), example = json!("a=ice-lite\r\na=ice-ufrag:gtsW\r\na=ice-pwd:1n6ndr3jLMBc0HNhCNdsPz\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706175 203.0.113.5 8189 typ host\r\na=end-of-candidates\r\n")),
        (status = 204, description = "Candidates added."),
        (status = 403, response = Forbidden),
        (status = 404, description = "`session_not_found`: no such session, or it has ended.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 412, description = "`precondition_failed`: `If-Match` does not match the current `ETag`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed)
    )
)]
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

/// WHEP playback for a viewer with access
///
/// `Authorization: Bearer <accessToken>`. Access as for `room:join`: the
/// creator, a payer for the current live session, or anyone in a free
/// room. The body is the client's SDP offer (recvonly audio and video).
/// The answer's headers are as for WHIP (`Location` with a random
/// session id, `ETag`, `Accept-Patch`, `Link` ICE servers with the
/// viewer's own TURN credentials), and other origins may call it
/// (CORS) the same way.
/// Errors: 401; 403 `payment_required` (with `price`) or `banned`;
/// 404 `room_not_found`; 409 `room_not_live`; 415; 422 `validation_failed`
/// (`field: sdp`); 429 `too_many_streams`; 503 `media_unavailable`.
#[utoipa::path(
    post,
    path = "/whep/{roomId}",
    tag = "media",
    operation_id = "whepPlay",
    params(("roomId" = String, Path)),
    request_body(content = String, content_type = "application/sdp"),
    responses(
        (status = 201, description = "The SFU's SDP answer; `Location` is the session's URL.", body = String, content_type = "application/sdp", headers(("Location" = String, description = "/api/media/whep/{roomId}/{sessionId}"), ("ETag" = String, description = "The session's entity tag; it changes with every ICE restart (RFC 9725 §4.3.1)."), ("Accept-Patch" = String, description = "`application/trickle-ice-sdpfrag`: the session URL takes trickle ICE and ICE restarts."), ("Link" = String, description = "One per STUN/TURN URL (RFC 9725 §4.6), e.g.\n`<turn:turn.example.com:3478?transport=udp>; rel=\"ice-server\"; username=\"1795700000:6b06d36619e6aa94f4b90342\"; credential=\"d8soP47RbdIKLDUOpnJPVQyq5Ts=\"; credential-type=\"password\"`."))),
        (status = 403, description = "`payment_required`: pay for the current live session first (with `price`); or `banned`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 404, response = RoomNotFound),
        (status = 409, description = "`room_not_live`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
// WHEP: a viewer with access (creator, paid, or a free room) plays.
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

/// What the endpoint takes, and the caller's ICE servers before the POST
///
/// With a valid access token, `Link` headers with the caller's ICE servers; without one, none.
#[utoipa::path(
    options,
    path = "/whep/{roomId}",
    tag = "media",
    operation_id = "whepOptions",
    security((), ("bearerAuth" = [])),
    params(("roomId" = String, Path)),
    responses(
        (status = 204, description = "`Accept-Post: application/sdp`, `Allow`, and `Link` headers for an authenticated caller.", headers(("Link" = String, description = "One per STUN/TURN URL (RFC 9725 §4.6), e.g.\n`<turn:turn.example.com:3478?transport=udp>; rel=\"ice-server\"; username=\"1795700000:6b06d36619e6aa94f4b90342\"; credential=\"d8soP47RbdIKLDUOpnJPVQyq5Ts=\"; credential-type=\"password\"`.")))
    )
)]
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

/// Ends a WHEP session (its owner only)
///
/// 200 whether the player is still connected or hung up a moment ago
/// (ended sessions stay answerable for 5 minutes); 403 with another
/// user's token; 404 for an unknown id.
#[utoipa::path(
    delete,
    path = "/whep/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whepStop",
    params(("roomId" = String, Path), ("sessionId" = String, Path)),
    responses(
        (status = 200, description = "Ended (or had ended)."),
        (status = 403, response = Forbidden),
        (status = 404, description = "`session_not_found`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn whep_delete(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let session = whep_session(&state, &room, &id, &headers).await?;
    end(&state, session).await
}

/// Trickle ICE and ICE restarts, as for WHIP (its owner only)
///
/// As `PATCH /api/media/whip/{roomId}/{sessionId}`; a trickle PATCH without `If-Match` is accepted (WHEP clients often send none).
#[utoipa::path(
    patch,
    path = "/whep/{roomId}/{sessionId}",
    tag = "media",
    operation_id = "whepIce",
    params(("roomId" = String, Path), ("sessionId" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = String, content_type = "application/trickle-ice-sdpfrag"),
    responses(
        (status = 200, description = "ICE restarted; the server's new ICE credentials and candidates.", body = String, content_type = "application/trickle-ice-sdpfrag", headers(("ETag" = String, description = "The session's entity tag; it changes with every ICE restart (RFC 9725 §4.3.1)."))),
        (status = 204, description = "Candidates added."),
        (status = 403, response = Forbidden),
        (status = 404, description = "`session_not_found`: no such session, or it has ended.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 412, description = "`precondition_failed`: `If-Match` does not match the current `ETag`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed)
    )
)]
async fn whep_patch(
    State(state): State<AppState>,
    ApiPath((room, id)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response> {
    let session = whep_session(&state, &room, &id, request.headers()).await?;
    patch(&state, &id, session, request).await
}
