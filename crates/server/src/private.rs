//! One-to-one private sessions between a viewer and a creator, billed by
//! the period (a minute): the offer, the request and its answer, and the
//! billing that never loses a coin.
//!
//! Money moves in MongoDB transactions, each guarded by the session's
//! stored state, so any instance (or a restarted one) can run any step and
//! none runs twice:
//! - accept: the first period's price leaves the viewer's balance and is
//!   held on the session (`private_hold`);
//! - each period's end: the held price goes to the creator
//!   (`private_charge`) and the next period is held, or, when the viewer
//!   cannot pay it, the session ends there (`funds`);
//! - the end (either party, a connection gone past the grace, or a crash
//!   found by the next tick): the current period is charged
//!   `ceil(price × seconds used ÷ period)` and the rest released
//!   (`private_release`).
//!
//! "Used" ends when both parties were last seen connected (`bothSeenAt`,
//! refreshed by the tick): a crash or a lost network bills nothing past
//! that, and nothing is free beyond the grace.

use std::time::Duration;

use axum::http::StatusCode;
use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::Db;
use crate::error::{ApiError, Result};
use crate::ledger::{self, Bonus, Guard};
use crate::models::{MediaHome, STATUS_LIVE, TxDoc, UserDoc, UserRef, rfc3339};
use crate::push::{broadcast, user_channel};
use crate::state::AppState;

pub use crate::models::{
    KIND_PRIVATE_CHARGE as KIND_CHARGE, KIND_PRIVATE_HOLD as KIND_HOLD,
    KIND_PRIVATE_RELEASE as KIND_RELEASE,
};

pub const REQUESTED: &str = "requested";
pub const ACTIVE: &str = "active";
pub const ENDED: &str = "ended";
pub const DECLINED: &str = "declined";
pub const EXPIRED: &str = "expired";
pub const CANCELLED: &str = "cancelled";

/// The highest price per period.
pub const MAX_PRICE: i64 = 100_000;

/// `private_offers`: a creator's price and whether they take requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferDoc {
    /// The creator's id.
    #[serde(rename = "_id")]
    pub creator_id: ObjectId,
    pub price_per_minute: i64,
    pub accepting: bool,
    pub pause_room: bool,
    pub updated_at: DateTime,
}

/// `private_sessions`: one request and, once accepted, its billing state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDoc {
    /// Also the SFU stream of the creator's camera.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub creator_id: ObjectId,
    pub creator_username: String,
    pub creator_display_name: String,
    pub viewer_id: ObjectId,
    pub viewer_username: String,
    pub viewer_display_name: String,
    /// The SFU stream of the viewer's camera.
    pub viewer_stream: ObjectId,
    /// Coins per period, fixed when requested.
    pub price: i64,
    pub period_secs: i64,
    pub state: String,
    pub requested_at: DateTime,
    pub expires_at: DateTime,
    pub started_at: Option<DateTime>,
    pub ended_at: Option<DateTime>,
    pub end_reason: Option<String>,
    /// Seconds billed so far (whole periods, then the last part).
    pub seconds: i64,
    /// Coins charged so far.
    pub coins: i64,
    /// Coins on hold for the current period.
    pub held: i64,
    /// How many of the held coins are sign-up coins (paid out first).
    #[serde(default)]
    pub held_bonus: i64,
    /// When the held period ends.
    pub paid_through: Option<DateTime>,
    /// When both parties were last seen connected.
    pub both_seen_at: Option<DateTime>,
    /// The `paidThrough` the low-balance warning was sent for.
    pub warned_for: Option<DateTime>,
    /// The creator's live rooms paused for this session.
    #[serde(default)]
    pub paused_rooms: Vec<ObjectId>,
    /// In a cluster, the instance whose SFU carries both streams (the one
    /// that accepted); alone, none.
    #[serde(default)]
    pub media_home: Option<MediaHome>,
}

