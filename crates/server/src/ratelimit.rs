//! Token buckets keyed by anything (a user, an account name, an address): a
//! burst, then a steady rate. Alone, in memory ([`RateLimiter`]); in a
//! cluster, one budget shared by every instance ([`Limiter`], GCRA in one
//! Redis script), falling back to this instance's memory while Redis is
//! unreachable (limits then hold per instance; logged).

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

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

/// How many keys are kept before full buckets are forgotten.
const MAX_KEYS: usize = 100_000;

pub struct RateLimiter<K> {
    burst: f64,
    interval: Duration,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `burst` takes at once, then one per `interval`.
    pub fn new(burst: u32, interval: Duration) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            interval,
            buckets: Mutex::default(),
        }
    }

    /// Takes a token, or says how long until one is free.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > MAX_KEYS {
            let full_after = self.interval.mul_f64(self.burst);
            buckets.retain(|_, (_, last)| now.duration_since(*last) < full_after);
        }
        let (tokens, last) = buckets.entry(key).or_insert((self.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() / self.interval.as_secs_f64();
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(self.interval.mul_f64(1.0 - *tokens))
        }
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
pub struct Limiter<K> {
    local: RateLimiter<K>,
    shared: Option<(redis::aio::ConnectionManager, String)>,
    script: redis::Script,
}

impl<K: Hash + Eq + Display> Limiter<K> {
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
            .arg(self.local.burst as u64)
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

    #[test]
    fn a_burst_then_a_steady_rate_per_key() {
        let limiter = RateLimiter::new(5, Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limiter.check_at("ann", start).is_ok());
        }
        let wait = limiter.check_at("ann", start).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(
            limiter
                .check_at("ann", start + Duration::from_secs(1))
                .is_ok()
        );
        assert!(
            limiter
                .check_at("ann", start + Duration::from_secs(1))
                .is_err()
        );
        assert!(
            limiter.check_at("bob", start).is_ok(),
            "another key has its own bucket"
        );
    }
}
