//! Sign-up and the coins it gives: a registration throttle per client
//! address and per network, a platform-wide daily cap on sign-up grants,
//! the e-mail verification switch (the grant waits for the link), and the
//! rule that keeps puppet accounts from paying their maker: sign-up coins
//! are not spendable in the rooms of a creator who signed up from the same
//! network within `STREAMSHARE_SIGNUP_LINK_DAYS` (docs/security.md).

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use ipnet::IpNet;
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use sha2::Sha256;

use crate::auth::hash_password;
use crate::client::network;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::{Email, Password, Username};
use crate::error::{ApiError, duplicate_key_index};
use crate::mail::Mail;
use crate::models::{EmailTokenDoc, KIND_GRANT, TxDoc, UserDoc};
use crate::ratelimit::{Limiter, too_many};
use crate::state::AppState;
use crate::tokens::{random_token, token_hash};

/// After the burst, one sign-up per address this often.
pub const PER_IP_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// After the burst, one sign-up per network this often.
pub const PER_NETWORK_INTERVAL: Duration = Duration::from_secs(2 * 60);
/// How long a verification link works.
pub const VERIFY_LINK_SECS: i64 = 24 * 3600;

/// The throttles and the key that turns a network into an opaque tag.
pub struct SignupGuard {
    by_ip: Limiter<IpAddr>,
    by_network: Limiter<IpNet>,
    resend: Limiter<ObjectId>,
    tag_key: Vec<u8>,
}

