//! A private session's pages over Socket.IO: presence (`private:join`) and
//! media both ways (`private:publish`, `private:view`, `private:answer`),
//! for its two parties only and only while it runs.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::media::check_sdp;
use crate::private::{self, PrivateDoc, Session};
use crate::private_media::{self, Op};
use crate::realtime::Ctx;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionReq {
    session_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdpReq {
    session_id: String,
    sdp: String,
}

/// The running session of a party; anyone else learns nothing.
async fn running_session(cx: &Ctx, raw: &str) -> Result<PrivateDoc> {
    let id = crate::ids::PrivateSessionId::parse(raw)?.get();
    let doc = private::load(&cx.state, id, cx.user.id).await?;
    if doc.state != private::ACTIVE {
        return Err(ApiError::conflict(
            "session_not_active",
            format!("This private session is {}.", doc.state),
        )
        .with(
            "session",
            serde_json::to_value(Session::from(&doc)).unwrap_or_default(),
        ));
    }
    Ok(doc)
}

/// A party's page is here: it counts as present while connected.
pub async fn join(cx: Ctx, req: SessionReq) -> Result<Value> {
    let doc = running_session(&cx, &req.session_id).await?;
    cx.socket
        .join(private::presence_channel(doc.id, cx.user.id));
    Ok(json!({ "session": Session::from(&doc) }))
}

/// The party's camera and microphone: their offer in, the SFU's answer out.
pub async fn publish(cx: Ctx, req: SdpReq) -> Result<Value> {
    check_sdp(&cx.state, &req.sdp)?;
    let doc = running_session(&cx, &req.session_id).await?;
    private_media::run(&cx.state, &doc, cx.user.id, Op::Publish { sdp: req.sdp }).await
}

/// The other party's stream: the SFU offers.
pub async fn view(cx: Ctx, req: SessionReq) -> Result<Value> {
    let doc = running_session(&cx, &req.session_id).await?;
    private_media::run(&cx.state, &doc, cx.user.id, Op::View).await
}

/// The party's answer to the SFU's offer for the other's stream.
pub async fn answer(cx: Ctx, req: SdpReq) -> Result<Value> {
    check_sdp(&cx.state, &req.sdp)?;
    let doc = running_session(&cx, &req.session_id).await?;
    private_media::run(&cx.state, &doc, cx.user.id, Op::Answer { sdp: req.sdp }).await
}
