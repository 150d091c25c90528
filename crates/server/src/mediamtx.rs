//! MediaMTX as the media plane (docs/mediamtx.md): the per-ticket media
//! tokens (EdDSA JWTs carrying `mediamtx_permissions`), the JWKS MediaMTX
//! verifies them with (`authMethod: jwt`), and the decision behind its
//! `authMethod: http` request, all on the built-in SFU's access rules
//! ([`crate::access::entry_role`], [`crate::accounts`]).
//!
//! MediaMTX's side, as read in its documentation
//! (docs/2-features/06-authentication.md) and `internal/auth/manager.go`
//! (bluenviron/mediamtx): a WebRTC client's `Authorization: Bearer <jwt>`
//! becomes the request's token; with `authMethod: http` MediaMTX POSTs
//! `{user, password, token, ip, action, path, protocol, id, query,
//! userAgent}` to `authHTTPAddress` and allows on any 2xx; with
//! `authMethod: jwt` it checks the token's signature against the JWKS and
//! looks for a `mediamtx_permissions` entry whose `action` equals the
//! request's and whose `path` equals the request's path.

use std::path::Path;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mongodb::bson::oid::ObjectId;
use ring::signature::{Ed25519KeyPair, KeyPair};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::Standing;
use crate::auth::now_secs;
use crate::config::{MIN_JWT_SECRET_LEN, MediamtxSettings, Settings};
use crate::error::{ApiError, Result};
use crate::models::RoomDoc;
use crate::state::AppState;

/// The claim MediaMTX reads permissions from (`authJWTClaimKey`'s default).
pub const PERMISSIONS_CLAIM: &str = "mediamtx_permissions";
/// The tokens' `iss` (for MediaMTX's optional `authJWTIssuer`).
pub const ISSUER: &str = "streamshare";
/// The tokens' `aud` (for MediaMTX's optional `authJWTAudience`).
pub const AUDIENCE: &str = "mediamtx";

/// What a media token lets its holder do on one path: MediaMTX's
/// `publish` and `read` actions (its others are never granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Send the room's stream (WHIP): the creator only.
    Publish,
    /// Play the room's stream (WHEP): whoever may enter the room.
    Read,
}

impl Action {
    /// MediaMTX's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Read => "read",
        }
    }

    /// The WHIP/WHEP endpoint MediaMTX serves for this action.
    fn endpoint(self) -> &'static str {
        match self {
            Self::Publish => "whip",
            Self::Read => "whep",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "publish" => Some(Self::Publish),
            "read" => Some(Self::Read),
            _ => None,
        }
    }
}

/// One entry of `mediamtx_permissions`, in MediaMTX's own format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub action: String,
    pub path: String,
}

/// A media token's claims.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token was issued to.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub mediamtx_permissions: Vec<Permission>,
}

/// A media token and where to use it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub token: String,
    /// The WHIP (publish) or WHEP (read) endpoint on MediaMTX.
    pub url: String,
    /// The room's MediaMTX path.
    pub path: String,
    pub expires_at: String,
}

/// What an `authMethod: http` request asks, as MediaMTX sends it
/// (`authenticateHTTP` in internal/auth/manager.go). Only `action` must be
/// there; MediaMTX always sends every field.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRequest {
    pub action: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub token: String,
    /// A token typed as the password (a browser's credential dialog).
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub user_agent: String,
}

/// Who an allowed `authMethod: http` request is for.
#[derive(Debug)]
pub struct Asked {
    pub user: ObjectId,
    pub room: ObjectId,
    pub action: Action,
}

/// The MediaMTX plane: its address, the rooms' path prefix, the signing
/// key and the HTTP authentication secret.
pub struct Plane {
    url: String,
    /// `scheme://host[:port]` of `url`, for the pages' CSP.
    origin: String,
    prefix: String,
    token_secs: u64,
    auth_secret: Option<SecretString>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    public_key: Vec<u8>,
    kid: String,
}

/// The refusal of every MediaMTX door while the built-in SFU is the media
/// plane: 404, as for a door that is not there.
pub fn off() -> ApiError {
    ApiError::not_found(
        "mediamtx_off",
        "This server uses its built-in media server (STREAMSHARE_MEDIA_BACKEND=builtin); \
         MediaMTX is not in use.",
    )
}

/// The plane, or 404 `mediamtx_off`.
pub fn plane(state: &AppState) -> Result<&Plane> {
    state.mediamtx().ok_or_else(off)
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410 §7): the fixed prefix,
/// then the 32 bytes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The PKCS#8 DER of the configured key: a PEM's body, or a key derived
/// from a secret (its SHA-256 is the seed).
fn pkcs8(material: &str) -> anyhow::Result<Vec<u8>> {
    let text = material.trim();
    if text.starts_with("-----BEGIN") {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        return STANDARD.decode(body).map_err(|e| {
            anyhow::anyhow!("STREAMSHARE_MEDIAMTX_SIGNING_KEY is not a PEM key: {e}")
        });
    }
    let seed = Sha256::digest(text.as_bytes());
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    Ok(der)
}

fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 64
        && !prefix.contains("//")
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
}

impl Plane {
    /// The plane when `STREAMSHARE_MEDIA_BACKEND=mediamtx`, its settings
    /// checked; `None` with the built-in SFU.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        Self::new(&settings.mediamtx, &settings.data_dir)
    }

    fn new(conf: &MediamtxSettings, data_dir: &Path) -> anyhow::Result<Option<Self>> {
        if !conf.enabled() {
            return Ok(None);
        }
        let url = conf
            .mediamtx_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "STREAMSHARE_MEDIA_BACKEND=mediamtx needs STREAMSHARE_MEDIAMTX_URL \
                     (MediaMTX's WebRTC address as browsers reach it, e.g. https://media.example.com)"
                )
            })?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("STREAMSHARE_MEDIAMTX_URL {url:?} must start with http:// or https://");
        }
        let prefix = conf.mediamtx_path_prefix.trim().trim_matches('/');
        if !valid_prefix(prefix) {
            anyhow::bail!(
                "STREAMSHARE_MEDIAMTX_PATH_PREFIX {prefix:?} must be up to 64 letters, digits, '-', '_' or '/'"
            );
        }
        let auth_secret = conf
            .mediamtx_auth_secret
            .clone()
            .filter(|s| !s.expose_secret().trim().is_empty());
        if let Some(secret) = &auth_secret
            && secret.expose_secret().trim().len() < MIN_JWT_SECRET_LEN
        {
            anyhow::bail!(
                "STREAMSHARE_MEDIAMTX_AUTH_SECRET must be at least {MIN_JWT_SECRET_LEN} bytes \
                 (for example: `openssl rand -hex 32`)"
            );
        }
        let material = conf.resolve_signing_key(data_dir)?;
        let der = pkcs8(material.expose_secret())?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| {
            anyhow::anyhow!("STREAMSHARE_MEDIAMTX_SIGNING_KEY is not an Ed25519 PKCS#8 key")
        })?;
        let public_key = pair.public_key().as_ref().to_vec();
        // The key's id: a digest of the public key, so a new key has a new id.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&public_key)[..12]);
        let mut validation = Validation::new(Algorithm::EdDSA);
        // MediaMTX (golang-jwt) allows no leeway either.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        let scheme_end = url.find("://").map_or(0, |i| i + 3);
        let origin = match url[scheme_end..].find('/') {
            Some(slash) => &url[..scheme_end + slash],
            None => url,
        };
        if origin.len() <= scheme_end || origin.contains(char::is_whitespace) {
            anyhow::bail!("STREAMSHARE_MEDIAMTX_URL {url:?} has no host");
        }
        Ok(Some(Self {
            origin: origin.to_owned(),
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            token_secs: conf.mediamtx_token_secs.max(1),
            auth_secret,
            encoding: EncodingKey::from_ed_der(&der),
            decoding: DecodingKey::from_ed_der(&public_key),
            validation,
            public_key,
            kid,
        }))
    }

    /// MediaMTX's origin (`scheme://host[:port]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The room's MediaMTX path.
    pub fn path_for(&self, room: ObjectId) -> String {
        if self.prefix.is_empty() {
            room.to_hex()
        } else {
            format!("{}/{}", self.prefix, room.to_hex())
        }
    }

    /// The room behind a MediaMTX path, if it is one of ours.
    fn room_of(&self, path: &str) -> Option<ObjectId> {
        let id = if self.prefix.is_empty() {
            path
        } else {
            path.strip_prefix(&self.prefix)?.strip_prefix('/')?
        };
        if id.len() != 24 {
            return None;
        }
        ObjectId::parse_str(id).ok()
    }

    /// The public key as a JWK Set (RFC 7517 §5; OKP/Ed25519 per RFC 8037).
    pub fn jwks(&self) -> Value {
        json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(&self.public_key),
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }

    /// A token for `user` to `action` on the room's path, and where to use it.
    pub fn issue(&self, user: ObjectId, room: ObjectId, action: Action) -> Result<Ticket> {
        let path = self.path_for(room);
        let iat = now_secs();
        let exp = iat + self.token_secs;
        let claims = Claims {
            sub: user.to_hex(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            exp,
            mediamtx_permissions: vec![Permission {
                action: action.as_str().to_owned(),
                path: path.clone(),
            }],
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(ApiError::internal)?;
        let expires_at = mongodb::bson::DateTime::from_millis((exp as i64) * 1000);
        Ok(Ticket {
            token,
            url: format!("{}/{}/{}", self.url, path, action.endpoint()),
            path,
            expires_at: crate::models::rfc3339(expires_at),
        })
    }

    /// The claims of a token this server signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::refused(
                    StatusCode::UNAUTHORIZED,
                    "token_expired",
                    "The media token has expired; ask for a new one.",
                ),
                _ => ApiError::unauthorized("The media token is not valid."),
            })
    }

    /// Whether MediaMTX's request carries the shared secret (compared in
    /// constant time). Without a configured secret nothing passes.
    pub fn check_secret(&self, given: Option<&str>) -> Result<()> {
        let matches = match (&self.auth_secret, given) {
            (Some(secret), Some(given)) => bool::from(
                secret
                    .expose_secret()
                    .trim()
                    .as_bytes()
                    .ct_eq(given.as_bytes()),
            ),
            _ => false,
        };
        if matches {
            return Ok(());
        }
        let message = if self.auth_secret.is_none() {
            "HTTP authentication is off: set STREAMSHARE_MEDIAMTX_AUTH_SECRET and put it in \
             MediaMTX's authHTTPAddress (?secret=...)."
        } else {
            "The request does not carry the MediaMTX shared secret."
        };
        Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "mediamtx_secret_mismatch",
            message,
        ))
    }

    /// Reads an `authMethod: http` request: an action we grant, a token we
    /// signed that names exactly this action and path. Whether the user may
    /// still do it now is [`grant`]'s to say.
    pub fn read_request(&self, request: &AuthRequest) -> Result<Asked> {
        let Some(action) = Action::parse(&request.action) else {
            return Err(ApiError::refused(
                StatusCode::FORBIDDEN,
                "action_not_allowed",
                format!(
                    "StreamShare grants only publish and read, not {:?}.",
                    request.action
                ),
            ));
        };
        // MediaMTX puts a Bearer token in `token`; a token typed into a
        // credential dialog comes as the password.
        let token = [&request.token, &request.password]
            .into_iter()
            .map(|t| t.trim())
            .find(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "No media token: send `Authorization: Bearer <token>` from POST /api/rooms/{id}/media-token.",
                )
            })?;
        let claims = self.verify(token)?;
        let allowed = claims
            .mediamtx_permissions
            .iter()
            .any(|p| p.action == request.action && p.path == request.path);
        if !allowed {
            return Err(ApiError::refused(
                StatusCode::FORBIDDEN,
                "media_token_mismatch",
                "The media token is for another path or action.",
            ));
        }
        let room = self.room_of(&request.path).ok_or_else(|| {
            ApiError::not_found("room_not_found", "The path is not a StreamShare room.")
        })?;
        let user = ObjectId::parse_str(&claims.sub)
            .map_err(|_| ApiError::unauthorized("The media token is not valid."))?;
        Ok(Asked { user, room, action })
    }
}

