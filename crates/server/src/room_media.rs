//! What the media plane's events mean for a room's live session: the
//! publisher's media flowing (the room is back, its viewers' payments count
//! as delivered), gone or stalled (the room is away, and its session ends
//! when the grace passes), and the orphans a restart leaves. The SFU
//! (`media`) and the room lifecycle (`rooms`) know nothing of each other;
//! this is where they meet.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use streamshare_sfu::{DownReason, SfuEvent};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::error::ApiError;
use crate::state::AppState;

/// Follows the SFU's events: keeps the book of peers and publishers, and
/// ends a live session whose publisher stayed away past the grace period.
pub async fn run_events(state: AppState, mut events: UnboundedReceiver<SfuEvent>) {
    while let Some(event) = events.recv().await {
        let Some(media) = state.media() else { return };
        match event {
            SfuEvent::PublisherUp { room, peer } | SfuEvent::PublisherResumed { room, peer } => {
                tracing::info!(%room, %peer, "publisher's media flows");
                if let Ok(room) = ObjectId::parse_str(&room) {
                    media.start_publishing(room, peer);
                    crate::cascade::claim_home(&state, room).await;
                    crate::rooms::publisher_back(&state, room).await;
                    let watching = media.connected_viewers(room);
                    media_started(&state, room, watching).await;
                }
            }
            // Edge: the room's media arrives from its home. The home's
            // publisher rules (away, back) are the home's business.
            SfuEvent::UpstreamUp { peer, .. } => {
                if let Some(room) = crate::cascade::upstream_up(&state, peer) {
                    let watching = media.connected_viewers(room);
                    media_started(&state, room, watching).await;
                }
            }
            SfuEvent::UpstreamDown { peer, reason, .. } => {
                crate::cascade::upstream_down(&state, peer, reason);
            }
            SfuEvent::PublisherDown { room, peer, reason } => {
                tracing::info!(%room, %peer, ?reason, "publisher down");
                media.forget(peer);
                let Ok(room) = ObjectId::parse_str(&room) else {
                    continue;
                };
                let was_current = media.stop_publishing(room, peer);
                if reason != DownReason::Replaced
                    && (was_current || reason == DownReason::Timeout)
                    && crate::cascade::release_home(&state, room).await
                {
                    crate::rooms::publisher_away(&state, room, media.grace).await;
                }
            }
            // Connected but silent (a frozen camera, a lost network not yet
            // timed out): viewers see nothing, so the room is away too.
            // It is not publishing (`is_publishing`) until it resumes.
            SfuEvent::PublisherStalled { room, peer } => {
                tracing::info!(%room, %peer, "publisher stalled");
                if let Ok(room) = ObjectId::parse_str(&room)
                    && media.stop_publishing(room, peer)
                {
                    crate::rooms::publisher_away(&state, room, media.grace).await;
                }
            }
            SfuEvent::SubscriberUp { room, peer } => {
                tracing::debug!(%room, %peer, "subscriber up");
                let viewer = media.mark_up(peer);
                if let (Ok(room), Some(viewer)) = (ObjectId::parse_str(&room), viewer)
                    && (media.is_publishing(room) || state.cascade.is_fed(room))
                {
                    media_started(&state, room, vec![viewer]).await;
                }
            }
            SfuEvent::SubscriberDown { room, peer, reason } => {
                tracing::debug!(%room, %peer, ?reason, "subscriber down");
                media.forget(peer);
            }
            other => tracing::debug!(?other, "media event"),
        }
    }
}

/// These viewers' media flows in the room's current session: their
/// payments count as delivered (see `refunds`).
async fn media_started(state: &AppState, room: ObjectId, viewers: Vec<ObjectId>) {
    if viewers.is_empty() {
        return;
    }
    let session = match crate::rooms::load_room(state, room).await {
        Ok(doc) => doc.live_session_id,
        Err(_) => None,
    };
    let Some(session) = session else { return };
    let marked = state
        .db
        .access()
        .update_many(
            doc! {
                "roomId": room, "liveSessionId": session,
                "viewerId": { "$in": viewers }, "mediaAt": null,
            },
            doc! { "$set": { "mediaAt": DateTime::now() } },
        )
        .await;
    if let Err(err) = marked {
        tracing::warn!(error = %err, %room, "could not record media delivered");
    }
}

/// At start: a live room has no publisher in this fresh process (the last
/// one stopped without ending it): it is away, and ends after the grace
/// unless its creator comes back. Only rooms homed here (or nowhere) are
/// this instance's to judge: another instance's room is served there.
pub async fn orphaned_sessions(state: &AppState) -> Result<(), ApiError> {
    let Some(media) = state.media() else {
        return Ok(());
    };
    // MediaMTX carries the rooms: the built-in SFU never sees their
    // publishers, so their absence here says nothing.
    if state.mediamtx().is_some() {
        return Ok(());
    }
    for room in crate::rooms::live_rooms(state, None).await? {
        let ours = match &room.media_home {
            None => true,
            Some(home) if crate::rooms::is_me(state, home) => true,
            // Served there, unless that instance is gone (a crashed
            // process restarted elsewhere): then it is away as if its
            // publisher had left.
            Some(home) => {
                crate::cascade::check_foreign_home(state, room.id, home).await;
                false
            }
        };
        if ours && !media.is_publishing(room.id) {
            crate::rooms::publisher_away(state, room.id, media.grace).await;
        }
    }
    Ok(())
}
