//! The media plane as the control plane sees it: the embedded SFU, whose
//! user and room each peer is, and the rules when peers come and go (a
//! publisher gone longer than the grace period ends the live session; a
//! viewer whose access ends loses their media).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde_json::json;
use streamshare_sfu::{DownReason, PeerId, Sfu, SfuConfig, SfuError, SfuEvent, SfuTuning};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::config::Settings;
use crate::error::ApiError;
use crate::media_sessions::Sessions;
use crate::models::{STATUS_LIVE, rfc3339};
use crate::state::AppState;

/// Whether a peer sends the room's stream or watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The creator's stream (browser or WHIP).
    Publisher,
    /// A viewer (Socket.IO `media:view` or WHEP).
    Subscriber,
    /// Another instance's upstream pulling the room from this home (see
    /// `cascade`); booked as the creator's, so the creator's suspension
    /// stops it too.
    Relay,
    /// Either side of a private session (publishing their camera or
    /// watching the other's): no room's business, no viewer count.
    Private,
}

/// Whose a peer is.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub room: ObjectId,
    pub user: ObjectId,
    pub role: Role,
    /// ICE and DTLS are connected.
    pub up: bool,
}

/// The SFU and the control plane's book of its peers.
pub struct Media {
    pub sfu: Sfu,
    peers: Mutex<HashMap<PeerId, PeerInfo>>,
    /// The connected publisher of each room.
    publishers: Mutex<HashMap<ObjectId, PeerId>>,
    pub grace: Duration,
    /// WHIP and WHEP sessions (their URLs) by peer.
    pub sessions: Sessions,
    /// The peers of private sessions' parties, by (stream, user): one
    /// publishing and one watching per party.
    private: Mutex<HashMap<(ObjectId, ObjectId), PeerId>>,
}

/// The SFU's key for a room.
pub fn room_key(room: ObjectId) -> String {
    room.to_hex()
}

/// The SFU's key for one party's stream of a private session: not a room
/// id, so the room rules (away, back, cascade) never apply to it.
pub fn private_key(stream: ObjectId) -> String {
    format!("private-{}", stream.to_hex())
}

/// The addresses announced in ICE candidates: the configured ones, else
/// every address of this host (loopback included, for local use).
pub fn announced_ips(settings: &Settings) -> Vec<IpAddr> {
    let configured: Vec<IpAddr> = settings
        .media_public_ip
        .iter()
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    if !configured.is_empty() {
        return configured;
    }
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|ifs| {
            ifs.into_iter()
                .map(|i| i.ip())
                .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
                .collect()
        })
        .unwrap_or_default();
    ips.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    ips
}

