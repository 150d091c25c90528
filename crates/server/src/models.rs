//! The stored documents (one struct per collection) and the JSON shapes of
//! the contract they turn into.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document};
use serde::{Deserialize, Serialize};

/// RFC 3339 in UTC, as the contract wants.
pub fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string()
        .unwrap_or_else(|_| t.timestamp_millis().to_string())
}

fn opt_rfc3339(t: Option<DateTime>) -> Option<String> {
    t.map(rfc3339)
}

/// `users`: an account and its coin balance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub coins: i64,
    pub created_at: DateTime,
    /// The part of `coins` that is unspent sign-up grant (spent first; see
    /// `signup`). Never more than `coins`.
    #[serde(default)]
    pub bonus_coins: i64,
    /// A keyed hash of the network (IPv4 /24, IPv6 /64) the account signed
    /// up from: never the address itself.
    #[serde(default)]
    pub signup_network: Option<String>,
    /// When the e-mail address was proven by the link sent to it.
    #[serde(default)]
    pub email_verified_at: Option<DateTime>,
    /// The sign-up grant waits for the e-mail address to be verified.
    #[serde(default)]
    pub grant_pending: bool,
    /// Set by `streamshare suspend`: the account can do nothing until
    /// `streamshare unsuspend`.
    #[serde(default)]
    pub suspended_at: Option<DateTime>,
}

/// `email_tokens`: one row per e-mail verification link, keyed by the
/// token's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailTokenDoc {
    #[serde(rename = "_id")]
    pub hash: String,
    pub user_id: ObjectId,
    pub created_at: DateTime,
    pub expires_at: DateTime,
    pub used_at: Option<DateTime>,
}

/// `refresh_tokens`: one row per issued refresh token, keyed by its hash.
/// Tokens issued by rotation share the `familyId` of the first login.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenDoc {
    #[serde(rename = "_id")]
    pub hash: String,
    pub user_id: ObjectId,
    pub family_id: ObjectId,
    pub created_at: DateTime,
    pub expires_at: DateTime,
    pub used_at: Option<DateTime>,
    pub revoked: bool,
}

/// `rooms`: a creator's stream and its current live session, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub creator_id: ObjectId,
    pub creator_username: String,
    pub creator_display_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price: i64,
    pub status: String,
    /// 1 while live, 0 offline: the first key of the home screen's order.
    pub live_rank: i32,
    pub live_session_id: Option<ObjectId>,
    pub started_at: Option<DateTime>,
    pub viewer_count: i64,
    /// 0 while there is no thumbnail; bumped on every upload.
    pub thumbnail_version: i64,
    pub created_at: DateTime,
    /// While live without the creator's media: when the session ends unless
    /// the media comes back. Nothing is sold meanwhile.
    #[serde(default)]
    pub away_until: Option<DateTime>,
    /// The instance the room's publisher reaches (its media home): other
    /// instances pull the room's media from there (see `cascade`). Set
    /// while a publisher is connected; never shown to clients.
    #[serde(default)]
    pub media_home: Option<MediaHome>,
    /// End-to-end encrypted: frames are encrypted in the browsers, the SFU
    /// forwards ciphertext, WHIP ingest is refused (docs/e2ee.md).
    #[serde(default)]
    pub e2ee: bool,
    /// The creator is in a private session and paused this room for it:
    /// nothing is sold meanwhile (see `private`).
    #[serde(default)]
    pub in_private: bool,
    /// Users the creator appointed to moderate the room's chat (delete,
    /// time out, ban), at most [`MAX_MODERATORS`].
    #[serde(default)]
    pub moderators: Vec<ObjectId>,
}

/// Most moderators one room may have.
pub const MAX_MODERATORS: usize = 50;

/// Where a room's media comes from in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaHome {
    /// The home's instance id (`STREAMSHARE_INSTANCE_ID`).
    pub instance_id: String,
    /// Where other instances reach its HTTP port
    /// (`STREAMSHARE_INTERNAL_URL`).
    pub url: String,
}

impl RoomDoc {
    pub fn is_live(&self) -> bool {
        self.status == STATUS_LIVE && self.live_session_id.is_some()
    }
}

pub const STATUS_LIVE: &str = "live";
pub const STATUS_OFFLINE: &str = "offline";

