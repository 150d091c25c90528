//! Owns media across instances (the cascade): which instance is a room's
//! media home (recorded on the room document, so instances that share only
//! MongoDB cascade too), the internal credential instances use between
//! themselves, the home's internal pull door (`POST /internal/cascade/{roomId}`)
//! and, on an edge, the one upstream per room that pulls the room's media
//! from its home into the local SFU, for the local viewers.
//!
//! The edge's rules:
//! - a viewer let in (`media:view`, WHEP; the paywall already checked) of a
//!   room homed elsewhere makes sure an upstream exists; concurrent joins
//!   wait for one flight per room, so there is exactly one;
//! - an upstream whose room has had no local viewer for [`UPSTREAM_LINGER`]
//!   is dropped (a viewer who reloads does not cost a new hop);
//! - every [`RECONCILE_EVERY`], and at once when an upstream goes down,
//!   rooms with local viewers or an upstream are checked against the
//!   database: a moved home gets a new upstream, an ended session closes
//!   the local viewers' peers, and a home that cannot be reached while it
//!   still holds the room is treated as a publisher gone (the room is away,
//!   then ends after the grace unless the media comes back), so viewers on
//!   the edge never freeze silently.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::TryStreamExt;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, doc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use streamshare_sfu::{DownReason, PeerId};

use crate::error::{ApiError, Result};
use crate::ids::RoomId;
use crate::media::{check_sdp, room_key, running};
use crate::models::{MediaHome, RoomDoc, STATUS_LIVE};
use crate::rooms::{is_me, load_room};
use crate::state::AppState;

/// How long an upstream stays after its room's last local viewer left.
pub const UPSTREAM_LINGER: Duration = Duration::from_secs(2);
/// How often an edge checks its upstreams against the database.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(1);
/// How long an internal credential lasts (it is made per request).
const CREDENTIAL_SECS: u64 = 60;
/// The audience of internal credentials: no user token carries it.
const AUDIENCE: &str = "streamshare-internal-cascade";
/// After a home refused a pull (not publishing right now), the next try
/// waits this long.
const RETRY_AFTER: Duration = Duration::from_secs(2);
/// Deadline for one request to a home.
const HOME_TIMEOUT: Duration = Duration::from_secs(5);

/// The claims of an internal credential: which instance asks for which
/// room, for a minute.
#[derive(Debug, Serialize, Deserialize)]
struct InternalClaims {
    aud: String,
    /// The asking instance.
    iss: String,
    /// The room whose media it may pull.
    room: String,
    iat: u64,
    exp: u64,
}

/// Signs and checks internal credentials: HS256 JWTs under a key derived
/// from the shared JWT secret for this purpose only (HMAC-SHA256 of the
/// secret over a fixed label), with their own audience. A user's access
/// token is signed with the secret itself, so it never verifies here, and
/// an internal credential never verifies as a user token.
pub struct InternalKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl InternalKeys {
    pub fn new(secret: &SecretString) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"streamshare internal credential: media cascade v1");
        let key = mac.finalize().into_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }

    /// A credential for `instance` to pull `room`.
    pub fn issue(&self, instance: &str, room: ObjectId) -> Result<String> {
        let now = crate::auth::now_secs();
        let claims = InternalClaims {
            aud: AUDIENCE.to_owned(),
            iss: instance.to_owned(),
            room: room.to_hex(),
            iat: now,
            exp: now + CREDENTIAL_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The asking instance, if the credential is good for `room`.
    pub fn verify(&self, token: &str, room: ObjectId) -> Result<String> {
        let data = jsonwebtoken::decode::<InternalClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::unauthorized("Not a valid internal credential."))?;
        if data.claims.room != room.to_hex() {
            return Err(ApiError::forbidden(
                "The internal credential is for another room.",
            ));
        }
        Ok(data.claims.iss)
    }
}

/// One upstream of this edge.
#[derive(Debug, Clone)]
struct Upstream {
    peer: PeerId,
    home: MediaHome,
    /// Connected to the home.
    up: bool,
    /// Since when the room has had no local viewer.
    idle_since: Option<Instant>,
}