impl Media {
    pub async fn start(settings: &Settings) -> anyhow::Result<(Self, UnboundedReceiver<SfuEvent>)> {
        let bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), settings.media_udp_port);
        let config = SfuConfig {
            bind,
            public_ips: announced_ips(settings),
            connect_timeout: Duration::from_secs(30),
        };
        let tuning = SfuTuning {
            ice_timeout: Duration::from_secs(settings.media_peer_timeout_secs.max(1)),
            shards: usize::from(settings.media_shards),
            media_stall: Duration::from_secs(settings.media_stall_secs.max(1)),
            ..SfuTuning::default()
        };
        let (sfu, events) = Sfu::start_tuned(config, tuning)
            .await
            .map_err(|e| anyhow::anyhow!("binding the media UDP port {bind}: {e}"))?;
        tracing::info!(addrs = ?sfu.local_addrs(), "media server listening");
        let media = Self {
            sfu,
            peers: Mutex::default(),
            publishers: Mutex::default(),
            grace: Duration::from_secs(settings.publisher_grace_secs),
            sessions: Sessions::default(),
            private: Mutex::default(),
        };
        Ok((media, events))
    }

    /// A publisher for the room (a client offer in, the SFU's answer out),
    /// booked as the user's.
    pub async fn publish(
        &self,
        room: ObjectId,
        user: ObjectId,
        offer: &str,
    ) -> Result<(PeerId, String), ApiError> {
        let (peer, answer) = self
            .sfu
            .publish(&room_key(room), offer)
            .await
            .map_err(sfu_error)?;
        self.register(
            peer,
            PeerInfo {
                room,
                user,
                role: Role::Publisher,
                up: false,
            },
        );
        Ok((peer, answer))
    }

    /// A subscriber: with the client's offer (WHEP) the SFU answers; without
    /// one (Socket.IO `media:view`) the SFU offers.
    pub async fn subscribe(
        &self,
        room: ObjectId,
        user: ObjectId,
        offer: Option<&str>,
    ) -> Result<(PeerId, String), ApiError> {
        let key = room_key(room);
        let (peer, sdp) = match offer {
            Some(offer) => self.sfu.subscribe_with_offer(&key, offer).await,
            None => self.sfu.subscribe(&key).await,
        }
        .map_err(sfu_error)?;
        self.register(
            peer,
            PeerInfo {
                room,
                user,
                role: Role::Subscriber,
                up: false,
            },
        );
        Ok((peer, sdp))
    }

    /// A private session's party publishes their camera into `stream`.
    pub async fn publish_private(
        &self,
        stream: ObjectId,
        user: ObjectId,
        offer: &str,
    ) -> Result<(PeerId, String), ApiError> {
        let answer = self.sfu.publish(&private_key(stream), offer).await;
        self.book_private(answer, stream, user)
    }

    /// A private session's party watches the other's `stream`: the SFU offers.
    pub async fn subscribe_private(
        &self,
        stream: ObjectId,
        user: ObjectId,
    ) -> Result<(PeerId, String), ApiError> {
        let offer = self.sfu.subscribe(&private_key(stream)).await;
        self.book_private(offer, stream, user)
    }

    /// Books a private stream's new peer (replacing the party's previous
    /// one on that stream), or turns the SFU's refusal into ours.
    fn book_private(
        &self,
        made: Result<(PeerId, String), SfuError>,
        stream: ObjectId,
        user: ObjectId,
    ) -> Result<(PeerId, String), ApiError> {
        let (peer, sdp) = made.map_err(sfu_error)?;
        self.register_private(peer, stream, user);
        Ok((peer, sdp))
    }

    fn register_private(&self, peer: PeerId, stream: ObjectId, user: ObjectId) {
        let old = self
            .private
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((stream, user), peer);
        if let Some(old) = old {
            // Replaced: the SFU closes it when asked below.
            self.forget(old);
            let sfu = self.sfu.clone();
            tokio::spawn(async move { sfu.close_peer(old).await });
        }
        self.register(
            peer,
            PeerInfo {
                room: stream,
                user,
                role: Role::Private,
                up: false,
            },
        );
    }

    /// A party's peer on a private session's stream.
    pub fn private_peer(&self, stream: ObjectId, user: ObjectId) -> Option<PeerId> {
        self.private
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(stream, user))
            .copied()
    }

    /// Closes every peer of a private session's stream here.
    pub async fn close_stream(&self, stream: ObjectId) {
        let peers: Vec<PeerId> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, info)| info.room == stream && info.role == Role::Private)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in peers {
            self.close(peer).await;
        }
    }

    /// Another instance pulls the room (its upstream's offer in, the
    /// SFU's answer out): a subscriber of the room here, booked as a relay.
    pub async fn relay(
        &self,
        room: ObjectId,
        creator: ObjectId,
        offer: &str,
    ) -> Result<(PeerId, String), ApiError> {
        let (peer, answer) = self
            .sfu
            .subscribe_relay(&room_key(room), offer)
            .await
            .map_err(sfu_error)?;
        self.register(
            peer,
            PeerInfo {
                room,
                user: creator,
                role: Role::Relay,
                up: false,
            },
        );
        Ok((peer, answer))
    }

    /// Rooms with a viewer's peer here (connected or not).
    pub fn viewed_rooms(&self) -> Vec<ObjectId> {
        let mut rooms: Vec<ObjectId> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|i| i.role == Role::Subscriber)
            .map(|i| i.room)
            .collect();
        rooms.sort();
        rooms.dedup();
        rooms
    }

    /// Viewers' peers of the room here (connected or not).
    pub fn viewer_count(&self, room: ObjectId) -> usize {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|i| i.room == room && i.role == Role::Subscriber)
            .count()
    }

    /// Whether a publisher's peer of the room is here (connected or not).
    pub fn has_publisher(&self, room: ObjectId) -> bool {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|i| i.room == room && i.role == Role::Publisher)
    }

    fn register(&self, peer: PeerId, info: PeerInfo) {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(peer, info);
    }

    pub fn owner(&self, peer: PeerId) -> Option<PeerInfo> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&peer)
            .cloned()
    }

    fn forget(&self, peer: PeerId) {
        let info = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&peer);
        if info.is_some_and(|i| i.role == Role::Private) {
            self.private
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, p| *p != peer);
        }
        self.sessions.end_peer(peer);
    }

    /// Refuses one more viewing peer for a user in a room past the limit.
    pub fn check_view_limit(
        &self,
        room: ObjectId,
        user: ObjectId,
        limit: usize,
    ) -> Result<(), ApiError> {
        let viewing = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|i| i.room == room && i.user == user && i.role == Role::Subscriber)
            .count();
        if viewing >= limit {
            return Err(ApiError::refused(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!("You already watch this room in {viewing} places; close one first."),
            ));
        }
        Ok(())
    }

    /// Whether the room has a connected publisher.
    pub fn is_publishing(&self, room: ObjectId) -> bool {
        self.publishers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&room)
    }

    /// The room's media no longer comes from `peer`; false when another
    /// peer (or none) was its publisher.
    fn stop_publishing(&self, room: ObjectId, peer: PeerId) -> bool {
        let mut publishers = self.publishers.lock().unwrap_or_else(|p| p.into_inner());
        if publishers.get(&room) == Some(&peer) {
            publishers.remove(&room);
            true
        } else {
            false
        }
    }

    /// Marks a peer connected; its user, when it is a viewer's.
    fn mark_up(&self, peer: PeerId) -> Option<ObjectId> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let info = peers.get_mut(&peer)?;
        info.up = true;
        (info.role == Role::Subscriber).then_some(info.user)
    }

    /// The users with a connected subscriber in the room.
    fn connected_viewers(&self, room: ObjectId) -> Vec<ObjectId> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|info| info.room == room && info.role == Role::Subscriber && info.up)
            .map(|info| info.user)
            .collect()
    }

    /// Closes a peer and forgets it at once (its Down event comes later).
    pub async fn close(&self, peer: PeerId) {
        self.forget(peer);
        self.sfu.close_peer(peer).await;
    }

    /// Stops a user's media in one room (their access ended: banned) or in
    /// every room (`None`: the account was suspended or deleted).
    pub async fn close_user(&self, user: ObjectId, room: Option<ObjectId>) {
        let peers: Vec<PeerId> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, info)| info.user == user && room.is_none_or(|r| info.room == r))
            .map(|(peer, _)| *peer)
            .collect();
        for peer in peers {
            self.close(peer).await;
        }
    }
}