/// `live_sessions`: one go-live of a room, from `startedAt` to `endedAt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSessionDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub room_id: ObjectId,
    pub creator_id: ObjectId,
    pub started_at: DateTime,
    pub ended_at: Option<DateTime>,
    /// When the refunds of this session's dead payments were settled.
    #[serde(default)]
    pub refunds_settled_at: Option<DateTime>,
}

/// `transactions`: the coin ledger. Every coin that moves has one entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub kind: String,
    /// Who the coins left; `None` when they come from outside (a grant, a
    /// purchase).
    pub from_user_id: Option<ObjectId>,
    /// Who got the coins; `None` when they leave the platform (a purchase
    /// refund, a payout hold).
    pub to_user_id: Option<ObjectId>,
    pub room_id: Option<ObjectId>,
    pub room_title: Option<String>,
    pub live_session_id: Option<ObjectId>,
    pub amount: i64,
    pub created_at: DateTime,
    /// How much of `amount` was sign-up bonus: a grant's whole amount, the
    /// bonus part of a payment (so payouts can tell earned coins apart).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bonus_coins: i64,
    /// On a `refund`: the payment it gives back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<ObjectId>,
    /// On a `tip`: the tipper's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// On a `purchase` or `purchase_refund`: the purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<ObjectId>,
    /// On a `payout_hold` or `payout_release`: the payout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<ObjectId>,
    /// Test money (the test payment provider), never real.
    #[serde(default, skip_serializing_if = "is_false")]
    pub test: bool,
}

impl TxDoc {
    /// A ledger entry of `amount` coins now, with no room, bonus or link.
    pub fn new(
        kind: &str,
        from_user_id: Option<ObjectId>,
        to_user_id: Option<ObjectId>,
        amount: i64,
    ) -> Self {
        Self {
            id: ObjectId::new(),
            kind: kind.to_owned(),
            from_user_id,
            to_user_id,
            room_id: None,
            room_title: None,
            live_session_id: None,
            amount,
            created_at: DateTime::now(),
            bonus_coins: 0,
            refund_of: None,
            message: None,
            purchase_id: None,
            payout_id: None,
            test: false,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

pub const KIND_STREAM_JOIN: &str = "stream_join";
pub const KIND_GRANT: &str = "grant";
pub const KIND_REFUND: &str = "refund";
pub const KIND_PURCHASE: &str = "purchase";
pub const KIND_PURCHASE_REFUND: &str = "purchase_refund";
pub const KIND_TIP: &str = "tip";
pub const KIND_PAYOUT_HOLD: &str = "payout_hold";
pub const KIND_PAYOUT_RELEASE: &str = "payout_release";
/// A private session's period, held from the viewer (see `private`).
pub const KIND_PRIVATE_HOLD: &str = "private_hold";
/// Held coins paid to the creator.
pub const KIND_PRIVATE_CHARGE: &str = "private_charge";
/// Held coins given back to the viewer.
pub const KIND_PRIVATE_RELEASE: &str = "private_release";

/// Every ledger kind, as `GET /api/transactions?kind=` takes them.
pub const LEDGER_KINDS: [&str; 11] = [
    KIND_STREAM_JOIN,
    KIND_GRANT,
    KIND_REFUND,
    KIND_PURCHASE,
    KIND_PURCHASE_REFUND,
    KIND_TIP,
    KIND_PAYOUT_HOLD,
    KIND_PAYOUT_RELEASE,
    KIND_PRIVATE_HOLD,
    KIND_PRIVATE_CHARGE,
    KIND_PRIVATE_RELEASE,
];

/// `purchases`: one coin pack bought (or being bought) through a payment
/// provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub pack_id: String,
    pub coins: i64,
    /// In the currency's smallest unit (cents).
    pub price: i64,
    /// ISO 4217, lowercase (`usd`).
    pub currency: String,
    /// `pending`, `paid`, `expired` or `refunded`.
    pub state: String,
    /// `stripe` or `test`.
    pub provider: String,
    pub test: bool,
    pub created_at: DateTime,
    pub paid_at: Option<DateTime>,
    pub ended_at: Option<DateTime>,
    /// The provider's checkout page, once created.
    #[serde(default)]
    pub checkout_url: Option<String>,
    /// Stripe's Checkout Session id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Stripe's PaymentIntent id, stored when paid (refunds name it).
    #[serde(default)]
    pub payment_intent: Option<String>,
}

pub const PURCHASE_PENDING: &str = "pending";
pub const PURCHASE_PAID: &str = "paid";
pub const PURCHASE_EXPIRED: &str = "expired";
pub const PURCHASE_REFUNDED: &str = "refunded";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    pub id: String,
    pub pack_id: String,
    pub coins: i64,
    pub price: i64,
    pub currency: String,
    pub state: String,
    pub provider: String,
    pub test: bool,
    pub created_at: String,
    pub paid_at: Option<String>,
    pub ended_at: Option<String>,
}

impl From<&PurchaseDoc> for Purchase {
    fn from(p: &PurchaseDoc) -> Self {
        Self {
            id: p.id.to_hex(),
            pack_id: p.pack_id.clone(),
            coins: p.coins,
            price: p.price,
            currency: p.currency.clone(),
            state: p.state.clone(),
            provider: p.provider.clone(),
            test: p.test,
            created_at: rfc3339(p.created_at),
            paid_at: opt_rfc3339(p.paid_at),
            ended_at: opt_rfc3339(p.ended_at),
        }
    }
}

/// `stripe_events`: every Stripe event handled, by its id, written in the
/// same transaction as its effect (a redelivery finds it and does nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeEventDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// What it did: `credited`, `refunded`, `expired`, `ignored`, `mismatch`,
    /// `refund_waiting` (a refund that came before its payment).
    pub outcome: String,
    #[serde(default)]
    pub purchase_id: Option<ObjectId>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub received_at: DateTime,
}