#[derive(Default)]
struct Book {
    upstreams: HashMap<ObjectId, Upstream>,
    /// One flight per room: opening (or replacing) an upstream holds it.
    flights: HashMap<ObjectId, Arc<tokio::sync::Mutex<()>>>,
    /// Rooms seen ended with viewers here at the last check (acted on at
    /// the next one, so a home ending its own session goes first).
    ended: std::collections::HashSet<ObjectId>,
    /// Rooms whose home refused a pull, and when to try again.
    retry_at: HashMap<ObjectId, Instant>,
}

/// The cascade's keys, HTTP client and this edge's upstreams.
pub struct Cascade {
    pub keys: InternalKeys,
    pub http: reqwest::Client,
    book: Mutex<Book>,
}

impl Cascade {
    pub fn new(secret: &SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(HOME_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Self {
            keys: InternalKeys::new(secret),
            http,
            book: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flight(&self, room: ObjectId) -> Arc<tokio::sync::Mutex<()>> {
        self.lock().flights.entry(room).or_default().clone()
    }

    /// Whether the room's media reaches this instance through a connected
    /// upstream.
    pub fn is_fed(&self, room: ObjectId) -> bool {
        self.lock().upstreams.get(&room).is_some_and(|u| u.up)
    }

    /// The room of an upstream peer, marked connected.
    fn mark_up(&self, peer: PeerId) -> Option<ObjectId> {
        let mut book = self.lock();
        let (room, upstream) = book.upstreams.iter_mut().find(|(_, u)| u.peer == peer)?;
        upstream.up = true;
        Some(*room)
    }

    /// Forgets an upstream peer that went down; its room, if it was still
    /// the room's upstream.
    fn forget(&self, peer: PeerId) -> Option<ObjectId> {
        let mut book = self.lock();
        let room = book
            .upstreams
            .iter()
            .find(|(_, u)| u.peer == peer)
            .map(|(room, _)| *room)?;
        book.upstreams.remove(&room);
        Some(room)
    }

    /// Takes the room's upstream out of the book (to close it).
    fn take(&self, room: ObjectId) -> Option<Upstream> {
        self.lock().upstreams.remove(&room)
    }

    fn rooms(&self) -> Vec<ObjectId> {
        self.lock().upstreams.keys().copied().collect()
    }
}

/// A publisher's media flows here: this instance is the room's home.
pub async fn claim_home(state: &AppState, room: ObjectId) {
    let home = MediaHome {
        instance_id: state.settings.instance_id().to_owned(),
        url: state.settings.internal_url(),
    };
    let Ok(home_doc) = mongodb::bson::to_bson(&home) else {
        return;
    };
    let claimed = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": room, "status": STATUS_LIVE },
            doc! { "$set": { "mediaHome": home_doc } },
        )
        .await;
    if let Err(err) = claimed {
        tracing::warn!(error = %err, %room, "could not record the room's media home");
    }
}

/// The publisher here is gone: the room's home is cleared if it is still
/// this instance. True when the away rules are this instance's to run (the
/// home was here, or nowhere); false when another instance holds the room
/// now (the publisher moved there).
pub async fn release_home(state: &AppState, room: ObjectId) -> bool {
    let released = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": room, "$or": [
                { "mediaHome.instanceId": state.settings.instance_id() },
                { "mediaHome.url": state.settings.internal_url() },
            ] },
            doc! { "$set": { "mediaHome": Bson::Null } },
        )
        .await;
    match released {
        Ok(r) if r.matched_count == 1 => true,
        Ok(_) => match load_room(state, room).await {
            Ok(doc) => doc.media_home.is_none_or(|h| is_me(state, &h)),
            Err(_) => true,
        },
        Err(err) => {
            tracing::warn!(error = %err, %room, "could not clear the room's media home");
            true
        }
    }
}

// ---------------------------------------------------------------------------
// The home's internal door.

/// `/internal/cascade/{roomId}`: only for other instances; the load
/// balancer keeps `/internal/` from the outside.
pub fn router() -> Router<AppState> {
    Router::new().route("/cascade/{room}", post(pull))
}

fn bearer(headers: &HeaderMap) -> Result<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Send an internal credential."))
}

