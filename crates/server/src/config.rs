//! Settings: one typed struct, read from `STREAMSHARE_*` environment variables,
//! command-line flags, and optionally a config file that adds to them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use secrecy::{ExposeSecret, SecretString};

/// Every setting of the server. Each one is a flag and an environment
/// variable; `--help` lists them all.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// HTTP listen address (API, Socket.IO, web app).
    #[arg(long, env = "STREAMSHARE_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,

    /// MongoDB connection string; it must reach a replica set (transactions).
    /// scripts/run.sh starts a local SecantusDB and sets this when it is empty.
    #[arg(long, env = "STREAMSHARE_MONGODB_URI")]
    pub mongodb_uri: Option<String>,

    /// Database name.
    #[arg(long, env = "STREAMSHARE_DB_NAME", default_value = "streamshare")]
    pub db_name: String,

    /// HMAC secret for access tokens, at least 32 bytes. When absent, one is
    /// generated once and kept in the data folder.
    #[arg(long, env = "STREAMSHARE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// Folder for local state (the generated JWT secret, the local database).
    #[arg(long, env = "STREAMSHARE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Coins granted to a new user.
    #[arg(long, env = "STREAMSHARE_SIGNUP_COINS", default_value_t = 100)]
    pub signup_coins: i64,

    /// Folder of the built web app, served with an SPA fallback.
    #[arg(long, env = "STREAMSHARE_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// Mark cookies `Secure` (set this when the server is reached over HTTPS,
    /// for example behind a TLS-terminating proxy). Requests that arrive with
    /// `X-Forwarded-Proto: https` get `Secure` cookies either way.
    #[arg(long, env = "STREAMSHARE_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// The media server's UDP port (with several shards, shard i uses this
    /// port + i).
    #[arg(long, env = "STREAMSHARE_MEDIA_UDP_PORT", default_value_t = 8189)]
    pub media_udp_port: u16,

    /// Media forwarding loops (shards), each on its own UDP port and core;
    /// rooms are spread over them. One shard forwards about 150,000
    /// packets/s on one core (docs/benchmarks.md); add shards when the
    /// busiest rooms together need more.
    #[arg(long, env = "STREAMSHARE_MEDIA_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub media_shards: u16,

    /// Address(es) announced in ICE candidates, comma separated
    /// (default: the host's addresses).
    #[arg(long, env = "STREAMSHARE_MEDIA_PUBLIC_IP", value_delimiter = ',')]
    pub media_public_ip: Vec<String>,

    /// TURN/STUN URLs handed to clients, comma separated.
    #[arg(long, env = "STREAMSHARE_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// Coturn `static-auth-secret` for time-limited TURN credentials.
    #[arg(long, env = "STREAMSHARE_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<SecretString>,

    /// Seconds a live session waits for its publisher to come back before it
    /// ends as if the creator had ended it.
    #[arg(long, env = "STREAMSHARE_PUBLISHER_GRACE_SECS", default_value_t = 30)]
    pub publisher_grace_secs: u64,

    /// One-to-one private sessions are billed by this period (a minute;
    /// shorter in tests): held when it starts, charged when it ends.
    #[arg(long, env = "STREAMSHARE_PRIVATE_PERIOD_SECS", default_value_t = 60)]
    pub private_period_secs: u64,

    /// A private session request the creator leaves unanswered expires.
    #[arg(long, env = "STREAMSHARE_PRIVATE_REQUEST_SECS", default_value_t = 60)]
    pub private_request_secs: u64,

    /// A private session ends when either party has been gone (no page
    /// connected) this long; it is billed up to when both were last there.
    #[arg(long, env = "STREAMSHARE_PRIVATE_GRACE_SECS", default_value_t = 20)]
    pub private_grace_secs: u64,

    /// Both parties are warned this long before the viewer's coins run out.
    #[arg(long, env = "STREAMSHARE_PRIVATE_WARN_SECS", default_value_t = 30)]
    pub private_warn_secs: u64,

    /// A payment is refunded when its session dies (the publisher stays
    /// away past the grace, or the creator ends it) within this many seconds
    /// after the payment, before the viewer got enough media.
    #[arg(long, env = "STREAMSHARE_REFUND_WINDOW_SECS", default_value_t = 300)]
    pub refund_window_secs: i64,

    /// "Enough media": a refundable payment whose viewer's media started
    /// less than this many seconds before the session died is refunded.
    #[arg(long, env = "STREAMSHARE_REFUND_MIN_MEDIA_SECS", default_value_t = 30)]
    pub refund_min_media_secs: i64,

    /// Login attempts one account name may take at once; then one a minute.
    #[arg(
        long,
        env = "STREAMSHARE_LOGIN_BURST_PER_ACCOUNT",
        default_value_t = 10
    )]
    pub login_burst_per_account: u32,

    /// Login attempts one client address may take at once; then one per 6 s.
    #[arg(long, env = "STREAMSHARE_LOGIN_BURST_PER_IP", default_value_t = 30)]
    pub login_burst_per_ip: u32,

    /// Shorthand for `STREAMSHARE_TRUSTED_PROXIES=127.0.0.0/8,::1/128`: a
    /// reverse proxy on this machine (kept for configurations written before
    /// `STREAMSHARE_TRUSTED_PROXIES`).
    #[arg(long, env = "STREAMSHARE_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    /// Reverse proxies whose `X-Forwarded-For` is believed, as CIDRs, comma
    /// separated (e.g. `10.0.0.0/8,127.0.0.1/32`). The client is the
    /// rightmost address in `X-Forwarded-For` that is not one of them, so a
    /// client cannot pose as another by sending the header itself.
    #[arg(long, env = "STREAMSHARE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Sign-ups one client address may make at once; then one per 10 minutes.
    #[arg(long, env = "STREAMSHARE_SIGNUP_BURST_PER_IP", default_value_t = 5)]
    pub signup_burst_per_ip: u32,

    /// Sign-ups one network (an IPv4 /24 or IPv6 /64) may make at once; then
    /// one per 2 minutes.
    #[arg(
        long,
        env = "STREAMSHARE_SIGNUP_BURST_PER_NETWORK",
        default_value_t = 20
    )]
    pub signup_burst_per_network: u32,

    /// Sign-up grants (`STREAMSHARE_SIGNUP_COINS` each) given per UTC day
    /// across the whole platform; later sign-ups start with 0 coins. `0`
    /// gives no grants at all.
    #[arg(
        long,
        env = "STREAMSHARE_SIGNUP_GRANTS_PER_DAY",
        default_value_t = 1000
    )]
    pub signup_grants_per_day: i64,

    /// Days during which sign-up coins cannot be spent in the rooms of a
    /// creator who signed up from the same network (an IPv4 /24 or IPv6 /64):
    /// puppet accounts cannot pay their maker. `0` turns the rule off.
    #[arg(long, env = "STREAMSHARE_SIGNUP_LINK_DAYS", default_value_t = 30)]
    pub signup_link_days: i64,

    /// Give the sign-up coins only once the e-mail address is verified by
    /// the link sent to it.
    #[arg(
        long,
        env = "STREAMSHARE_REQUIRE_EMAIL_VERIFICATION",
        default_value_t = false
    )]
    pub require_email_verification: bool,

    /// The address people reach the web app at, for links in e-mails
    /// (default: `http://` and the HTTP listen address).
    #[arg(long, env = "STREAMSHARE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where e-mails go: each is written as a file into this folder (and
    /// logged). Without it, e-mails are only logged (development).
    #[arg(long, env = "STREAMSHARE_MAIL_OUTBOX")]
    pub mail_outbox: Option<PathBuf>,

    /// Seconds a client may take to send a request's headers (and an idle
    /// keep-alive connection may wait for its next request) before the
    /// connection is closed.
    #[arg(long, env = "STREAMSHARE_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Open connections (HTTP and WebSocket) one client address may hold;
    /// `0` for no limit. Trusted proxies are not limited.
    #[arg(
        long,
        env = "STREAMSHARE_MAX_CONNECTIONS_PER_IP",
        default_value_t = 256
    )]
    pub max_connections_per_ip: usize,

    /// Serve `/metrics` and the detailed health (with the version) on this
    /// address only, away from the public port. Without it they answer on
    /// the public port to local callers only (loopback, not proxied).
    #[arg(long, env = "STREAMSHARE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Seconds of silence (no STUN, RTP or RTCP) after which a media peer
    /// counts as gone (browsers send consent checks every few seconds).
    #[arg(
        long,
        env = "STREAMSHARE_MEDIA_PEER_TIMEOUT_SECS",
        default_value_t = 15
    )]
    pub media_peer_timeout_secs: u64,

    /// Seconds a connected publisher may send no media before its room is
    /// `away` (a frozen camera, a network going bad).
    #[arg(long, env = "STREAMSHARE_MEDIA_STALL_SECS", default_value_t = 3)]
    pub media_stall_secs: u64,

    /// Socket.IO connections one user may hold on one server.
    #[arg(long, env = "STREAMSHARE_MAX_SOCKETS_PER_USER", default_value_t = 16)]
    pub max_sockets_per_user: usize,

    /// Media streams (viewing peers) one user may hold in one room at once.
    #[arg(long, env = "STREAMSHARE_MAX_VIEWS_PER_ROOM", default_value_t = 3)]
    pub max_views_per_room: usize,

    /// Largest SDP accepted from a client, in bytes (the media server's own
    /// bound, 32 KiB, still applies).
    #[arg(long, env = "STREAMSHARE_MAX_SDP_BYTES", default_value_t = 32 * 1024)]
    pub max_sdp_bytes: usize,

    /// Chat messages a user may send at once before the steady rate applies.
    #[arg(long, env = "STREAMSHARE_CHAT_BURST", default_value_t = 5)]
    pub chat_burst: u32,

    /// The steady chat rate: one message per this many milliseconds.
    #[arg(long, env = "STREAMSHARE_CHAT_INTERVAL_MS", default_value_t = 1000)]
    pub chat_interval_ms: u64,

    /// Domains whose links the chat shows as links (a domain covers its
    /// subdomains), comma separated; every other link is shown as text.
    #[arg(
        long,
        env = "STREAMSHARE_CHAT_LINK_DOMAINS",
        value_delimiter = ',',
        default_value = "youtube.com,youtu.be,twitch.tv,github.com,wikipedia.org"
    )]
    pub chat_link_domains: Vec<String>,

    /// Seconds to wait for the database before a request answers 503.
    #[arg(long, env = "STREAMSHARE_DB_TIMEOUT_SECS", default_value_t = 3)]
    pub db_timeout_secs: u64,

    /// Origins whose pages may call the WHIP/WHEP doors (`/api/media/whip`,
    /// `/api/media/whep` and their session URLs) from the browser, comma
    /// separated, or `*` for any. Those doors take bearer tokens only,
    /// never cookies, so another origin's page can do nothing there that
    /// it couldn't do with a token it already holds; the rest of `/api`
    /// stays same-origin.
    #[arg(
        long,
        env = "STREAMSHARE_MEDIA_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub media_allowed_origins: Vec<String>,

    /// Redis for cluster mode (`redis://host:6379`): Socket.IO broadcasts
    /// across instances, instance leases, presence and cluster-wide rate
    /// limits. Unset: one process, everything in memory.
    #[arg(long, env = "STREAMSHARE_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// This process's name in a cluster (letters, digits, `-`, `_`, `.`);
    /// generated at start when unset.
    #[arg(long, env = "STREAMSHARE_INSTANCE_ID")]
    pub instance_id: Option<String>,

    /// Seconds an instance's lease lasts without a heartbeat; a live
    /// instance reaps a dead one's presence within this time.
    #[arg(long, env = "STREAMSHARE_LEASE_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(2..=300))]
    pub lease_secs: u64,

    /// Rooms up to this many viewers tell everyone in them who comes and
    /// goes (`room:viewer_joined` / `room:viewer_left`); past it only the
    /// creator hears each one, and everyone gets the coalesced
    /// `room:count` (at most 4 a second), so a crowd's arrivals do not
    /// cost a message to every viewer each.
    #[arg(long, env = "STREAMSHARE_PRESENCE_CROWD", default_value_t = 100)]
    pub presence_crowd: usize,

    /// The address other instances reach this one's HTTP port at, for the
    /// media cascade (default: `http://` and the HTTP listen address).
    #[arg(long, env = "STREAMSHARE_INTERNAL_URL")]
    pub internal_url: Option<String>,

    /// The coin packs on sale, comma separated, each
    /// `id:coins:priceCents:currency` (ids of letters, digits, `-`, `_`;
    /// currency ISO 4217, e.g. `usd`).
    #[arg(
        long,
        env = "STREAMSHARE_COIN_PACKS",
        default_value = DEFAULT_COIN_PACKS,
        value_parser = CoinPacks::parse
    )]
    pub coin_packs: CoinPacks,

    /// Stripe secret API key (`sk_live_...` / `sk_test_...`): turns on
    /// buying coins through Stripe Checkout (needs
    /// `STREAMSHARE_STRIPE_WEBHOOK_SECRET` too).
    #[arg(long, env = "STREAMSHARE_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<SecretString>,

    /// The Stripe webhook endpoint's signing secret(s) (`whsec_...`), comma
    /// separated: several during a secret rotation; any one verifies.
    #[arg(
        long,
        env = "STREAMSHARE_STRIPE_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<SecretString>,

    /// Where Stripe's API is reached (tests point it at a local stand-in).
    #[arg(
        long,
        env = "STREAMSHARE_STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,

    /// The labelled test payment provider: purchases complete on a local
    /// confirmation page, with test money marked as such. Ignored (with a
    /// warning) when Stripe is configured. Never for production.
    /// (`1`, `true`, `yes`, `on` turn it on.)
    #[arg(
        long,
        env = "STREAMSHARE_TEST_PAYMENTS",
        default_value_t = false,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub test_payments: bool,

    /// The smallest payout a creator may request, in coins.
    #[arg(long, env = "STREAMSHARE_PAYOUT_MIN", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..))]
    pub payout_min: i64,

    /// The largest tip, in coins (at most 10000, the default).
    #[arg(long, env = "STREAMSHARE_TIP_MAX", value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub tip_max: Option<i64>,

    /// The media plane: the built-in SFU, or an operator's MediaMTX
    /// (docs/mediamtx.md).
    #[command(flatten)]
    pub mediamtx: MediamtxSettings,
}

