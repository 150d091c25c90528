//! Real-time rooms over Socket.IO (socketioxide, same port as the API):
//! authentication at connect, paid entry, presence, chat and moderation,
//! and pushes (`balance:update`, `room:ended`).
//!
//! Every broadcast goes through the adapter (`io.to(channel)`): socketioxide's
//! Redis adapter, which in a cluster reaches every instance's sockets and
//! alone publishes nowhere (`cluster::Link`). What one instance must do to
//! its own sockets on another's behalf (a ban) travels as a [`Notice`].
//! Presence is counted in memory or Redis (`presence`); the database keeps
//! the record.

pub mod chat;
pub mod e2ee;
pub mod media;
pub use crate::presence;
pub mod private;
pub mod rooms;
mod socket_map;

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use mongodb::Collection;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::change_stream::event::ChangeStreamEvent;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{Extension, MaybeExtension, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};

use crate::cluster::{Adapter, Socket};
pub use crate::push::{
    LOBBY, Notice, broadcast, hosts_channel, notify, room_channel, room_state, user_channel,
    watch_channel,
};

/// An acknowledgement callback.
type AckSender = socketioxide::extract::AckSender<Adapter>;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Packets queued for one connection before emits to it fail.
pub const SEND_BUFFER_PACKETS: usize = 4096;

/// The largest Socket.IO message read, on any transport.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Builds the Socket.IO layer on the cluster's adapter and registers the
/// default namespace.
pub async fn layer(state: &AppState) -> anyhow::Result<SocketIoLayer<Adapter>> {
    let adapter = RedisAdapterCtr::new_with_driver(
        state.cluster.link.clone(),
        RedisAdapterConfig::new()
            .with_prefix(state.cluster.adapter_prefix())
            .with_request_timeout(Duration::from_secs(2)),
    );
    // One bound for both transports: a long-polling body and a WebSocket
    // message (or frame) past it closes the connection before it is read
    // whole, so nobody makes the server buffer megabytes.
    let (layer, io) = SocketIo::builder()
        .with_state(state.clone())
        .max_payload(MAX_MESSAGE_BYTES as u64)
        .ws_max_message_size(MAX_MESSAGE_BYTES)
        .ws_max_frame_size(MAX_MESSAGE_BYTES)
        // Packets queued per connection before an emit to it fails: a
        // creator's studio hears every arrival and departure of a crowd, a
        // burst of thousands when a raid leaves at once (the default, 128,
        // lost some). A stalled client holds at most this many.
        .max_buffer_size(SEND_BUFFER_PACKETS)
        .with_adapter::<Adapter>(adapter)
        .build_layer();
    io.ns("/", on_connect.with(authenticate))
        .await
        .map_err(|e| anyhow::anyhow!("starting Socket.IO on the cluster's Redis: {e}"))?;
    state.set_io(io);
    state.set_notice_handler(on_notice);
    Ok(layer)
}

/// Why a connection is refused: `code: message`, shown to the client as
/// the `connect_error`'s message.
#[derive(Debug)]
struct ConnectRefusal(String);

impl std::fmt::Display for ConnectRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refusal(err: &ApiError) -> ConnectRefusal {
    let body = err.body();
    ConnectRefusal(format!(
        "{}: {}",
        err.code(),
        body["error"]["message"].as_str().unwrap_or_default()
    ))
}

/// A signed-out visitor's socket (`auth: {guest: true}` without a token):
/// it may only follow the lobby (`lobby:join` / `lobby:leave`).
#[derive(Clone, Copy)]
struct Guest;

/// Connect middleware: the access token from the handshake's `auth.token`,
/// or a guest (`auth.guest: true` and no token) for the lobby only.
async fn authenticate(
    s: Socket,
    State(state): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), ConnectRefusal> {
    let auth = auth.ok();
    let guest = auth
        .as_ref()
        .and_then(|a| a.get("guest"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let token = auth
        .and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned))
        .filter(|t| !t.is_empty());
    if token.is_none() && guest {
        s.extensions.insert(Guest);
        return Ok(());
    }
    let token = token.ok_or_else(|| {
        refusal(&ApiError::unauthorized(
            "Sign in first: connect with auth: {token: <accessToken>}.",
        ))
    })?;
    let user = state.authenticate(&token).await.map_err(|e| refusal(&e))?;
    let open = s.within(user_channel(user.id)).sockets().len();
    if open >= state.settings.max_sockets_per_user {
        return Err(refusal(&ApiError::refused(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            "Too many open connections for this account; close some tabs.",
        )));
    }
    s.extensions.insert(user);
    Ok(())
}

