//! Who is watching which room, kept off the database's hot path.
//!
//! A *seat* is one user in one live session of a room, however many
//! sockets (tabs, instances) they watch with: the first socket seats the
//! user (`room:viewer_joined`, a view history entry), the last one to go
//! unseats them (`room:viewer_left`, the entry closes). Seats are counted
//! in memory alone, and in Redis in a cluster, where each instance also
//! records its own share (`I:{instance}:{stage}`) so that a survivor can
//! take a dead instance's sockets out (see [`reap`]). Every change is one
//! atomic step (a mutex alone, one Lua script in Redis), so concurrent
//! tabs and instances cannot miscount.
//!
//! The database is the record, written in batches: every
//! [`FLUSH_EVERY`], one update per room whose count changed (which
//! also goes out as one coalesced `room:count`; one instance per window
//! does this for a room, cluster-wide), then one `insert_many` for new
//! views and one `update` command for closed ones. A crash loses at most the
//! last batch: views opened in it are never written, views closed in it
//! are closed when the session ends. docs/realtime.md has the details.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::models::{RoomDoc, SocketUser, ViewDoc};
use crate::push::{broadcast, hosts_channel, room_channel, watch_channel};
use crate::state::AppState;

/// How often batched presence is written and counts are pushed: at most
/// four `room:count` a second per room, cluster-wide.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// A room's live session: seats belong to one session, so a socket left
/// over from an ended one never unseats anyone from the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stage {
    pub room: ObjectId,
    pub session: ObjectId,
}

impl Stage {
    pub fn of(room: &RoomDoc) -> Self {
        Self {
            room: room.id,
            // Viewers only enter live rooms; a room without a session has
            // one stage of its own.
            session: room.live_session_id.unwrap_or(room.id),
        }
    }

    fn key(&self) -> String {
        format!("{}:{}", self.room.to_hex(), self.session.to_hex())
    }
}

/// What a seat remembers for its departure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Seat {
    view: ObjectId,
    username: String,
}

/// A stage's seats by user, with the user's socket count.
type Seats = HashMap<ObjectId, (u32, Seat)>;

/// Seats in memory (one process) or in Redis (a cluster).
pub enum Store {
    Solo(Mutex<HashMap<Stage, Seats>>),
    Redis {
        conn: redis::aio::ConnectionManager,
        prefix: String,
        instance: String,
        scripts: Scripts,
    },
}

pub struct Scripts {
    enter: redis::Script,
    exit: redis::Script,
    clear: redis::Script,
    reap: redis::Script,
}

/// KEYS: P (stage → user → sockets), V (user → seat), I (this instance's
/// share), R (this instance's stages). ARGV: user, seat, stage.
const ENTER: &str = r"
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('SADD', KEYS[4], ARGV[3])
if n == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return {n, redis.call('HLEN', KEYS[1])}
";

/// KEYS: P, V, I. ARGV: user. Answers {sockets left, count[, seat]}; -1
/// when this instance had no socket of the user there (cleared, reaped).
const EXIT: &str = r"
local mine = redis.call('HINCRBY', KEYS[3], ARGV[1], -1)
if mine <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
if mine < 0 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return {-1, redis.call('HLEN', KEYS[1])}
end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then return {n, redis.call('HLEN', KEYS[1])} end
redis.call('HDEL', KEYS[1], ARGV[1])
local seat = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {0, redis.call('HLEN', KEYS[1]), seat}
";

/// ARGV: prefix, stage. Empties a stage on every instance.
const CLEAR: &str = r"
local prefix, stage = ARGV[1], ARGV[2]
redis.call('DEL', prefix .. 'P:' .. stage, prefix .. 'V:' .. stage)
for _, id in ipairs(redis.call('SMEMBERS', prefix .. 'instances')) do
  redis.call('DEL', prefix .. 'I:' .. id .. ':' .. stage)
  redis.call('SREM', prefix .. 'R:' .. id, stage)
end
return 1
";