/// An edge's upstream offer in, the answer out (WHEP-like). Answered only
/// by the room's home while its publisher's media flows here.
#[tracing::instrument(skip_all, fields(room_id = %room))]
async fn pull(
    State(state): State<AppState>,
    room: RoomId,
    headers: HeaderMap,
    body: String,
) -> Result<Response> {
    let room = room.get();
    let edge = state.cascade.keys.verify(bearer(&headers)?, room)?;
    check_sdp(&state, &body)?;
    let doc = load_room(&state, room).await?;
    let media = running(&state)?;
    let home_here = doc.media_home.as_ref().is_some_and(|h| is_me(&state, h));
    if !doc.is_live() || !home_here || !media.is_publishing(room) {
        return Err(ApiError::conflict(
            "not_media_home",
            "This instance is not publishing the room.",
        ));
    }
    let (peer, answer) = media.relay(room, doc.creator_id, &body).await?;
    tracing::info!(%edge, %peer, "an edge pulls the room");
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/sdp")],
        answer,
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// The edge.

/// A viewer was let into the room on this instance: when its media is
/// homed elsewhere, make sure an upstream brings it here (in the
/// background: the viewer's own negotiation does not wait for it).
pub fn viewer_joined(state: &AppState, room: &RoomDoc) {
    let Some(home) = room.media_home.clone() else {
        return;
    };
    if is_me(state, &home) {
        return;
    }
    let state = state.clone();
    let room = room.id;
    tokio::spawn(async move {
        if let Err(err) = ensure_upstream(&state, room, &home).await {
            tracing::info!(error = %err, %room, "no upstream from the room's home yet");
        }
    });
}

/// Why an upstream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The home did not answer at all (down, unreachable).
    #[error("the home at {0} is unreachable: {1}")]
    Unreachable(String, String),
    /// The home answered but refused (not publishing, not the home).
    #[error("the home refused: {0}")]
    Refused(String),
    /// This instance's SFU or credential failed.
    #[error("{0}")]
    Local(String),
}

/// Exactly one upstream for the room from `home`: the room's flight is
/// held while one is opened, so concurrent callers find it made.
pub async fn ensure_upstream(
    state: &AppState,
    room: ObjectId,
    home: &MediaHome,
) -> Result<(), PullError> {
    let flight = state.cascade.flight(room);
    let _flight = flight.lock().await;
    let media = state
        .media()
        .ok_or_else(|| PullError::Local("the media server is not running".into()))?;
    if media.has_publisher(room) {
        // The creator is publishing through this instance (its home moves
        // here once the media flows): an upstream would replace them.
        return Ok(());
    }
    if let Some(current) = state.cascade.lock().upstreams.get_mut(&room)
        && current.home.instance_id == home.instance_id
    {
        current.idle_since = None;
        return Ok(());
    }
    if let Some(at) = state.cascade.lock().retry_at.get(&room)
        && Instant::now() < *at
    {
        return Err(PullError::Refused("waiting before trying again".into()));
    }
    if let Some(old) = state.cascade.take(room) {
        tracing::info!(%room, from = %old.home.instance_id, to = %home.instance_id, "the room's home moved");
        media.sfu.close_peer(old.peer).await;
    }
    let (peer, offer) = media
        .sfu
        .open_upstream(&room_key(room))
        .await
        .map_err(|e| PullError::Local(e.to_string()))?;
    state.cascade.lock().upstreams.insert(
        room,
        Upstream {
            peer,
            home: home.clone(),
            up: false,
            idle_since: None,
        },
    );
    let answer = match post_offer(state, room, home, offer).await {
        Ok(answer) => answer,
        Err(err) => {
            state.cascade.take(room);
            media.sfu.close_peer(peer).await;
            if matches!(err, PullError::Refused(_)) {
                let at = Instant::now() + RETRY_AFTER;
                state.cascade.lock().retry_at.insert(room, at);
            }
            return Err(err);
        }
    };
    state.cascade.lock().retry_at.remove(&room);
    if let Err(err) = media.sfu.upstream_answer(peer, &answer).await {
        state.cascade.take(room);
        media.sfu.close_peer(peer).await;
        return Err(PullError::Refused(err.to_string()));
    }
    tracing::info!(%room, %peer, home = %home.instance_id, "upstream opened");
    Ok(())
}

