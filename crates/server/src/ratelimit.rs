//! Token buckets keyed by anything (a user, an account name, an address): a
//! burst, then a steady rate. Alone, in memory ([`RateLimiter`], `governor`'s
//! keyed GCRA); in a cluster, one budget shared by every instance
//! ([`Limiter`], GCRA in one Redis script), falling back to this instance's
//! memory while Redis is unreachable (limits then hold per instance; logged).

use std::fmt::Display;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};

use crate::error::ApiError;

/// The 429 for a refused take: `what`, then when to come back (also in
/// `retryAfterSeconds` and the `Retry-After` header).
pub fn too_many(what: &str, wait: Duration) -> ApiError {
    let secs = wait.as_secs() + 1;
    ApiError::refused(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{what}; try again in {secs} s."),
    )
    .with("retryAfterSeconds", secs)
}

/// How often keys whose bucket is full again are forgotten.
const CLEANUP: Duration = Duration::from_secs(60);

type Keyed<K, C> = Gcra<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// In-memory buckets per key. Keys whose bucket has refilled are dropped by
/// a background sweep every [`CLEANUP`] (`retain_recent`, shard by shard of
/// the map, never one lock over every key).
pub struct RateLimiter<K: Hash + Eq + Clone, C: Clock = MonotonicClock> {
    burst: u32,
    interval: Duration,
    buckets: Arc<Keyed<K, C>>,
}

impl<K> RateLimiter<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    /// `burst` takes at once, then one per `interval`.
    pub fn new(burst: u32, interval: Duration) -> Self {
        let limiter = Self::with_clock(burst, interval, MonotonicClock);
        // Outside a runtime (a unit test) there is nothing to sweep with;
        // keys are then kept for the limiter's life.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep(Arc::downgrade(&limiter.buckets)));
        }
        limiter
    }
}

impl<K, C> RateLimiter<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    /// [`RateLimiter::new`] on a given clock (tests: a fake one), without
    /// the sweep.
    pub fn with_clock(burst: u32, interval: Duration, clock: C) -> Self {
        let burst = burst.max(1);
        let interval = interval.max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .expect("a non-zero interval")
            .allow_burst(NonZeroU32::new(burst).expect("at least one"));
        Self {
            burst,
            interval,
            buckets: Arc::new(Gcra::dashmap_with_clock(quota, clock)),
        }
    }

    /// Takes a token, or says how long until one is free.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.buckets
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.buckets.clock().now()))
    }

    /// Keys held now (a key whose bucket refilled may linger until the next
    /// sweep).
    pub fn keys(&self) -> usize {
        self.buckets.len()
    }

    /// Forgets the keys whose bucket is full again.
    pub fn forget_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

/// Sweeps idle keys until the limiter is dropped.
async fn sweep<K, C>(buckets: Weak<Keyed<K, C>>)
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    let mut tick = tokio::time::interval(CLEANUP);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(buckets) = buckets.upgrade() else {
            return;
        };
        buckets.retain_recent();
        buckets.shrink_to_fit();
    }
}

/// GCRA on Redis: the key holds the theoretical arrival time (ms) of the
/// next request; a take moves it on by one interval unless that would put
/// it more than `burst` intervals ahead. Answers the wait in ms (0: taken).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local over = next_tat - now - interval * burst
if over > 0 then return over end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
";

/// Where a cluster keeps its limits: a Redis connection and a key prefix.
#[derive(Clone)]
pub struct Shared {
    pub conn: redis::aio::ConnectionManager,
    pub prefix: String,
}

/// A rate limit that holds cluster-wide when Redis is there.
pub struct Limiter<K: Hash + Eq + Clone> {
    local: RateLimiter<K>,
    shared: Option<(redis::aio::ConnectionManager, String)>,
    script: redis::Script,
}

impl<K> Limiter<K>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
{
    /// `burst` takes at once, then one per `interval`; shared through the
    /// cluster's Redis (keys named after `name`) when given.
    pub fn new(burst: u32, interval: Duration, shared: Option<&Shared>, name: &str) -> Self {
        Self {
            local: RateLimiter::new(burst, interval),
            shared: shared.map(|s| (s.conn.clone(), format!("{}{name}:", s.prefix))),
            script: redis::Script::new(GCRA),
        }
    }

    /// Takes a token, or says how long until one is free.
    pub async fn check(&self, key: K) -> Result<(), Duration> {
        let Some((conn, prefix)) = &self.shared else {
            return self.local.check(key);
        };
        let taken = self
            .script
            .key(format!("{prefix}{key}"))
            .arg(self.local.interval.as_millis().max(1) as u64)
            .arg(u64::from(self.local.burst))
            .invoke_async::<u64>(&mut conn.clone())
            .await;
        match taken {
            Ok(0) => Ok(()),
            Ok(wait_ms) => Err(Duration::from_millis(wait_ms)),
            Err(err) => {
                tracing::warn!(error = %err, "Redis unreachable: rate limit held per instance");
                self.local.check(key)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_burst_then_a_steady_rate_per_key() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(5, Duration::from_secs(1), clock.clone());
        for _ in 0..5 {
            assert!(limiter.check("ann").is_ok());
        }
        let wait = limiter.check("ann").unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            limiter.check("bob").is_ok(),
            "another key has its own bucket"
        );
        // One interval refills one token, not the burst.
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check("ann").is_ok());
        assert!(limiter.check("ann").is_err());
        // Half an interval later the wait is the other half.
        clock.advance(Duration::from_millis(500));
        let wait = limiter.check("ann").unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // A full burst's worth of quiet refills it whole, and no more.
        clock.advance(Duration::from_secs(10));
        for _ in 0..5 {
            assert!(limiter.check("ann").is_ok());
        }
        assert!(limiter.check("ann").is_err());
    }

    #[test]
    fn keys_whose_bucket_refilled_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(2, Duration::from_secs(1), clock.clone());
        for n in 0..1000 {
            limiter.check(n).unwrap();
        }
        assert_eq!(limiter.keys(), 1000);
        clock.advance(Duration::from_millis(2500));
        // Key 7 comes back and spends its whole burst; the others stay away.
        limiter.check(7).unwrap();
        limiter.check(7).unwrap();
        limiter.forget_idle();
        assert_eq!(limiter.keys(), 1, "only the key in use is kept");
        assert!(
            limiter.check(7).is_err(),
            "its empty bucket survived the sweep"
        );
        assert!(limiter.check(8).is_ok());
    }
}
