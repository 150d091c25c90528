//! WHIP ingest (RFC 9725) and WHEP playback (draft-ietf-wish-whep) at
//! `/api/media/whip/{roomId}` and `/api/media/whep/{roomId}`: an SDP offer
//! in, `201 Created` with the SDP answer and the session's `Location` out;
//! `DELETE` on that URL ends the session. No trickle ICE or ICE restarts
//! (the SFU is ICE-lite): `PATCH` answers 405 (RFC 9725 §4.3).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use mongodb::bson::oid::ObjectId;
use streamshare_sfu::PeerId;
use subtle::ConstantTimeEq;

use crate::access::entry_role;
use crate::error::{ApiError, Result};
use crate::extract::{ApiPath, read_body};
use crate::media::{Media, PeerInfo, Role, check_sdp, running};
use crate::models::RoomDoc;
use crate::routes::media::stream_key;
use crate::routes::rooms::{load_room, room_id, start_session};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/whip/{room}", post(whip))
        .route("/whip/{room}/{peer}", delete(whip_delete))
        .route("/whep/{room}", post(whep))
        .route("/whep/{room}/{peer}", delete(whep_delete))
}

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

/// Reads an `application/sdp` body of bounded size.
async fn sdp_body(state: &AppState, request: Request) -> Result<String> {
    let is_sdp = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/sdp")
        });
    if !is_sdp {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the offer as application/sdp.",
        ));
    }
    let bytes = read_body(request, state).await?;
    let sdp = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::invalid("sdp", "The SDP is not UTF-8."))?;
    check_sdp(state, &sdp)?;
    Ok(sdp)
}

fn created(location: String, answer: String) -> Response {
    (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/sdp".to_owned()),
            (header::LOCATION, location),
        ],
        answer,
    )
        .into_response()
}

/// WHIP: OBS (or any WHIP client) publishes; an offline room goes live, as
/// pressing "Start Streaming" means.
#[tracing::instrument(skip_all, fields(room_id = %room))]
async fn whip(
    State(state): State<AppState>,
    ApiPath(room): ApiPath<String>,
    request: Request,
) -> Result<Response> {
    let mut doc = load_room(&state, room_id(&room)?).await?;
    let creator = authorize_publisher(&state, request.headers(), &doc).await?;
    let sdp = sdp_body(&state, request).await?;
    if !doc.is_live() {
        doc = start_session(&state, doc.id, creator).await?;
    }
    let media = running(&state)?;
    let (peer, answer) = media.publish(doc.id, creator, &sdp).await?;
    tracing::info!(%peer, "WHIP publish");
    Ok(created(
        format!("/api/media/whip/{}/{}", doc.id.to_hex(), peer.0),
        answer,
    ))
}

fn parse_peer(raw: &str) -> Result<PeerId> {
    raw.parse::<u64>()
        .map(PeerId)
        .map_err(|_| ApiError::not_found("session_not_found", "There is no such media session."))
}

/// The peer behind a resource URL, if it belongs to that room and role.
fn session(media: &Media, room: ObjectId, peer: &str, role: Role) -> Result<(PeerId, PeerInfo)> {
    let peer = parse_peer(peer)?;
    match media.owner(peer) {
        Some(info) if info.room == room && info.role == role => Ok((peer, info)),
        _ => Err(ApiError::not_found(
            "session_not_found",
            "There is no such media session.",
        )),
    }
}

async fn whip_delete(
    State(state): State<AppState>,
    ApiPath((room, peer)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let doc = load_room(&state, room_id(&room)?).await?;
    authorize_publisher(&state, &headers, &doc).await?;
    let media = running(&state)?;
    let (peer, _) = session(media, doc.id, &peer, Role::Publisher)?;
    media.close(peer).await;
    Ok(StatusCode::OK)
}

/// WHEP: a viewer with access (creator, paid, or a free room) plays.
#[tracing::instrument(skip_all, fields(room_id = %room))]
async fn whep(
    State(state): State<AppState>,
    ApiPath(room): ApiPath<String>,
    request: Request,
) -> Result<Response> {
    let doc = load_room(&state, room_id(&room)?).await?;
    let user = state.authenticate(bearer(request.headers())?).await?;
    entry_role(&state, &doc, user.id).await?;
    let sdp = sdp_body(&state, request).await?;
    let media = running(&state)?;
    media.check_view_limit(doc.id, user.id, state.settings.max_views_per_room)?;
    let (peer, answer) = media.subscribe(doc.id, user.id, Some(&sdp)).await?;
    Ok(created(
        format!("/api/media/whep/{}/{}", doc.id.to_hex(), peer.0),
        answer,
    ))
}

async fn whep_delete(
    State(state): State<AppState>,
    ApiPath((room, peer)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let room = room_id(&room)?;
    let user = state.authenticate(bearer(&headers)?).await?;
    let media = running(&state)?;
    let (peer, info) = session(media, room, &peer, Role::Subscriber)?;
    if info.user != user.id {
        return Err(ApiError::forbidden("This media session is someone else's."));
    }
    media.close(peer).await;
    Ok(StatusCode::OK)
}
