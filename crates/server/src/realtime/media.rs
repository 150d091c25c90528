//! Media signaling over Socket.IO: `media:publish` (the creator's offer →
//! the SFU's answer), `media:view` (the SFU's offer for a viewer with
//! access), `media:answer` (the viewer's answer), `media:ice` (accepted;
//! the SFU is ICE-lite and its candidates are in its SDP).

use crate::cluster::Socket;
use serde::Deserialize;
use serde_json::{Value, json};
use streamshare_sfu::PeerId;

use crate::access::entry_role;
use crate::error::{ApiError, Result};
use crate::media::{check_sdp, running, sfu_error};
use crate::realtime::{Ctx, room_id};
use crate::rooms::load_room;
use crate::state::AppState;

/// The viewing peers of this socket, by room: closed with the socket.
pub type Viewing = super::socket_map::SocketMap<PeerId>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdpReq {
    room_id: String,
    sdp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomReq {
    room_id: String,
}

/// The creator publishes: a new publish replaces the previous one.
pub async fn publish(cx: Ctx, req: SdpReq) -> Result<Value> {
    let Ctx { state, user, .. } = cx;
    check_sdp(&state, &req.sdp)?;
    let room = load_room(&state, room_id(&req.room_id)?).await?;
    if room.creator_id != user.id {
        return Err(ApiError::forbidden(
            "Only the room's creator can publish into it.",
        ));
    }
    if !room.is_live() {
        return Err(ApiError::conflict(
            "room_not_live",
            "Go live before publishing.",
        ));
    }
    let media = running(&state)?;
    let (_, answer) = media.publish(room.id, user.id, &req.sdp).await?;
    Ok(json!({ "sdp": answer }))
}

/// A viewer with access asks for the stream: the SFU offers.
pub async fn view(cx: Ctx, req: RoomReq) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = load_room(&state, room_id(&req.room_id)?).await?;
    entry_role(&state, &room, user.id).await?;
    let media = running(&state)?;
    // A second view from this socket replaces its first.
    let viewing = s.extensions.get::<Viewing>().unwrap_or_default();
    if let Some(old) = viewing.remove(room.id) {
        media.close(old).await;
    }
    media.check_view_limit(room.id, user.id, state.settings.max_views_per_room)?;
    let (peer, offer) = media.subscribe(room.id, user.id, None).await?;
    viewing.insert(room.id, peer);
    crate::cascade::viewer_joined(&state, &room);
    Ok(json!({ "sdp": offer }))
}

/// The viewer's answer to the SFU's offer.
pub async fn answer(cx: Ctx, req: SdpReq) -> Result<Value> {
    let Ctx {
        socket: s, state, ..
    } = cx;
    check_sdp(&state, &req.sdp)?;
    let room = room_id(&req.room_id)?;
    let peer = s
        .extensions
        .get::<Viewing>()
        .and_then(|v| v.get(room))
        .ok_or_else(|| sfu_error(streamshare_sfu::SfuError::UnknownPeer))?;
    running(&state)?
        .sfu
        .accept_answer(peer, &req.sdp)
        .await
        .map_err(sfu_error)?;
    Ok(json!({}))
}

/// Trickled candidates are accepted and not needed: the SFU is ICE-lite and
/// a browser's host candidates reach it from the SDP's.
pub async fn ice(_cx: Ctx, _req: RoomReq) -> Result<Value> {
    Ok(json!({}))
}

/// A closed socket stops its viewing.
pub async fn close_viewing(state: &AppState, s: &Socket) {
    let (Some(viewing), Some(media)) = (s.extensions.get::<Viewing>(), state.media()) else {
        return;
    };
    for (_, peer) in viewing.drain() {
        media.close(peer).await;
    }
}
