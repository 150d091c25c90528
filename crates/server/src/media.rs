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
use streamshare_sfu::{PeerId, Sfu, SfuConfig, SfuError, SfuEvent, SfuTuning};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::config::Settings;
use crate::error::ApiError;
use crate::media_sessions::Sessions;
use crate::state::AppState;

pub use crate::media_sessions::Role;

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

    pub(crate) fn forget(&self, peer: PeerId) {
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

    /// The room's publisher is `peer` now (its media flows).
    pub(crate) fn start_publishing(&self, room: ObjectId, peer: PeerId) {
        self.publishers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(room, peer);
    }

    /// The room's media no longer comes from `peer`; false when another
    /// peer (or none) was its publisher.
    pub(crate) fn stop_publishing(&self, room: ObjectId, peer: PeerId) -> bool {
        let mut publishers = self.publishers.lock().unwrap_or_else(|p| p.into_inner());
        if publishers.get(&room) == Some(&peer) {
            publishers.remove(&room);
            true
        } else {
            false
        }
    }

    /// Marks a peer connected; its user, when it is a viewer's.
    pub(crate) fn mark_up(&self, peer: PeerId) -> Option<ObjectId> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let info = peers.get_mut(&peer)?;
        info.up = true;
        (info.role == Role::Subscriber).then_some(info.user)
    }

    /// The users with a connected subscriber in the room.
    pub(crate) fn connected_viewers(&self, room: ObjectId) -> Vec<ObjectId> {
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
