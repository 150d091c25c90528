//! The key relay of end-to-end encrypted rooms (docs/e2ee.md): a viewer's
//! page sends its ECDH public key (`e2ee:hello`), which reaches the creator's
//! studio only after the viewer's access is checked; the studio answers with
//! the room's media key wrapped for that page (`e2ee:key`), which the server
//! hands to that page alone, checking access again. The server sees public
//! keys and wrapped keys, never a key that decrypts a frame.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mongodb::bson::oid::ObjectId;
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::socket::Sid;

use crate::access::entry_role;
use crate::error::{ApiError, Result};
use crate::models::RoomDoc;
use crate::realtime::rooms::joined;
use crate::realtime::{Ctx, broadcast, hosts_channel, room_channel, room_id, user_channel};
use crate::rooms::load_room;
use crate::state::AppState;

/// A raw uncompressed P-256 point: 0x04, x, y.
const PUBLIC_KEY_BYTES: usize = 65;
/// The largest wrapped key: an IV, a 32-byte key and a tag fit many times.
const MAX_WRAPPED_BYTES: usize = 256;
/// An IV (12 bytes) and an AES-GCM tag (16 bytes) at least.
const MIN_WRAPPED_BYTES: usize = 28;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloReq {
    room_id: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyReq {
    room_id: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyReq {
    room_id: String,
    viewer_id: String,
    socket_id: String,
    key_id: u8,
    public_key: String,
    wrapped: String,
}

fn base64url(field: &str, raw: &str, max: usize) -> Result<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| ApiError::invalid(field, format!("{field} must be base64url.")))?;
    if bytes.len() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} is at most {max} bytes."),
        ));
    }
    Ok(bytes)
}

/// Checks a public key's shape (the browsers check the point itself when
/// they import it), and gives it back unchanged.
fn public_key(raw: &str) -> Result<&str> {
    let bytes = base64url("publicKey", raw, PUBLIC_KEY_BYTES)?;
    if bytes.len() != PUBLIC_KEY_BYTES || bytes[0] != 0x04 {
        return Err(ApiError::invalid(
            "publicKey",
            "publicKey is a raw uncompressed P-256 point (65 bytes, base64url).",
        ));
    }
    Ok(raw)
}

fn encrypted_room(room: &RoomDoc) -> Result<()> {
    if !room.e2ee {
        return Err(ApiError::conflict(
            "e2ee_off",
            "This room is not end-to-end encrypted.",
        ));
    }
    Ok(())
}

/// The room, checked to be end-to-end encrypted and the caller's own.
async fn own_encrypted_room(state: &AppState, raw: &str, user: ObjectId) -> Result<RoomDoc> {
    let room = load_room(state, room_id(raw)?).await?;
    if room.creator_id != user {
        return Err(ApiError::forbidden(
            "Only the room's creator hands out its keys.",
        ));
    }
    encrypted_room(&room)?;
    Ok(room)
}

/// A viewer's page asks for the media key: relayed to the creator's studio
/// once the viewer is in the room with access to the session.
pub async fn hello(cx: Ctx, req: HelloReq) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = room_id(&req.room_id)?;
    joined(&s, room)?;
    let room = load_room(&state, room).await?;
    encrypted_room(&room)?;
    let key = public_key(&req.public_key)?;
    entry_role(&state, &room, user.id).await?;
    state.key_limiter.check(user.id).await.map_err(|wait| {
        ApiError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many key requests; wait a moment.",
        )
        .with("retryAfterMs", wait.as_millis() as u64)
    })?;
    let request = json!({
        "roomId": room.id.to_hex(),
        "viewer": { "id": user.id.to_hex(), "username": user.username },
        "socketId": s.id.to_string(),
        "publicKey": key,
    });
    broadcast(&state, hosts_channel(room.id), "e2ee:request", &request).await;
    Ok(json!({}))
}

/// The studio has a new key pair and media key: every page in the room asks
/// again (a viewer who joined while the studio reloaded gets its key).
pub async fn ready(cx: Ctx, req: ReadyReq) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = own_encrypted_room(&state, &req.room_id, user.id).await?;
    joined(&s, room.id)?;
    let event = json!({
        "roomId": room.id.to_hex(),
        "publicKey": public_key(&req.public_key)?,
    });
    broadcast(&state, room_channel(room.id), "e2ee:ready", &event).await;
    Ok(json!({}))
}

/// The studio's wrapped media key for one viewer page: handed to that
/// viewer only, and only while they still have access (a ban in between, or
/// a session that ended, stops it here).
pub async fn key(cx: Ctx, req: KeyReq) -> Result<Value> {
    let Ctx { state, user, .. } = cx;
    let room = own_encrypted_room(&state, &req.room_id, user.id).await?;
    let viewer = crate::ids::filter_id(&req.viewer_id, "viewerId")?;
    let socket: Sid = req
        .socket_id
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("socketId", "socketId is a socket id."))?;
    let wrapped = base64url("wrapped", &req.wrapped, MAX_WRAPPED_BYTES)?;
    if wrapped.len() < MIN_WRAPPED_BYTES {
        return Err(ApiError::invalid(
            "wrapped",
            "wrapped holds an IV and an AES-GCM ciphertext.",
        ));
    }
    let creator_key = public_key(&req.public_key)?;
    entry_role(&state, &room, viewer).await?;
    // To the viewer's own sockets: the page whose key it was wrapped for
    // keeps it (`socketId`), their other tabs could not unwrap it anyway.
    let event = json!({
        "roomId": room.id.to_hex(),
        "socketId": socket.to_string(),
        "keyId": req.key_id,
        "publicKey": creator_key,
        "wrapped": req.wrapped,
    });
    broadcast(&state, user_channel(viewer), "e2ee:key", &event).await;
    Ok(json!({}))
}

/// Tells the room's studio that a user lost access (a ban): it forgets
/// their pages and rotates the key at once.
pub async fn revoke(state: &AppState, room: ObjectId, user: ObjectId) {
    let event = json!({ "roomId": room.to_hex(), "userId": user.to_hex() });
    broadcast(state, hosts_channel(room), "e2ee:revoke", &event).await;
}