/// Which media plane carries the rooms' streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MediaBackend {
    /// The embedded SFU (`crates/sfu`), signalled over Socket.IO and
    /// `/api/media/whip|whep`.
    #[default]
    Builtin,
    /// An operator's MediaMTX: browsers publish and play with its WHIP/WHEP
    /// endpoints; StreamShare answers its authentication.
    Mediamtx,
}

/// The MediaMTX media plane's settings (docs/mediamtx.md).
#[derive(Debug, Clone, Args)]
pub struct MediamtxSettings {
    /// `builtin` (the embedded SFU) or `mediamtx` (an operator's MediaMTX
    /// carries the rooms' streams; StreamShare keeps the paywall by
    /// answering MediaMTX's authentication).
    #[arg(
        long,
        env = "STREAMSHARE_MEDIA_BACKEND",
        value_enum,
        default_value = "builtin"
    )]
    pub media_backend: MediaBackend,

    /// MediaMTX's WebRTC address as browsers reach it (e.g.
    /// `https://media.example.com`): they POST to `{url}/{path}/whip` and
    /// `{url}/{path}/whep`. Required with `STREAMSHARE_MEDIA_BACKEND=mediamtx`.
    #[arg(long, env = "STREAMSHARE_MEDIAMTX_URL")]
    pub mediamtx_url: Option<String>,

    /// The MediaMTX path of a room is `{prefix}/{roomId}` (letters, digits,
    /// `-`, `_`, `/`; empty for just the room id).
    #[arg(
        long,
        env = "STREAMSHARE_MEDIAMTX_PATH_PREFIX",
        default_value = "streamshare"
    )]
    pub mediamtx_path_prefix: String,

    /// `authMethod: http`: the secret MediaMTX sends in the query of its
    /// `authHTTPAddress` (`.../internal/mediamtx/auth?secret=...`), at
    /// least 32 bytes. Unset: the HTTP authentication door refuses all.
    #[arg(long, env = "STREAMSHARE_MEDIAMTX_AUTH_SECRET", hide_env_values = true)]
    pub mediamtx_auth_secret: Option<SecretString>,

    /// The Ed25519 key media tokens are signed with: a PKCS#8 PEM
    /// (`openssl genpkey -algorithm ed25519`), or a secret of at least 32
    /// bytes the key is derived from. Every instance of a cluster needs the
    /// same one. Unset: one is generated once and kept in the data folder.
    #[arg(long, env = "STREAMSHARE_MEDIAMTX_SIGNING_KEY", hide_env_values = true)]
    pub mediamtx_signing_key: Option<SecretString>,

    /// Seconds a media token stays valid: enough to start publishing or
    /// playing (MediaMTX checks it when a session starts, not after).
    #[arg(long, env = "STREAMSHARE_MEDIAMTX_TOKEN_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub mediamtx_token_secs: u64,
}

