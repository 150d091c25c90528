//! MongoDB access: the client, the collections, the indexes created at start,
//! and the retrying multi-document transaction every money movement uses.

use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use rand::Rng;

use crate::error::{ApiError, is_unavailable};
use crate::models::{
    AccessDoc, ChatDoc, EmailTokenDoc, FollowDoc, IdempotencyDoc, LiveSessionDoc, ModerationDoc,
    NotificationDoc, PayoutDoc, ProfileDoc, PurchaseDoc, RefreshTokenDoc, RoomDoc, StreamKeyDoc,
    StripeEventDoc, ThumbnailDoc, TxDoc, UserDoc, ViewDoc,
};

/// How long a transaction keeps retrying write conflicts before giving up.
const TRANSACTION_BUDGET: Duration = Duration::from_secs(15);

/// The database handle shared by every request.
#[derive(Clone, Debug)]
pub struct Db {
    client: Client,
    db: Database,
}

impl Db {
    /// Builds the client without touching the network: the server starts
    /// even when the database is not up yet.
    pub async fn new(uri: &str, name: &str, timeout: Duration) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri).await?;
        options.app_name = Some("streamshare".into());
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(timeout);
        let client = Client::with_options(options)?;
        let db = client.database(name);
        Ok(Self { client, db })
    }

    /// A handle on a database another client opened (tests, tools).
    pub fn from_database(db: Database) -> Self {
        Self {
            client: db.client().clone(),
            db,
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// E-mail verification links.
    pub fn email_tokens(&self) -> Collection<EmailTokenDoc> {
        self.db.collection("email_tokens")
    }

    /// Named counters (the daily sign-up grant count).
    pub fn counters(&self) -> Collection<Document> {
        self.db.collection("counters")
    }

    pub fn users(&self) -> Collection<UserDoc> {
        self.db.collection("users")
    }
    pub fn refresh_tokens(&self) -> Collection<RefreshTokenDoc> {
        self.db.collection("refresh_tokens")
    }
    pub fn rooms(&self) -> Collection<RoomDoc> {
        self.db.collection("rooms")
    }
    pub fn live_sessions(&self) -> Collection<LiveSessionDoc> {
        self.db.collection("live_sessions")
    }
    pub fn transactions(&self) -> Collection<TxDoc> {
        self.db.collection("transactions")
    }
    pub fn access(&self) -> Collection<AccessDoc> {
        self.db.collection("room_access")
    }
    pub fn idempotency(&self) -> Collection<IdempotencyDoc> {
        self.db.collection("idempotency_keys")
    }
    pub fn thumbnails(&self) -> Collection<ThumbnailDoc> {
        self.db.collection("thumbnails")
    }
    pub fn views(&self) -> Collection<ViewDoc> {
        self.db.collection("view_history")
    }
    pub fn chat(&self) -> Collection<ChatDoc> {
        self.db.collection("chat_messages")
    }
    pub fn stream_keys(&self) -> Collection<StreamKeyDoc> {
        self.db.collection("stream_keys")
    }
    pub fn moderation(&self) -> Collection<ModerationDoc> {
        self.db.collection("moderation")
    }
    pub fn purchases(&self) -> Collection<PurchaseDoc> {
        self.db.collection("purchases")
    }
    pub fn stripe_events(&self) -> Collection<StripeEventDoc> {
        self.db.collection("stripe_events")
    }
    pub fn payouts(&self) -> Collection<PayoutDoc> {
        self.db.collection("payouts")
    }
    /// Who follows which creator.
    pub fn follows(&self) -> Collection<FollowDoc> {
        self.db.collection("follows")
    }
    /// Creators' profile texts (schedule).
    pub fn profiles(&self) -> Collection<ProfileDoc> {
        self.db.collection("profiles")
    }
    /// In-app notifications.
    pub fn notifications(&self) -> Collection<NotificationDoc> {
        self.db.collection("notifications")
    }

    /// Answers whether the database is reachable.
    pub async fn ping(&self) -> Result<(), mongodb::error::Error> {
        self.db.run_command(doc! { "ping": 1 }).await.map(|_| ())
    }

    /// Creates every index the queries rely on (idempotent).
    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        async fn create<T: Send + Sync>(
            coll: Collection<T>,
            keys: Document,
            name: &str,
            unique: bool,
        ) -> Result<(), mongodb::error::Error> {
            let options = IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique.then_some(true))
                .build();
            coll.create_index(IndexModel::builder().keys(keys).options(options).build())
                .await
                .map(|_| ())
        }
        create(
            self.users(),
            doc! { "username": 1 },
            "username_unique",
            true,
        )
        .await?;
        create(self.users(), doc! { "email": 1 }, "email_unique", true).await?;
        create(
            self.refresh_tokens(),
            doc! { "familyId": 1 },
            "family",
            false,
        )
        .await?;
        create(
            self.rooms(),
            doc! { "liveRank": -1, "viewerCount": -1, "_id": -1 },
            "home_order",
            false,
        )
        .await?;
        create(
            self.rooms(),
            doc! { "creatorId": 1, "_id": -1 },
            "by_creator",
            false,
        )
        .await?;
        create(
            self.live_sessions(),
            doc! { "roomId": 1, "startedAt": -1 },
            "by_room",
            false,
        )
        .await?;
        create(
            self.transactions(),
            doc! { "fromUserId": 1, "_id": -1 },
            "by_payer",
            false,
        )
        .await?;
        create(
            self.transactions(),
            doc! { "toUserId": 1, "_id": -1 },
            "by_payee",
            false,
        )
        .await?;
        create(
            self.private_sessions(),
            doc! { "state": 1, "expiresAt": 1 },
            "private_by_state",
            false,
        )
        .await?;
        create(
            self.private_sessions(),
            doc! { "viewerId": 1, "_id": -1 },
            "private_by_viewer",
            false,
        )
        .await?;
        create(
            self.private_sessions(),
            doc! { "creatorId": 1, "_id": -1 },
            "private_by_creator",
            false,
        )
        .await?;
        create(
            self.access(),
            doc! { "viewerId": 1, "liveSessionId": 1 },
            "viewer_session_unique",
            true,
        )
        .await?;
        create(
            self.idempotency(),
            doc! { "userId": 1, "key": 1 },
            "user_key_unique",
            true,
        )
        .await?;
        create(
            self.views(),
            doc! { "userId": 1, "_id": -1 },
            "by_user",
            false,
        )
        .await?;
        create(
            self.purchases(),
            doc! { "userId": 1, "_id": -1 },
            "by_user",
            false,
        )
        .await?;
        create(
            self.purchases(),
            doc! { "paymentIntent": 1 },
            "by_payment_intent",
            false,
        )
        .await?;
        create(
            self.stripe_events(),
            doc! { "paymentIntent": 1 },
            "by_payment_intent",
            false,
        )
        .await?;
        create(
            self.payouts(),
            doc! { "userId": 1, "_id": -1 },
            "by_user",
            false,
        )
        .await?;
        create(
            self.payouts(),
            doc! { "state": 1, "_id": 1 },
            "by_state",
            false,
        )
        .await?;
        create(
            self.follows(),
            doc! { "followerId": 1, "creatorId": 1 },
            "follower_creator_unique",
            true,
        )
        .await?;
        create(
            self.follows(),
            doc! { "creatorId": 1, "_id": 1 },
            "by_creator",
            false,
        )
        .await?;
        create(
            self.notifications(),
            doc! { "userId": 1, "_id": -1 },
            "by_user",
            false,
        )
        .await?;
        create(
            self.notifications(),
            doc! { "userId": 1, "readAt": 1 },
            "unread_by_user",
            false,
        )
        .await?;
        create(
            self.live_sessions(),
            doc! { "creatorId": 1, "startedAt": -1 },
            "by_creator",
            false,
        )
        .await?;
        Ok(())
    }

    /// Starts a transaction runner; see the [`transaction!`] macro.
    pub async fn runner(&self) -> Result<TxRunner, ApiError> {
        Ok(TxRunner {
            session: self.client.start_session().await?,
            started: Instant::now(),
            attempt: 0,
        })
    }
}