/// ARGV: prefix, instance. Takes a dead instance's sockets out, once (its
/// lease must be gone and it must still be announced). Answers a flat
/// list of (stage, user, seat, count) for every user who left with it.
const REAP: &str = r"
local prefix, inst = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. 'lease:' .. inst) == 1 then return {} end
if redis.call('SISMEMBER', prefix .. 'instances', inst) == 0 then return {} end
local out = {}
for _, stage in ipairs(redis.call('SMEMBERS', prefix .. 'R:' .. inst)) do
  local share = prefix .. 'I:' .. inst .. ':' .. stage
  local seats = prefix .. 'P:' .. stage
  local flat = redis.call('HGETALL', share)
  for i = 1, #flat, 2 do
    local user, n = flat[i], tonumber(flat[i + 1])
    if redis.call('HEXISTS', seats, user) == 1 then
      if redis.call('HINCRBY', seats, user, -n) <= 0 then
        redis.call('HDEL', seats, user)
        local seat = redis.call('HGET', prefix .. 'V:' .. stage, user) or ''
        redis.call('HDEL', prefix .. 'V:' .. stage, user)
        table.insert(out, stage)
        table.insert(out, user)
        table.insert(out, seat)
        table.insert(out, redis.call('HLEN', seats))
      end
    end
  end
  redis.call('DEL', share)
end
redis.call('DEL', prefix .. 'R:' .. inst)
redis.call('SREM', prefix .. 'instances', inst)
return out
";

/// A user who left a room: the view to close and the count after.
struct Departure {
    seat: Seat,
    count: i64,
}

fn redis_err(err: redis::RedisError) -> ApiError {
    ApiError::unavailable(
        "cluster_unavailable",
        format!("The cluster's shared state (Redis) is unreachable: {err}"),
    )
}

impl Store {
    pub fn new(cluster: &crate::cluster::Cluster) -> Self {
        match cluster.redis() {
            None => Self::Solo(Mutex::default()),
            Some(conn) => Self::Redis {
                conn,
                prefix: cluster.key(""),
                instance: cluster.instance.clone(),
                scripts: Scripts {
                    enter: redis::Script::new(ENTER),
                    exit: redis::Script::new(EXIT),
                    clear: redis::Script::new(CLEAR),
                    reap: redis::Script::new(REAP),
                },
            },
        }
    }

    /// One more socket of `user` on the stage: `(seated now, count)`.
    async fn enter(&self, stage: Stage, user: ObjectId, seat: &Seat) -> Result<(bool, i64)> {
        match self {
            Self::Solo(seats) => {
                let mut seats = seats.lock().unwrap_or_else(|p| p.into_inner());
                let stage = seats.entry(stage).or_default();
                let entry = stage.entry(user).or_insert((0, seat.clone()));
                entry.0 += 1;
                Ok((entry.0 == 1, stage.len() as i64))
            }
            Self::Redis {
                conn,
                prefix,
                instance,
                scripts,
            } => {
                let key = stage.key();
                let (n, count): (i64, i64) = scripts
                    .enter
                    .key(format!("{prefix}P:{key}"))
                    .key(format!("{prefix}V:{key}"))
                    .key(format!("{prefix}I:{instance}:{key}"))
                    .key(format!("{prefix}R:{instance}"))
                    .arg(user.to_hex())
                    .arg(serde_json::to_string(seat).unwrap_or_default())
                    .arg(&key)
                    .invoke_async(&mut conn.clone())
                    .await
                    .map_err(redis_err)?;
                Ok((n == 1, count))
            }
        }
    }

    /// One socket fewer: the departure when it was the user's last.
    async fn exit(&self, stage: Stage, user: ObjectId) -> Result<Option<Departure>> {
        match self {
            Self::Solo(seats) => {
                let mut seats = seats.lock().unwrap_or_else(|p| p.into_inner());
                let Some(users) = seats.get_mut(&stage) else {
                    return Ok(None);
                };
                let Some(entry) = users.get_mut(&user) else {
                    return Ok(None);
                };
                entry.0 -= 1;
                if entry.0 > 0 {
                    return Ok(None);
                }
                let (_, seat) = users.remove(&user).expect("present");
                let count = users.len() as i64;
                if users.is_empty() {
                    seats.remove(&stage);
                }
                Ok(Some(Departure { seat, count }))
            }
            Self::Redis {
                conn,
                prefix,
                instance,
                scripts,
            } => {
                let key = stage.key();
                let answer: Vec<redis::Value> = scripts
                    .exit
                    .key(format!("{prefix}P:{key}"))
                    .key(format!("{prefix}V:{key}"))
                    .key(format!("{prefix}I:{instance}:{key}"))
                    .arg(user.to_hex())
                    .invoke_async(&mut conn.clone())
                    .await
                    .map_err(redis_err)?;
                let count = answer
                    .get(1)
                    .and_then(|v| redis::from_redis_value_ref::<i64>(v).ok())
                    .unwrap_or(0);
                let seat = answer
                    .get(2)
                    .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
                    .and_then(|s| serde_json::from_str::<Seat>(&s).ok());
                Ok(seat.map(|seat| Departure { seat, count }))
            }
        }
    }