/// Whether `user` may `action` the room's stream now, on the built-in SFU's
/// rules: the creator publishes; whoever may enter the room (creator, free
/// room, paid for the current session; live, not banned) reads; a
/// suspended or deleted account does neither.
pub async fn grant(state: &AppState, room: &RoomDoc, user: ObjectId, action: Action) -> Result<()> {
    state.accounts.check(&state.db, user).await?;
    match action {
        Action::Publish if user == room.creator_id => Ok(()),
        Action::Publish => Err(ApiError::forbidden(
            "Only the room's creator can publish into it.",
        )),
        Action::Read => {
            // A suspended or deleted creator's room shows nothing.
            if state.accounts.standing(&state.db, room.creator_id).await? != Standing::Active {
                return Err(ApiError::conflict(
                    "room_not_live",
                    "This room is not live now.",
                ));
            }
            crate::access::entry_role(state, room, user).await.map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(prefix: &str) -> Plane {
        let conf = MediamtxSettings {
            media_backend: crate::config::MediaBackend::Mediamtx,
            mediamtx_url: Some("https://media.example.com/".into()),
            mediamtx_path_prefix: prefix.into(),
            mediamtx_signing_key: Some("s".repeat(32).into()),
            ..MediamtxSettings::default()
        };
        Plane::new(&conf, Path::new("/nonexistent"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn tokens_name_one_path_and_verify_only_here() {
        let plane = plane("live");
        let room = ObjectId::new();
        let ticket = plane.issue(ObjectId::new(), room, Action::Read).unwrap();
        assert_eq!(ticket.path, format!("live/{}", room.to_hex()));
        assert_eq!(
            ticket.url,
            format!("https://media.example.com/live/{}/whep", room.to_hex())
        );
        let claims = plane.verify(&ticket.token).unwrap();
        assert_eq!(
            claims.mediamtx_permissions,
            vec![Permission {
                action: "read".into(),
                path: ticket.path.clone()
            }]
        );
        assert_eq!(plane.room_of(&ticket.path), Some(room));
        assert_eq!(plane.room_of(&room.to_hex()), None);
        assert_eq!(plane.room_of("live/nope"), None);
        assert!(plane.verify("garbage").is_err());
    }

    #[test]
    fn a_pem_key_and_a_secret_give_working_keys() {
        // `openssl genpkey -algorithm ed25519` output (RFC 8410 §10.3's key).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        assert!(Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8(pem).unwrap()).is_ok());
        assert!(
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8(&"x".repeat(40)).unwrap()).is_ok()
        );
    }
}