/// Runs a block in a multi-document transaction, retrying the whole block on
/// `TransientTransactionError` (write conflicts) and the commit on
/// `UnknownTransactionCommitResult`, with a short random backoff (MongoDB's
/// "retry transactions" pattern). A refusal from the block aborts the
/// transaction and is the result. When the database is unreachable the
/// answer is a prompt 503, not a retry loop.
///
/// `transaction!(db, |s| { ...; Ok(value) })` where the block uses the
/// session `s` for every operation; it evaluates to `Result<T, ApiError>`.
/// (A macro rather than a closure-taking function: the block borrows the
/// handler's locals and the session, which a boxed callback cannot do.)
#[macro_export]
macro_rules! transaction {
    ($db:expr, |$s:ident| $body:block) => {{
        let db: &$crate::db::Db = $db;
        match db.runner().await {
            Err(err) => Err(err),
            Ok(mut runner) => loop {
                if let Err(err) = runner.begin().await {
                    break Err(err);
                }
                let $s: &mut ::mongodb::ClientSession = runner.session();
                let outcome: ::std::result::Result<_, $crate::error::ApiError> =
                    async { $body }.await;
                if let Some(result) = runner.finish(outcome).await {
                    break result;
                }
            },
        }
    }};
}

/// The session and retry bookkeeping behind [`transaction!`].
pub struct TxRunner {
    session: ClientSession,
    started: Instant,
    attempt: u32,
}

