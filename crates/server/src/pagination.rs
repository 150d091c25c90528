//! Cursor pagination: `?limit=` (default 20, cut to 100) and `?cursor=`, an
//! opaque token the server signs, so a cursor it did not issue is a 422.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `{"items": [...], "nextCursor": "..." | null}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Signs and reads cursors.
pub struct CursorCodec {
    key: Vec<u8>,
}

const TAG_LEN: usize = 12;

impl CursorCodec {
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"streamshare cursor key");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn tag(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG_LEN].to_vec()
    }

    pub fn encode<T: Serialize>(&self, position: &T) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let mut bytes = self.tag(&payload);
        bytes.extend_from_slice(&payload);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode<T: DeserializeOwned>(&self, cursor: &str) -> Result<T, ApiError> {
        let bad = || ApiError::invalid("cursor", "This cursor was not issued by this server.");
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        if bytes.len() <= TAG_LEN {
            return Err(bad());
        }
        let (tag, payload) = bytes.split_at(TAG_LEN);
        let expected = self.tag(payload);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(tag, expected.as_slice())) {
            return Err(bad());
        }
        serde_json::from_slice(payload).map_err(|_| bad())
    }
}

/// Parses `limit` per the contract: missing is 20, above 100 is cut to 100,
/// below 1 or not a number is a 422 naming `limit`.
pub fn parse_limit(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let value: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("limit", "limit is a whole number from 1 to 100."))?;
    if value < 1 {
        return Err(ApiError::invalid(
            "limit",
            "limit is a whole number from 1 to 100.",
        ));
    }
    Ok(value.min(MAX_LIMIT))
}

/// Fetched `limit + 1` rows; keeps `limit` and makes the next cursor from the
/// last kept row when there were more.
pub fn finish_page<D, T>(
    mut rows: Vec<D>,
    limit: i64,
    codec: &CursorCodec,
    position: impl Fn(&D) -> serde_json::Value,
    present: impl Fn(&D) -> T,
) -> ListPage<T> {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more {
        rows.last().map(|last| codec.encode(&position(last)))
    } else {
        None
    };
    ListPage {
        items: rows.iter().map(present).collect(),
        next_cursor,
    }
}

/// Where the last row of a newest-first page stood.
#[derive(Serialize, serde::Deserialize)]
struct IdPosition {
    id: mongodb::bson::oid::ObjectId,
}

/// One page of `collection` matching `filter`, newest first (by `_id`),
/// read with the caller's `limit` and `cursor`.
pub async fn newest_first<D, T>(
    collection: mongodb::Collection<D>,
    mut filter: mongodb::bson::Document,
    query: &std::collections::HashMap<String, String>,
    codec: &CursorCodec,
    id_of: impl Fn(&D) -> mongodb::bson::oid::ObjectId,
    present: impl Fn(&D) -> T,
) -> Result<ListPage<T>, ApiError>
where
    D: DeserializeOwned + Send + Sync,
{
    use futures::TryStreamExt;
    let limit = parse_limit(query.get("limit").map(String::as_str))?;
    if let Some(cursor) = query.get("cursor") {
        let position: IdPosition = codec.decode(cursor)?;
        filter.insert("_id", mongodb::bson::doc! { "$lt": position.id });
    }
    let rows: Vec<D> = collection
        .find(filter)
        .sort(mongodb::bson::doc! { "_id": -1 })
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    Ok(finish_page(
        rows,
        limit,
        codec,
        |row| serde_json::json!(IdPosition { id: id_of(row) }),
        present,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        let codec = CursorCodec::new(b"secret");
        let cursor = codec.encode(&json!({"id": "abc"}));
        assert_eq!(
            codec.decode::<serde_json::Value>(&cursor).unwrap(),
            json!({"id": "abc"})
        );

        let other = CursorCodec::new(b"other secret");
        assert!(other.decode::<serde_json::Value>(&cursor).is_err());
        let forged = URL_SAFE_NO_PAD.encode([&[0u8; TAG_LEN][..], br#"{"id":"x"}"#].concat());
        let err = codec.decode::<serde_json::Value>(&forged).unwrap_err();
        assert_eq!(err.body()["error"]["field"], "cursor");
        assert!(codec.decode::<serde_json::Value>("!!!").is_err());
    }

    #[test]
    fn limits_follow_the_contract() {
        assert_eq!(parse_limit(None).unwrap(), 20);
        assert_eq!(parse_limit(Some("5")).unwrap(), 5);
        assert_eq!(parse_limit(Some("500")).unwrap(), 100);
        for bad in ["0", "-1", "abc", ""] {
            assert_eq!(
                parse_limit(Some(bad)).unwrap_err().body()["error"]["field"],
                "limit"
            );
        }
    }
}
