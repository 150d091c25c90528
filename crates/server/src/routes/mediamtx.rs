//! The MediaMTX doors (docs/mediamtx.md): `POST /api/rooms/{id}/media-token`
//! (a short-lived token for MediaMTX's WHIP/WHEP endpoint),
//! `GET /api/mediamtx/jwks.json` (its `authJWTJWKS`) and
//! `POST /internal/mediamtx/auth` (its `authHTTPAddress`). With the
//! built-in SFU each answers 404 `mediamtx_off`.

use axum::extract::{FromRequest, Request, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::ids::RoomId;
use crate::mediamtx::{Action, AuthRequest, Ticket, grant, plane};
use crate::rooms::load_room;
use crate::routes::docs::{
    DatabaseUnavailable, Forbidden, NotFound, RoomIdParam, UnsupportedMediaType, ValidationFailed,
};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Under `/api`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media_token))
        .routes(routes!(jwks))
}

/// Under `/internal`: MediaMTX calls it, not browsers.
pub fn internal_router() -> Router<AppState> {
    Router::new().route("/mediamtx/auth", post(auth))
}

#[derive(Deserialize)]
struct TokenBody {
    action: Action,
}

/// A MediaMTX media token (STREAMSHARE_MEDIA_BACKEND=mediamtx)
///
/// A short-lived token to publish (the room's creator) or read (whoever
/// may enter the room: the creator, anyone in a free room, a payer for
/// the current live session; not banned, account active, room live) the
/// room's stream on MediaMTX: the same rules as the built-in SFU's
/// doors. `url` is MediaMTX's WHIP (`publish`) or WHEP (`read`) endpoint
/// for the room's `path`; send the SDP offer there with
/// `Authorization: Bearer <token>`. The token is an EdDSA JWT with
/// `sub`, `iss: streamshare`, `aud: mediamtx`, `iat`, `exp` and
/// `mediamtx_permissions: [{action, path}]` for exactly this action and
/// path (docs/mediamtx.md).
///
/// Errors: 401 `unauthorized` / `token_expired`; 403 `forbidden`
/// (publish, not the creator), `payment_required` (with `price`),
/// `banned`, `account_suspended`; 404 `room_not_found`, or
/// `mediamtx_off` when the server uses its built-in media server; 409
/// `room_not_live` (read); 415; 422 `validation_failed` (`field:
/// action`); 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/rooms/{id}/media-token",
    tag = "media",
    operation_id = "mediaToken",
    security(("bearerAuth" = [])),
    params(RoomIdParam),
    request_body(content = ref("#/components/schemas/MediaTokenRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "The token and where to use it.", body = ref("#/components/schemas/MediaTokenAnswer"), content_type = "application/json", example = json!({"token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9...", "url": "https://media.example.com/streamshare/65f0a1b2c3d4e5f601234567/whep", "path": "streamshare/65f0a1b2c3d4e5f601234567", "expiresAt": "2026-12-02T12:01:00Z"})),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "`room_not_live`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// A token for the caller to publish (creator) or read (anyone who may
// enter the room) the room's stream on MediaMTX.
#[tracing::instrument(skip_all, fields(room_id = %id, user_id = %user.id))]
async fn media_token(
    State(state): State<AppState>,
    user: AuthUser,
    id: RoomId,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<Ticket>> {
    let plane = plane(&state)?;
    let room = load_room(&state, id).await?;
    grant(&state, &room, user.id, body.action).await?;
    Ok(Json(plane.issue(user.id, room.id, body.action)?))
}

/// The public key of the media tokens (MediaMTX `authJWTJWKS`)
///
/// A JWK Set (RFC 7517) with the Ed25519 public key (RFC 8037, `kty:
/// OKP`) the media tokens are signed with, for MediaMTX's `authMethod:
/// jwt`. Public, no credentials. 404 `mediamtx_off` with the built-in
/// media server.
#[utoipa::path(
    get,
    path = "/mediamtx/jwks.json",
    tag = "media",
    operation_id = "mediamtxJwks",
    responses(
        (status = 200, description = "The JWK Set.", body = ref("#/components/schemas/MediamtxJwksAnswer"), content_type = "application/json"),
        (status = 404, response = NotFound)
    )
)]
// The public key MediaMTX checks media tokens with.
async fn jwks(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(plane(&state)?.jwks()))
}

#[derive(Deserialize)]
struct SecretQuery {
    secret: Option<String>,
}

/// MediaMTX's `authMethod: http` request: 200 allows, any refusal
/// (401/403/404/409, in the contract's error shape) denies.
async fn auth(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SecretQuery>,
    request: Request,
) -> Result<Json<Value>> {
    let plane = plane(&state)?;
    plane.check_secret(query.secret.as_deref())?;
    let ApiJson(asked) = ApiJson::<AuthRequest>::from_request(request, &state).await?;
    let result = async {
        let wanted = plane.read_request(&asked)?;
        let room = load_room(&state, wanted.room).await?;
        grant(&state, &room, wanted.user, wanted.action).await?;
        Ok::<_, crate::error::ApiError>(wanted)
    }
    .await;
    match result {
        Ok(wanted) => {
            tracing::info!(
                user_id = %wanted.user, room_id = %wanted.room, action = %asked.action,
                protocol = %asked.protocol, ip = %asked.ip, "MediaMTX: allowed"
            );
            Ok(Json(json!({
                "allowed": true,
                "userId": wanted.user.to_hex(),
                "roomId": wanted.room.to_hex(),
                "action": asked.action,
            })))
        }
        Err(err) => {
            tracing::info!(
                code = err.code(), action = %asked.action, path = %asked.path,
                protocol = %asked.protocol, ip = %asked.ip, "MediaMTX: refused"
            );
            Err(err)
        }
    }
}
