//! `/api/media/*` and stream keys: ICE servers with time-limited TURN
//! credentials, the per-room stream key for OBS.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha1::Sha1;

use crate::auth::{AuthUser, now_secs};
use crate::config::Settings;
use crate::error::Result;
use crate::ids::RoomId;
use crate::models::RoomDoc;
use crate::rooms::{ensure_creator, load_room};
use crate::routes::docs::{Forbidden, RoomIdParam, RoomNotFound};
use crate::state::AppState;
use crate::tokens::random_token;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How long TURN credentials stay valid. Coturn checks the expiry on every
/// allocation refresh, so this bounds a relayed stream's length.
pub const TURN_TTL_SECS: u64 = 24 * 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ice_servers))
}

/// Stream-key routes, nested under `/api/rooms`.
pub fn stream_key_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_stream_key))
        .routes(routes!(rotate_stream_key))
}

/// TURN REST credentials (draft-uberti-behave-turn-rest, coturn's
/// `use-auth-secret`): username `expiry:userId`, password
/// base64(HMAC-SHA1(secret, username)).
pub fn turn_credential(secret: &str, user: &str, expiry: u64) -> (String, String) {
    let username = format!("{expiry}:{user}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(username.as_bytes());
    let password = STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

/// One entry of an `RTCPeerConnection`'s `iceServers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:`/`turn:`/`turns:` URLs.
    pub urls: Vec<String>,
    /// TURN username and credential (`None` for STUN).
    pub credential: Option<(String, String)>,
}

/// STUN and TURN servers for `user`. `stun:` URLs need no credentials;
/// `turn:`/`turns:` URLs get time-limited ones (only when a TURN secret is
/// configured). The same list goes to `GET /api/media/ice-servers` and to
/// WHIP/WHEP clients as `Link` headers (RFC 9725 §4.6).
pub fn ice_servers_for(settings: &Settings, user: ObjectId) -> Vec<IceServer> {
    let expiry = now_secs() + TURN_TTL_SECS;
    let mut servers = Vec::new();
    let (stun, turn): (Vec<&String>, Vec<&String>) = settings
        .turn_urls
        .iter()
        .filter(|u| !u.trim().is_empty())
        .partition(|u| u.starts_with("stun:"));
    if !stun.is_empty() {
        servers.push(IceServer {
            urls: stun.into_iter().cloned().collect(),
            credential: None,
        });
    }
    if let Some(secret) = &settings.turn_secret
        && !turn.is_empty()
    {
        servers.push(IceServer {
            urls: turn.into_iter().cloned().collect(),
            credential: Some(turn_credential(
                secret.expose_secret(),
                &user.to_hex(),
                expiry,
            )),
        });
    }
    servers
}

/// STUN and TURN servers for an RTCPeerConnection
///
/// One entry with the `stun:` URLs of `STREAMSHARE_TURN_URLS` (no
/// credentials) and one with its `turn:`/`turns:` URLs and time-limited
/// credentials per the TURN REST scheme that coturn's `use-auth-secret`
/// checks: `username` = `expiry:userId` (expiry in Unix seconds),
/// `credential` = base64(HMAC-SHA1(`STREAMSHARE_TURN_SECRET`, username)).
/// Without configured URLs the list is empty (host candidates suffice).
#[utoipa::path(
    get,
    path = "/ice-servers",
    tag = "media",
    operation_id = "iceServers",
    responses(
        (status = 200, description = "ICE servers.", body = ref("#/components/schemas/IceServersAnswer"), content_type = "application/json", example = json!({"iceServers": [{"urls": ["stun:turn.example.com:3478"]}, {"urls": ["turn:turn.example.com:3478?transport=udp"], "username": "1795700000:6b06d36619e6aa94f4b90342", "credential": "d8soP47RbdIKLDUOpnJPVQyq5Ts="}], "ttlSeconds": 86400, "mediaBackend": "builtin"}))
    )
)]
// STUN and TURN servers for an `RTCPeerConnection`.
async fn ice_servers(State(state): State<AppState>, user: AuthUser) -> Json<Value> {
    let servers: Vec<Value> = ice_servers_for(&state.settings, user.id)
        .into_iter()
        .map(|s| match s.credential {
            Some((username, credential)) => {
                json!({ "urls": s.urls, "username": username, "credential": credential })
            }
            None => json!({ "urls": s.urls }),
        })
        .collect();
    // Which media plane the page signals with (docs/mediamtx.md).
    let backend = if state.mediamtx().is_some() {
        "mediamtx"
    } else {
        "builtin"
    };
    Json(json!({ "iceServers": servers, "ttlSeconds": TURN_TTL_SECS, "mediaBackend": backend }))
}

fn new_stream_key() -> String {
    format!("sk_{}", random_token(24))
}

/// The room's stream key, made on first use.
pub async fn stream_key(state: &AppState, room: &RoomDoc) -> Result<String> {
    let key = new_stream_key();
    let stored = state
        .db
        .stream_keys()
        .find_one_and_update(
            doc! { "_id": room.id },
            doc! { "$setOnInsert": { "key": &key } },
        )
        .upsert(true)
        .return_document(mongodb::options::ReturnDocument::After)
        .await?;
    Ok(stored.map(|d| d.key).unwrap_or(key))
}

fn key_answer(room: &RoomDoc, key: String) -> Json<Value> {
    Json(json!({
        "streamKey": key,
        "whipPath": format!("/api/media/whip/{}", room.id.to_hex()),
    }))
}

/// The room's stream key for OBS (creator only)
///
/// The key for WHIP ingest (`Authorization: Bearer <streamKey>` on
/// `whipPath`). Made on first use; never part of room listings.
/// Errors: 401; 403 `forbidden` (not the creator); 404 `room_not_found`.
#[utoipa::path(
    get,
    path = "/{id}/stream-key",
    tag = "media",
    operation_id = "getStreamKey",
    params(RoomIdParam),
    responses(
        (status = 200, description = "The key.", body = ref("#/components/schemas/StreamKey"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound)
    )
)]
// Shown only to the room's creator.
async fn get_stream_key(
    State(state): State<AppState>,
    user: AuthUser,
    id: RoomId,
) -> Result<Json<Value>> {
    let room = load_room(&state, id).await?;
    ensure_creator(&room, &user)?;
    let key = stream_key(&state, &room).await?;
    Ok(key_answer(&room, key))
}

/// A new stream key; the old one stops working at once (creator only)
#[utoipa::path(
    post,
    path = "/{id}/stream-key/rotate",
    tag = "media",
    operation_id = "rotateStreamKey",
    params(RoomIdParam),
    responses(
        (status = 200, description = "The new key.", body = ref("#/components/schemas/StreamKey"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound)
    )
)]
// A new key; the old one stops working at once.
async fn rotate_stream_key(
    State(state): State<AppState>,
    user: AuthUser,
    id: RoomId,
) -> Result<Json<Value>> {
    let room = load_room(&state, id).await?;
    ensure_creator(&room, &user)?;
    let key = new_stream_key();
    state
        .db
        .stream_keys()
        .update_one(doc! { "_id": room.id }, doc! { "$set": { "key": &key } })
        .upsert(true)
        .await?;
    tracing::info!(room_id = %room.id, "stream key rotated");
    Ok(key_answer(&room, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_follow_the_rest_scheme() {
        // Reference: printf '1700000000:alice' | openssl dgst -sha1 -hmac secret -binary | base64
        let (user, pass) = turn_credential("secret", "alice", 1_700_000_000);
        assert_eq!(user, "1700000000:alice");
        assert_eq!(pass, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
    }
}
