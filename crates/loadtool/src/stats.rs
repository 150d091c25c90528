//! Owns the counters the tool reads from the shared services around a
//! measured phase: the database's operation counters (`serverStatus` →
//! `opcounters`, which SecantusDB and MongoDB both answer) and Redis's
//! (`INFO stats` and `INFO commandstats`, spoken as plain RESP over TCP so
//! no Redis client is needed). Readings that fail become `null` in the
//! report with the reason, never an error of the benchmark.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The database's operation counters by kind (insert, query, update,
/// delete, getmore, command).
pub type OpCounters = BTreeMap<String, i64>;

/// A connection to the database for `serverStatus`.
pub struct Db {
    client: mongodb::Client,
}

impl Db {
    pub async fn connect(uri: &str) -> anyhow::Result<Self> {
        let mut options = mongodb::options::ClientOptions::parse(uri)
            .await
            .context("parsing the MongoDB URI")?;
        options.server_selection_timeout = Some(Duration::from_secs(5));
        options.app_name = Some("streamshare-load".into());
        Ok(Self {
            client: mongodb::Client::with_options(options)?,
        })
    }

    /// `serverStatus().opcounters`.
    pub async fn opcounters(&self) -> anyhow::Result<OpCounters> {
        let status = self
            .client
            .database("admin")
            .run_command(mongodb::bson::doc! { "serverStatus": 1 })
            .await
            .context("serverStatus")?;
        let counters = status
            .get_document("opcounters")
            .context("serverStatus has no opcounters")?;
        Ok(counters
            .iter()
            .filter_map(|(k, v)| bson_number(v).map(|n| (k.clone(), n)))
            .collect())
    }
}

fn bson_number(v: &mongodb::bson::Bson) -> Option<i64> {
    use mongodb::bson::Bson;
    match v {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        Bson::Double(n) => Some(*n as i64),
        _ => None,
    }
}

/// Counters after minus before, their total, and per `per` unit (per join,
/// per chat message) when `per` > 0.
pub fn ops_delta(before: &OpCounters, after: &OpCounters, per: u64) -> Value {
    let mut delta = serde_json::Map::new();
    let mut total = 0;
    for (k, a) in after {
        let d = a - before.get(k).copied().unwrap_or(0);
        total += d;
        delta.insert(k.clone(), json!(d));
    }
    let per_unit = (per > 0).then(|| crate::report::round3(total as f64 / per as f64));
    json!({ "byKind": delta, "total": total, "perUnit": per_unit })
}

/// Redis's counters worth comparing: commands processed, PUBLISH-family
/// calls, pub/sub messages, bytes out.
pub type RedisCounters = BTreeMap<String, i64>;

/// Reads `INFO stats` and `INFO commandstats` from `addr` (`host:port`).
pub async fn redis_counters(addr: &str) -> anyhow::Result<RedisCounters> {
    let stream = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
        .await
        .context("connecting to Redis timed out")?
        .with_context(|| format!("connecting to Redis at {addr}"))?;
    let mut stream = BufReader::new(stream);
    let mut text = String::new();
    for section in ["stats", "commandstats"] {
        let command = format!("*2\r\n$4\r\nINFO\r\n${}\r\n{section}\r\n", section.len());
        stream.get_mut().write_all(command.as_bytes()).await?;
        text.push_str(&read_bulk(&mut stream).await?);
    }
    Ok(parse_info(&text))
}

async fn read_bulk<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> anyhow::Result<String> {
    let mut header = String::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut header))
        .await
        .context("Redis did not answer")??;
    let header = header.trim_end();
    let Some(len) = header.strip_prefix('$') else {
        bail!("unexpected Redis answer {header:?}");
    };
    let len: usize = len.parse().context("Redis bulk length")?;
    let mut body = vec![0; len + 2];
    r.read_exact(&mut body).await?;
    body.truncate(len);
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Picks the counters out of INFO text: `total_commands_processed`,
/// `total_net_output_bytes`, and the call counts of the commands that
/// carry cluster traffic (`publish`, `spublish`, `evalsha`, ...).
fn parse_info(text: &str) -> RedisCounters {
    let mut out = RedisCounters::new();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        match key {
            "total_commands_processed" | "total_net_output_bytes" | "total_net_input_bytes" => {
                if let Ok(n) = value.parse() {
                    out.insert(key.to_owned(), n);
                }
            }
            _ => {
                if let Some(command) = key.strip_prefix("cmdstat_") {
                    let calls = value
                        .split(',')
                        .find_map(|kv| kv.strip_prefix("calls="))
                        .and_then(|n| n.parse().ok());
                    if let Some(calls) = calls {
                        out.insert(format!("calls_{command}"), calls);
                    }
                }
            }
        }
    }
    out
}

/// Redis counters after minus before; `publishes` sums the PUBLISH-family
/// calls (`publish`, `spublish`), and `perUnit` divides the commands and
/// the publishes by `per` (chat messages, joins) when `per` > 0.
pub fn redis_delta(before: &RedisCounters, after: &RedisCounters, per: u64) -> Value {
    let d = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    let mut calls = serde_json::Map::new();
    for k in after.keys().filter(|k| k.starts_with("calls_")) {
        let n = d(k);
        if n > 0 {
            calls.insert(k.trim_start_matches("calls_").to_owned(), json!(n));
        }
    }
    // The INFO calls themselves are commands too (two before, two after).
    let commands = d("total_commands_processed") - 2;
    let publishes = d("calls_publish") + d("calls_spublish");
    let per_unit = |x: i64| (per > 0).then(|| crate::report::round3(x as f64 / per as f64));
    json!({
        "commands": commands,
        "publishes": publishes,
        "netOutputBytes": d("total_net_output_bytes"),
        "callsByCommand": calls,
        "commandsPerUnit": per_unit(commands),
        "publishesPerUnit": per_unit(publishes),
    })
}