impl Default for MediamtxSettings {
    /// The same as the flags' defaults: the built-in SFU.
    fn default() -> Self {
        Self {
            media_backend: MediaBackend::Builtin,
            mediamtx_url: None,
            mediamtx_path_prefix: "streamshare".into(),
            mediamtx_auth_secret: None,
            mediamtx_signing_key: None,
            mediamtx_token_secs: 60,
        }
    }
}

impl MediamtxSettings {
    /// MediaMTX carries the rooms' media.
    pub fn enabled(&self) -> bool {
        self.media_backend == MediaBackend::Mediamtx
    }

    /// The MediaMTX signing key's material: the configured one (refused
    /// when a plain secret is too short), else the one kept in
    /// `data_dir`, generated on first use.
    pub fn resolve_signing_key(&self, data_dir: &Path) -> anyhow::Result<SecretString> {
        match &self.mediamtx_signing_key {
            Some(key) if !key.expose_secret().trim().is_empty() => {
                let text = key.expose_secret().trim();
                if !text.starts_with("-----BEGIN") && text.len() < MIN_JWT_SECRET_LEN {
                    bail!(
                        "STREAMSHARE_MEDIAMTX_SIGNING_KEY is {} bytes long; give a PEM key or \
                         at least {MIN_JWT_SECRET_LEN} bytes (for example: `openssl rand -hex 32`)",
                        text.len()
                    );
                }
                Ok(key.clone())
            }
            _ => load_or_create_secret(&data_dir.join("mediamtx-signing-key")),
        }
    }
}

