//! The state every handler shares: database, settings and keys.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};
use socketioxide::SocketIo;

use crate::auth::{AuthUser, TokenKeys};
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::media::Media;
use crate::pagination::CursorCodec;
use crate::ratelimit::RateLimiter;
use mongodb::bson::oid::ObjectId;
use std::net::IpAddr;
use std::time::Duration;

/// Cheap to clone: one `Arc` around everything.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub settings: Settings,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    pub chat_limiter: RateLimiter<ObjectId>,
    /// Chat moderation (bans, timeouts) per room and user, cached.
    pub moderation: crate::realtime::chat::ModerationCache,
    pub metrics: crate::metrics::Metrics,
    /// Login attempts per account name.
    pub login_by_account: RateLimiter<String>,
    /// Login attempts per client address.
    pub login_by_ip: RateLimiter<IpAddr>,
    /// Registration throttles and the sign-up network tags.
    pub signup: crate::signup::SignupGuard,
    /// Deleted and suspended accounts, refused at every door.
    pub accounts: crate::accounts::AccountGate,
    /// Media across instances: internal credentials, this edge's upstreams.
    pub cascade: crate::cascade::Cascade,
    /// Outgoing e-mail (verification links).
    pub mailer: Box<dyn crate::mail::MailSender>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub proxies: Vec<ipnet::IpNet>,
    media: Option<Media>,
    io: OnceLock<SocketIo>,
    indexes_ready: AtomicBool,
}

impl AppState {
    pub fn new(db: Db, settings: Settings, secret: &SecretString, media: Option<Media>) -> Self {
        let tokens = TokenKeys::new(secret);
        let cursors = CursorCodec::new(secret.expose_secret().as_bytes());
        let signup = crate::signup::SignupGuard::new(&settings, secret.expose_secret().as_bytes());
        let mailer = Box::new(crate::mail::OutboxMailer::new(settings.mail_outbox.clone()));
        let proxies = settings.proxies();
        let login_by_account =
            RateLimiter::new(settings.login_burst_per_account, Duration::from_secs(60));
        let login_by_ip = RateLimiter::new(settings.login_burst_per_ip, Duration::from_secs(6));
        let chat_limiter = RateLimiter::new(
            settings.chat_burst,
            Duration::from_millis(settings.chat_interval_ms.max(1)),
        );
        Self(Arc::new(Inner {
            db,
            settings,
            tokens,
            cursors,
            chat_limiter,
            moderation: Default::default(),
            login_by_account,
            metrics: crate::metrics::Metrics::default(),
            login_by_ip,
            signup,
            accounts: Default::default(),
            cascade: crate::cascade::Cascade::new(secret),
            mailer,
            proxies,
            media,
            io: OnceLock::new(),
            indexes_ready: AtomicBool::new(false),
        }))
    }

    /// The caller of an access token, if the token is good and the account
    /// is still active (not deleted, not suspended).
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, ApiError> {
        let user = self.tokens.verify(token)?;
        self.accounts.check(&self.db, user.id).await?;
        Ok(user)
    }

    /// The media server, when running.
    pub fn media(&self) -> Option<&Media> {
        self.0.media.as_ref()
    }

    /// The Socket.IO handle, for pushes from REST handlers and tasks.
    pub fn io(&self) -> Option<&SocketIo> {
        self.0.io.get()
    }

    pub fn set_io(&self, io: SocketIo) {
        if self.0.io.set(io).is_err() {
            tracing::warn!("the Socket.IO handle was set twice; keeping the first");
        }
    }

    pub fn indexes_ready(&self) -> bool {
        self.0.indexes_ready.load(Ordering::Acquire)
    }

    pub fn mark_indexes_ready(&self) {
        self.0.indexes_ready.store(true, Ordering::Release);
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