/// The private-session collections (the sessions' own module keeps them:
/// the store's layer knows nothing of private sessions).
impl crate::db::Db {
    pub fn private_offers(&self) -> mongodb::Collection<OfferDoc> {
        self.database().collection("private_offers")
    }
    pub fn private_sessions(&self) -> mongodb::Collection<PrivateDoc> {
        self.database().collection("private_sessions")
    }
}

impl PrivateDoc {
    pub fn is_party(&self, user: ObjectId) -> bool {
        user == self.creator_id || user == self.viewer_id
    }

    /// The SFU stream a party publishes, and the one they watch.
    pub fn streams_of(&self, user: ObjectId) -> (ObjectId, ObjectId) {
        if user == self.creator_id {
            (self.id, self.viewer_stream)
        } else {
            (self.viewer_stream, self.id)
        }
    }
}

/// `PrivateOffer` of the contract.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub creator_id: String,
    pub price_per_minute: i64,
    pub accepting: bool,
    pub pause_room: bool,
}

impl Offer {
    fn of(creator: ObjectId, doc: Option<&OfferDoc>) -> Self {
        Self {
            creator_id: creator.to_hex(),
            price_per_minute: doc.map_or(0, |d| d.price_per_minute),
            accepting: doc.is_some_and(|d| d.accepting),
            pause_room: doc.is_none_or(|d| d.pause_room),
        }
    }
}

/// `PrivateSession` of the contract.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub creator: UserRef,
    pub viewer: UserRef,
    pub price_per_minute: i64,
    pub period_seconds: i64,
    pub state: String,
    pub requested_at: String,
    pub expires_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
    pub seconds: i64,
    pub coins: i64,
    pub held: i64,
    pub paid_through: Option<String>,
}

impl From<&PrivateDoc> for Session {
    fn from(d: &PrivateDoc) -> Self {
        Self {
            id: d.id.to_hex(),
            creator: UserRef {
                id: d.creator_id.to_hex(),
                username: d.creator_username.clone(),
                display_name: d.creator_display_name.clone(),
            },
            viewer: UserRef {
                id: d.viewer_id.to_hex(),
                username: d.viewer_username.clone(),
                display_name: d.viewer_display_name.clone(),
            },
            price_per_minute: d.price,
            period_seconds: d.period_secs,
            state: d.state.clone(),
            requested_at: rfc3339(d.requested_at),
            expires_at: rfc3339(d.expires_at),
            started_at: d.started_at.map(rfc3339),
            ended_at: d.ended_at.map(rfc3339),
            end_reason: d.end_reason.clone(),
            seconds: d.seconds,
            coins: d.coins,
            held: d.held,
            paid_through: d.paid_through.map(rfc3339),
        }
    }
}

fn not_found() -> ApiError {
    <crate::ids::PrivateSession as crate::ids::Kind>::not_found()
}

fn after(t: DateTime, secs: i64) -> DateTime {
    DateTime::from_millis(t.timestamp_millis() + secs * 1000)
}

pub async fn offer(state: &AppState, creator: ObjectId) -> Result<Offer> {
    let doc = state
        .db
        .private_offers()
        .find_one(doc! { "_id": creator })
        .await?;
    Ok(Offer::of(creator, doc.as_ref()))
}

pub async fn set_offer(
    state: &AppState,
    creator: ObjectId,
    price: i64,
    accepting: bool,
    pause_room: bool,
) -> Result<Offer> {
    let range = if accepting {
        1..=MAX_PRICE
    } else {
        0..=MAX_PRICE
    };
    if !range.contains(&price) {
        return Err(ApiError::invalid(
            "pricePerMinute",
            format!("The price is a whole number of coins from 1 to {MAX_PRICE} per minute."),
        ));
    }
    let doc = OfferDoc {
        creator_id: creator,
        price_per_minute: price,
        accepting,
        pause_room,
        updated_at: DateTime::now(),
    };
    state
        .db
        .private_offers()
        .replace_one(doc! { "_id": creator }, &doc)
        .upsert(true)
        .await?;
    Ok(Offer::of(creator, Some(&doc)))
}

