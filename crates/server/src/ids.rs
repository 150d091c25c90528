//! Typed ids: a handler holds a `RoomId` or a `PayoutId`, never a raw
//! string, and each kind is parsed by one rule. An id that cannot exist
//! names nothing, so it is that kind's 404 (the same answer as an id that
//! could exist but does not); an id in a query filter is a 422 naming the
//! parameter ([`filter_id`]).
//!
//! As the last parameter of a one-id path (`/rooms/{id}`) the id is an
//! extractor of its own; paths with two ids take `ApiPath<(String, String)>`
//! and call [`Id::parse`] on each.

use std::fmt;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use mongodb::bson::oid::ObjectId;

use crate::error::ApiError;
use crate::extract::ApiPath;

/// What an id names: its 404.
pub trait Kind {
    fn not_found() -> ApiError;
}

/// An id of a `K`, checked.
pub struct Id<K>(ObjectId, PhantomData<fn() -> K>);

impl<K: Kind> Id<K> {
    /// Parses an id from a path, body or payload (surrounding whitespace
    /// ignored); anything else is `K`'s 404.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        ObjectId::parse_str(raw.trim())
            .map(Self::from)
            .map_err(|_| K::not_found())
    }
}

impl<K> Id<K> {
    pub fn get(self) -> ObjectId {
        self.0
    }
}

impl<K> From<ObjectId> for Id<K> {
    fn from(id: ObjectId) -> Self {
        Self(id, PhantomData)
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Id<K> {}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K> Eq for Id<K> {}
impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}
impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The id of a one-id path, parsed once.
impl<S, K> FromRequestParts<S> for Id<K>
where
    S: Send + Sync,
    K: Kind,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiPath(raw) = ApiPath::<String>::from_request_parts(parts, state).await?;
        Self::parse(&raw)
    }
}

/// An id given as a filter (`?roomId=`): a malformed one is the caller's
/// mistake about the parameter, a 422 naming it.
pub fn filter_id(raw: &str, field: &'static str) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(raw.trim())
        .map_err(|_| ApiError::invalid(field, format!("{field} is not a valid id.")))
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident / $alias:ident => $code:literal, $message:literal;)*) => {$(
        $(#[$doc])*
        pub enum $kind {}
        impl Kind for $kind {
            fn not_found() -> ApiError {
                ApiError::not_found($code, $message)
            }
        }
        pub type $alias = Id<$kind>;
    )*};
}

kinds! {
    /// A room.
    Room / RoomId => "room_not_found", "There is no such room.";
    /// An account.
    User / UserId => "user_not_found", "There is no such user.";
    /// A chat message.
    Message / MessageId => "message_not_found", "There is no such message.";
    /// A one-to-one private session.
    PrivateSession / PrivateSessionId => "not_found", "There is no such private session.";
    /// A coin purchase.
    Purchase / PurchaseId => "purchase_not_found", "There is no such purchase.";
    /// A payout request.
    Payout / PayoutId => "payout_not_found", "There is no such payout.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn each_kind_is_its_own_not_found() {
        let id = ObjectId::new();
        assert_eq!(
            RoomId::parse(&format!("  {}\n", id.to_hex()))
                .unwrap()
                .get(),
            id
        );
        let err = RoomId::parse("not-an-id").unwrap_err();
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        assert_eq!(err.body()["error"]["code"], "room_not_found");
        let err = PayoutId::parse("").unwrap_err();
        assert_eq!(err.body()["error"]["code"], "payout_not_found");
    }

    #[test]
    fn a_filter_id_names_its_parameter() {
        let err = filter_id("nope", "creatorId").unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.body()["error"]["field"], "creatorId");
    }
}