/// The media server, or a 503 `media_unavailable` when it is not running.
pub fn running(state: &AppState) -> Result<&Media, ApiError> {
    state.media().ok_or_else(|| {
        ApiError::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "media_unavailable",
            "The media server is not running.",
        )
    })
}

/// A refusal from the SFU in the API's terms.
pub fn sfu_error(err: SfuError) -> ApiError {
    match err {
        SfuError::InvalidSdp(reason) => {
            ApiError::invalid("sdp", format!("The SDP could not be used: {reason}"))
        }
        SfuError::SdpTooLarge => ApiError::invalid("sdp", "The SDP is too large."),
        SfuError::UnknownPeer | SfuError::NoPendingOffer => ApiError::conflict(
            "no_media_session",
            "There is no media session to answer; ask to view first.",
        ),
        other => ApiError::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "media_unavailable",
            format!("The media server is unavailable: {other}"),
        ),
    }
}

/// Checks an SDP's size before it goes anywhere.
pub fn check_sdp(state: &AppState, sdp: &str) -> Result<(), ApiError> {
    if sdp.len() > state.settings.max_sdp_bytes {
        return Err(ApiError::invalid("sdp", "The SDP is too large."));
    }
    if sdp.trim().is_empty() {
        return Err(ApiError::invalid("sdp", "The SDP is empty."));
    }
    Ok(())
}

