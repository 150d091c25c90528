//! The state every handler shares: database, settings and keys.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};

use crate::auth::{AuthUser, TokenKeys};
use crate::cluster::{Cluster, Io};
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::media::Media;
use crate::pagination::CursorCodec;
use crate::ratelimit::Limiter;
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
    pub chat_limiter: Limiter<ObjectId>,
    /// `e2ee:hello` per user: a page asks for the media key once per join
    /// or studio restart.
    pub key_limiter: Limiter<ObjectId>,
    /// Tips per tipper.
    pub tip_limiter: Limiter<ObjectId>,
    /// The payment provider for coin purchases, if any.
    pub payments: Option<std::sync::Arc<dyn crate::payments::PaymentProvider>>,
    /// This instance's place in the cluster (or alone).
    pub cluster: Cluster,
    /// Who watches which room.
    pub presence: crate::presence::Presence,
    /// Rooms, paid entries and recent chat, for joins.
    pub rooms: crate::caches::RoomCache,
    pub entries: crate::caches::EntryCache,
    pub chat_rings: crate::caches::ChatRings,
    /// Chat moderation (bans, timeouts) per room and user, cached.
    pub moderation: crate::moderation::ModerationCache,
    pub metrics: crate::metrics::Metrics,
    /// Login attempts per account name.
    pub login_by_account: Limiter<String>,
    /// Login attempts per client address.
    pub login_by_ip: Limiter<IpAddr>,
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
    /// MediaMTX as the media plane, when `STREAMSHARE_MEDIA_BACKEND=mediamtx`.
    mediamtx: OnceLock<crate::mediamtx::Plane>,
    io: OnceLock<Io>,
    notice_handler: OnceLock<crate::push::NoticeHandler>,
    indexes_ready: AtomicBool,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Settings,
        secret: &SecretString,
        media: Option<Media>,
        cluster: Cluster,
    ) -> Self {
        let tokens = TokenKeys::new(secret);
        let cursors = CursorCodec::new(secret.expose_secret().as_bytes());
        let signup = crate::signup::SignupGuard::new(
            &settings,
            secret.expose_secret().as_bytes(),
            cluster.limits().as_ref(),
        );
        let mailer = Box::new(crate::mail::OutboxMailer::new(settings.mail_outbox.clone()));
        let proxies = settings.proxies();
        let shared = cluster.limits();
        let login_by_account = Limiter::new(
            settings.login_burst_per_account,
            Duration::from_secs(60),
            shared.as_ref(),
            "login-account",
        );
        let login_by_ip = Limiter::new(
            settings.login_burst_per_ip,
            Duration::from_secs(6),
            shared.as_ref(),
            "login-ip",
        );
        let chat_limiter = Limiter::new(
            settings.chat_burst,
            Duration::from_millis(settings.chat_interval_ms.max(1)),
            shared.as_ref(),
            "chat",
        );
        let key_limiter = Limiter::new(10, Duration::from_secs(2), shared.as_ref(), "e2ee-hello");
        let tip_limiter = Limiter::new(
            crate::tips::TIP_BURST,
            crate::tips::TIP_INTERVAL,
            shared.as_ref(),
            "tip",
        );
        let payments = crate::payments::provider(&settings);
        let presence = crate::presence::Presence::new(&cluster);
        Self(Arc::new(Inner {
            db,
            settings,
            tokens,
            cursors,
            chat_limiter,
            key_limiter,
            tip_limiter,
            payments,
            cluster,
            presence,
            rooms: Default::default(),
            entries: Default::default(),
            chat_rings: Default::default(),
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
            mediamtx: OnceLock::new(),
            io: OnceLock::new(),
            notice_handler: OnceLock::new(),
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

    /// MediaMTX, when it is the media plane.
    pub fn mediamtx(&self) -> Option<&crate::mediamtx::Plane> {
        self.0.mediamtx.get()
    }

    /// Set once at start (startup).
    pub fn set_mediamtx(&self, plane: crate::mediamtx::Plane) {
        if self.0.mediamtx.set(plane).is_err() {
            tracing::warn!("the MediaMTX plane was set twice; keeping the first");
        }
    }

    /// The Socket.IO handle, for pushes from REST handlers and tasks.
    pub fn io(&self) -> Option<&Io> {
        self.0.io.get()
    }

    pub fn notice_handler(&self) -> Option<crate::push::NoticeHandler> {
        self.0.notice_handler.get().copied()
    }

    pub fn set_notice_handler(&self, handler: crate::push::NoticeHandler) {
        let _ = self.0.notice_handler.set(handler);
    }

    pub fn set_io(&self, io: Io) {
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