impl TxRunner {
    pub async fn begin(&mut self) -> Result<(), ApiError> {
        self.attempt += 1;
        match self.session.start_transaction().await {
            Ok(()) => Ok(()),
            // The driver says "not supported" both while it knows no server
            // yet (the database is down) and for a standalone mongod.
            Err(err) if matches!(*err.kind, ErrorKind::Transaction { .. }) => {
                let ping = self
                    .session
                    .client()
                    .database("admin")
                    .run_command(doc! { "ping": 1 })
                    .await;
                match ping {
                    Err(down) => Err(down.into()),
                    Ok(_) => Err(ApiError::internal(anyhow::Error::new(err).context(
                        "the MongoDB deployment does not support transactions: \
                         STREAMSHARE_MONGODB_URI must point at a replica set",
                    ))),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    pub fn session(&mut self) -> &mut ClientSession {
        &mut self.session
    }

    /// Commits or aborts after the block ran; `None` means "run it again".
    pub async fn finish<T>(&mut self, outcome: Result<T, ApiError>) -> Option<Result<T, ApiError>> {
        let outcome = match outcome {
            Ok(value) => commit(&mut self.session, self.started)
                .await
                .map(|()| value),
            Err(err) => {
                // The block's error is the answer; an unfinished transaction
                // dies with its session anyway, so an abort error changes nothing.
                let _ = self.session.abort_transaction().await;
                Err(err)
            }
        };
        match outcome {
            Err(err) if should_retry(&err) && self.started.elapsed() < TRANSACTION_BUDGET => {
                let cap = 5 * u64::from(self.attempt.min(20));
                let pause = rand::thread_rng().gen_range(1..=cap);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                None
            }
            // Still conflicting (or the commit's outcome unknown) after the
            // whole budget: the database is overloaded with writes to the
            // same documents, not broken. The client may come back shortly
            // (an idempotency key makes the retry safe either way).
            Err(err) if should_retry(&err) || commit_unknown(&err) => {
                tracing::warn!(
                    attempts = self.attempt,
                    "transaction kept conflicting; answering 503"
                );
                Some(Err(ApiError::refused(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "The database is busy; try again in a moment.",
                )
                .with("retryAfterSeconds", 1)))
            }
            other => Some(other),
        }
    }
}

async fn commit(session: &mut ClientSession, started: Instant) -> Result<(), ApiError> {
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(err)
                if err.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && !is_unavailable(&err)
                    && started.elapsed() < TRANSACTION_BUDGET =>
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// The commit's outcome stayed unknown for the whole budget (the client
/// retries with its idempotency key, which finds the effect if it landed).
fn commit_unknown(err: &ApiError) -> bool {
    matches!(err, ApiError::Database(e)
        if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && !is_unavailable(e))
}

fn should_retry(err: &ApiError) -> bool {
    match err {
        ApiError::Retry => true,
        ApiError::Database(e) => {
            e.contains_label(TRANSIENT_TRANSACTION_ERROR) && !is_unavailable(e)
        }
        _ => false,
    }
}