/// Follows the SFU's events: keeps the book of peers and publishers, and
/// ends a live session whose publisher stayed away past the grace period.
pub async fn run_events(state: AppState, mut events: UnboundedReceiver<SfuEvent>) {
    while let Some(event) = events.recv().await {
        let Some(media) = state.media() else { return };
        match event {
            SfuEvent::PublisherUp { room, peer } | SfuEvent::PublisherResumed { room, peer } => {
                tracing::info!(%room, %peer, "publisher's media flows");
                if let Ok(room) = ObjectId::parse_str(&room) {
                    media
                        .publishers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(room, peer);
                    crate::cascade::claim_home(&state, room).await;
                    publisher_back(&state, room).await;
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
                    publisher_away(&state, room, media.grace).await;
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
                    publisher_away(&state, room, media.grace).await;
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

/// Whether this instance answers for the room's live session when it
/// stops (see [`crate::cascade::homed_here`]).
pub fn homed_here(state: &AppState, room: &crate::models::RoomDoc) -> bool {
    crate::cascade::homed_here(state, room)
}

/// Of `rooms`, those this instance answers for when it stops.
pub fn homed_rooms(
    state: &AppState,
    rooms: Vec<crate::models::RoomDoc>,
) -> Vec<crate::models::RoomDoc> {
    rooms.into_iter().filter(|r| homed_here(state, r)).collect()
}

/// The room's media is gone: it is `away` until `grace` from now (nothing
/// is sold meanwhile), everyone watching or looking at it hears so, and
/// the session ends then unless the media is back.
///
/// Only the room's home (or any instance while it has none) does this: a
/// publisher that moved to another instance is not away.
pub(crate) async fn publisher_away(state: &AppState, room: ObjectId, grace: Duration) {
    let until =
        DateTime::from_millis(DateTime::now().timestamp_millis() + grace.as_millis() as i64);
    let mut filter = doc! { "_id": room, "status": STATUS_LIVE };
    for (key, value) in crate::cascade::home_is_here_or_nowhere(state) {
        filter.insert(key, value);
    }
    let marked = state
        .db
        .rooms()
        .update_one(filter, doc! { "$set": { "awayUntil": until } })
        .await;
    match marked {
        Ok(r) if r.modified_count == 1 => {
            let event = json!({ "roomId": room.to_hex(), "awayUntil": rfc3339(until) });
            crate::realtime::room_state(state, room, "room:away", &event).await;
            tokio::spawn(end_when_away_ends(state.clone(), room));
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, %room, "could not mark the room away"),
    }
}

/// The room's media is back within the grace: it is payable again.
async fn publisher_back(state: &AppState, room: ObjectId) {
    let cleared = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": room, "awayUntil": { "$ne": null } },
            doc! { "$set": { "awayUntil": null } },
        )
        .await;
    match cleared {
        Ok(r) if r.modified_count == 1 => {
            let event = json!({ "roomId": room.to_hex() });
            crate::realtime::room_state(state, room, "room:back", &event).await;
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, %room, "could not clear the away state"),
    }
}

/// These viewers' media flows in the room's current session: their
/// payments count as delivered (see `refunds`).
async fn media_started(state: &AppState, room: ObjectId, viewers: Vec<ObjectId>) {
    if viewers.is_empty() {
        return;
    }
    let session = match crate::routes::rooms::load_room(state, room).await {
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
    for room in crate::routes::rooms::live_rooms(state, None).await? {
        let ours = match &room.media_home {
            None => true,
            Some(home) if crate::cascade::is_me(state, home) => true,
            // Served there, unless that instance is gone (a crashed
            // process restarted elsewhere): then it is away as if its
            // publisher had left.
            Some(home) => {
                crate::cascade::check_foreign_home(state, room.id, home).await;
                false
            }
        };
        if ours && !media.is_publishing(room.id) {
            publisher_away(state, room.id, media.grace).await;
        }
    }
    Ok(())
}

/// Ends the room's live session when its `awayUntil` passes, unless the
/// media came back (cleared) or a later departure moved it on: the room
/// document decides, so a return and a new departure in between do not
/// end the session early.
async fn end_when_away_ends(state: AppState, room: ObjectId) {
    loop {
        let doc = match crate::routes::rooms::load_room(&state, room).await {
            Ok(doc) => doc,
            Err(err) => {
                tracing::warn!(error = ?err, %room, "could not check the room");
                return;
            }
        };
        let Some(until) = doc.away_until.filter(|_| doc.is_live()) else {
            return;
        };
        let left = until.timestamp_millis() - DateTime::now().timestamp_millis();
        if doc.in_private {
            // Paused for the creator's private session: busy, not gone. The
            // grace starts again when it ends (`private`, resuming rooms).
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if left > 0 {
            tokio::time::sleep(Duration::from_millis(left as u64)).await;
            continue;
        }
        tracing::info!(%room, "publisher gone past the grace period: ending the session");
        if let Err(err) = crate::routes::rooms::end_session(&state, doc).await {
            tracing::warn!(error = ?err, %room, "could not end the session");
        }
        return;
    }
}
