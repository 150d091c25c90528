//! Who is calling: password hashing (Argon2id), access tokens (HS256 JWT,
//! 15 minutes), opaque refresh tokens (stored hashed), and the `AuthUser` /
//! `MaybeAuthUser` extractors.

use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mongodb::bson::oid::ObjectId;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// Lifetime of an access token.
pub const ACCESS_TOKEN_SECS: u64 = 15 * 60;
/// Lifetime of a refresh token (and its cookie).
pub const REFRESH_TOKEN_SECS: u64 = 30 * 24 * 3600;

/// Hashes a password with Argon2id off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await?
}

/// Checks a password against a stored hash off the async threads. With no
/// stored hash (unknown user) it still spends the time of a check, so a
/// login does not tell which usernames exist by its speed.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored hash: {e}")))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && stored != DUMMY_HASH)
    })
    .await?
}

/// An Argon2id hash of a random password nobody knows, for timing parity.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xl0Z7WFE2NPRqyYyHWsfRUm9yJ9zqnCxAx7nVvKZ1XE";

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    name: String,
    iat: u64,
    exp: u64,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    pub fn issue(&self, user_id: ObjectId, username: &str) -> Result<String, ApiError> {
        self.issue_at(user_id, username, now_secs())
    }

    fn issue_at(&self, user_id: ObjectId, username: &str, iat: u64) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user_id.to_hex(),
            name: username.to_owned(),
            iat,
            exp: iat + ACCESS_TOKEN_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The caller of a valid token; any other token is a 401 saying why.
    pub fn verify(&self, token: &str) -> Result<AuthUser, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::refused(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "token_expired",
                    "The access token has expired; refresh it.",
                ),
                _ => ApiError::unauthorized("The access token is not valid."),
            })?;
        let id = ObjectId::parse_str(&data.claims.sub)
            .map_err(|_| ApiError::unauthorized("The access token is not valid."))?;
        Ok(AuthUser {
            id,
            username: data.claims.name,
        })
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: ObjectId,
    pub username: String,
}

/// The caller if a token was sent. A bad token is still a 401: sending one
/// means the client thinks it is signed in.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("The Authorization header is not valid."))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Use `Authorization: Bearer <token>`."))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "Use `Authorization: Bearer <token>`.",
        ));
    }
    Ok(Some(token.trim()))
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?
            .ok_or_else(|| ApiError::unauthorized("Sign in first: no access token was sent."))?;
        state.authenticate(token).await
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts)? {
            Some(token) => state.authenticate(token).await.map(|u| Self(Some(u))),
            None => Ok(Self(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from("k".repeat(32)))
    }

    #[test]
    fn token_round_trip_keeps_the_user() {
        let id = ObjectId::new();
        let token = keys().issue(id, "ann").unwrap();
        let user = keys().verify(&token).unwrap();
        assert_eq!(user.id, id);
        assert_eq!(user.username, "ann");
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let id = ObjectId::new();
        let old = keys()
            .issue_at(id, "ann", now_secs() - ACCESS_TOKEN_SECS - 60)
            .unwrap();
        assert_eq!(keys().verify(&old).unwrap_err().code(), "token_expired");

        let good = keys().issue(id, "ann").unwrap();
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"{}","name":"root","iat":1,"exp":{}}}"#,
            ObjectId::new().to_hex(),
            now_secs() + 999
        ));
        parts[1] = &forged_claims;
        assert_eq!(
            keys().verify(&parts.join(".")).unwrap_err().code(),
            "unauthorized"
        );

        let other = TokenKeys::new(&SecretString::from("z".repeat(32)));
        assert!(other.verify(&good).is_err());

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{forged_claims}.");
        assert!(keys().verify(&unsigned).is_err());
        assert!(keys().verify("garbage").is_err());
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }
}