/// `payouts`: a creator's request to cash earned coins out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub username: String,
    pub coins: i64,
    /// `requested`, `paid` or `rejected`.
    pub state: String,
    pub note: Option<String>,
    pub created_at: DateTime,
    pub settled_at: Option<DateTime>,
}

pub const PAYOUT_REQUESTED: &str = "requested";
pub const PAYOUT_PAID: &str = "paid";
pub const PAYOUT_REJECTED: &str = "rejected";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: String,
    pub coins: i64,
    pub state: String,
    pub note: Option<String>,
    pub created_at: String,
    pub settled_at: Option<String>,
}

impl From<&PayoutDoc> for Payout {
    fn from(p: &PayoutDoc) -> Self {
        Self {
            id: p.id.to_hex(),
            coins: p.coins,
            state: p.state.clone(),
            note: p.note.clone(),
            created_at: rfc3339(p.created_at),
            settled_at: opt_rfc3339(p.settled_at),
        }
    }
}

/// `room_access`: a viewer's paid entry to one live session (unique per
/// viewer and session, so a race cannot charge twice).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub viewer_id: ObjectId,
    pub room_id: ObjectId,
    pub live_session_id: ObjectId,
    pub transaction_id: ObjectId,
    pub created_at: DateTime,
    /// When the viewer's media first flowed (a subscriber of theirs
    /// connected while the creator was publishing).
    #[serde(default)]
    pub media_at: Option<DateTime>,
    /// When the payment was refunded (the session died before it was worth it).
    #[serde(default)]
    pub refunded_at: Option<DateTime>,
}

/// `idempotency_keys`: the first successful answer to a keyed request,
/// saved in the same transaction as its effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub key: String,
    pub request_hash: String,
    pub response: Document,
    pub created_at: DateTime,
}

/// `thumbnails`: a room's current thumbnail image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailDoc {
    /// The room's id.
    #[serde(rename = "_id")]
    pub room_id: ObjectId,
    pub content_type: String,
    pub version: i64,
    pub data: mongodb::bson::Binary,
    pub updated_at: DateTime,
}

/// `view_history`: one stay of a user in a room (joined, then left).
/// Written by the real-time layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub room_id: ObjectId,
    pub room_title: String,
    pub creator_id: ObjectId,
    pub creator_username: String,
    pub creator_display_name: String,
    pub live_session_id: Option<ObjectId>,
    pub joined_at: DateTime,
    pub left_at: Option<DateTime>,
}

// ---- JSON shapes of the contract ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub coins: i64,
    pub created_at: String,
    /// How much of `coins` is sign-up bonus (not spendable in the rooms of
    /// a creator who signed up from the same network).
    pub bonus_coins: i64,
    pub email_verified: bool,
    /// The sign-up coins wait for the e-mail address to be verified.
    pub grant_pending: bool,
}