/// A party's session, or 404 (strangers learn nothing, not even that it exists).
pub async fn load(state: &AppState, id: ObjectId, user: ObjectId) -> Result<PrivateDoc> {
    let doc = state
        .db
        .private_sessions()
        .find_one(doc! { "_id": id })
        .await?
        .ok_or_else(not_found)?;
    if !doc.is_party(user) {
        return Err(not_found());
    }
    Ok(doc)
}

/// Whether `viewer` can pay one period to `creator` (sign-up coins do not
/// count toward a creator who signed up from their network, as for rooms):
/// the sign-up coins it would spend, or the 402.
fn can_pay(state: &AppState, viewer: &UserDoc, creator: &UserDoc, price: i64) -> Result<i64> {
    ledger::spendable(
        &state.settings,
        viewer,
        creator,
        price,
        "for a minute of this private session",
    )
}

async fn user(db: &Db, id: ObjectId, s: Option<&mut ClientSession>) -> Result<UserDoc> {
    let users = db.users();
    let find = users.find_one(doc! { "_id": id });
    let found = match s {
        Some(s) => find.session(s).await?,
        None => find.await?,
    };
    found.ok_or_else(crate::accounts::account_closed)
}

/// A viewer asks the creator for a private session.
pub async fn request(
    state: &AppState,
    viewer_id: ObjectId,
    creator_id: ObjectId,
) -> Result<PrivateDoc> {
    if viewer_id == creator_id {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "self_payment",
            "You cannot book a private session with yourself.",
        ));
    }
    let db = &state.db;
    let offer = db
        .private_offers()
        .find_one(doc! { "_id": creator_id })
        .await?
        .filter(|o| o.accepting && o.price_per_minute > 0)
        .ok_or_else(|| {
            ApiError::conflict(
                "not_accepting",
                "This creator does not take private sessions now.",
            )
        })?;
    let viewer = user(db, viewer_id, None).await?;
    let creator = user(db, creator_id, None)
        .await
        .map_err(|_| ApiError::not_found("user_not_found", "There is no such creator."))?;
    can_pay(state, &viewer, &creator, offer.price_per_minute)?;
    let open = [REQUESTED, ACTIVE];
    if db
        .private_sessions()
        .find_one(doc! { "viewerId": viewer_id, "state": { "$in": open.as_slice() } })
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "request_pending",
            "You already have a private session requested or running.",
        ));
    }
    ensure_creator_free(db, creator_id, None).await?;
    let now = DateTime::now();
    let doc = PrivateDoc {
        id: ObjectId::new(),
        creator_id,
        creator_username: creator.username,
        creator_display_name: creator.display_name,
        viewer_id,
        viewer_username: viewer.username,
        viewer_display_name: viewer.display_name,
        viewer_stream: ObjectId::new(),
        price: offer.price_per_minute,
        period_secs: state.settings.private_period_secs.max(1) as i64,
        state: REQUESTED.into(),
        requested_at: now,
        expires_at: after(now, state.settings.private_request_secs as i64),
        started_at: None,
        ended_at: None,
        end_reason: None,
        seconds: 0,
        coins: 0,
        held: 0,
        held_bonus: 0,
        paid_through: None,
        both_seen_at: None,
        warned_for: None,
        paused_rooms: vec![],
        media_home: None,
    };
    db.private_sessions().insert_one(&doc).await?;
    tracing::info!(session = %doc.id, creator = %creator_id, "private session requested");
    let event = json!({ "session": Session::from(&doc) });
    broadcast(state, user_channel(creator_id), "private:request", &event).await;
    Ok(doc)
}