async fn on_connect(
    s: Socket,
    State(state): State<AppState>,
    MaybeExtension(user): MaybeExtension<AuthUser>,
) {
    let Some(user) = user else {
        on_guest_connect(s, state);
        return;
    };
    s.join(user_channel(user.id));
    state.metrics.socket_opened();
    s.extensions.insert(rooms::Sessions::default());
    s.extensions.insert(media::Viewing::default());
    tracing::debug!(user_id = %user.id, sid = %s.id, "socket connected");

    on(&s, "room:join", rooms::join);
    on(&s, "room:leave", rooms::leave);
    on(&s, "room:watch", rooms::watch);
    on(&s, "room:unwatch", rooms::unwatch);
    on(&s, "lobby:join", rooms::join_lobby);
    on(&s, "lobby:leave", rooms::leave_lobby);
    on(&s, "chat:send", chat::send);
    on(&s, "chat:delete", chat::delete);
    on(&s, "chat:timeout", chat::timeout);
    on(&s, "chat:ban", chat::ban);
    on(&s, "chat:unban", chat::unban);
    on(&s, "media:publish", media::publish);
    on(&s, "media:view", media::view);
    on(&s, "media:answer", media::answer);
    on(&s, "media:ice", media::ice);
    on(&s, "e2ee:hello", e2ee::hello);
    on(&s, "e2ee:ready", e2ee::ready);
    on(&s, "e2ee:key", e2ee::key);
    on(&s, "private:join", private::join);
    on(&s, "private:publish", private::publish);
    on(&s, "private:view", private::view);
    on(&s, "private:answer", private::answer);
    s.on_fallback(unknown_event);
    s.on_disconnect(rooms::on_disconnect);
}

/// A guest: the lobby's events only; everything else is `unauthorized`.
fn on_guest_connect(s: Socket, state: AppState) {
    state.metrics.socket_opened();
    tracing::debug!(sid = %s.id, "guest socket connected");
    s.on("lobby:join", guest_join_lobby);
    s.on("lobby:leave", guest_leave_lobby);
    s.on_fallback(guest_refused);
    s.on_disconnect(guest_disconnected);
}

async fn guest_join_lobby(s: Socket, ack: AckSender) {
    s.join(LOBBY);
    reply(ack, Ok(json!({})));
}

async fn guest_leave_lobby(s: Socket, ack: AckSender) {
    s.leave(LOBBY);
    reply(ack, Ok(json!({})));
}

async fn guest_refused(State(state): State<AppState>, ack: AckSender) {
    state.metrics.socket_event(crate::metrics::OTHER_EVENT);
    reply(
        ack,
        Err(ApiError::unauthorized(
            "Sign in first: a guest connection only follows the lobby.",
        )),
    );
}

async fn guest_disconnected(State(state): State<AppState>) {
    state.metrics.socket_closed();
}

/// Who and where an event comes from: what every handler needs.
pub struct Ctx {
    pub socket: Socket,
    pub state: AppState,
    pub user: AuthUser,
}