    /// Nobody is on the stage any more (its session ended).
    async fn clear(&self, stage: Stage) -> Result<()> {
        match self {
            Self::Solo(seats) => {
                seats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&stage);
                Ok(())
            }
            Self::Redis {
                conn,
                prefix,
                scripts,
                ..
            } => scripts
                .clear
                .arg(prefix)
                .arg(stage.key())
                .invoke_async::<i64>(&mut conn.clone())
                .await
                .map(|_| ())
                .map_err(redis_err),
        }
    }

    /// Takes the stage's count window: at most one instance writes and
    /// pushes a stage's count per [`FLUSH_EVERY`], cluster-wide, so a room
    /// spread over many instances still gets at most four `room:count` a
    /// second. Alone, always granted.
    async fn claim_count_window(&self, stage: Stage) -> Result<bool> {
        let Self::Redis { conn, prefix, .. } = self else {
            return Ok(true);
        };
        let claimed: Option<String> = redis::cmd("SET")
            .arg(format!("{prefix}W:{}", stage.key()))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(FLUSH_EVERY.as_millis() as u64)
            .query_async(&mut conn.clone())
            .await
            .map_err(redis_err)?;
        Ok(claimed.is_some())
    }

    /// The number of users seated.
    pub async fn count(&self, stage: Stage) -> Result<i64> {
        match self {
            Self::Solo(seats) => Ok(seats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&stage)
                .map_or(0, |users| users.len() as i64)),
            Self::Redis { conn, prefix, .. } => redis::cmd("HLEN")
                .arg(format!("{prefix}P:{}", stage.key()))
                .query_async::<i64>(&mut conn.clone())
                .await
                .map_err(redis_err),
        }
    }
}

/// Presence writes waiting for the next batch.
#[derive(Default)]
pub struct Pending {
    opened: Vec<ViewDoc>,
    closed: Vec<ObjectId>,
    counts: HashSet<Stage>,
}

/// Seats plus the batch that records them.
pub struct Presence {
    pub store: Store,
    pending: Mutex<Pending>,
}