/// The packs on sale when `STREAMSHARE_COIN_PACKS` is not set.
pub const DEFAULT_COIN_PACKS: &str = "small:100:199:usd,medium:550:999:usd,large:1200:1999:usd";

/// One coin pack on sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinPack {
    pub id: String,
    pub coins: i64,
    /// In the currency's smallest unit (cents).
    pub price: i64,
    /// ISO 4217, lowercase.
    pub currency: String,
}

/// The packs on sale, checked at start: unique ids, positive coins and
/// prices, three-letter currencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinPacks(pub Vec<CoinPack>);

impl CoinPacks {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut packs: Vec<CoinPack> = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let parts: Vec<&str> = item.split(':').map(str::trim).collect();
            let [id, coins, price, currency] = parts[..] else {
                return Err(format!(
                    "coin pack {item:?} is not id:coins:priceCents:currency"
                ));
            };
            let id_ok = (1..=32).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                return Err(format!(
                    "coin pack id {id:?} must be 1-32 letters, digits, '-' or '_'"
                ));
            }
            let positive = |what: &str, v: &str| match v.parse::<i64>() {
                Ok(n) if (1..=1_000_000_000).contains(&n) => Ok(n),
                _ => Err(format!(
                    "coin pack {id:?}: {what} {v:?} must be a whole number from 1 to 1000000000"
                )),
            };
            let coins = positive("coins", coins)?;
            let price = positive("price", price)?;
            if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(format!(
                    "coin pack {id:?}: currency {currency:?} must be a three-letter ISO 4217 code"
                ));
            }
            if packs.iter().any(|p| p.id == id) {
                return Err(format!("coin pack id {id:?} appears twice"));
            }
            packs.push(CoinPack {
                id: id.to_owned(),
                coins,
                price,
                currency: currency.to_ascii_lowercase(),
            });
        }
        Ok(Self(packs))
    }

    pub fn get(&self, id: &str) -> Option<&CoinPack> {
        self.0.iter().find(|p| p.id == id)
    }
}