/// Registers a handler `async fn(Ctx, Req) -> Result<Value>`: the payload is
/// read into `Req` (a bad one is `validation_failed`), and the result is the
/// acknowledgement.
fn on<Req, H, Fut>(s: &Socket, event: &'static str, handler: H)
where
    Req: DeserializeOwned + Send + 'static,
    H: Fn(Ctx, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ApiError>> + Send + 'static,
{
    s.on(
        event,
        move |socket: Socket,
              State(state): State<AppState>,
              Extension(user): Extension<AuthUser>,
              TryData(data): TryData<Value>,
              ack: AckSender| {
            let handler = handler.clone();
            state.metrics.socket_event(event);
            async move {
                // A socket outliving its account's suspension by a moment
                // (the cut-off is on its way) still gets nothing.
                let standing = state.accounts.check(&state.db, user.id).await;
                let result = match standing.and_then(|()| payload::<Req>(data)) {
                    Ok(req) => {
                        handler(
                            Ctx {
                                socket,
                                state,
                                user,
                            },
                            req,
                        )
                        .await
                    }
                    Err(err) => Err(err),
                };
                reply(ack, result);
            }
        },
    );
}

async fn unknown_event(State(state): State<AppState>, ack: AckSender) {
    state.metrics.socket_event(crate::metrics::OTHER_EVENT);
    reply(
        ack,
        Err(ApiError::not_found(
            "unknown_event",
            "There is no such event.",
        )),
    );
}

/// Answers an acknowledgement: `{ok: true, ...}` or `{ok: false, error}`.
pub fn reply(ack: AckSender, result: Result<Value, ApiError>) {
    let body = match result {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Value::Object(fields)
        }
        Ok(_) => json!({ "ok": true }),
        Err(err) => {
            if err.status().is_server_error() {
                // Logs the cause like an HTTP answer would.
                let _ = axum::response::IntoResponse::into_response(ApiError::internal(
                    anyhow::anyhow!("socket handler failed: {err:?}"),
                ));
            }
            json!({ "ok": false, "error": err.body()["error"] })
        }
    };
    if let Err(err) = ack.send(&body) {
        tracing::debug!(error = %err, "could not send an ack (client gone?)");
    }
}

/// Reads an event's payload into `T`; a missing or misshapen payload is a
/// `validation_failed` refusal naming the field.
pub fn payload<T: DeserializeOwned>(
    data: Result<Value, impl std::fmt::Display>,
) -> Result<T, ApiError> {
    match data {
        Ok(value @ Value::Object(_)) => crate::extract::from_value(value),
        _ => Err(ApiError::invalid(
            "payload",
            "The event's payload must be an object.",
        )),
    }
}

/// What this instance does on a cluster notice (see [`crate::push::notify`]).
pub fn on_notice(state: AppState, notice: Notice) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move { apply_notice(&state, notice).await })
}

async fn apply_notice(state: &AppState, notice: Notice) {
    let ids = |room: &str, user: &str| {
        Some((
            ObjectId::parse_str(room).ok()?,
            ObjectId::parse_str(user).ok()?,
        ))
    };
    match notice {
        Notice::StreamsClosed { streams } => {
            if let Some(media) = state.media() {
                for stream in streams.iter().filter_map(|s| ObjectId::parse_str(s).ok()) {
                    media.close_stream(stream).await;
                }
            }
        }
        Notice::Moderated { room, user } => {
            if let Some((room, user)) = ids(&room, &user) {
                state.moderation.forget((room, user));
            }
        }
        Notice::Banned { room, user } => {
            let Some((room, user)) = ids(&room, &user) else {
                return;
            };
            state.moderation.forget((room, user));
            if let Some(io) = state.io() {
                for socket in io.local().within(user_channel(user)).sockets() {
                    if let Err(err) = rooms::leave_room(state, &socket, user, room).await {
                        tracing::warn!(error = ?err, %room, "could not take a banned user out");
                    }
                }
            }
            if let Some(media) = state.media() {
                media.close_user(user, Some(room)).await;
            }
        }
    }
}

/// Parses a room id from a payload; an id that cannot exist is not found.
pub fn room_id(raw: &str) -> Result<ObjectId, ApiError> {
    crate::ids::RoomId::parse(raw).map(crate::ids::Id::get)
}