impl SignupGuard {
    /// Throttles shared by the cluster (`shared`) when given.
    pub fn new(
        settings: &Settings,
        secret: &[u8],
        shared: Option<&crate::ratelimit::Shared>,
    ) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(b"streamshare signup network tag");
        Self {
            by_ip: Limiter::new(
                settings.signup_burst_per_ip,
                PER_IP_INTERVAL,
                shared,
                "signup-ip",
            ),
            by_network: Limiter::new(
                settings.signup_burst_per_network,
                PER_NETWORK_INTERVAL,
                shared,
                "signup-network",
            ),
            resend: Limiter::new(3, Duration::from_secs(5 * 60), shared, "verify-resend"),
            tag_key: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// Takes a sign-up from `ip`, or a 429 saying when to come back. The
    /// address is checked first, so one address that is refused does not
    /// use up its neighbours' share of the network.
    pub async fn admit(&self, ip: IpAddr) -> Result<(), ApiError> {
        let refused = |wait| too_many("Too many new accounts from your network", wait);
        self.by_ip.check(ip).await.map_err(refused)?;
        self.by_network.check(network(ip)).await.map_err(refused)
    }

    /// The network of `ip` as a keyed hash: linked accounts can be found
    /// without keeping anybody's address. None for this machine itself
    /// (local development, or a proxy not declared in
    /// `STREAMSHARE_TRUSTED_PROXIES`, where every client would look alike).
    pub fn network_tag(&self, ip: IpAddr) -> Option<String> {
        if ip.is_loopback() || ip.is_unspecified() {
            return None;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.tag_key).expect("any key length");
        mac.update(network(ip).to_string().as_bytes());
        Some(
            mac.finalize().into_bytes()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}

/// What a new account is made of, checked.
pub struct NewAccount {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub display_name: String,
}

/// Registers an account from `ip`: throttled, then the user and (unless
/// the e-mail must be verified first, or today's grants are gone) the
/// sign-up grant in one transaction. With verification on, the link is
/// sent and the grant waits for it.
pub async fn register(state: &AppState, new: NewAccount, ip: IpAddr) -> Result<UserDoc, ApiError> {
    state.signup.admit(ip).await?;
    let password_hash = hash_password(new.password.expose().to_owned()).await?;
    let settings = &state.settings;
    let grants_on = settings.signup_coins > 0 && settings.signup_grants_per_day > 0;
    let verify_first = settings.require_email_verification;
    let day = grant_day();
    if grants_on && !verify_first {
        open_grant_day(&state.db, &day).await?;
    }
    let template = UserDoc {
        id: ObjectId::new(),
        username: new.username.as_str().to_owned(),
        email: new.email.as_str().to_owned(),
        display_name: new.display_name,
        password_hash,
        coins: 0,
        created_at: DateTime::now(),
        bonus_coins: 0,
        signup_network: state.signup.network_tag(ip),
        email_verified_at: None,
        grant_pending: grants_on && verify_first,
        suspended_at: None,
    };
    let db = &state.db;
    let user = crate::transaction!(db, |s| {
        let mut user = template.clone();
        let granted = if grants_on && !verify_first {
            take_grant(db, s, settings, &day).await?
        } else {
            0
        };
        user.coins = granted;
        user.bonus_coins = granted;
        db.users()
            .insert_one(&user)
            .session(&mut *s)
            .await
            .map_err(duplicate_account)?;
        record_grant(db, s, user.id, granted).await?;
        Ok(user)
    })?;
    tracing::info!(user_id = %user.id, coins = user.coins, "registered");
    if verify_first {
        send_verification(state, &user).await?;
    }
    Ok(user)
}

fn duplicate_account(err: mongodb::error::Error) -> ApiError {
    match duplicate_key_index(&err).as_deref() {
        Some(index) if index.contains("username") => {
            ApiError::conflict("username_taken", "That username is taken.")
        }
        Some(index) if index.contains("email") => {
            ApiError::conflict("email_taken", "An account with that e-mail address exists.")
        }
        _ => err.into(),
    }
}

/// Today (UTC) as the grant counter's key.
fn grant_day() -> String {
    let now = DateTime::now().try_to_rfc3339_string().unwrap_or_default();
    format!("signup_grants:{}", now.get(..10).unwrap_or("unknown"))
}

/// Makes sure today's counter exists, outside any transaction (an upsert
/// inside one would conflict with every concurrent sign-up's insert).
async fn open_grant_day(db: &Db, day: &str) -> Result<(), ApiError> {
    db.counters()
        .update_one(
            doc! { "_id": day },
            doc! { "$setOnInsert": { "count": 0_i64 } },
        )
        .upsert(true)
        .await?;
    Ok(())
}

/// Takes one of today's grants inside the caller's transaction: the coins
/// granted, 0 once the day's cap is reached.
async fn take_grant(
    db: &Db,
    s: &mut ClientSession,
    settings: &Settings,
    day: &str,
) -> Result<i64, ApiError> {
    let taken = db
        .counters()
        .update_one(
            doc! { "_id": day, "count": { "$lt": settings.signup_grants_per_day } },
            doc! { "$inc": { "count": 1_i64 } },
        )
        .session(&mut *s)
        .await?;
    Ok(if taken.matched_count == 1 {
        settings.signup_coins
    } else {
        0
    })
}

/// The ledger entry of a sign-up grant (none for 0 coins).
async fn record_grant(
    db: &Db,
    s: &mut ClientSession,
    user: ObjectId,
    coins: i64,
) -> Result<(), ApiError> {
    if coins <= 0 {
        return Ok(());
    }
    let grant = TxDoc {
        bonus_coins: coins,
        ..TxDoc::new(KIND_GRANT, None, Some(user), coins)
    };
    db.transactions()
        .insert_one(&grant)
        .session(&mut *s)
        .await?;
    Ok(())
}

/// Sends a fresh verification link to the user's address.
pub async fn send_verification(state: &AppState, user: &UserDoc) -> Result<(), ApiError> {
    let token = random_token(32);
    let now = DateTime::now();
    state
        .db
        .email_tokens()
        .insert_one(EmailTokenDoc {
            hash: token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: DateTime::from_millis(now.timestamp_millis() + VERIFY_LINK_SECS * 1000),
            used_at: None,
        })
        .await?;
    let link = format!("{}/verify-email?token={token}", state.settings.public_url());
    let coins = if user.grant_pending {
        format!(
            " and receive your {} sign-up coins",
            state.settings.signup_coins
        )
    } else {
        String::new()
    };
    let mail = Mail {
        to: user.email.clone(),
        subject: "Confirm your StreamShare e-mail address".into(),
        body: format!(
            "Hello {},\n\nopen this link to confirm your address{coins}:\n{link}\n\n\
             The link works for 24 hours. If you did not sign up, ignore this message.",
            user.display_name
        ),
    };
    state.mailer.send(&mail).map_err(ApiError::internal)
}

/// A new link for a signed-in user who has not verified yet (three, then
/// one per five minutes).
pub async fn resend_verification(state: &AppState, user: ObjectId) -> Result<(), ApiError> {
    let doc = state
        .db
        .users()
        .find_one(doc! { "_id": user })
        .await?
        .ok_or_else(crate::accounts::account_closed)?;
    if doc.email_verified_at.is_some() {
        return Err(ApiError::conflict(
            "already_verified",
            "Your e-mail address is already verified.",
        ));
    }
    state
        .signup
        .resend
        .check(user)
        .await
        .map_err(|wait| too_many("A link was sent a moment ago", wait))?;
    send_verification(state, &doc).await
}

/// Follows a verification link: the address is verified and a pending
/// sign-up grant is given (today's cap permitting), once; following it
/// again changes nothing.
pub async fn verify_email(state: &AppState, token: &str) -> Result<UserDoc, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "token",
            "This link is not valid or has expired; ask for a new one.",
        )
        .with_code("invalid_verification_token")
    };
    let day = grant_day();
    open_grant_day(&state.db, &day).await?;
    let hash = token_hash(token.trim());
    let db = &state.db;
    let settings = &state.settings;
    crate::transaction!(db, |s| {
        let now = DateTime::now();
        let link = db
            .email_tokens()
            .find_one_and_update(
                doc! { "_id": &hash, "usedAt": null, "expiresAt": { "$gt": now } },
                doc! { "$set": { "usedAt": now } },
            )
            .session(&mut *s)
            .await?
            .ok_or_else(invalid)?;
        let mut user = db
            .users()
            .find_one(doc! { "_id": link.user_id })
            .session(&mut *s)
            .await?
            .ok_or_else(invalid)?;
        if user.email_verified_at.is_some() {
            return Ok(user);
        }
        let granted = if user.grant_pending && settings.signup_grants_per_day > 0 {
            take_grant(db, s, settings, &day).await?
        } else {
            0
        };
        db.users()
            .update_one(
                doc! { "_id": user.id },
                doc! {
                    "$set": { "emailVerifiedAt": now, "grantPending": false },
                    "$inc": { "coins": granted, "bonusCoins": granted },
                },
            )
            .session(&mut *s)
            .await?;
        record_grant(db, s, user.id, granted).await?;
        user.email_verified_at = Some(now);
        user.grant_pending = false;
        user.coins += granted;
        user.bonus_coins += granted;
        Ok(user)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use clap::Parser;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        settings: Settings,
    }

    fn settings() -> Settings {
        Args::parse_from(["t"]).settings
    }

    #[tokio::test]
    async fn an_address_then_its_network_runs_out_of_sign_ups() {
        let mut s = settings();
        s.signup_burst_per_ip = 2;
        s.signup_burst_per_network = 3;
        let guard = SignupGuard::new(&s, b"k", None);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(guard.admit(a).await.is_ok() && guard.admit(a).await.is_ok());
        assert_eq!(guard.admit(a).await.unwrap_err().code(), "rate_limited");
        // A neighbour still has the network's last one; the next neighbour not.
        assert!(guard.admit("203.0.113.2".parse().unwrap()).await.is_ok());
        assert!(guard.admit("203.0.113.3".parse().unwrap()).await.is_err());
        assert!(guard.admit("198.51.100.1".parse().unwrap()).await.is_ok());
    }

    #[test]
    fn network_tags_match_within_a_block_and_hide_the_address() {
        let guard = SignupGuard::new(&settings(), b"k", None);
        let tag = guard.network_tag("203.0.113.1".parse().unwrap()).unwrap();
        assert_eq!(
            Some(&tag),
            guard.network_tag("203.0.113.250".parse().unwrap()).as_ref()
        );
        assert_ne!(
            Some(&tag),
            guard.network_tag("203.0.114.1".parse().unwrap()).as_ref()
        );
        assert!(!tag.contains("203"));
        let other_key = SignupGuard::new(&settings(), b"other", None);
        assert_ne!(
            Some(tag),
            other_key.network_tag("203.0.113.1".parse().unwrap())
        );
        assert_eq!(guard.network_tag("127.0.0.1".parse().unwrap()), None);
    }
}