async fn post_offer(
    state: &AppState,
    room: ObjectId,
    home: &MediaHome,
    offer: String,
) -> Result<String, PullError> {
    let credential = state
        .cascade
        .keys
        .issue(state.settings.instance_id(), room)
        .map_err(|_| PullError::Local("could not sign an internal credential".into()))?;
    let url = format!(
        "{}/internal/cascade/{}",
        home.url.trim_end_matches('/'),
        room.to_hex()
    );
    let response = state
        .cascade
        .http
        .post(&url)
        .bearer_auth(credential)
        .header(header::CONTENT_TYPE, "application/sdp")
        .body(offer)
        .send()
        .await
        .map_err(|e| PullError::Unreachable(home.url.clone(), e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| PullError::Unreachable(home.url.clone(), e.to_string()))?;
    if status != StatusCode::CREATED {
        return Err(PullError::Refused(format!("{status}: {text}")));
    }
    Ok(text)
}

/// An upstream connected: the room's local viewers get media now.
pub fn upstream_up(state: &AppState, peer: PeerId) -> Option<ObjectId> {
    let room = state.cascade.mark_up(peer);
    if let Some(room) = room {
        tracing::info!(%room, %peer, "upstream connected");
    }
    room
}

/// An upstream went down (the home hung up or went silent, this edge
/// dropped it, or a local publisher replaced it): if the room still has
/// local viewers, what to do is decided now rather than at the next tick.
pub fn upstream_down(state: &AppState, peer: PeerId, reason: DownReason) {
    let Some(room) = state.cascade.forget(peer) else {
        return; // Dropped on purpose (taken out of the book first).
    };
    tracing::info!(%room, %peer, ?reason, "upstream down");
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(err) = reconcile_after(&state, &[room], true).await {
            tracing::warn!(error = ?err, %room, "could not check the room after its upstream went");
        }
    });
}

/// Checks every room with local viewers (and no local publisher) or an
/// upstream, forever; forgets what it noted about rooms it no longer checks.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(media) = state.media() else { return };
        let mut rooms = media.viewed_rooms();
        rooms.retain(|r| !media.has_publisher(*r));
        for room in state.cascade.rooms() {
            if !rooms.contains(&room) {
                rooms.push(room);
            }
        }
        {
            let mut book = state.cascade.lock();
            book.ended.retain(|r| rooms.contains(r));
            book.retry_at.retain(|r, _| rooms.contains(r));
            // A flight someone holds or waits for stays.
            book.flights
                .retain(|r, f| rooms.contains(r) || Arc::strong_count(f) > 1);
        }
        if rooms.is_empty() {
            continue;
        }
        if let Err(err) = reconcile_after(&state, &rooms, false).await {
            tracing::debug!(error = ?err, "could not check the cascade's rooms");
        }
    }
}

/// Brings the upstreams of `rooms` in line with the database. A room seen
/// ended with viewers still here has its viewers' peers closed: at once
/// when its upstream just went (`upstream_gone`: it was fed from another
/// home), else at the second check in a row, so that a home ending its
/// own session (which closes its viewers itself) is not raced.
async fn reconcile_after(state: &AppState, rooms: &[ObjectId], upstream_gone: bool) -> Result<()> {
    let Some(media) = state.media() else {
        return Ok(());
    };
    let docs: Vec<RoomDoc> = state
        .db
        .rooms()
        .find(doc! { "_id": { "$in": rooms.to_vec() } })
        .await?
        .try_collect()
        .await?;
    for room in rooms {
        let doc = docs.iter().find(|d| d.id == *room);
        let viewers = media.viewer_count(*room);
        let live = doc.is_some_and(RoomDoc::is_live);
        if !live {
            drop_upstream(state, *room).await;
            if viewers == 0 || media.has_publisher(*room) {
                state.cascade.lock().ended.remove(room);
                continue;
            }
            let seen_before = !state.cascade.lock().ended.insert(*room);
            if upstream_gone || seen_before {
                state.cascade.lock().ended.remove(room);
                session_gone(state, *room).await;
            }
            continue;
        }
        state.cascade.lock().ended.remove(room);
        let home = doc.and_then(|d| d.media_home.clone());
        match home {
            Some(home) if is_me(state, &home) => drop_upstream(state, *room).await,
            Some(home) if viewers > 0 => {
                if let Err(err) = ensure_upstream(state, *room, &home).await {
                    tracing::info!(error = %err, %room, "no upstream from the room's home");
                    if matches!(err, PullError::Unreachable(..)) {
                        home_unreachable(state, *room, &home).await;
                    }
                }
            }
            // No viewer here: the upstream lingers, then goes.
            Some(_) => linger(state, *room).await,
            // No home (the publisher is away): an upstream, if any, stays
            // connected to the old home, which serves the media again if
            // the publisher comes back there; a new home replaces it.
            None if viewers == 0 => linger(state, *room).await,
            None => {}
        }
    }
    Ok(())
}