/// The server is stopping (SIGTERM): every client of this instance hears
/// `server:shutdown`, live sessions end (their viewers hear `room:ended`;
/// the media server dies with the process), every socket is closed, and
/// this instance's presence is written out (in a cluster, taken out).
pub async fn shut_down(state: &AppState) {
    let Some(io) = state.io() else { return };
    let notice = json!({ "reason": "The server is restarting; reconnect in a moment." });
    if let Err(err) = io.local().emit("server:shutdown", &notice).await {
        tracing::warn!(error = %err, "could not announce the shutdown");
    }
    match crate::rooms::live_rooms(state, None).await {
        Ok(rooms) => {
            for room in crate::rooms::homed_rooms(state, rooms) {
                let id = room.id;
                if let Err(err) = crate::rooms::end_session(state, room).await {
                    tracing::warn!(error = ?err, room = %id, "could not end a live session");
                }
            }
        }
        Err(err) => tracing::warn!(error = ?err, "could not list live sessions"),
    }
    if let Err(err) = io.local().disconnect().await {
        tracing::warn!(error = %err, "could not close every socket");
    }
    // Our sockets are gone: give the lease up and take what is left of our
    // presence out at once, rather than leave it to a survivor's reaper.
    if state.cluster.enabled() {
        if let Err(err) = state.cluster.drop_lease().await {
            tracing::warn!(error = %err, "could not give the lease up");
        }
        if let Err(err) = presence::reap(state, &state.cluster.instance).await {
            tracing::warn!(error = ?err, "could not clear this instance's presence");
        }
    }
    presence::flush(state).await;
}

/// Follows a collection's change stream (the given operations) for as long
/// as the process runs, whoever makes the changes (this instance, another
/// one, an admin command): reopens it where it stopped when it breaks, or
/// afresh when the database no longer has that point.
pub async fn follow_changes<F, Fut>(
    state: AppState,
    collection: Collection<Document>,
    operations: &[&str],
    handle: F,
) where
    F: Fn(AppState, ChangeStreamEvent<Document>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut resume = None;
    let mut pause = Duration::from_millis(200);
    loop {
        let pipeline = [doc! { "$match": { "operationType": { "$in": operations } } }];
        let mut watch = collection.watch().pipeline(pipeline);
        if let Some(token) = resume.clone() {
            watch = watch.resume_after(token);
        }
        let mut stream = match watch.await {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(error = %err, collection = collection.name(), "change stream unavailable; retrying");
                resume = None;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(200);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    resume = Some(event.id.clone());
                    handle(state.clone(), event).await;
                }
                Err(err) => {
                    tracing::debug!(error = %err, collection = collection.name(), "change stream broke; reopening");
                    break;
                }
            }
        }
    }
}

fn changed_id(event: &ChangeStreamEvent<Document>) -> Option<ObjectId> {
    event
        .document_key
        .as_ref()
        .and_then(|k| k.get_object_id("_id").ok())
}

/// Starts following `users`, `rooms` and (in a cluster) `chat_messages`.
pub fn follow_database(state: &AppState) {
    tokio::spawn(follow_changes(
        state.clone(),
        state.db.users().clone_with_type::<Document>(),
        &["update", "delete"],
        user_changed,
    ));
    tokio::spawn(follow_changes(
        state.clone(),
        state.db.rooms().clone_with_type::<Document>(),
        &["update", "replace", "delete"],
        room_changed,
    ));
    tokio::spawn(follow_changes(
        state.clone(),
        state.db.payouts().clone_with_type::<Document>(),
        &["insert", "update"],
        payout_changed,
    ));
    if state.cluster.enabled() {
        tokio::spawn(follow_changes(
            state.clone(),
            state.db.chat().clone_with_type::<Document>(),
            &["insert", "update"],
            chat_changed,
        ));
    }
}

/// A payout was requested or settled (here, elsewhere, or by the admin
/// command): its creator hears `payout:update`.
async fn payout_changed(state: AppState, event: ChangeStreamEvent<Document>) {
    if let Some(payout) = changed_id(&event) {
        crate::payouts::push_local(&state, payout).await;
    }
}

/// A user whose coins changed hears `balance:update` on every connection;
/// a deleted or suspended account is cut off at once ([`account_closed`]);
/// a lifted suspension is forgotten. Each instance acts on its own sockets
/// (`local`), so in a cluster nobody hears it twice.
async fn user_changed(state: AppState, event: ChangeStreamEvent<Document>) {
    let Some(user) = changed_id(&event) else {
        return;
    };
    let Some(update) = &event.update_description else {
        // Deleted.
        account_closed(&state, user).await;
        return;
    };
    let changed = &update.updated_fields;
    if let Some(coins) = changed.get("coins").and_then(|c| match c {
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        _ => None,
    }) && let Some(io) = state.io()
        && let Err(err) = io
            .local()
            .to(user_channel(user))
            .emit("balance:update", &json!({ "coins": coins }))
            .await
    {
        tracing::warn!(error = %err, %user, "balance push failed");
    }
    match changed.get("suspendedAt") {
        Some(Bson::DateTime(_)) => account_closed(&state, user).await,
        Some(_) => state.accounts.forget(user),
        None if update.removed_fields.iter().any(|f| f == "suspendedAt") => {
            state.accounts.forget(user)
        }
        None => {}
    }
}

