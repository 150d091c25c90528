//! `/api/private/*`: a creator's offer of one-to-one private sessions, and
//! the sessions' requests, answers and history (the rules live in
//! `crate::private`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router, routing::get, routing::post};
use mongodb::bson::oid::ObjectId;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{ListPage, newest_first};
use crate::private::{self, Offer, PrivateDoc, Session};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/offer", get(my_offer).put(set_offer))
        .route("/offers/{creator}", get(offer_of))
        .route("/sessions", get(history).post(request))
        .route("/sessions/{id}", get(session))
        .route("/sessions/{id}/accept", post(accept))
        .route("/sessions/{id}/decline", post(close_request))
        .route("/sessions/{id}/cancel", post(close_request))
        .route("/sessions/{id}/end", post(end))
}

fn user_id(raw: &str, field: &str) -> Result<ObjectId> {
    ObjectId::parse_str(raw.trim()).map_err(|_| {
        ApiError::not_found("user_not_found", format!("{field}: there is no such user."))
    })
}

fn session_id(raw: &str) -> Result<ObjectId> {
    ObjectId::parse_str(raw.trim())
        .map_err(|_| ApiError::not_found("not_found", "There is no such private session."))
}

async fn my_offer(State(state): State<AppState>, user: AuthUser) -> Result<Json<Offer>> {
    Ok(Json(private::offer(&state, user.id).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferBody {
    price_per_minute: i64,
    accepting: bool,
    #[serde(default = "yes")]
    pause_room: bool,
}

fn yes() -> bool {
    true
}

async fn set_offer(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<OfferBody>,
) -> Result<Json<Offer>> {
    let offer = private::set_offer(
        &state,
        user.id,
        body.price_per_minute,
        body.accepting,
        body.pause_room,
    )
    .await?;
    Ok(Json(offer))
}

async fn offer_of(
    State(state): State<AppState>,
    ApiPath(creator): ApiPath<String>,
) -> Result<Json<Offer>> {
    Ok(Json(
        private::offer(&state, user_id(&creator, "creatorId")?).await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody {
    creator_id: String,
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn request(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<(StatusCode, Json<Session>)> {
    let creator = user_id(&body.creator_id, "creatorId")?;
    let doc = private::request(&state, user.id, creator).await?;
    Ok((StatusCode::CREATED, Json(Session::from(&doc))))
}

async fn session(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Session>> {
    let doc = private::load(&state, session_id(&id)?, user.id).await?;
    Ok(Json(Session::from(&doc)))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Session>> {
    let doc = private::accept(&state, user.id, session_id(&id)?).await?;
    Ok(Json(Session::from(&doc)))
}

/// Decline (the creator) and cancel (the viewer) close a request alike.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn close_request(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Session>> {
    let doc = private::close_request(&state, user.id, session_id(&id)?).await?;
    Ok(Json(Session::from(&doc)))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn end(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Session>> {
    let doc = private::end(&state, user.id, session_id(&id)?).await?;
    Ok(Json(Session::from(&doc)))
}

async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Session>>> {
    let page = newest_first(
        state.db.private_sessions(),
        private::history_filter(user.id),
        &query,
        &state.cursors,
        |d: &PrivateDoc| d.id,
        |d: &PrivateDoc| Session::from(d),
    )
    .await?;
    Ok(Json(page))
}
