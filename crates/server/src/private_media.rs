//! The media of private sessions. Both parties' streams live on one
//! instance's SFU: the one that accepted the session (its media home). A
//! party whose page reached another instance has its signaling carried
//! there over the internal door, with the cascade's instance credential,
//! and its media goes to the home's UDP port directly (the SDP says where).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Json, Router, routing::post};
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::extract::ApiPath;
use crate::media::{check_sdp, running, sfu_error};
use crate::models::MediaHome;
use crate::private::{ACTIVE, PrivateDoc};
use crate::rooms::is_me;
use crate::state::AppState;

/// One signaling step of a party.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The party's camera and microphone: their offer in, the SFU's answer out.
    Publish { sdp: String },
    /// The other party's stream: the SFU offers.
    View,
    /// The party's answer to that offer.
    Answer { sdp: String },
}

/// Runs a step where the session's media lives.
pub async fn run(state: &AppState, doc: &PrivateDoc, user: ObjectId, op: Op) -> Result<Value> {
    match &doc.media_home {
        Some(home) if !is_me(state, home) => forward(state, doc.id, home, user, op).await,
        _ => local(state, doc, user, op).await,
    }
}

async fn local(state: &AppState, doc: &PrivateDoc, user: ObjectId, op: Op) -> Result<Value> {
    let media = running(state)?;
    let (own, other) = doc.streams_of(user);
    match op {
        Op::Publish { sdp } => {
            check_sdp(state, &sdp)?;
            let (_, answer) = media.publish_private(own, user, &sdp).await?;
            Ok(json!({ "sdp": answer }))
        }
        Op::View => {
            let (_, offer) = media.subscribe_private(other, user).await?;
            Ok(json!({ "sdp": offer }))
        }
        Op::Answer { sdp } => {
            check_sdp(state, &sdp)?;
            let peer = media
                .private_peer(other, user)
                .ok_or_else(|| sfu_error(streamshare_sfu::SfuError::UnknownPeer))?;
            media
                .sfu
                .accept_answer(peer, &sdp)
                .await
                .map_err(sfu_error)?;
            Ok(json!({}))
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Forwarded {
    user: ObjectId,
    #[serde(flatten)]
    op: Op,
}

fn home_unreachable(detail: impl std::fmt::Display) -> ApiError {
    tracing::warn!(%detail, "a private session's media home did not answer");
    ApiError::unavailable(
        "media_unavailable",
        "The media server of this private session cannot be reached; try again.",
    )
}

async fn forward(
    state: &AppState,
    session: ObjectId,
    home: &MediaHome,
    user: ObjectId,
    op: Op,
) -> Result<Value> {
    let credential = state
        .cascade
        .keys
        .issue(state.settings.instance_id(), session)?;
    let url = format!(
        "{}/internal/private/{}",
        home.url.trim_end_matches('/'),
        session.to_hex()
    );
    let response = state
        .cascade
        .http
        .post(&url)
        .bearer_auth(credential)
        .json(&Forwarded { user, op })
        .send()
        .await
        .map_err(home_unreachable)?;
    let status = response.status();
    let body: Value = response.json().await.map_err(home_unreachable)?;
    if status.is_success() {
        return Ok(body);
    }
    Err(relayed(status, &body))
}

/// The home's refusal is the party's: the same code, status and words,
/// for the refusals a step can meet; anything else is the home failing.
fn relayed(status: StatusCode, body: &Value) -> ApiError {
    const CODES: [&str; 5] = [
        "not_found",
        "session_not_active",
        "no_media_session",
        "media_unavailable",
        "not_media_home",
    ];
    let error = &body["error"];
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    let code = error["code"].as_str().unwrap_or_default();
    if code == "validation_failed" {
        return ApiError::invalid(error["field"].as_str().unwrap_or("sdp"), message);
    }
    match CODES.iter().find(|known| **known == code) {
        Some(known) => ApiError::refused(status, known, message),
        None => home_unreachable(format!("{status}: {body}")),
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/private/{session}", post(serve))
}

/// Another instance carries a party's step here, the session's media home.
#[tracing::instrument(skip_all, fields(session = %session))]
async fn serve(
    State(state): State<AppState>,
    ApiPath(session): ApiPath<String>,
    headers: HeaderMap,
    Json(forwarded): Json<Forwarded>,
) -> Result<(StatusCode, Json<Value>)> {
    let id = crate::ids::PrivateSessionId::parse(&session)?.get();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("Send an internal credential."))?;
    state.cascade.keys.verify(token.trim(), id)?;
    let doc = crate::private::load(&state, id, forwarded.user).await?;
    if doc.state != ACTIVE {
        return Err(ApiError::conflict(
            "session_not_active",
            format!("This private session is {}.", doc.state),
        ));
    }
    if doc.media_home.as_ref().is_some_and(|h| !is_me(&state, h)) {
        return Err(ApiError::conflict(
            "not_media_home",
            "This instance does not hold the session's media.",
        ));
    }
    let answer = local(&state, &doc, forwarded.user, forwarded.op).await?;
    Ok((StatusCode::OK, Json(answer)))
}