impl Presence {
    pub fn new(cluster: &crate::cluster::Cluster) -> Self {
        Self {
            store: Store::new(cluster),
            pending: Mutex::default(),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open_view(&self, view: ViewDoc, stage: Stage) {
        let mut pending = self.pending();
        pending.opened.push(view);
        pending.counts.insert(stage);
    }

    fn close_view(&self, view: ObjectId, stage: Stage) {
        let mut pending = self.pending();
        pending.counts.insert(stage);
        // Opened in this same batch: written closed, in one go.
        if let Some(open) = pending.opened.iter_mut().find(|v| v.id == view) {
            open.left_at = Some(DateTime::now());
        } else {
            pending.closed.push(view);
        }
    }
}

/// A viewer's socket enters a room's live session. Returns the viewer
/// count; the user's first socket seats them (`room:viewer_joined`, a view
/// history entry, both announced and written in the next batch at latest).
pub async fn enter(state: &AppState, room: &RoomDoc, user: &AuthUser) -> Result<i64> {
    let stage = Stage::of(room);
    let seat = Seat {
        view: ObjectId::new(),
        username: user.username.clone(),
    };
    let (seated, count) = state.presence.store.enter(stage, user.id, &seat).await?;
    if seated {
        state.presence.open_view(
            ViewDoc {
                id: seat.view,
                user_id: user.id,
                room_id: room.id,
                room_title: room.title.clone(),
                creator_id: room.creator_id,
                creator_username: room.creator_username.clone(),
                creator_display_name: room.creator_display_name.clone(),
                live_session_id: room.live_session_id,
                joined_at: DateTime::now(),
                left_at: None,
            },
            stage,
        );
        announce(
            state,
            stage,
            user.id,
            &user.username,
            "room:viewer_joined",
            count,
        )
        .await;
    }
    Ok(count)
}

/// A viewer's socket leaves. When it was the user's last there, they leave
/// the room: `room:viewer_left`, the count drops, the view closes.
pub async fn exit(state: &AppState, stage: Stage, user: ObjectId) -> Result<()> {
    if let Some(gone) = state.presence.store.exit(stage, user).await? {
        departed(state, stage, user, gone).await;
    }
    Ok(())
}

async fn departed(state: &AppState, stage: Stage, user: ObjectId, gone: Departure) {
    state.presence.close_view(gone.seat.view, stage);
    announce(
        state,
        stage,
        user,
        &gone.seat.username,
        "room:viewer_left",
        gone.count,
    )
    .await;
}

/// A user's arrival or departure, for the creator's list at once; for
/// everyone in the room too while it is small (past
/// `STREAMSHARE_PRESENCE_CROWD` viewers, they get the coalesced
/// `room:count` only, as big chat rooms elsewhere do).
async fn announce(
    state: &AppState,
    stage: Stage,
    user: ObjectId,
    username: &str,
    event: &str,
    count: i64,
) {
    let user = SocketUser {
        id: user.to_hex(),
        username: username.to_owned(),
    };
    let payload = json!({ "roomId": stage.room.to_hex(), "user": user, "viewerCount": count });
    let channel = if count <= state.settings.presence_crowd as i64 {
        room_channel(stage.room)
    } else {
        hosts_channel(stage.room)
    };
    broadcast(state, channel, event, &payload).await;
}

/// The session ended: nobody is in the room any more. Every open view of
/// the room closes (those still waiting in the batch too).
pub async fn clear_room(state: &AppState, stage: Stage) -> Result<()> {
    state.presence.store.clear(stage).await?;
    {
        let mut pending = state.presence.pending();
        let now = DateTime::now();
        for view in pending
            .opened
            .iter_mut()
            .filter(|v| v.room_id == stage.room)
        {
            view.left_at.get_or_insert(now);
        }
        pending.counts.remove(&stage);
    }
    close_open_views(state, doc! { "roomId": stage.room, "leftAt": Bson::Null }).await
}

/// A room's session ended (seen in the rooms change stream, on every
/// instance): views of it waiting in this instance's batch are written
/// closed, and any this instance wrote just as the session ended (after
/// the ending instance closed the room's views) are closed too.
pub async fn session_ended_elsewhere(state: &AppState, room: ObjectId) {
    {
        let mut pending = state.presence.pending();
        let now = DateTime::now();
        for view in pending.opened.iter_mut().filter(|v| v.room_id == room) {
            view.left_at.get_or_insert(now);
        }
    }
    // Alone, the ending itself closed them (`clear_room`).
    if state.cluster.enabled() {
        let closed = close_open_views(state, doc! { "roomId": room, "leftAt": Bson::Null }).await;
        if let Err(err) = closed {
            tracing::warn!(error = ?err, %room, "could not close the ended session's views");
        }
    }
}

/// Writes what is waiting, every [`FLUSH_EVERY`], until the process ends;
/// a failed write is tried again with the next batch.
pub async fn flush_forever(state: AppState) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        flush(&state).await;
    }
}

/// Writes the waiting batch now (also at a clean stop): the counts first
/// (what people see), then the view history.
pub async fn flush(state: &AppState) {
    let batch = std::mem::take(&mut *state.presence.pending());
    if batch.opened.is_empty() && batch.closed.is_empty() && batch.counts.is_empty() {
        return;
    }
    for stage in &batch.counts {
        push_count(state, *stage).await;
    }
    if let Err(err) = write_views(state, &batch).await {
        tracing::warn!(error = ?err, "could not write presence; retrying with the next batch");
        let mut pending = state.presence.pending();
        pending.opened.splice(0..0, batch.opened);
        pending.closed.splice(0..0, batch.closed);
    }
}

/// Writes and pushes a stage's count, unless another instance did within
/// the window (then it waits for the next batch, so the last change is
/// always pushed).
async fn push_count(state: &AppState, stage: Stage) {
    let retry = || {
        state.presence.pending().counts.insert(stage);
    };
    match state.presence.store.claim_count_window(stage).await {
        Ok(true) => {}
        Ok(false) => return retry(),
        Err(err) => {
            tracing::warn!(error = ?err, "could not push the viewer count");
            return retry();
        }
    }
    let count = match state.presence.store.count(stage).await {
        Ok(count) => count,
        Err(err) => {
            tracing::warn!(error = ?err, "could not count viewers");
            return retry();
        }
    };
    let written = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": stage.room, "liveSessionId": stage.session },
            doc! { "$set": { "viewerCount": count } },
        )
        .await;
    if let Err(err) = written {
        tracing::warn!(error = %err, room = %stage.room, "could not write the viewer count");
        return retry();
    }
    let event = json!({ "roomId": stage.room.to_hex(), "viewerCount": count });
    if let Some(io) = state.io()
        && let Err(err) = io
            .to([
                room_channel(stage.room),
                watch_channel(stage.room),
                crate::push::LOBBY.to_owned(),
            ])
            .emit("room:count", &event)
            .await
    {
        tracing::warn!(error = %err, "could not push the viewer count");
    }
}