async fn ensure_creator_free(
    db: &Db,
    creator: ObjectId,
    s: Option<&mut ClientSession>,
) -> Result<()> {
    let sessions = db.private_sessions();
    let find = sessions.find_one(doc! { "creatorId": creator, "state": ACTIVE });
    let busy = match s {
        Some(s) => find.session(s).await?,
        None => find.await?,
    };
    if busy.is_some() {
        return Err(ApiError::conflict(
            "creator_busy",
            "The creator is in another private session.",
        ));
    }
    Ok(())
}

/// A ledger entry of the session: a hold leaves the viewer for the
/// session, a charge goes from it to the creator, a release back to the
/// viewer. `bonus` is the sign-up coins among them.
fn ledger_entry(doc: &PrivateDoc, kind: &str, amount: i64, bonus: i64) -> TxDoc {
    let (from, to) = match kind {
        KIND_HOLD => (Some(doc.viewer_id), None),
        KIND_CHARGE => (None, Some(doc.creator_id)),
        _ => (None, Some(doc.viewer_id)),
    };
    let mut entry = TxDoc::new(kind, from, to, amount);
    entry.room_title = Some(format!("Private session with {}", doc.creator_display_name));
    // The private session, for these kinds.
    entry.live_session_id = Some(doc.id);
    entry.bonus_coins = bonus;
    entry
}

/// Pays `amount` of the held coins to the creator (charge) or back to the
/// viewer (release); sign-up coins first, as they were spent. Answers the
/// sign-up coins it moved.
async fn pay_out(
    db: &Db,
    s: &mut ClientSession,
    doc: &PrivateDoc,
    kind: &str,
    amount: i64,
    bonus_left: i64,
) -> Result<i64> {
    if amount <= 0 {
        return Ok(0);
    }
    let bonus = bonus_left.clamp(0, amount);
    let returned = if kind == KIND_RELEASE { bonus } else { 0 };
    let entry = ledger_entry(doc, kind, amount, bonus);
    ledger::transfer(db, s, &entry, Guard::Debt, Bonus { spent: 0, returned }).await?;
    Ok(bonus)
}

/// What a guarded step found: the session moved on meanwhile, or it did its work.
enum Step {
    Moved,
    Done(Box<PrivateDoc>),
    /// The viewer could not pay the first period: declined.
    Unaffordable(Box<PrivateDoc>, ApiError),
}

/// Holds one period's price from the viewer's balance (sign-up coins
/// first, as for rooms): the sign-up coins held, or the 402 when they
/// cannot pay it.
async fn hold(
    state: &AppState,
    s: &mut ClientSession,
    doc: &PrivateDoc,
) -> Result<Result<i64, ApiError>> {
    let db = &state.db;
    let viewer = user(db, doc.viewer_id, Some(&mut *s)).await?;
    let creator = user(db, doc.creator_id, Some(&mut *s)).await?;
    let bonus = match can_pay(state, &viewer, &creator, doc.price) {
        Ok(bonus) => bonus,
        Err(short) => return Ok(Err(short)),
    };
    let entry = ledger_entry(doc, KIND_HOLD, doc.price, bonus);
    let spent = Bonus {
        spent: bonus,
        returned: 0,
    };
    ledger::transfer(db, s, &entry, Guard::Balance(viewer.coins), spent).await?;
    Ok(Ok(bonus))
}

