//! `/api/private/*`: a creator's offer of one-to-one private sessions, and
//! the sessions' requests, answers and history (the rules live in
//! `crate::private`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::{PrivateSessionId, UserId};
use crate::pagination::{ListPage, newest_first};
use crate::private::{self, Offer, PrivateDoc, Session};
use crate::routes::docs::{
    BadRequest, InvalidPageParameter, NotFound, PageParams, ValidationFailed,
};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_offer, set_offer))
        .routes(routes!(offer_of))
        .routes(routes!(history, request))
        .routes(routes!(session))
        .routes(routes!(act))
}

/// The caller's offer of one-to-one private sessions
///
/// Defaults to `{pricePerMinute: 0, accepting: false, pauseRoom: true}` until set.
#[utoipa::path(
    get,
    path = "/offer",
    tag = "private",
    operation_id = "getMyPrivateOffer",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The offer.", body = ref("#/components/schemas/PrivateOffer"), content_type = "application/json")
    )
)]
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

/// Sets the price per minute, whether requests are taken now, and whether live rooms pause during a session
#[utoipa::path(
    put,
    path = "/offer",
    tag = "private",
    operation_id = "setMyPrivateOffer",
    security(("bearerAuth" = [])),
    request_body(content = ref("#/components/schemas/SetMyPrivateOfferRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "The offer as stored.", body = ref("#/components/schemas/PrivateOffer"), content_type = "application/json"),
        (status = 422, response = ValidationFailed)
    )
)]
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

/// A creator's offer (no sign-in needed)
#[utoipa::path(
    get,
    path = "/offers/{creatorId}",
    tag = "private",
    operation_id = "getPrivateOffer",
    params(("creatorId" = String, Path)),
    responses(
        (status = 200, description = "The offer; `accepting` is false when the creator has none.", body = ref("#/components/schemas/PrivateOffer"), content_type = "application/json"),
        (status = 404, response = NotFound)
    )
)]
async fn offer_of(State(state): State<AppState>, creator: UserId) -> Result<Json<Offer>> {
    Ok(Json(private::offer(&state, creator.get()).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody {
    creator_id: String,
}

/// A viewer asks a creator for a private session
///
/// The creator hears `private:request` (Socket.IO) and accepts or
/// declines; unanswered, the request expires after
/// `STREAMSHARE_PRIVATE_REQUEST_SECS` (60). The price is the offer's
/// when asked. Only a viewer who can pay the first period may ask.
/// Errors: 400 `self_payment`; 402 `insufficient_funds` (with `balance`
/// and `required`); 404 `user_not_found`; 409 `not_accepting`,
/// `request_pending` (the viewer has a session requested or running),
/// `creator_busy` (the creator is in a session).
#[utoipa::path(
    post,
    path = "/sessions",
    tag = "private",
    operation_id = "requestPrivateSession",
    security(("bearerAuth" = [])),
    request_body(content = ref("#/components/schemas/RequestPrivateSessionRequest"), content_type = "application/json"),
    responses(
        (status = 201, description = "The request (state `requested`).", body = ref("#/components/schemas/PrivateSession"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 402, description = "`insufficient_funds`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 404, response = NotFound),
        (status = 409, description = "`not_accepting`, `request_pending` or `creator_busy`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
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

/// One session, for its two parties (404 for anyone else)
#[utoipa::path(
    get,
    path = "/sessions/{id}",
    tag = "private",
    operation_id = "getPrivateSession",
    security(("bearerAuth" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The session.", body = ref("#/components/schemas/PrivateSession"), content_type = "application/json"),
        (status = 404, response = NotFound)
    )
)]
async fn session(
    State(state): State<AppState>,
    user: AuthUser,
    id: PrivateSessionId,
) -> Result<Json<Session>> {
    let doc = private::load(&state, id.get(), user.id).await?;
    Ok(Json(Session::from(&doc)))
}

/// accept / decline (the creator), cancel (the viewer, while requested), end (either, while active)
///
/// `accept` holds the first period's price from the viewer's coins
/// (ledger `private_hold`) and starts the clock; if the viewer can no
/// longer pay, the request is declined and the answer is 402
/// `insufficient_funds`. Every period's end charges the held price to
/// the creator (`private_charge`) and holds the next, or ends the
/// session (`funds`) when the viewer cannot pay it; both parties get
/// `private:warning` about `STREAMSHARE_PRIVATE_WARN_SECS` (30) before.
/// `end` charges the current period `ceil(price × seconds used ÷
/// period)` and gives the rest back (`private_release`). A party gone
/// (no page joined with `private:join`) longer than
/// `STREAMSHARE_PRIVATE_GRACE_SECS` (20) ends it as of when both were
/// last there (`connection`); the clock does not run for the absent.
/// Errors: 404 `not_found` (not a party); 409 `request_closed`,
/// `request_expired`, `session_not_active`, `creator_busy`.
#[utoipa::path(
    post,
    path = "/sessions/{id}/{action}",
    tag = "private",
    operation_id = "answerPrivateSession",
    security(("bearerAuth" = [])),
    params(("id" = String, Path), ("action" = String, Path)),
    responses(
        (status = 200, description = "The session after the step.", body = ref("#/components/schemas/PrivateSession"), content_type = "application/json"),
        (status = 402, description = "`insufficient_funds` (accept: the viewer cannot pay the first period any more).", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 404, response = NotFound),
        (status = 409, description = "`request_closed`, `request_expired`, `session_not_active` or `creator_busy`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
// One step of a session: `accept`, `decline` (the creator), `cancel` (the
// viewer; decline and cancel close a request alike) or `end` (either).
#[tracing::instrument(skip_all, fields(user_id = %user.id, session = %id, action = %action))]
async fn act(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, action)): ApiPath<(String, String)>,
) -> Result<Json<Session>> {
    let id = PrivateSessionId::parse(&id)?.get();
    let doc = match action.as_str() {
        "accept" => private::accept(&state, user.id, id).await?,
        "decline" | "cancel" => private::close_request(&state, user.id, id).await?,
        "end" => private::end(&state, user.id, id).await?,
        _ => {
            return Err(ApiError::not_found(
                "not_found",
                "There is no such API endpoint.",
            ));
        }
    };
    Ok(Json(Session::from(&doc)))
}

/// The caller's private sessions, as creator or viewer, newest first (history)
#[utoipa::path(
    get,
    path = "/sessions",
    tag = "private",
    operation_id = "listPrivateSessions",
    security(("bearerAuth" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of sessions.", body = ref("#/components/schemas/ListPrivateSessionsAnswer"), content_type = "application/json"),
        (status = 422, response = InvalidPageParameter)
    )
)]
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