/// Readings taken at the start of a phase, to compare with its end.
pub struct Probe {
    db: Option<Db>,
    db_error: Option<String>,
    redis: Option<String>,
    ops: Option<OpCounters>,
    redis_counters: Option<RedisCounters>,
    redis_error: Option<String>,
}

impl Probe {
    /// Connects to what is known (a MongoDB URI, a Redis address).
    pub async fn new(mongodb_uri: Option<&str>, redis: Option<&str>) -> Self {
        let (db, db_error) = match mongodb_uri {
            None => (
                None,
                Some("database URI unknown (pass --mongodb-uri)".into()),
            ),
            Some(uri) => match Db::connect(uri).await {
                Ok(db) => (Some(db), None),
                Err(err) => (None, Some(format!("{err:#}"))),
            },
        };
        Self {
            db,
            db_error,
            redis: redis.map(str::to_owned),
            ops: None,
            redis_counters: None,
            redis_error: None,
        }
    }

    /// Reads the counters now (the start of a phase).
    pub async fn start(&mut self) {
        self.ops = None;
        if let Some(db) = &self.db {
            match db.opcounters().await {
                Ok(ops) => self.ops = Some(ops),
                Err(err) => self.db_error = Some(format!("{err:#}")),
            }
        }
        self.redis_counters = None;
        if let Some(addr) = &self.redis {
            match redis_counters(addr).await {
                Ok(c) => self.redis_counters = Some(c),
                Err(err) => self.redis_error = Some(format!("{err:#}")),
            }
        }
    }

    /// Reads them again and reports the differences, divided by `per`.
    pub async fn finish(&mut self, per: u64) -> Value {
        let db = match (&self.db, &self.ops) {
            (Some(db), Some(before)) => match db.opcounters().await {
                Ok(after) => ops_delta(before, &after, per),
                Err(err) => json!({ "unavailable": format!("{err:#}") }),
            },
            _ => json!({
                "unavailable": self.db_error.clone().unwrap_or_else(|| "not read".into())
            }),
        };
        let redis = match (&self.redis, &self.redis_counters) {
            (None, _) => Value::Null,
            (Some(addr), Some(before)) => match redis_counters(addr).await {
                Ok(after) => redis_delta(before, &after, per),
                Err(err) => json!({ "unavailable": format!("{err:#}") }),
            },
            (Some(_), None) => json!({
                "unavailable": self.redis_error.clone().unwrap_or_else(|| "not read".into())
            }),
        };
        json!({ "dbOps": db, "redis": redis })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_parses() {
        let text = "# Stats\r\ntotal_commands_processed:42\r\ntotal_net_output_bytes:1000\r\n\
                    # Commandstats\r\ncmdstat_publish:calls=7,usec=10,usec_per_call=1.4\r\n\
                    cmdstat_info:calls=3,usec=1\r\n";
        let c = parse_info(text);
        assert_eq!(c["total_commands_processed"], 42);
        assert_eq!(c["calls_publish"], 7);
        assert_eq!(c["calls_info"], 3);
        let mut after = c.clone();
        after.insert("total_commands_processed".into(), 64);
        after.insert("calls_publish".into(), 17);
        let d = redis_delta(&c, &after, 5);
        assert_eq!(d["commands"], 20);
        assert_eq!(d["publishes"], 10);
        assert_eq!(d["publishesPerUnit"], 2.0);
    }

    #[test]
    fn op_deltas_divide() {
        let before: OpCounters = [("insert".into(), 10), ("update".into(), 5)].into();
        let after: OpCounters = [("insert".into(), 30), ("update".into(), 25)].into();
        let d = ops_delta(&before, &after, 20);
        assert_eq!(d["total"], 40);
        assert_eq!(d["perUnit"], 2.0);
        assert_eq!(d["byKind"]["insert"], 20);
    }

    #[test]
    fn redis_addresses() {
        assert_eq!(
            crate::server::redis_addr("redis://127.0.0.1:7000/0"),
            "127.0.0.1:7000"
        );
        assert_eq!(crate::server::redis_addr("redis://:pw@host"), "host:6379");
        assert_eq!(crate::server::redis_addr("h:1"), "h:1");
    }

    #[tokio::test]
    async fn talks_resp() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tcp = BufReader::new(tcp);
            for body in [
                "total_commands_processed:5\r\n",
                "cmdstat_publish:calls=2,usec=1\r\n",
            ] {
                // *2 $4 INFO $n section: five lines.
                for _ in 0..5 {
                    let mut line = String::new();
                    tcp.read_line(&mut line).await.unwrap();
                }
                let reply = format!("${}\r\n{body}\r\n", body.len());
                tcp.get_mut().write_all(reply.as_bytes()).await.unwrap();
            }
        });
        let c = redis_counters(&addr).await.unwrap();
        assert_eq!(c["total_commands_processed"], 5);
        assert_eq!(c["calls_publish"], 2);
    }
}