/// The creator accepts: the first period is held from the viewer's coins.
pub async fn accept(state: &AppState, creator: ObjectId, id: ObjectId) -> Result<PrivateDoc> {
    let db = &state.db;
    let step = crate::transaction!(db, |s| {
        let doc = load_in(db, s, id).await?;
        if doc.creator_id != creator {
            return Err(not_found());
        }
        let now = DateTime::now();
        if doc.state != REQUESTED {
            return Err(ApiError::conflict(
                "request_closed",
                format!("This request is {} already.", doc.state),
            ));
        }
        if doc.expires_at <= now {
            return Err(ApiError::conflict(
                "request_expired",
                "This request expired; the viewer may ask again.",
            ));
        }
        ensure_creator_free(db, creator, Some(&mut *s)).await?;
        let set = match hold(state, s, &doc).await? {
            Err(short) => {
                let declined = set_state(db, s, &doc, doc! { "state": DECLINED }).await?;
                return Ok(Step::Unaffordable(Box::new(declined), short));
            }
            Ok(bonus) => {
                let mut set = doc! {
                    "state": ACTIVE,
                    "startedAt": now,
                    "held": doc.price,
                    "heldBonus": bonus,
                    "paidThrough": after(now, doc.period_secs),
                    "bothSeenAt": now,
                };
                if state.cluster.enabled() {
                    let home = MediaHome {
                        instance_id: state.settings.instance_id().to_owned(),
                        url: state.settings.internal_url(),
                    };
                    set.insert(
                        "mediaHome",
                        mongodb::bson::to_bson(&home).map_err(ApiError::internal)?,
                    );
                }
                set
            }
        };
        Ok(Step::Done(Box::new(set_state(db, s, &doc, set).await?)))
    })?;
    match step {
        Step::Unaffordable(doc, short) => {
            changed(state, &doc).await;
            Err(short)
        }
        Step::Done(doc) => {
            tracing::info!(session = %doc.id, "private session started");
            let doc = pause_rooms(state, *doc).await;
            changed(state, &doc).await;
            Ok(doc)
        }
        Step::Moved => Err(not_found()),
    }
}

async fn load_in(db: &Db, s: &mut ClientSession, id: ObjectId) -> Result<PrivateDoc> {
    db.private_sessions()
        .find_one(doc! { "_id": id })
        .session(s)
        .await?
        .ok_or_else(not_found)
}

/// Writes `set` on the session if it is still as `doc` read it (state and
/// period), or fails the transaction so it runs again on fresh data.
async fn set_state(
    db: &Db,
    s: &mut ClientSession,
    doc: &PrivateDoc,
    set: mongodb::bson::Document,
) -> Result<PrivateDoc> {
    db.private_sessions()
        .find_one_and_update(
            doc! { "_id": doc.id, "state": &doc.state, "paidThrough": doc.paid_through },
            doc! { "$set": set },
        )
        .return_document(ReturnDocument::After)
        .session(s)
        .await?
        .ok_or(ApiError::Retry)
}

/// The creator declines, or the viewer withdraws, a request.
pub async fn close_request(state: &AppState, user: ObjectId, id: ObjectId) -> Result<PrivateDoc> {
    let doc = load(state, id, user).await?;
    let (who, to) = if user == doc.creator_id {
        ("creator", DECLINED)
    } else {
        ("viewer", CANCELLED)
    };
    let closed = state
        .db
        .private_sessions()
        .find_one_and_update(
            doc! { "_id": id, "state": REQUESTED },
            doc! { "$set": { "state": to } },
        )
        .return_document(ReturnDocument::After)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "request_closed",
                format!("This request is {} already.", doc.state),
            )
        })?;
    tracing::info!(session = %id, who, "private request closed");
    changed(state, &closed).await;
    Ok(closed)
}

/// Either party ends a running session now.
pub async fn end(state: &AppState, user: ObjectId, id: ObjectId) -> Result<PrivateDoc> {
    let doc = load(state, id, user).await?;
    if doc.state != ACTIVE {
        return Err(ApiError::conflict(
            "session_not_active",
            "This private session is not running.",
        ));
    }
    let reason = if user == doc.creator_id {
        "creator"
    } else {
        "viewer"
    };
    settle(state, id, DateTime::now(), reason)
        .await?
        .ok_or_else(|| ApiError::conflict("session_not_active", "This private session ended."))
}

