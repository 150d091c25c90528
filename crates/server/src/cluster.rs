//! Cluster mode: many instances share MongoDB and Redis behind a load
//! balancer. With `STREAMSHARE_REDIS_URL` unset the same code runs as one
//! process, with every cross-instance path answered in memory.
//!
//! Redis carries three things here:
//! - socketioxide's Redis adapter (`Adapter`), for every Socket.IO broadcast
//!   and every operation on remote sockets, through [`Link`], a driver on
//!   a reconnecting [`ConnectionManager`] that resubscribes after Redis
//!   comes back (the stock driver's connection does not);
//! - instance leases: each instance refreshes `lease:{id}` (a key with a
//!   TTL) every third of `STREAMSHARE_LEASE_SECS`; one whose key expired
//!   is dead, and a survivor reaps what it left behind (see `presence`);
//! - notices between instances (`notices` channel, see `push::notify`)
//!   and the shared state of presence and rate limits.
//!
//! Every key starts with `ss:{database name}:`, so clusters (and tests)
//! sharing one Redis do not see each other.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ProtocolVersion, PushInfo, PushKind};
use socketioxide::adapter::Emitter;
use socketioxide_redis::CustomRedisAdapter;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::config::Settings;

/// The Socket.IO adapter of every instance: Redis-backed, with the
/// single-process [`Link`] publishing nowhere.
pub type Adapter = CustomRedisAdapter<Emitter, Link>;
/// The Socket.IO server handle.
pub type Io = socketioxide::SocketIo<Adapter>;
/// A Socket.IO connection.
pub type Socket = socketioxide::extract::SocketRef<Adapter>;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The pub/sub link between instances: Redis in cluster mode, nothing
/// (every message stays in this process) otherwise.
#[derive(Clone)]
pub struct Link(Option<RedisLink>);

#[derive(Clone)]
struct RedisLink {
    conn: ConnectionManager,
    handlers: Handlers,
}

impl Link {
    /// One process: publishing goes nowhere and this is the only server.
    pub fn solo() -> Self {
        Self(None)
    }

    /// Connects to Redis (RESP3, so pub/sub shares the connection), failing
    /// with a clear message when it cannot be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let info = redis::IntoConnectionInfo::into_connection_info(url.trim())
            .map_err(|e| anyhow::anyhow!("STREAMSHARE_REDIS_URL is not a Redis URL: {e}"))?;
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let info = info.set_redis_settings(settings);
        let client = redis::Client::open(info)?;
        let handlers: Handlers = Arc::default();
        let routed = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(move |push: PushInfo| {
                route(push, &routed);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(3)))
            .set_max_delay(Duration::from_secs(2));
        let conn = tokio::time::timeout(
            Duration::from_secs(10),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("Redis at STREAMSHARE_REDIS_URL did not answer in 10 s"))?
        .map_err(|e| anyhow::anyhow!("cannot reach Redis at STREAMSHARE_REDIS_URL: {e}"))?;
        Ok(Self(Some(RedisLink { conn, handlers })))
    }

    /// A Redis connection, in cluster mode (cheap to clone; reconnects).
    pub fn redis(&self) -> Option<ConnectionManager> {
        self.0.as_ref().map(|l| l.conn.clone())
    }
}

/// Hands a published message to whoever subscribed to its channel.
fn route(push: PushInfo, handlers: &Handlers) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) || push.data.len() < 2 {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(payload)) = (
        redis::from_redis_value::<String>(chan),
        redis::from_redis_value::<Vec<u8>>(payload),
    ) else {
        return;
    };
    let sender = handlers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&chan)
        .cloned();
    if let Some(tx) = sender
        && let Err(err) = tx.try_send((chan, payload))
    {
        tracing::warn!(error = %err, "a Redis subscriber is behind; message dropped");
    }
}

impl Driver for Link {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        match &self.0 {
            Some(link) => link.conn.clone().publish(chan, val).await,
            None => Ok(()),
        }
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let Some(link) = &self.0 else {
            return Ok(MessageStream::new_empty());
        };
        let (tx, rx) = mpsc::channel(size.max(1));
        link.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan.clone(), tx);
        link.conn.clone().subscribe(&chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        let Some(link) = &self.0 else { return Ok(()) };
        link.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        link.conn.clone().unsubscribe(&chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let Some(link) = &self.0 else { return Ok(1) };
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut link.conn.clone())
            .await?;
        Ok(count)
    }
}

/// This instance's place in the cluster (or alone).
pub struct Cluster {
    /// `STREAMSHARE_INSTANCE_ID`, fixed at start.
    pub instance: String,
    pub link: Link,
    prefix: String,
    lease: Duration,
}

impl Cluster {
    /// Joins the cluster named by the settings, or runs alone.
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let link = match settings.redis_url.as_deref() {
            Some(url) if settings.cluster() => Link::connect(url).await?,
            _ => Link::solo(),
        };
        Ok(Self {
            instance: settings.instance_id().to_owned(),
            link,
            prefix: format!("ss:{}:", settings.db_name),
            lease: Duration::from_secs(settings.lease_secs.max(2)),
        })
    }

    pub fn enabled(&self) -> bool {
        self.link.0.is_some()
    }

    /// A Redis connection, in cluster mode.
    pub fn redis(&self) -> Option<ConnectionManager> {
        self.link.redis()
    }

    /// Where cluster-wide rate limits live (cluster mode).
    pub fn limits(&self) -> Option<crate::ratelimit::Shared> {
        self.redis().map(|conn| crate::ratelimit::Shared {
            conn,
            prefix: self.key("limit:"),
        })
    }

    /// A Redis key in this cluster's namespace.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The Socket.IO adapter's channel prefix.
    pub fn adapter_prefix(&self) -> String {
        self.key("socket.io")
    }

    /// How long a lease lasts without a heartbeat.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    fn lease_key(&self, instance: &str) -> String {
        self.key(&format!("lease:{instance}"))
    }

    /// The set of instances that ever announced themselves (and were not
    /// reaped yet).
    pub fn instances_key(&self) -> String {
        self.key("instances")
    }

    /// Redis answers (cluster mode); always true alone.
    pub async fn reachable(&self) -> bool {
        let Some(mut conn) = self.redis() else {
            return true;
        };
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Ok(_))
        )
    }

    /// Renews this instance's lease (and announces it).
    pub async fn renew_lease(&self, url: &str) -> redis::RedisResult<()> {
        let Some(mut conn) = self.redis() else {
            return Ok(());
        };
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.lease_key(&self.instance))
            .arg(url)
            .arg("PX")
            .arg(self.lease.as_millis() as u64)
            .ignore()
            .sadd(self.instances_key(), &self.instance)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
    }

    /// Gives the lease up (a clean stop): survivors may reap at once.
    pub async fn drop_lease(&self) -> redis::RedisResult<()> {
        let Some(mut conn) = self.redis() else {
            return Ok(());
        };
        conn.del::<_, ()>(self.lease_key(&self.instance)).await
    }

    /// The instances announced but whose lease expired.
    pub async fn dead_instances(&self) -> redis::RedisResult<Vec<String>> {
        let Some(mut conn) = self.redis() else {
            return Ok(Vec::new());
        };
        let known: Vec<String> = conn.smembers(self.instances_key()).await?;
        let mut dead = Vec::new();
        for id in known {
            if id == self.instance {
                continue;
            }
            let alive: bool = conn.exists(self.lease_key(&id)).await?;
            if !alive {
                dead.push(id);
            }
        }
        Ok(dead)
    }

    /// The channel notices between instances travel on.
    pub fn notices_channel(&self) -> String {
        self.key("notices")
    }
}