/// The smallest JWT secret accepted, in bytes (HS256 wants at least its
/// output size; RFC 7518 §3.2).
pub const MIN_JWT_SECRET_LEN: usize = 32;

impl Settings {
    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn proxies(&self) -> Vec<ipnet::IpNet> {
        let mut nets = self.trusted_proxies.clone();
        if self.trust_forwarded_for {
            nets.extend(
                ["127.0.0.0/8", "::1/128"].map(|n| n.parse::<ipnet::IpNet>().expect("valid CIDR")),
            );
        }
        nets
    }

    /// Where links in e-mails point.
    pub fn public_url(&self) -> String {
        match self.public_url.as_deref() {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.http_addr),
        }
    }

    /// Cluster mode: a Redis URL is configured.
    pub fn cluster(&self) -> bool {
        self.redis_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }

    /// Fixes this process's instance id: the configured one (checked), or a
    /// generated one (host name and a random suffix).
    pub fn resolve_instance_id(&mut self) -> anyhow::Result<()> {
        match self.instance_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => {
                let fits = id.len() <= 64
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !fits {
                    bail!(
                        "STREAMSHARE_INSTANCE_ID {id:?} must be 1-64 letters, digits, '-', '_' or '.'"
                    );
                }
                self.instance_id = Some(id.to_owned());
            }
            _ => {
                let host = std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| {
                        h.trim()
                            .chars()
                            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                            .take(32)
                            .collect::<String>()
                    })
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "streamshare".to_owned());
                let suffix = crate::tokens::random_token(6).to_lowercase();
                let suffix: String = suffix.chars().filter(char::is_ascii_alphanumeric).collect();
                self.instance_id = Some(format!("{host}-{suffix}"));
            }
        }
        Ok(())
    }

    /// The Stripe webhook secrets (several during a rotation).
    pub fn stripe_webhook_secrets(&self) -> Vec<String> {
        self.stripe_webhook_secret
            .as_ref()
            .map(|s| {
                s.expose_secret()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stripe is configured (a secret key is set).
    pub fn stripe_configured(&self) -> bool {
        self.stripe_secret_key
            .as_ref()
            .is_some_and(|k| !k.expose_secret().trim().is_empty())
    }

    /// The largest tip, in coins.
    pub fn tip_max(&self) -> i64 {
        self.tip_max.unwrap_or(10_000).clamp(1, 10_000)
    }

    /// This process's instance id (fixed at start by
    /// [`Settings::resolve_instance_id`]).
    pub fn instance_id(&self) -> &str {
        self.instance_id.as_deref().unwrap_or("local")
    }

    /// Where other instances reach this one.
    /// The chat's link domains, lowercased, without empties or a leading
    /// `www.` / dot.
    pub fn chat_link_domains(&self) -> Vec<String> {
        self.chat_link_domains
            .iter()
            .map(|d| {
                let d = d.trim().trim_start_matches('.').to_ascii_lowercase();
                d.strip_prefix("www.").map(str::to_owned).unwrap_or(d)
            })
            .filter(|d| !d.is_empty())
            .collect()
    }

    pub fn internal_url(&self) -> String {
        match self.internal_url.as_deref() {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.http_addr),
        }
    }

    /// The MongoDB URI, or a clear error saying how to get one.
    pub fn mongodb_uri(&self) -> anyhow::Result<&str> {
        match self.mongodb_uri.as_deref() {
            Some(uri) if !uri.trim().is_empty() => Ok(uri),
            _ => bail!(
                "STREAMSHARE_MONGODB_URI is not set: point it at a MongoDB replica set \
                 (scripts/run.sh starts a local SecantusDB and sets it for you)"
            ),
        }
    }

    /// The JWT secret: the configured one (refused when too short), else the
    /// one kept in the data folder, generated on first use.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.jwt_secret {
            check_secret_len(secret.expose_secret())?;
            return Ok(secret.clone());
        }
        load_or_create_secret(&self.data_dir.join("jwt-secret"))
    }
}