/// Ends a running session as of `at`: the current period is charged for
/// the seconds used (rounded up to a whole coin) and the rest of the hold
/// goes back. `None` when it was not running any more.
pub async fn settle(
    state: &AppState,
    id: ObjectId,
    at: DateTime,
    reason: &str,
) -> Result<Option<PrivateDoc>> {
    let db = &state.db;
    let step = crate::transaction!(db, |s| {
        let doc = load_in(db, s, id).await?;
        let Some(paid_through) = doc.paid_through.filter(|_| doc.state == ACTIVE) else {
            return Ok(Step::Moved);
        };
        let period_ms = doc.period_secs * 1000;
        let period_start = paid_through.timestamp_millis() - period_ms;
        let used_ms = (at.timestamp_millis() - period_start).clamp(0, period_ms);
        let charge = charge_for(doc.price, used_ms, period_ms).min(doc.held);
        let release = doc.held - charge;
        let charged_bonus = pay_out(db, s, &doc, KIND_CHARGE, charge, doc.held_bonus).await?;
        let bonus_left = doc.held_bonus - charged_bonus;
        pay_out(db, s, &doc, KIND_RELEASE, release, bonus_left).await?;
        let ended_at = DateTime::from_millis(period_start + used_ms);
        let set = doc! {
            "state": ENDED,
            "endedAt": ended_at,
            "endReason": reason,
            "held": 0_i64,
            "heldBonus": 0_i64,
            "coins": doc.coins + charge,
            "seconds": doc.seconds + used_ms / 1000,
        };
        Ok(Step::Done(Box::new(set_state(db, s, &doc, set).await?)))
    })?;
    let Step::Done(doc) = step else {
        return Ok(None);
    };
    tracing::info!(session = %id, reason, coins = doc.coins, "private session ended");
    finished(state, &doc).await;
    Ok(Some(*doc))
}

/// `ceil(price × used ÷ period)`, in integers.
pub fn charge_for(price: i64, used_ms: i64, period_ms: i64) -> i64 {
    if period_ms <= 0 {
        return price;
    }
    (price * used_ms + period_ms - 1) / period_ms
}

/// A held period is over: it goes to the creator and the next is held, or
/// the session ends there when the viewer cannot pay the next.
async fn next_period(state: &AppState, id: ObjectId) -> Result<Option<PrivateDoc>> {
    let db = &state.db;
    let step = crate::transaction!(db, |s| {
        let doc = load_in(db, s, id).await?;
        let now = DateTime::now();
        let Some(paid_through) = doc
            .paid_through
            .filter(|t| doc.state == ACTIVE && *t <= now)
        else {
            return Ok(Step::Moved);
        };
        pay_out(db, s, &doc, KIND_CHARGE, doc.held, doc.held_bonus).await?;
        let coins = doc.coins + doc.held;
        let seconds = doc.seconds + doc.period_secs;
        let set = match hold(state, s, &doc).await? {
            Ok(bonus) => {
                doc! {
                    "held": doc.price,
                    "heldBonus": bonus,
                    "coins": coins,
                    "seconds": seconds,
                    "paidThrough": after(paid_through, doc.period_secs),
                }
            }
            Err(_) => doc! {
                "state": ENDED,
                "endedAt": paid_through,
                "endReason": "funds",
                "held": 0_i64,
                "heldBonus": 0_i64,
                "coins": coins,
                "seconds": seconds,
            },
        };
        Ok(Step::Done(Box::new(set_state(db, s, &doc, set).await?)))
    })?;
    let Step::Done(doc) = step else {
        return Ok(None);
    };
    if doc.state == ENDED {
        tracing::info!(session = %id, coins = doc.coins, "private session ended: funds");
        finished(state, &doc).await;
    } else {
        changed(state, &doc).await;
    }
    Ok(Some(*doc))
}

/// Tells both parties (every tab) how the session stands.
async fn changed(state: &AppState, doc: &PrivateDoc) {
    let event = json!({ "session": Session::from(doc) });
    for user in [doc.creator_id, doc.viewer_id] {
        broadcast(state, user_channel(user), "private:update", &event).await;
    }
}

