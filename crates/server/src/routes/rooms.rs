//! `/api/rooms/*`: rooms, live sessions (go live / end) and thumbnails.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access::access_for;
use crate::auth::{AuthUser, MaybeAuthUser};
use crate::domain::{Price, text_field};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiPath, ApiQuery, read_body};
use crate::ids::{RoomId, filter_id};
use crate::models::{Room, RoomDoc, STATUS_LIVE, STATUS_OFFLINE, ThumbnailDoc};
use crate::pagination::{ListPage, finish_page, parse_limit};
use crate::rooms::{end_session, ensure_creator, load_room, start_session};
use crate::routes::users::load_user;
use crate::state::AppState;

/// Largest thumbnail accepted.
pub const MAX_THUMBNAIL_BYTES: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(create_room).get(list_rooms))
        .route("/{id}", get(get_room).patch(update_room))
        .route("/{id}/live", post(go_live).delete(end_live))
        .route("/{id}/thumbnail", get(get_thumbnail).put(put_thumbnail))
        .route("/{id}/moderators", get(list_moderators))
        .route(
            "/{id}/moderators/{user_id}",
            axum::routing::put(appoint_moderator).delete(remove_moderator),
        )
        .merge(crate::routes::media::stream_key_router())
}

fn category(raw: &str) -> Result<String> {
    Ok(text_field(raw, "category", 0, 32)?.to_lowercase())
}

#[derive(Deserialize)]
struct CreateRoomBody {
    title: String,
    description: Option<String>,
    category: Option<String>,
    price: Value,
    #[serde(default)]
    e2ee: bool,
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn create_room(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateRoomBody>,
) -> Result<(StatusCode, Json<Room>)> {
    let title = text_field(&body.title, "title", 1, 100)?;
    let description = text_field(
        body.description.as_deref().unwrap_or(""),
        "description",
        0,
        2000,
    )?;
    let category = category(body.category.as_deref().unwrap_or(""))?;
    let price = Price::parse(&body.price)?;
    let creator = load_user(&state, user.id).await?;
    let room = RoomDoc {
        id: ObjectId::new(),
        creator_id: creator.id,
        creator_username: creator.username,
        creator_display_name: creator.display_name,
        title,
        description,
        category,
        price: price.coins(),
        status: STATUS_OFFLINE.into(),
        live_rank: 0,
        live_session_id: None,
        started_at: None,
        viewer_count: 0,
        thumbnail_version: 0,
        created_at: DateTime::now(),
        away_until: None,
        media_home: None,
        e2ee: body.e2ee,
        in_private: false,
        moderators: Vec::new(),
    };
    state.db.rooms().insert_one(&room).await?;
    tracing::info!(room_id = %room.id, "room created");
    Ok((StatusCode::CREATED, Json(Room::from(&room))))
}

/// Where the last row of a page stood in the home order.
#[derive(Serialize, Deserialize)]
struct RoomPosition {
    r: i32,
    v: i64,
    id: ObjectId,
}

/// The home screen: live rooms first, most viewers first, newest first.
async fn list_rooms(
    State(state): State<AppState>,
    // Read only for `following=true`: elsewhere the list ignores who asks
    // (a bad token included), as it always did.
    user: std::result::Result<MaybeAuthUser, ApiError>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Room>>> {
    let limit = parse_limit(query.get("limit").map(String::as_str))?;
    let mut filter = Document::new();
    match query.get("following").map(|f| f.trim()) {
        None | Some("" | "false") => {}
        Some("true") => {
            let MaybeAuthUser(user) = user?;
            let Some(user) = &user else {
                return Err(ApiError::unauthorized(
                    "Sign in to list the rooms of the creators you follow.",
                ));
            };
            let creators = crate::follows::followed(&state, user.id).await?;
            filter.insert("creatorId", doc! { "$in": creators });
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "following",
                "following is `true` or `false`.",
            ));
        }
    }
    match query.get("price").map(|p| p.trim()) {
        None | Some("" | "any") => {}
        Some("free") => {
            filter.insert("price", 0);
        }
        Some("paid") => {
            filter.insert("price", doc! { "$gt": 0 });
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "price",
                "price is `free`, `paid` or `any`.",
            ));
        }
    }
    match query.get("status").map(|s| s.trim()) {
        None | Some("") => {}
        Some(s @ (STATUS_LIVE | STATUS_OFFLINE)) => {
            filter.insert("status", s);
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "status is `live` or `offline`.",
            ));
        }
    }
    if let Some(q) = query.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) {
        let q = text_field(q, "q", 1, 100)?;
        filter.insert(
            "title",
            doc! { "$regex": escape_regex(&q), "$options": "i" },
        );
    }
    if let Some(c) = query
        .get("category")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        filter.insert("category", category(c)?);
    }
    if let Some(id) = query.get("creatorId") {
        let id = filter_id(id, "creatorId")?;
        if filter.contains_key("creatorId") {
            // With `following`: one of the followed, or nothing.
            filter.insert("$and", vec![doc! { "creatorId": id }]);
        } else {
            filter.insert("creatorId", id);
        }
    }
    if let Some(cursor) = query.get("cursor") {
        let p: RoomPosition = state.cursors.decode(cursor)?;
        filter.insert(
            "$or",
            vec![
                doc! { "liveRank": { "$lt": p.r } },
                doc! { "liveRank": p.r, "viewerCount": { "$lt": p.v } },
                doc! { "liveRank": p.r, "viewerCount": p.v, "_id": { "$lt": p.id } },
            ],
        );
    }
    let rows: Vec<RoomDoc> = state
        .db
        .rooms()
        .find(filter)
        .sort(doc! { "liveRank": -1, "viewerCount": -1, "_id": -1 })
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    Ok(Json(finish_page(
        rows,
        limit,
        &state.cursors,
        |r| {
            json!(RoomPosition {
                r: r.live_rank,
                v: r.viewer_count,
                id: r.id
            })
        },
        |r| Room::from(r),
    )))
}

fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

async fn get_room(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    id: RoomId,
) -> Result<Json<Room>> {
    let room = load_room(&state, id).await?;
    let access = access_for(&state, &room, user.map(|u| u.id)).await?;
    let mut out = Room::from(&room);
    out.access = Some(access);
    Ok(Json(out))
}

#[derive(Deserialize)]
struct UpdateRoomBody {
    title: Option<String>,
    description: Option<String>,
    category: Option<String>,
    price: Option<Value>,
    e2ee: Option<bool>,
}

/// Edits a room. A new price applies to payments from now on; viewers who
/// paid for the running session keep their access. End-to-end encryption
/// changes only while offline: viewers and the studio agree on it for a
/// whole session.
#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %id))]
async fn update_room(
    State(state): State<AppState>,
    user: AuthUser,
    id: RoomId,
    ApiJson(body): ApiJson<UpdateRoomBody>,
) -> Result<Json<Room>> {
    let room = load_room(&state, id).await?;
    ensure_creator(&room, &user)?;
    let mut set = Document::new();
    if let Some(title) = body.title {
        set.insert("title", text_field(&title, "title", 1, 100)?);
    }
    if let Some(description) = body.description {
        set.insert(
            "description",
            text_field(&description, "description", 0, 2000)?,
        );
    }
    if let Some(c) = body.category {
        set.insert("category", category(&c)?);
    }
    if let Some(price) = body.price {
        set.insert("price", Price::parse(&price)?.coins());
    }
    let mut filter = doc! { "_id": room.id };
    if let Some(e2ee) = body.e2ee.filter(|e2ee| *e2ee != room.e2ee) {
        if room.is_live() {
            return Err(encryption_while_live());
        }
        set.insert("e2ee", e2ee);
        // Checked again in the write: going live meanwhile keeps the
        // session's setting.
        filter.insert("status", STATUS_OFFLINE);
    }
    if set.is_empty() {
        return Ok(Json(Room::from(&room)));
    }
    let updated = state
        .db
        .rooms()
        .find_one_and_update(filter, doc! { "$set": set })
        .return_document(ReturnDocument::After)
        .await?
        .ok_or_else(encryption_while_live)?;
    // Home pages and those in or watching the room see the new title,
    // category or price at once.
    let room_json = Room::from(&updated);
    let channels = [
        crate::push::LOBBY.to_owned(),
        crate::push::room_channel(updated.id),
        crate::push::watch_channel(updated.id),
    ];
    if let Some(io) = state.io()
        && let Err(err) = io
            .to(channels)
            .emit("room:updated", &json!({ "room": &room_json }))
            .await
    {
        tracing::warn!(error = %err, room_id = %updated.id, "could not push the room's change");
    }
    Ok(Json(room_json))
}

/// `GET /api/rooms/{id}/moderators`: `{items: [UserRef]}`, for anyone.
async fn list_moderators(State(state): State<AppState>, id: RoomId) -> Result<Json<Value>> {
    let room = load_room(&state, id).await?;
    let items = crate::moderation::moderators(&state, &room).await?;
    Ok(Json(json!({ "items": items })))
}

/// `PUT /api/rooms/{id}/moderators/{userId}`: the creator appoints a
/// moderator; answers the room's moderators.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn appoint_moderator(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((room, target)): ApiPath<(String, String)>,
) -> Result<Json<Value>> {
    set_moderator(state, user, room, target, true).await
}

