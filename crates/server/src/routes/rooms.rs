//! `/api/rooms/*`: rooms, live sessions (go live / end) and thumbnails.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
use crate::routes::docs::{
    BadRequest, DatabaseUnavailable, Forbidden, InternalError, PageParams, PayloadTooLarge,
    RoomIdParam, RoomNotFound, UnsupportedMediaType, ValidationFailed,
};
use crate::routes::users::load_user;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest thumbnail accepted.
pub const MAX_THUMBNAIL_BYTES: usize = 512 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_room, list_rooms))
        .routes(routes!(get_room, update_room))
        .routes(routes!(go_live, end_live))
        .routes(routes!(get_thumbnail, put_thumbnail))
        .routes(routes!(list_moderators))
        .routes(routes!(appoint_moderator, remove_moderator))
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

/// Create a room
///
/// Creates a room whose creator is the caller. The room starts
/// `offline`. `category` is stored in lowercase. The response has no
/// `access` field.
///
/// Errors: 400 `malformed_json`; 401 `unauthorized` / `token_expired`;
/// 413 `payload_too_large`; 415 `unsupported_media_type`;
/// 422 `validation_failed` (`field`: `title`, `description`, `category`,
/// `price` or `body`); 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/",
    tag = "rooms",
    operation_id = "createRoom",
    request_body(content = ref("#/components/schemas/CreateRoomRequest"), content_type = "application/json", example = json!({"title": "Late-night synthwave", "description": "Live modular set", "category": "music", "price": 30})),
    responses(
        (status = 201, description = "The new room.", body = ref("#/components/schemas/Room"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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
// The home screen: live rooms first, most viewers first, newest first.
/// List rooms (the home screen)
///
/// Returns rooms in this order: live rooms first, then by `viewerCount`
/// descending, then newest first. This endpoint needs no authentication,
/// and an `Authorization` header is ignored, except with
/// `following=true`, which needs one. Filters combine with AND. An
/// empty `status`, `q` or `category` is the same as leaving it out. Items
/// have no `access` field.
///
/// Errors: 401 (`following=true` without a good token); 422
/// `validation_failed` (`field`: `status`, `q`, `category`,
/// `creatorId`, `price`, `following`, `limit` or `cursor`); 503
/// `database_unavailable`.
#[utoipa::path(
    get,
    path = "/",
    tag = "rooms",
    operation_id = "listRooms",
    security((), ("bearerAuth" = [])),
    params(PageParams, ("status" = Option<String>, Query, description = "Only rooms with this status. Any other value is 422 naming `status`."), ("q" = Option<String>, Query, description = "Search text (1–100 characters after trimming). Matches rooms whose\n`title` contains it, case-insensitively. The text is taken\nliterally, with no regex or wildcards."), ("category" = Option<String>, Query, description = "Only rooms of this category. The value is lowercased and must\nmatch exactly. At most 32 characters."), ("creatorId" = Option<String>, Query, description = "Only rooms of this creator. A value that is not an id is 422 naming `creatorId`."), ("price" = Option<String>, Query, description = "`free` (price 0), `paid` (price above 0) or `any` (the default). Anything else is 422 naming `price`."), ("following" = Option<String>, Query, description = "`true`: only rooms of creators the caller follows (the home\npage's \"Following\" row); needs a token (401 without one). Any\nvalue but `true`/`false` is 422 naming `following`.")),
    responses(
        (status = 200, description = "A page of rooms.", body = ref("#/components/schemas/RoomPage"), content_type = "application/json"),
        (status = 401, description = "`following=true` without a valid access token.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// One room, with the caller's access
///
/// Returns the room plus `access`, which says what the caller may do with
/// the room's stream:
/// - `creator`: the caller created the room.
/// - `free`: the price is 0.
/// - `paid`: the caller paid for the **current** live session.
/// - `locked`: none of the above. A payment for an earlier session does
///   not count.
///
/// Authentication is optional. Without a token the access is `free` or
/// `locked`. A token that is sent but is invalid or expired is still a
/// 401, because a client that sends one believes it is signed in.
///
/// Errors: 401 `unauthorized` / `token_expired` (only when a bad token is
/// sent); 404 `room_not_found` (also when the id is not an ObjectId);
/// 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/{id}",
    tag = "rooms",
    operation_id = "getRoom",
    security((), ("bearerAuth" = [])),
    params(RoomIdParam),
    responses(
        (status = 200, description = "The room and the caller's access.", body = ref("#/components/schemas/RoomWithAccess"), content_type = "application/json"),
        (status = 404, response = RoomNotFound),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// Edit a room (creator only)
///
/// Changes the fields that are present. A field that is absent or `null`
/// stays as it is, and an empty object returns the room unchanged. A new
/// price applies to payments from now on. Viewers who already paid for
/// the running session keep their access. The response has no `access`
/// field.
///
/// Errors are checked in this order: 401 `unauthorized` /
/// `token_expired`; then errors in reading the body: 400
/// `malformed_json`, 413 `payload_too_large`, 415
/// `unsupported_media_type`, or 422 for a field of the wrong type; then
/// 404 `room_not_found`; then 403 `forbidden` (the caller is not the
/// creator); then 422 `validation_failed` (`field`: `title`,
/// `description`, `category`, `price` or `body`); then 409 `room_live`
/// when `e2ee` would change while the room is live. Last comes 503
/// `database_unavailable`.
#[utoipa::path(
    patch,
    path = "/{id}",
    tag = "rooms",
    operation_id = "updateRoom",
    params(RoomIdParam),
    request_body(content = ref("#/components/schemas/UpdateRoomRequest"), content_type = "application/json", example = json!({"price": 50})),
    responses(
        (status = 200, description = "The room after the change.", body = ref("#/components/schemas/Room"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 409, description = "`room_live`: end-to-end encryption changes only while the room is offline.", body = ref("#/components/schemas/Error"), content_type = "application/json", example = json!({"error": {"code": "room_live", "message": "End the broadcast to change the room's end-to-end encryption."}})),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Edits a room. A new price applies to payments from now on; viewers who
// paid for the running session keep their access. End-to-end encryption
// changes only while offline: viewers and the studio agree on it for a
// whole session.
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

/// A room's moderators
#[utoipa::path(
    get,
    path = "/{id}/moderators",
    tag = "community",
    operation_id = "listModerators",
    security(()),
    params(RoomIdParam),
    responses(
        (status = 200, description = "The moderators, in the order they were appointed.", body = ref("#/components/schemas/UserRefList"), content_type = "application/json"),
        (status = 404, response = RoomNotFound)
    )
)]
// `GET /api/rooms/{id}/moderators`: `{items: [UserRef]}`, for anyone.
async fn list_moderators(State(state): State<AppState>, id: RoomId) -> Result<Json<Value>> {
    let room = load_room(&state, id).await?;
    let items = crate::moderation::moderators(&state, &room).await?;
    Ok(Json(json!({ "items": items })))
}

/// Appoint a moderator (the room's creator only)
///
/// A moderator may delete any message, time out and ban in the room's
/// chat (`chat:delete`, `chat:timeout`, `chat:ban`, `chat:unban`), but
/// not the creator or another moderator. Idempotent. Those in the room
/// hear `room:moderators`.
///
/// Errors: 401; 403 `forbidden` (not the creator); 404
/// `room_not_found`, `user_not_found`; 409 `too_many_moderators` (50);
/// 422 `validation_failed` (`userId`: the creator).
#[utoipa::path(
    put,
    path = "/{id}/moderators/{userId}",
    tag = "community",
    operation_id = "appointModerator",
    params(RoomIdParam, ("userId" = String, Path)),
    responses(
        (status = 200, description = "The room's moderators after.", body = ref("#/components/schemas/UserRefList"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 409, description = "`too_many_moderators`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 422, response = ValidationFailed)
    )
)]
// `PUT /api/rooms/{id}/moderators/{userId}`: the creator appoints a
// moderator; answers the room's moderators.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn appoint_moderator(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((room, target)): ApiPath<(String, String)>,
) -> Result<Json<Value>> {
    set_moderator(state, user, room, target, true).await
}

/// Remove a moderator (the room's creator only)
///
/// Idempotent. Errors as for `PUT`.
#[utoipa::path(
    delete,
    path = "/{id}/moderators/{userId}",
    tag = "community",
    operation_id = "removeModerator",
    params(RoomIdParam, ("userId" = String, Path)),
    responses(
        (status = 200, description = "The room's moderators after.", body = ref("#/components/schemas/UserRefList"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 422, response = ValidationFailed)
    )
)]
// `DELETE /api/rooms/{id}/moderators/{userId}`: the creator removes one.
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

/// Go live (creator only)
///
/// Starts a live session. The room gets `status: "live"`, a new
/// `liveSessionId` and `startedAt`, and its `viewerCount` is reset to 0.
/// A payment buys a single live session, so viewers of a new session must
/// pay again. If the room is already live, its running session is kept
/// and the answer is still 200. No body is needed.
///
/// Errors: 401 `unauthorized` / `token_expired`; 403 `forbidden`;
/// 404 `room_not_found`; 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/{id}/live",
    tag = "rooms",
    operation_id = "goLive",
    params(RoomIdParam),
    responses(
        (status = 200, description = "The live room.", body = ref("#/components/schemas/Room"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Starts a live session (a new `liveSessionId`); already live keeps the
// running one.
#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %id))]
async fn go_live(State(state): State<AppState>, user: AuthUser, id: RoomId) -> Result<Json<Room>> {
    let room = start_session(&state, id, user.id).await?;
    tracing::info!(session_id = ?room.live_session_id, "live");
    Ok(Json(Room::from(&room)))
}

/// End the live session (creator only)
///
/// Ends the live session. The room goes `offline`, and `liveSessionId`
/// and `startedAt` become `null`. The session's payments no longer let
/// anyone in. Everyone in the room gets the Socket.IO event `room:ended`.
/// If the room is already offline, the answer is 200 with the room as it
/// is.
///
/// Errors: 401 `unauthorized` / `token_expired`; 403 `forbidden`;
/// 404 `room_not_found`; 503 `database_unavailable`.
#[utoipa::path(
    delete,
    path = "/{id}/live",
    tag = "rooms",
    operation_id = "endLive",
    params(RoomIdParam),
    responses(
        (status = 200, description = "The offline room.", body = ref("#/components/schemas/Room"), content_type = "application/json"),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Ends the live session: the room goes offline and the session's paid
// access no longer lets anyone in.
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

/// Upload the room's thumbnail (creator only)
///
/// The body is the raw image: JPEG or PNG, at most 512 KiB. The declared
/// `Content-Type` must be `image/jpeg` or `image/png`, and the image's
/// magic bytes must agree with it (`FF D8 FF` for JPEG,
/// `89 50 4E 47 0D 0A 1A 0A` for PNG). Each upload replaces the old image
/// and bumps the thumbnail version. After the upload, the room's
/// `thumbnailUrl` is `/api/rooms/{id}/thumbnail?v=<new version>`.
///
/// Errors are checked in this order: 401 `unauthorized` /
/// `token_expired`; 415 `unsupported_media_type` (the `Content-Type` is
/// not `image/jpeg` or `image/png`); 404 `room_not_found`;
/// 403 `forbidden`; 413 `payload_too_large` (over 512 KiB, or over the
/// 1 MiB body limit); 400 `bad_request` (the body could not be read);
/// 422 `validation_failed` with `field: "body"` (the bytes are not the
/// declared format); 503 `database_unavailable`.
#[utoipa::path(
    put,
    path = "/{id}/thumbnail",
    tag = "rooms",
    operation_id = "putThumbnail",
    params(RoomIdParam),
    request_body(content((String = "image/jpeg"), (String = "image/png"))),
    responses(
        (status = 204, description = "Stored."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = RoomNotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// The room's thumbnail image
///
/// Serves the current image with its own `Content-Type` and
/// `X-Content-Type-Options: nosniff`. No authentication is needed. Use the
/// versioned URL from the room's `thumbnailUrl`, `?v=<version>`. When `v`
/// matches the current version, the response may be cached for good:
/// `Cache-Control: public, max-age=31536000, immutable`. A new upload
/// gets a new URL. When `v` is missing or stale, the current image is
/// served with `Cache-Control: public, max-age=0, must-revalidate`. Every
/// response carries an `ETag` (`"<roomId>-<version>"`). A request whose
/// `If-None-Match` has the current ETag gets 304 with no body.
///
/// Errors: 404 `room_not_found` (the id is not an ObjectId) or
/// `thumbnail_not_found` (no such room, or the room has no thumbnail);
/// 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/{id}/thumbnail",
    tag = "rooms",
    operation_id = "getThumbnail",
    security(),
    params(RoomIdParam, ("v" = Option<i64>, Query, description = "The thumbnail version, as in `thumbnailUrl`. Only the current version is served as immutable."), ("If-None-Match" = Option<String>, Header, description = "ETags from an earlier response.")),
    responses(
        (status = 200, description = "The image.", content((String = "image/jpeg"), (String = "image/png")), headers(("Cache-Control" = String, description = "`public, max-age=31536000, immutable` when `v` is the current version, otherwise `public, max-age=0, must-revalidate`."), ("ETag" = String, description = "`\"<roomId>-<version>\"`."), ("X-Content-Type-Options" = String, description = ""))),
        (status = 304, description = "Not modified (`If-None-Match` has the current ETag). No body.", headers(("Cache-Control" = String, description = "As for 200."), ("ETag" = String, description = "`\"<roomId>-<version>\"`."))),
        (status = 404, description = "`room_not_found` (the id is not an ObjectId) or `thumbnail_not_found`.", body = ref("#/components/schemas/Error"), content_type = "application/json", examples(("thumbnail_not_found" = (value = json!({"error": {"code": "thumbnail_not_found", "message": "This room has no thumbnail."}}))), ("room_not_found" = (value = json!({"error": {"code": "room_not_found", "message": "There is no such room."}}))))),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Serves a thumbnail. Its URL carries the version, so a matching `?v=` is
// cached for good; a stale or missing one is revalidated by `ETag`.
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