/// After the end: both parties hear it, their media closes on every
/// instance, and the creator's paused rooms run again.
async fn finished(state: &AppState, doc: &PrivateDoc) {
    changed(state, doc).await;
    crate::push::notify(
        state,
        crate::push::Notice::StreamsClosed {
            streams: vec![doc.id.to_hex(), doc.viewer_stream.to_hex()],
        },
    )
    .await;
    resume_rooms(state, doc).await;
}

/// Marks the creator's live rooms as in a private session, when their
/// offer says so: their viewers see it, and nothing is sold meanwhile.
async fn pause_rooms(state: &AppState, doc: PrivateDoc) -> PrivateDoc {
    let pause = match offer(state, doc.creator_id).await {
        Ok(offer) => offer.pause_room,
        Err(err) => {
            tracing::warn!(error = ?err, "could not read the private offer");
            false
        }
    };
    if !pause {
        return doc;
    }
    let db = &state.db;
    let rooms: Vec<ObjectId> = match db
        .rooms()
        .find(doc! { "creatorId": doc.creator_id, "status": STATUS_LIVE })
        .await
    {
        Ok(cursor) => cursor
            .map_ok(|r| r.id)
            .try_collect()
            .await
            .unwrap_or_default(),
        Err(err) => {
            tracing::warn!(error = %err, "could not list the creator's live rooms");
            vec![]
        }
    };
    if rooms.is_empty() {
        return doc;
    }
    let marked = db
        .rooms()
        .update_many(
            doc! { "_id": { "$in": &rooms } },
            doc! { "$set": { "inPrivate": true } },
        )
        .await;
    let kept = db
        .private_sessions()
        .update_one(
            doc! { "_id": doc.id },
            doc! { "$set": { "pausedRooms": &rooms } },
        )
        .await;
    if let Err(err) = marked.and(kept) {
        tracing::warn!(error = %err, "could not pause the creator's rooms");
    }
    for room in &rooms {
        state.rooms.forget(*room);
        let event = json!({ "roomId": room.to_hex(), "active": true });
        crate::push::room_state(state, *room, "room:private", &event).await;
    }
    PrivateDoc {
        paused_rooms: rooms,
        ..doc
    }
}

async fn resume_rooms(state: &AppState, doc: &PrivateDoc) {
    if doc.paused_rooms.is_empty() {
        return;
    }
    if let Err(err) = state
        .db
        .rooms()
        .update_many(
            doc! { "_id": { "$in": &doc.paused_rooms } },
            doc! { "$set": { "inPrivate": false } },
        )
        .await
    {
        tracing::warn!(error = %err, "could not resume the creator's rooms");
    }
    for room in &doc.paused_rooms {
        state.rooms.forget(*room);
        let event = json!({ "roomId": room.to_hex(), "active": false });
        crate::push::room_state(state, *room, "room:private", &event).await;
    }
    // A room whose studio was left for the session (away meanwhile) gets
    // its whole grace again from now, to come back to.
    let grace = Duration::from_secs(state.settings.publisher_grace_secs);
    for room in &doc.paused_rooms {
        if let Ok(room) = crate::rooms::load_room(state, *room).await
            && room.is_live()
            && room.away_until.is_some()
        {
            crate::rooms::publisher_away(state, room.id, grace).await;
        }
    }
}

/// The caller's sessions, either role, newest first.
pub fn history_filter(user: ObjectId) -> mongodb::bson::Document {
    doc! { "$or": [ { "creatorId": user }, { "viewerId": user } ] }
}

/// The Socket.IO room where a party's pages of a session count as present.
pub fn presence_channel(id: ObjectId, user: ObjectId) -> String {
    format!("private:{}:{}", id.to_hex(), user.to_hex())
}

/// Runs the clock of every private session, on every instance (each step
/// is guarded, so two instances never do one twice): requests expire,
/// presence is recorded, absent parties end sessions after the grace,
/// periods are charged, low balances warned.
pub async fn run(state: AppState) {
    let tick = Duration::from_millis((state.settings.private_period_secs * 250).clamp(250, 1000));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(err) = tick_once(&state).await {
            tracing::debug!(error = ?err, "private sessions' clock skipped a tick");
        }
    }
}