/// `DELETE /api/rooms/{id}/moderators/{userId}`: the creator removes one.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn remove_moderator(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((room, target)): ApiPath<(String, String)>,
) -> Result<Json<Value>> {
    set_moderator(state, user, room, target, false).await
}

async fn set_moderator(
    state: AppState,
    user: AuthUser,
    room: String,
    target: String,
    add: bool,
) -> Result<Json<Value>> {
    let room = RoomId::parse(&room)?;
    let target = crate::ids::UserId::parse(&target)?;
    let room = crate::moderation::set_moderator(&state, room, user.id, target, add).await?;
    let items = crate::moderation::moderators(&state, &room).await?;
    Ok(Json(json!({ "items": items })))
}

fn encryption_while_live() -> ApiError {
    ApiError::conflict(
        "room_live",
        "End the broadcast to change the room's end-to-end encryption.",
    )
}

/// Starts a live session (a new `liveSessionId`); already live keeps the
/// running one.
#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %id))]
async fn go_live(State(state): State<AppState>, user: AuthUser, id: RoomId) -> Result<Json<Room>> {
    let room = start_session(&state, id, user.id).await?;
    tracing::info!(session_id = ?room.live_session_id, "live");
    Ok(Json(Room::from(&room)))
}

/// Ends the live session: the room goes offline and the session's paid
/// access no longer lets anyone in.
#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %id))]
async fn end_live(State(state): State<AppState>, user: AuthUser, id: RoomId) -> Result<Json<Room>> {
    let room = load_room(&state, id).await?;
    ensure_creator(&room, &user)?;
    let room = end_session(&state, room).await?.room;
    Ok(Json(Room::from(&room)))
}

/// Which image formats a thumbnail may be, by their magic bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %id))]
async fn put_thumbnail(
    State(state): State<AppState>,
    user: AuthUser,
    id: RoomId,
    request: Request,
) -> Result<StatusCode> {
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if !matches!(declared.as_deref(), Some("image/jpeg" | "image/png")) {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "A thumbnail is sent as image/jpeg or image/png.",
        ));
    }
    let room = load_room(&state, id).await?;
    ensure_creator(&room, &user)?;
    let bytes = read_body(request, &state).await?;
    if bytes.len() > MAX_THUMBNAIL_BYTES {
        return Err(ApiError::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "A thumbnail is at most 512 KiB.",
        ));
    }
    let actual = image_type(&bytes);
    if actual.is_none() || actual != declared.as_deref() {
        return Err(ApiError::invalid(
            "body",
            "The image is not the JPEG or PNG its Content-Type says.",
        ));
    }
    let content_type = actual.unwrap_or_default().to_owned();
    crate::transaction!(&state.db, |s| {
        let room = state
            .db
            .rooms()
            .find_one_and_update(
                doc! { "_id": room.id },
                doc! { "$inc": { "thumbnailVersion": 1 } },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?
            .ok_or_else(crate::rooms::room_not_found)?;
        let thumb = ThumbnailDoc {
            room_id: room.id,
            content_type: content_type.clone(),
            version: room.thumbnail_version,
            data: mongodb::bson::Binary {
                subtype: mongodb::bson::spec::BinarySubtype::Generic,
                bytes: bytes.to_vec(),
            },
            updated_at: DateTime::now(),
        };
        state
            .db
            .thumbnails()
            .replace_one(doc! { "_id": room.id }, &thumb)
            .upsert(true)
            .session(&mut *s)
            .await?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Serves a thumbnail. Its URL carries the version, so a matching `?v=` is
/// cached for good; a stale or missing one is revalidated by `ETag`.
async fn get_thumbnail(
    State(state): State<AppState>,
    id: RoomId,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    let id = id.get();
    let thumb = state
        .db
        .thumbnails()
        .find_one(doc! { "_id": id })
        .await?
        .ok_or_else(|| ApiError::not_found("thumbnail_not_found", "This room has no thumbnail."))?;
    let etag = format!("\"{}-{}\"", id.to_hex(), thumb.version);
    let exact = query.get("v").and_then(|v| v.parse::<i64>().ok()) == Some(thumb.version);
    let cache = if exact {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0, must-revalidate"
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag);
    let response = if not_modified {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, &thumb.content_type)
            .header("x-content-type-options", "nosniff")
            .body(Body::from(thumb.data.bytes))
    };
    response
        .map_err(ApiError::internal)
        .map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_image_type() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(escape_regex("a.b*(c)"), "a\\.b\\*\\(c\\)");
    }
}
