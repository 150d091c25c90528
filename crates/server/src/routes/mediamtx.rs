//! The MediaMTX doors (docs/mediamtx.md): `POST /api/rooms/{id}/media-token`
//! (a short-lived token for MediaMTX's WHIP/WHEP endpoint),
//! `GET /api/mediamtx/jwks.json` (its `authJWTJWKS`) and
//! `POST /internal/mediamtx/auth` (its `authHTTPAddress`). With the
//! built-in SFU each answers 404 `mediamtx_off`.

use axum::extract::{FromRequest, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::ids::RoomId;
use crate::mediamtx::{Action, AuthRequest, Ticket, grant, plane};
use crate::rooms::load_room;
use crate::state::AppState;

/// Under `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/media-token", post(media_token))
        .route("/mediamtx/jwks.json", get(jwks))
}

/// Under `/internal`: MediaMTX calls it, not browsers.
pub fn internal_router() -> Router<AppState> {
    Router::new().route("/mediamtx/auth", post(auth))
}

#[derive(Deserialize)]
struct TokenBody {
    action: Action,
}

/// A token for the caller to publish (creator) or read (anyone who may
/// enter the room) the room's stream on MediaMTX.
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

/// The public key MediaMTX checks media tokens with.
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