impl From<&UserDoc> for User {
    fn from(u: &UserDoc) -> Self {
        Self {
            id: u.id.to_hex(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            coins: u.coins,
            created_at: rfc3339(u.created_at),
            bonus_coins: u.bonus_coins,
            email_verified: u.email_verified_at.is_some(),
            grant_pending: u.grant_pending,
        }
    }
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub id: String,
    pub creator: UserRef,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price: i64,
    pub status: String,
    pub live_session_id: Option<String>,
    pub viewer_count: i64,
    pub thumbnail_url: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    /// While the creator's media is gone: when the session ends unless it
    /// comes back.
    pub away_until: Option<String>,
    /// End-to-end encrypted (docs/e2ee.md).
    pub e2ee: bool,
    /// Paused while the creator is in a private session.
    pub in_private: bool,
    /// The users the creator appointed to moderate the chat.
    pub moderator_ids: Vec<String>,
    /// Only on `GET /api/rooms/{id}`: `creator`, `paid`, `free` or `locked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<&'static str>,
}

impl From<&RoomDoc> for Room {
    fn from(r: &RoomDoc) -> Self {
        Self {
            id: r.id.to_hex(),
            creator: UserRef {
                id: r.creator_id.to_hex(),
                username: r.creator_username.clone(),
                display_name: r.creator_display_name.clone(),
            },
            title: r.title.clone(),
            description: r.description.clone(),
            category: r.category.clone(),
            price: r.price,
            status: r.status.clone(),
            live_session_id: r.live_session_id.map(|id| id.to_hex()),
            viewer_count: r.viewer_count,
            thumbnail_url: (r.thumbnail_version > 0).then(|| {
                format!(
                    "/api/rooms/{}/thumbnail?v={}",
                    r.id.to_hex(),
                    r.thumbnail_version
                )
            }),
            created_at: rfc3339(r.created_at),
            started_at: opt_rfc3339(r.started_at),
            away_until: opt_rfc3339(r.away_until),
            e2ee: r.e2ee,
            in_private: r.in_private,
            moderator_ids: r.moderators.iter().map(|id| id.to_hex()).collect(),
            access: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    pub kind: String,
    pub from_user_id: Option<String>,
    /// `null` when the coins leave the platform (`purchase_refund`,
    /// `payout_hold`).
    pub to_user_id: Option<String>,
    pub room_id: Option<String>,
    pub room_title: Option<String>,
    pub live_session_id: Option<String>,
    pub amount: i64,
    pub created_at: String,
    /// On a `refund`: the payment it gives back.
    #[serde(default)]
    pub refund_of: Option<String>,
    /// On a `tip`: the tipper's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<String>,
    /// Test money (the test payment provider).
    #[serde(default, skip_serializing_if = "is_false")]
    pub test: bool,
}

impl From<&TxDoc> for Transaction {
    fn from(t: &TxDoc) -> Self {
        Self {
            id: t.id.to_hex(),
            kind: t.kind.clone(),
            from_user_id: t.from_user_id.map(|id| id.to_hex()),
            to_user_id: t.to_user_id.map(|id| id.to_hex()),
            room_id: t.room_id.map(|id| id.to_hex()),
            room_title: t.room_title.clone(),
            live_session_id: t.live_session_id.map(|id| id.to_hex()),
            amount: t.amount,
            created_at: rfc3339(t.created_at),
            refund_of: t.refund_of.map(|id| id.to_hex()),
            message: t.message.clone(),
            purchase_id: t.purchase_id.map(|id| id.to_hex()),
            payout_id: t.payout_id.map(|id| id.to_hex()),
            test: t.test,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewEntry {
    pub id: String,
    pub room_id: String,
    pub room_title: String,
    pub creator: UserRef,
    pub live_session_id: Option<String>,
    pub joined_at: String,
    pub left_at: Option<String>,
}

impl From<&ViewDoc> for ViewEntry {
    fn from(v: &ViewDoc) -> Self {
        Self {
            id: v.id.to_hex(),
            room_id: v.room_id.to_hex(),
            room_title: v.room_title.clone(),
            creator: UserRef {
                id: v.creator_id.to_hex(),
                username: v.creator_username.clone(),
                display_name: v.creator_display_name.clone(),
            },
            live_session_id: v.live_session_id.map(|id| id.to_hex()),
            joined_at: rfc3339(v.joined_at),
            left_at: opt_rfc3339(v.left_at),
        }
    }
}

/// `chat_messages`: what was said in a room, newest found by `(roomId, _id)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub room_id: ObjectId,
    pub live_session_id: Option<ObjectId>,
    pub user_id: ObjectId,
    pub username: String,
    pub text: String,
    pub sent_at: DateTime,
    pub deleted: bool,
    /// `tip` for a tip's message (with `tip_amount`); absent for chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_amount: Option<i64>,
    /// The author's display name when they wrote it (older messages: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `host` or `moderator` when the author was one when they wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<String>,
}

/// `moderation`: a creator's ban or chat timeout of a user in their room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub room_id: ObjectId,
    pub user_id: ObjectId,
    pub banned: bool,
    pub muted_until: Option<DateTime>,
    pub updated_at: DateTime,
}

/// `stream_keys`: a room's key for WHIP ingest (OBS), apart from the room
/// so it never travels with room listings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamKeyDoc {
    /// The room's id.
    #[serde(rename = "_id")]
    pub room_id: ObjectId,
    pub key: String,
}

/// `{id, username}` as socket events carry users.
#[derive(Debug, Serialize, Clone)]
pub struct SocketUser {
    pub id: String,
    pub username: String,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: String,
    pub room_id: String,
    pub user: ChatUser,
    pub text: String,
    pub sent_at: String,
    /// `chat` or `tip`.
    pub kind: String,
    /// On a tip: `{amount}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip: Option<TipInfo>,
}

/// A chat message's author: `{id, username, displayName, badge}`.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ChatUser {
    pub id: String,
    pub username: String,
    /// Shown in the chat; the username is shown on hover.
    pub display_name: String,
    /// `host` (the room's creator), `moderator`, or `null`.
    pub badge: Option<String>,
}

#[derive(Debug, Serialize, Clone)]
pub struct TipInfo {
    pub amount: i64,
}

impl From<&ChatDoc> for ChatMessage {
    fn from(c: &ChatDoc) -> Self {
        Self {
            id: c.id.to_hex(),
            room_id: c.room_id.to_hex(),
            user: ChatUser {
                id: c.user_id.to_hex(),
                username: c.username.clone(),
                display_name: c.display_name.clone().unwrap_or_else(|| c.username.clone()),
                badge: c.badge.clone(),
            },
            text: c.text.clone(),
            sent_at: rfc3339(c.sent_at),
            kind: c.kind.clone().unwrap_or_else(|| "chat".to_owned()),
            tip: c.tip_amount.map(|amount| TipInfo { amount }),
        }
    }
}

/// `follows`: a user following a creator (unique per pair).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub follower_id: ObjectId,
    pub creator_id: ObjectId,
    pub created_at: DateTime,
}

/// `profiles`: what a creator says about themselves on their page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDoc {
    /// The user's id.
    #[serde(rename = "_id")]
    pub user_id: ObjectId,
    /// Free text: when the creator usually streams.
    #[serde(default)]
    pub schedule: String,
    pub updated_at: Option<DateTime>,
}