fn check_secret_len(secret: &str) -> anyhow::Result<()> {
    if secret.len() < MIN_JWT_SECRET_LEN {
        bail!(
            "STREAMSHARE_JWT_SECRET is {} bytes long; it must be at least {MIN_JWT_SECRET_LEN} bytes \
             (for example: `openssl rand -hex 32`)",
            secret.len()
        );
    }
    Ok(())
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        check_secret_len(&existing).with_context(|| format!("in {}", path.display()))?;
        return Ok(existing.into());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret = crate::tokens::random_token(48);
    write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a development JWT secret");
    Ok(secret.into())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Reads a config file of `STREAMSHARE_NAME=value` lines (`#` comments,
/// blank lines allowed) and returns the pairs. The caller applies only those
/// not already set in the environment: the environment wins.
pub fn read_config_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("{}:{}: expected NAME=value", path.display(), n + 1);
        };
        let key = key.trim();
        if !key.starts_with("STREAMSHARE_") {
            bail!(
                "{}:{}: {key} is not a StreamShare setting (they start with STREAMSHARE_)",
                path.display(),
                n + 1
            );
        }
        let value = value.trim().trim_matches('"').to_owned();
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_packs_are_parsed_and_bad_ones_refused() {
        let packs = CoinPacks::parse(DEFAULT_COIN_PACKS).unwrap();
        assert_eq!(packs.0.len(), 3);
        assert_eq!(
            packs.get("medium"),
            Some(&CoinPack {
                id: "medium".into(),
                coins: 550,
                price: 999,
                currency: "usd".into()
            })
        );
        for bad in [
            "a:1:2",
            "a:0:100:usd",
            "a:10:-1:usd",
            "a:10:100:dollars",
            "a:1:1:usd,a:2:2:usd",
            "a b:1:1:usd",
        ] {
            assert!(CoinPacks::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(CoinPacks::parse("").unwrap().0.len(), 0);
    }

    #[test]
    fn short_secret_is_refused_with_its_length() {
        let err = check_secret_len("short").unwrap_err().to_string();
        assert!(err.contains("5 bytes"), "{err}");
        assert!(check_secret_len(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn generated_secret_is_kept_across_calls() {
        let dir = std::env::temp_dir().join(format!("ss-secret-{}", std::process::id()));
        let path = dir.join("jwt-secret");
        let _ = std::fs::remove_dir_all(&dir);
        let first = load_or_create_secret(&path).unwrap();
        let second = load_or_create_secret(&path).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= MIN_JWT_SECRET_LEN);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn config_file_lines_are_parsed_and_foreign_keys_refused() {
        let path = std::env::temp_dir().join(format!("ss-conf-{}.env", std::process::id()));
        std::fs::write(
            &path,
            "# comment\nSTREAMSHARE_DB_NAME = \"other\"\n\nSTREAMSHARE_SIGNUP_COINS=5\n",
        )
        .unwrap();
        let pairs = read_config_file(&path).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("STREAMSHARE_DB_NAME".into(), "other".into()),
                ("STREAMSHARE_SIGNUP_COINS".into(), "5".into())
            ]
        );
        std::fs::write(&path, "PATH=/tmp\n").unwrap();
        assert!(read_config_file(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