async fn tick_once(state: &AppState) -> Result<()> {
    let db = &state.db;
    let now = DateTime::now();
    let expired: Vec<PrivateDoc> = db
        .private_sessions()
        .find(doc! { "state": REQUESTED, "expiresAt": { "$lte": now } })
        .await?
        .try_collect()
        .await?;
    for doc in expired {
        let closed = db
            .private_sessions()
            .find_one_and_update(
                doc! { "_id": doc.id, "state": REQUESTED },
                doc! { "$set": { "state": EXPIRED } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        if let Some(closed) = closed {
            changed(state, &closed).await;
        }
    }
    let active: Vec<PrivateDoc> = db
        .private_sessions()
        .find(doc! { "state": ACTIVE })
        .await?
        .try_collect()
        .await?;
    for doc in active {
        if let Err(err) = keep(state, doc).await {
            tracing::warn!(error = ?err, "could not run a private session's clock");
        }
    }
    Ok(())
}

async fn present(state: &AppState, doc: &PrivateDoc, user: ObjectId) -> bool {
    let Some(io) = state.io() else {
        return false;
    };
    let channel = presence_channel(doc.id, user);
    if !state.cluster.enabled() {
        return !io.local().within(channel).sockets().is_empty();
    }
    // Every instance's sockets, through the adapter.
    match io.within(channel).fetch_sockets().await {
        Ok(sockets) => !sockets.is_empty(),
        // Unknown is not absent: the grace does not run on a guess.
        Err(err) => {
            tracing::debug!(error = %err, "could not count a party's pages");
            true
        }
    }
}

async fn keep(state: &AppState, doc: PrivateDoc) -> Result<()> {
    let now = DateTime::now();
    let grace_ms = state.settings.private_grace_secs as i64 * 1000;
    let seen = doc.both_seen_at.or(doc.started_at).unwrap_or(now);
    let both =
        present(state, &doc, doc.creator_id).await && present(state, &doc, doc.viewer_id).await;
    if !both {
        // The clock stops for the absent: a period ends (and the next is
        // held) only with both there; past the grace, it ends as of when
        // both were last there.
        if now.timestamp_millis() - seen.timestamp_millis() > grace_ms {
            settle(state, doc.id, seen, "connection").await?;
        }
        return Ok(());
    }
    // Written every second or so: a crash bills at most that much less.
    if now.timestamp_millis() - seen.timestamp_millis() >= 1000 {
        state
            .db
            .private_sessions()
            .update_one(
                doc! { "_id": doc.id, "state": ACTIVE },
                doc! { "$max": { "bothSeenAt": now } },
            )
            .await?;
    }
    let Some(paid_through) = doc.paid_through else {
        return Ok(());
    };
    if paid_through <= now {
        next_period(state, doc.id).await?;
        return Ok(());
    }
    let warn_ms = state.settings.private_warn_secs as i64 * 1000;
    if paid_through.timestamp_millis() - now.timestamp_millis() <= warn_ms
        && doc.warned_for != Some(paid_through)
    {
        let viewer = user(&state.db, doc.viewer_id, None).await?;
        let creator = user(&state.db, doc.creator_id, None).await?;
        if can_pay(state, &viewer, &creator, doc.price).is_err() {
            let first = state
                .db
                .private_sessions()
                .update_one(
                    doc! { "_id": doc.id, "warnedFor": { "$ne": paid_through } },
                    doc! { "$set": { "warnedFor": paid_through } },
                )
                .await?;
            if first.modified_count == 1 {
                let event = json!({
                    "sessionId": doc.id.to_hex(),
                    "endsAt": rfc3339(paid_through),
                });
                for party in [doc.creator_id, doc.viewer_id] {
                    broadcast(state, user_channel(party), "private:warning", &event).await;
                }
            }
        }
    }
    Ok(())
}