/// `notifications`: an in-app alert for one user (a followed creator went
/// live), kept until read and after.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    /// `live`: a followed creator went live.
    pub kind: String,
    pub room_id: ObjectId,
    pub room_title: String,
    pub live_session_id: Option<ObjectId>,
    pub creator_id: ObjectId,
    pub creator_username: String,
    pub creator_display_name: String,
    pub created_at: DateTime,
    pub read_at: Option<DateTime>,
}

/// `Notification = {id, kind, room: {id, title}, creator, liveSessionId,
/// createdAt, read}`.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub room_id: String,
    pub room_title: String,
    pub live_session_id: Option<String>,
    pub creator: UserRef,
    pub created_at: String,
    pub read: bool,
}

impl From<&NotificationDoc> for Notification {
    fn from(n: &NotificationDoc) -> Self {
        Self {
            id: n.id.to_hex(),
            kind: n.kind.clone(),
            room_id: n.room_id.to_hex(),
            room_title: n.room_title.clone(),
            live_session_id: n.live_session_id.map(|id| id.to_hex()),
            creator: UserRef {
                id: n.creator_id.to_hex(),
                username: n.creator_username.clone(),
                display_name: n.creator_display_name.clone(),
            },
            created_at: rfc3339(n.created_at),
            read: n.read_at.is_some(),
        }
    }
}