async fn write_views(state: &AppState, batch: &Pending) -> Result<()> {
    if !batch.opened.is_empty() {
        let written = state
            .db
            .views()
            .insert_many(&batch.opened)
            .ordered(false)
            .await;
        // A retried batch may find some of its views already written.
        if let Err(err) = written
            && !is_only_duplicates(&err)
        {
            return Err(err.into());
        }
    }
    // One `update` command with a statement per view: each finds its view
    // by `_id`, where one `$in` over thousands of ids is slow on some
    // servers (SecantusDB scans per id).
    let now = DateTime::now();
    for chunk in batch.closed.chunks(1000) {
        let updates: Vec<_> = chunk
            .iter()
            .map(|id| {
                doc! {
                    "q": { "_id": id, "leftAt": Bson::Null },
                    "u": { "$set": { "leftAt": now } },
                }
            })
            .collect();
        let command = doc! {
            "update": state.db.views().name(),
            "updates": updates,
            "ordered": false,
        };
        let answer = state.db.database().run_command(command).await?;
        if answer.get_array("writeErrors").is_ok_and(|e| !e.is_empty()) {
            return Err(ApiError::internal(anyhow::anyhow!(
                "closing views failed: {answer}"
            )));
        }
    }
    Ok(())
}

fn is_only_duplicates(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        mongodb::error::ErrorKind::InsertMany(failure) => {
            failure.write_concern_error.is_none()
                && failure
                    .write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|e| e.code == 11000))
        }
        _ => false,
    }
}

/// A dead instance's sockets are gone: whoever left with them leaves the
/// room (views close, counts drop, creators hear `room:viewer_left`).
/// Answers how many users left.
pub async fn reap(state: &AppState, instance: &str) -> Result<usize> {
    let Store::Redis {
        conn,
        prefix,
        scripts,
        ..
    } = &state.presence.store
    else {
        return Ok(0);
    };
    let flat: Vec<redis::Value> = scripts
        .reap
        .arg(prefix)
        .arg(instance)
        .invoke_async(&mut conn.clone())
        .await
        .map_err(redis_err)?;
    let mut left = 0;
    for chunk in flat.chunks_exact(4) {
        let text = |v: &redis::Value| redis::from_redis_value_ref::<String>(v).unwrap_or_default();
        let stage = text(&chunk[0]);
        let (Some((room, session)), Ok(user), Ok(seat), Ok(count)) = (
            stage.split_once(':').and_then(|(r, s)| {
                Some((ObjectId::parse_str(r).ok()?, ObjectId::parse_str(s).ok()?))
            }),
            ObjectId::parse_str(text(&chunk[1])),
            serde_json::from_str::<Seat>(&text(&chunk[2])),
            redis::from_redis_value_ref::<i64>(&chunk[3]),
        ) else {
            continue;
        };
        left += 1;
        departed(
            state,
            Stage { room, session },
            user,
            Departure { seat, count },
        )
        .await;
    }
    Ok(left)
}

/// At start, alone: sockets do not survive a restart, so nobody is
/// watching. (In a cluster, survivors reap a dead instance instead.)
pub async fn reset_all(state: &AppState) -> Result<()> {
    state
        .db
        .rooms()
        .update_many(
            doc! { "viewerCount": { "$ne": 0 } },
            doc! { "$set": { "viewerCount": 0 } },
        )
        .await?;
    close_open_views(state, doc! { "leftAt": Bson::Null }).await
}

async fn close_open_views(state: &AppState, filter: mongodb::bson::Document) -> Result<()> {
    state
        .db
        .views()
        .update_many(filter, doc! { "$set": { "leftAt": DateTime::now() } })
        .await
        .map(|_| ())
        .map_err(ApiError::from)
}