/// The room has no local viewer: its upstream goes after the linger.
async fn linger(state: &AppState, room: ObjectId) {
    let expired = {
        let mut book = state.cascade.lock();
        let Some(upstream) = book.upstreams.get_mut(&room) else {
            return;
        };
        let since = *upstream.idle_since.get_or_insert_with(Instant::now);
        since.elapsed() >= UPSTREAM_LINGER
    };
    if expired {
        tracing::info!(%room, "no viewer left: dropping the upstream");
        drop_upstream(state, room).await;
    }
}

async fn drop_upstream(state: &AppState, room: ObjectId) {
    let flight = state.cascade.flight(room);
    let _flight = flight.lock().await;
    if let (Some(upstream), Some(media)) = (state.cascade.take(room), state.media()) {
        media.sfu.close_peer(upstream.peer).await;
    }
}

/// The room's session ended while viewers here watched it through an
/// upstream: their peers close. In a cluster the home's `room:ended`
/// reaches their sockets through the shared adapter; instances sharing
/// only the database tell their own sockets.
async fn session_gone(state: &AppState, room: ObjectId) {
    tracing::info!(%room, "the room's session ended at its home: closing local viewers");
    if !state.settings.cluster() {
        let event = serde_json::json!({ "roomId": room.to_hex() });
        crate::push::room_state(state, room, "room:ended", &event).await;
    }
    if let Some(media) = state.media() {
        media.sfu.close_room(&room_key(room)).await;
    }
}

/// At start, for a live room homed on another instance: when nothing
/// answers at that home's address, it is gone and the room is away (see
/// [`home_unreachable`]); a home that answers serves its room.
pub async fn check_foreign_home(state: &AppState, room: ObjectId, home: &MediaHome) {
    let url = format!("{}/api/health/live", home.url.trim_end_matches('/'));
    if state.cascade.http.get(&url).send().await.is_err() {
        home_unreachable(state, room, home).await;
    }
}

/// The room's home does not answer while it still holds the room (it
/// crashed, or the network between us broke): its publisher is as good as
/// gone, so the room is away as if the home had seen the publisher leave,
/// and ends after the grace unless a publisher comes back somewhere.
async fn home_unreachable(state: &AppState, room: ObjectId, home: &MediaHome) {
    let Some(media) = state.media() else { return };
    let cleared = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": room, "mediaHome.instanceId": &home.instance_id },
            doc! { "$set": { "mediaHome": Bson::Null } },
        )
        .await;
    if matches!(cleared, Ok(ref r) if r.modified_count == 1) {
        tracing::warn!(%room, home = %home.instance_id, "the room's home is unreachable: the room is away");
        crate::rooms::publisher_away(state, room, media.grace).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenKeys;

    fn secret(c: char) -> SecretString {
        SecretString::from(c.to_string().repeat(32))
    }

    #[test]
    fn internal_credentials_and_user_tokens_never_stand_for_each_other() {
        let keys = InternalKeys::new(&secret('k'));
        let room = ObjectId::new();
        let credential = keys.issue("inst-b", room).unwrap();
        assert_eq!(keys.verify(&credential, room).unwrap(), "inst-b");
        // Another room: refused (403), not unauthenticated.
        let other = keys.verify(&credential, ObjectId::new()).unwrap_err();
        assert_eq!(other.code(), "forbidden");

        // A user's access token, signed with the very same secret.
        let users = TokenKeys::new(&secret('k'));
        let token = users.issue(ObjectId::new(), "ann").unwrap();
        assert_eq!(
            keys.verify(&token, room).unwrap_err().code(),
            "unauthorized"
        );
        // And an internal credential is no access token.
        assert!(users.verify(&credential).is_err());

        // Another cluster's secret, garbage: refused.
        let foreign = InternalKeys::new(&secret('z')).issue("x", room).unwrap();
        assert!(keys.verify(&foreign, room).is_err());
        assert!(keys.verify("garbage", room).is_err());
        assert!(keys.verify("", room).is_err());
    }
}