/// A room changed (gone live, ended, price, title): joins read it afresh.
/// Only the viewer count changing (batched presence) keeps it cached.
async fn room_changed(state: AppState, event: ChangeStreamEvent<Document>) {
    let Some(room) = changed_id(&event) else {
        return;
    };
    let count_only = event.update_description.as_ref().is_some_and(|u| {
        u.removed_fields.is_empty() && u.updated_fields.keys().all(|k| k == "viewerCount")
    });
    if !count_only {
        state.rooms.forget(room);
    }
    let ended = event
        .update_description
        .as_ref()
        .is_some_and(|u| u.updated_fields.get("liveSessionId") == Some(&Bson::Null));
    if ended {
        presence::session_ended_elsewhere(&state, room).await;
    }
    let end_requested = event.update_description.as_ref().is_some_and(|u| {
        u.updated_fields
            .keys()
            .any(|k| k.split('.').next() == Some(crate::rooms::END_REQUESTED))
    });
    if end_requested {
        crate::rooms::end_requested_session(&state, room).await;
    }
}

/// Chat written through another instance: kept for the next joins here.
async fn chat_changed(state: AppState, event: ChangeStreamEvent<Document>) {
    if let Some(doc) = event.full_document {
        if let Ok(message) = mongodb::bson::from_document::<crate::models::ChatDoc>(doc)
            && !message.deleted
        {
            state.chat_rings.sent(&message);
        }
        return;
    }
    let deleted = event
        .update_description
        .as_ref()
        .is_some_and(|u| u.updated_fields.get("deleted") == Some(&Bson::Boolean(true)));
    if deleted && let Some(message) = changed_id(&event) {
        state.chat_rings.deleted(None, message);
    }
}

/// Keeps this instance's lease and reaps dead instances' presence, every
/// third of the lease, for as long as the process runs (cluster mode).
pub async fn keep_lease(state: AppState) {
    if !state.cluster.enabled() {
        return;
    }
    let url = state.settings.internal_url();
    let mut tick = tokio::time::interval(state.cluster.lease() / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reachable = true;
    loop {
        tick.tick().await;
        match state.cluster.renew_lease(&url).await {
            Ok(()) if !reachable => {
                reachable = true;
                tracing::info!("Redis is back: lease renewed");
            }
            Ok(()) => {}
            Err(err) => {
                if reachable {
                    tracing::warn!(error = %err, "cannot renew this instance's lease (Redis unreachable)");
                }
                reachable = false;
                continue;
            }
        }
        reap_dead(&state).await;
    }
}

/// Takes the sockets of instances whose lease expired out of their rooms.
pub async fn reap_dead(state: &AppState) {
    let dead = match state.cluster.dead_instances().await {
        Ok(dead) => dead,
        Err(err) => {
            tracing::debug!(error = %err, "cannot list instances");
            return;
        }
    };
    for instance in dead {
        match presence::reap(state, &instance).await {
            Ok(left) => tracing::info!(%instance, left, "reaped a dead instance's viewers"),
            Err(err) => tracing::warn!(error = ?err, %instance, "could not reap a dead instance"),
        }
    }
}

/// An account was suspended or deleted: every door refuses it from now on
/// (its cached standing is dropped), its live sessions end, its sockets on
/// this instance are closed and its media peers dropped.
pub async fn account_closed(state: &AppState, user: ObjectId) {
    state.accounts.forget(user);
    tracing::info!(%user, "account closed or suspended: cutting it off");
    crate::rooms::end_all_of(state, user).await;
    if let Some(io) = state.io()
        && let Err(err) = io.local().to(user_channel(user)).disconnect().await
    {
        tracing::warn!(error = %err, %user, "could not close the account's sockets");
    }
    if let Some(media) = state.media() {
        media.close_user(user, None).await;
    }
}
