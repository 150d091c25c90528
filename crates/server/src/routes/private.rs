//! `/api/private/*`: a creator's offer of one-to-one private sessions, and
//! the sessions' requests, answers and history (the rules live in
//! `crate::private`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router, routing::get, routing::post};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::ids::{PrivateSessionId, UserId};
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

async fn offer_of(State(state): State<AppState>, creator: UserId) -> Result<Json<Offer>> {
    Ok(Json(private::offer(&state, creator.get()).await?))
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
    let creator = UserId::parse(&body.creator_id)?.get();
    let doc = private::request(&state, user.id, creator).await?;
    Ok((StatusCode::CREATED, Json(Session::from(&doc))))
}

async fn session(
    State(state): State<AppState>,
    user: AuthUser,
    id: PrivateSessionId,
) -> Result<Json<Session>> {
    let doc = private::load(&state, id.get(), user.id).await?;
    Ok(Json(Session::from(&doc)))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    id: PrivateSessionId,
) -> Result<Json<Session>> {
    let doc = private::accept(&state, user.id, id.get()).await?;
    Ok(Json(Session::from(&doc)))
}

/// Decline (the creator) and cancel (the viewer) close a request alike.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn close_request(
    State(state): State<AppState>,
    user: AuthUser,
    id: PrivateSessionId,
) -> Result<Json<Session>> {
    let doc = private::close_request(&state, user.id, id.get()).await?;
    Ok(Json(Session::from(&doc)))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id))]
async fn end(
    State(state): State<AppState>,
    user: AuthUser,
    id: PrivateSessionId,
) -> Result<Json<Session>> {
    let doc = private::end(&state, user.id, id.get()).await?;
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
